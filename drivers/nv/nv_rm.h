// NvRm and NvUvm: the NVIDIA kernel driver's resource manager (RM) and
// unified-memory (UVM) interfaces, through the KernelIo seam.
//
// NvRm owns an open /dev/nvidiactl and the RM client (root) allocated on it.
// Every RM object the driver makes (device, subdevice, VA space, channels,
// memory) is a child in that client's tree: Alloc/Control/Free are the
// NV_ESC_RM_ALLOC / _CONTROL / _FREE escapes. NvUvm owns /dev/nvidia-uvm:
// GPU registration, external ranges, and mapping RM memory at a fixed GPU
// virtual address. Errors name the call, the class or control, the objects
// and the RM status (e.g. "NV_ERR_INVALID_CLASS (0x22)").
//
//   ASSIGN_OR_RETURN(std::unique_ptr<NvRm> rm, NvRm::Open(io, "/dev/nvidiactl", "NV:0"));
//   nvrm::NV0080_ALLOC_PARAMETERS p{.deviceId = 0, .hClientShare = rm->root()};
//   ASSIGN_OR_RETURN(nvrm::Handle dev, rm->Alloc(rm->root(), nvrm::kDevice0, &p, sizeof(p)));
//
// Thread safety: every method may be called from any thread (the kernel
// serializes RM calls itself).
#ifndef UOP_DRIVERS_NV_NV_RM_H_
#define UOP_DRIVERS_NV_NV_RM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/common/kernel_io.h"
#include "drivers/nv/include/nv_rm_abi.h"

namespace uop {

// "NV_ERR_INVALID_CLASS (0x22)".
std::string NvStatusName(uint32_t status);

// True when UOP_NV_TRACE is set (non-empty, not "0"): every RM and UVM call
// is then logged to stderr with its result (bring-up on new hardware).
bool NvTraceEnabled();
// Logs one line "nv: <line>" when tracing.
void NvTrace(const std::string& line);

class NvRm {
 public:
  // Opens `ctl_path` and allocates the RM client. `device` names the
  // device in errors ("NV:0").
  static absl::StatusOr<std::unique_ptr<NvRm>> Open(KernelIo& io, std::string ctl_path,
                                                    std::string device);
  // Frees the client (and with it every object under it) and closes the fd.
  ~NvRm();

  KernelIo& io() const { return io_; }
  int ctl_fd() const { return ctl_fd_; }
  nvrm::Handle root() const { return root_; }
  const std::string& device() const { return device_; }

  // Allocates an object of class `cls` under `parent` (RM picks the handle).
  absl::StatusOr<nvrm::Handle> Alloc(nvrm::Handle parent, uint32_t cls, void* params,
                                     uint32_t params_size);
  absl::Status Free(nvrm::Handle parent, nvrm::Handle object);
  // Runs control `cmd` on `object`; `what` names it in errors.
  absl::Status Control(nvrm::Handle object, uint32_t cmd, void* params, uint32_t params_size,
                       const char* what);
  // System memory the caller mapped at `host` (page aligned), described to
  // RM as an OS descriptor object under `device` (NV_ESC_RM_ALLOC_MEMORY).
  absl::StatusOr<nvrm::Handle> AllocOsDescriptor(int gpu_fd, nvrm::Handle device, void* host,
                                                 uint64_t bytes);
  // Maps RM memory `memory` (under `device`) into this process: a fresh fd
  // of `node` (a /dev/nvidia<N> registered with the control fd, or
  // /dev/nvidiactl for system memory) carries the mapping; at `fixed` when
  // not null (MAP_FIXED), else anywhere.
  absl::StatusOr<void*> MapToCpu(const std::string& node, nvrm::Handle device, nvrm::Handle memory,
                                 uint64_t bytes, void* fixed, uint32_t flags);
  // Maps `memory` into the GPU virtual memory object `dma` at exactly `va`.
  absl::Status MapToGpu(nvrm::Handle device, nvrm::Handle dma, nvrm::Handle memory, uint64_t va,
                        uint64_t bytes);
  absl::Status UnmapFromGpu(nvrm::Handle device, nvrm::Handle dma, nvrm::Handle memory, uint64_t va,
                            uint64_t bytes);
  // The cards the driver knows (valid entries only).
  absl::StatusOr<std::vector<nvrm::nv_ioctl_card_info_t>> Cards();
  // Opens `node` (/dev/nvidia<N>) and registers it with the control fd.
  absl::StatusOr<int> OpenGpuNode(const std::string& node);

 private:
  NvRm(KernelIo& io, std::string device) : io_(io), device_(std::move(device)) {}
  absl::Status RmError(const std::string& what, uint32_t status) const;

  KernelIo& io_;
  const std::string device_;
  int ctl_fd_ = -1;
  nvrm::Handle root_ = 0;
  std::atomic<nvrm::Handle> next_os_handle_{0xcf000000};
};

class NvUvm {
 public:
  // Opens `path` twice: UVM_INITIALIZE on the first fd, UVM_MM_INITIALIZE on
  // the second (which ties the first to this process's address space).
  static absl::StatusOr<std::unique_ptr<NvUvm>> Open(KernelIo& io, std::string path,
                                                     std::string device);
  ~NvUvm();

  absl::Status RegisterGpu(const nvrm::NvUuid& gpu);
  absl::Status UnregisterGpu(const nvrm::NvUuid& gpu);
  absl::Status RegisterGpuVaspace(const nvrm::NvUuid& gpu, int ctl_fd, nvrm::Handle client,
                                  nvrm::Handle vaspace);
  absl::Status RegisterChannel(const nvrm::NvUuid& gpu, int ctl_fd, nvrm::Handle client,
                               nvrm::Handle channel, uint64_t base, uint64_t length);
  absl::Status CreateExternalRange(uint64_t base, uint64_t length);
  // Maps RM memory `memory` at [base, base + length) on `gpu`.
  absl::Status MapExternal(const nvrm::NvUuid& gpu, uint64_t base, uint64_t length, int ctl_fd,
                           nvrm::Handle client, nvrm::Handle memory);
  // Removes the range at `base` (and its mappings).
  absl::Status Free(uint64_t base, uint64_t length);

 private:
  NvUvm(KernelIo& io, std::string device) : io_(io), device_(std::move(device)) {}
  // Issues `request` and checks both the errno and the rmStatus field.
  absl::Status Call(unsigned long request, void* params, const uint32_t* rm_status,
                    const char* what);

  KernelIo& io_;
  const std::string device_;
  int fd_ = -1, mm_fd_ = -1;
  std::unique_ptr<nvrm::UVM_MAP_EXTERNAL_ALLOCATION_PARAMS> map_params_;  // 9 KiB, reused
  std::mutex map_mu_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_NV_NV_RM_H_
