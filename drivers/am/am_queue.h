// AmEngine: the QueueEngine (drivers/common/device_queue.h) of one AQL
// compute queue, with an SDMA queue for copies, made through the device's
// AmGpuInterface (KFD or the PCI path).
//
// AQL: a ring of 64-byte packets in GTT and its amd_queue descriptor, whose
// write/read dispatch ids the interface gets as the queue's pointers. A batch is a run
// of kernel-dispatch packets (barrier bit set: in order; system-scope
// acquire and release) whose last packet names the queue's completion
// signal; Flush writes the packet bodies, publishes each header with a
// release store, advances the write id and rings the doorbell with the last
// packet's index. The fence is the number of batches: the CP decrements the
// signal once per batch (completed = base - value) and posts the queue's
// event, which WaitFence sleeps on (WaitEvents, with the device's fault
// events). Kernel arguments live in a GTT ring reused once their batch's
// fence passed.
//
// Scratch: a dispatch of a kernel with a private segment needs the queue's
// scratch (am_scratch.h); the first one that needs more than the queue has
// waits for the queue's submitted work, frees the old backing, allocates a
// larger one in VRAM and rewrites the amd_queue's scratch fields, which the
// CP reads at each dispatch.
//
// SDMA: copies between this device's buffers are COPY_LINEAR packets, then a
// FENCE (a sequence number to a GTT word) and a TRAP (posts the copy
// queue's event); the copy runs after the compute work before it completed
// and the queue waits for it (bounded) before going on.
//
//   ASSIGN_OR_RETURN(auto e, AmEngine::Create(dev, "AM:0/compute", absl::Seconds(30)));
//   DeviceQueue q("AM:0", "AM:0/compute", options, std::move(e));
#ifndef UOP_DRIVERS_AM_AM_QUEUE_H_
#define UOP_DRIVERS_AM_AM_QUEUE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "drivers/am/abi/hsa.h"
#include "drivers/am/am_interface.h"
#include "drivers/am/am_scratch.h"
#include "drivers/am/am_topology.h"
#include "drivers/common/device_queue.h"
#include "drivers/common/fenced_ring.h"

namespace uop {

class AmDevice;

// The CWSR (context save/restore) and control stack sizes KFD requires for a
// compute queue on this GPU (KFD checks them in kfd_queue.c).
struct CwsrSizes {
  uint32_t ctx_save_restore = 0;
  uint32_t ctl_stack = 0;
  uint32_t debug_memory = 0;
};
CwsrSizes CwsrSizesFor(const AmGpuNode& gpu);

class AmEngine final : public QueueEngine {
 public:
  // The completion signal starts here and counts down one per batch.
  static constexpr int64_t kFenceBase = int64_t{1} << 62;

  static absl::StatusOr<std::unique_ptr<AmEngine>> Create(AmDevice* device, std::string queue,
                                                          absl::Duration wait_timeout);
  ~AmEngine() override;

  absl::Status AddExec(const ExecCommand& c) override;
  absl::Status AddCopy(const CopyCommand& c) override;
  bool HasWork() const override;
  absl::StatusOr<uint64_t> Flush() override;
  absl::StatusOr<uint64_t> CompletedFence() override;
  absl::Status WaitFence(uint64_t fence, absl::Duration timeout) override;

 private:
  struct Sdma {
    AmMemory ring, gart;
    uint32_t queue_id = 0;
    bool queue_created = false;
    volatile uint64_t* doorbell = nullptr;
    uint32_t event = 0;
    uint64_t wptr = 0;  // bytes written
    uint32_t seq = 0;
  };
  AmEngine(AmDevice* device, std::string queue, absl::Duration wait_timeout)
      : device_(device), queue_(std::move(queue)), wait_timeout_(wait_timeout) {}
  absl::Status CreateAql();
  absl::Status CreateSdma();
  absl::Status SetUpSdma(Sdma& s);
  void ReleaseSdma(Sdma& s);  // what SetUpSdma made, in reverse
  absl::StatusOr<uint64_t> Submit();
  absl::Status AwaitFence(uint64_t fence, const char* why);
  // Waits on `event` with the device's fault events; an error for a fault.
  absl::Status WaitEvent(uint32_t event, absl::Duration timeout);
  absl::Status SdmaCopy(uint64_t dst, uint64_t src, uint64_t bytes);
  // Makes the queue's scratch hold kernels of `item_bytes` per work-item.
  absl::Status EnsureScratch(uint32_t item_bytes, bool wave32);

  AmDevice* const device_;
  const std::string queue_;
  const absl::Duration wait_timeout_;

  AmMemory ring_, gart_, eop_, cwsr_, kernargs_, scratch_;
  uint32_t scratch_wave_bytes_ = 0;  // the current slot (executor only)
  uint32_t queue_id_ = 0;
  bool queue_created_ = false;
  volatile uint64_t* doorbell_ = nullptr;
  hsa::amd_queue* amdq_ = nullptr;
  hsa::amd_signal* signal_ = nullptr;
  uint32_t event_ = 0;
  size_t packets_ = 0;

  // Executor only:
  uint64_t write_index_ = 0;
  std::vector<hsa::kernel_dispatch_packet> batch_;
  std::unique_ptr<FencedRing> kernarg_space_;
  bool unreported_flush_ = false;
  std::unique_ptr<Sdma> sdma_;

  mutable std::mutex mu_;
  uint64_t submitted_ = 0;  // batches (the last fence); guarded by mu_
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_AM_QUEUE_H_
