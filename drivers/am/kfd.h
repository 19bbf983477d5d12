// Kfd: the KFD calls the AM driver makes for one GPU, typed, through the
// KernelIo seam (real or emulated); AmDevice's AmGpuInterface over KFD.
//
// Memory follows the KFD user-space convention: reserve a virtual range
// (anonymous PROT_NONE mmap), allocate VRAM or GTT at that address
// (ALLOC_MEMORY_OF_GPU), map it into the process over the reservation by
// mmapping the render node at the allocation's offset (MAP_FIXED, only for
// CPU-visible memory), and map it for the GPU (MAP_MEMORY_TO_GPU): the GPU
// and the CPU then use the same address. Events: signal events post to a
// mailbox slot in an event page (a GTT allocation given to the first
// CREATE_EVENT); WAIT_EVENTS sleeps in the kernel until one is signaled or
// its millisecond timeout passes. The interface's types (am_interface.h)
// become the KFD structures here and nowhere else.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Kfd> k, Kfd::Open(io, gpu, "AM:0"));
//   ASSIGN_OR_RETURN(AmMemory m, k->Alloc(1 << 20, kAmMemVram | kAmMemPublic, true));
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_AM_KFD_H_
#define UOP_DRIVERS_AM_KFD_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/am/abi/kfd.h"
#include "drivers/am/am_interface.h"
#include "drivers/am/am_topology.h"
#include "drivers/common/kernel_io.h"

namespace uop {

class Kfd final : public AmGpuInterface {
 public:
  static absl::StatusOr<std::unique_ptr<Kfd>> Open(KernelIo& io, const AmGpuNode& gpu,
                                                   std::string device);
  ~Kfd() override;
  Kfd(const Kfd&) = delete;
  Kfd& operator=(const Kfd&) = delete;

  KernelIo& io() const { return io_; }
  uint32_t gpu_id() const { return gpu_id_; }
  uint32_t version_major() const { return major_; }
  uint32_t version_minor() const { return minor_; }

  // AmGpuInterface:
  const std::string& device() const override { return device_; }
  // "KFD <major>.<minor>", with ", emulated" behind the emulated seam.
  std::string Describe() const override;
  // VRAM needs kAmMemPublic to be `cpu_map`ped: it is then reached through
  // the PCI BAR.
  absl::StatusOr<AmMemory> Alloc(size_t bytes, uint32_t flags, bool cpu_map) override;
  absl::Status Free(const AmMemory& m) override;
  // The first signal event hands KFD the event page.
  absl::StatusOr<AmEvent> CreateEvent(AmEventType type, bool auto_reset) override;
  absl::Status DestroyEvent(uint32_t event) override;
  absl::Status ResetEvent(uint32_t event) override;
  absl::StatusOr<std::vector<AmEventData>> WaitEvents(const std::vector<uint32_t>& events,
                                                      uint32_t timeout_ms) override;
  const AmMemory& event_page() const override { return event_page_; }
  absl::StatusOr<AmQueueInfo> CreateQueue(const AmQueueSpec& spec) override;
  absl::Status DestroyQueue(uint32_t queue_id) override;

 private:
  Kfd(KernelIo& io, std::string device) : io_(io), device_(std::move(device)) {}
  absl::Status Call(unsigned long request, void* arg, const char* name);

  KernelIo& io_;
  const std::string device_;
  int kfd_fd_ = -1, drm_fd_ = -1;
  uint32_t gpu_id_ = 0, major_ = 0, minor_ = 0;
  AmMemory event_page_;
  std::mutex mu_;
  bool event_page_given_ = false;                // guarded by mu_
  std::map<uint32_t, AmEventType> event_types_;  // guarded by mu_: for WaitEvents' data
  void* doorbells_ = nullptr;                    // guarded by mu_
  uint64_t doorbell_base_ = 0;                   // guarded by mu_
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_KFD_H_
