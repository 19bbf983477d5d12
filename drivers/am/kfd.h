// Kfd: the KFD calls the AM driver makes for one GPU, typed, through the
// KernelIo seam (real or emulated).
//
// Memory follows the KFD user-space convention: reserve a virtual range
// (anonymous PROT_NONE mmap), allocate VRAM or GTT at that address
// (ALLOC_MEMORY_OF_GPU), map it into the process over the reservation by
// mmapping the render node at the allocation's offset (MAP_FIXED, only for
// CPU-visible memory), and map it for the GPU (MAP_MEMORY_TO_GPU): the GPU
// and the CPU then use the same address. Events: signal events post to a
// mailbox slot in an event page (a GTT allocation given to the first
// CREATE_EVENT); WAIT_EVENTS sleeps in the kernel until one is signaled or
// its millisecond timeout passes.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Kfd> k, Kfd::Open(io, gpu, "AM:0"));
//   ASSIGN_OR_RETURN(Kfd::Memory m, k->Alloc(1 << 20, kfd::kAllocVram | kfd::kAllocPublic, true));
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_AM_KFD_H_
#define UOP_DRIVERS_AM_KFD_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/am/abi/kfd.h"
#include "drivers/am/am_topology.h"
#include "drivers/common/kernel_io.h"

namespace uop {

class Kfd {
 public:
  struct Memory {
    uint64_t handle = 0;
    uint64_t va = 0;  // GPU and CPU address
    size_t size = 0;  // page-rounded
    uint32_t flags = 0;
    uint8_t* cpu = nullptr;  // null unless CPU-mapped
  };
  struct QueueInfo {
    uint32_t queue_id = 0;
    volatile uint64_t* doorbell = nullptr;
  };

  static absl::StatusOr<std::unique_ptr<Kfd>> Open(KernelIo& io, const AmGpuNode& gpu,
                                                   std::string device);
  ~Kfd();
  Kfd(const Kfd&) = delete;
  Kfd& operator=(const Kfd&) = delete;

  KernelIo& io() const { return io_; }
  uint32_t gpu_id() const { return gpu_id_; }
  const std::string& device() const { return device_; }
  uint32_t version_major() const { return major_; }
  uint32_t version_minor() const { return minor_; }

  // `flags`: kfd::kAlloc*; `cpu_map` maps it into this process (VRAM needs
  // kAllocPublic for that: it is then reached through the PCI BAR).
  absl::StatusOr<Memory> Alloc(size_t bytes, uint32_t flags, bool cpu_map);
  absl::Status Free(const Memory& m);

  // A signal event posting to the event page (created on first use from
  // `event_page`), or another event type.
  absl::StatusOr<uint32_t> CreateEvent(uint32_t type, bool auto_reset, uint32_t* slot);
  absl::Status DestroyEvent(uint32_t event);
  // Clears a manual-reset event (waiters read their condition after it).
  absl::Status ResetEvent(uint32_t event);
  // Which of `events` were signaled (empty: the timeout passed).
  absl::StatusOr<std::vector<kfd::event_data>> WaitEvents(const std::vector<uint32_t>& events,
                                                          uint32_t timeout_ms);
  // The event page: `Alloc`ed GTT memory whose slot i is event mailbox i.
  const Memory& event_page() const { return event_page_; }

  absl::StatusOr<QueueInfo> CreateQueue(kfd::create_queue_args args);
  absl::Status DestroyQueue(uint32_t queue_id);

 private:
  Kfd(KernelIo& io, std::string device) : io_(io), device_(std::move(device)) {}
  absl::Status Call(unsigned long request, void* arg, const char* name);

  KernelIo& io_;
  const std::string device_;
  int kfd_fd_ = -1, drm_fd_ = -1;
  uint32_t gpu_id_ = 0, major_ = 0, minor_ = 0;
  Memory event_page_;
  std::mutex mu_;
  bool event_page_given_ = false;  // guarded by mu_
  void* doorbells_ = nullptr;      // guarded by mu_
  uint64_t doorbell_base_ = 0;     // guarded by mu_
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_KFD_H_
