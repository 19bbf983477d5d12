#include "drivers/qcom/kgsl.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {

using namespace kgsl;  // NOLINT: the ABI names read best unqualified here

absl::StatusOr<std::unique_ptr<Kgsl>> Kgsl::Open(KernelIo& io, const std::string& path,
                                                 std::string device) {
  ASSIGN_OR_RETURN(int fd, io.Open(path, O_RDWR));
  return std::unique_ptr<Kgsl>(new Kgsl(io, fd, std::move(device)));
}

Kgsl::~Kgsl() { (void)io_.Close(fd_); }

absl::Status Kgsl::Call(unsigned long request, void* arg, const char* name) {
  absl::Status st = io_.Ioctl(fd_, request, arg, name);
  if (st.ok()) return st;
  return absl::Status(st.code(), absl::StrCat(device_, ": ", st.message()));
}

absl::StatusOr<kgsl_devinfo> Kgsl::DeviceInfo() {
  kgsl_devinfo info{};
  kgsl_device_getproperty req{kPropDeviceInfo, &info, sizeof(info)};
  RETURN_IF_ERROR(Call(kIoctlDeviceGetProperty, &req, "IOCTL_KGSL_DEVICE_GETPROPERTY"));
  return info;
}

absl::StatusOr<uint32_t> Kgsl::CreateContext(uint32_t flags) {
  kgsl_drawctxt_create req{flags, 0};
  RETURN_IF_ERROR(Call(kIoctlDrawctxtCreate, &req, "IOCTL_KGSL_DRAWCTXT_CREATE"));
  return req.drawctxt_id;
}

absl::Status Kgsl::DestroyContext(uint32_t context) {
  kgsl_drawctxt_destroy req{context};
  return Call(kIoctlDrawctxtDestroy, &req, "IOCTL_KGSL_DRAWCTXT_DESTROY");
}

absl::Status Kgsl::SetMaxPower(uint32_t context) {
  uint32_t level = kConstraintPwrMax;
  kgsl_device_constraint c{kConstraintPwrLevel, context, &level, sizeof(level)};
  kgsl_device_getproperty req{kPropPwrConstraint, &c, sizeof(c)};
  return Call(kIoctlSetProperty, &req, "IOCTL_KGSL_SETPROPERTY(PWR_CONSTRAINT)");
}

absl::StatusOr<Kgsl::Memory> Kgsl::Alloc(size_t bytes, uint64_t flags) {
  const uint64_t rounded = (std::max<uint64_t>(bytes, 1) + 4095) & ~uint64_t{4095};
  kgsl_gpuobj_alloc req{};
  req.size = rounded;
  req.flags = flags | kMemflagsUseCpuMap | (uint64_t{12} << kMemAlignShift);
  req.mmapsize = rounded;
  absl::Status st = Call(kIoctlGpuobjAlloc, &req, "IOCTL_KGSL_GPUOBJ_ALLOC");
  if (!st.ok()) {
    if (st.code() == absl::StatusCode::kResourceExhausted) {
      return absl::ResourceExhaustedError(absl::StrCat(device_, ": out of GPU memory allocating ",
                                                       bytes, " bytes: ", st.message()));
    }
    return st;
  }
  Memory m;
  m.id = req.id;
  m.size = bytes;
  m.mapped = req.mmapsize != 0 ? req.mmapsize : rounded;
  absl::StatusOr<void*> cpu = io_.Mmap(nullptr, m.mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd_,
                                       MmapOffset(m.id), "KGSL GPU object");
  if (!cpu.ok()) {
    kgsl_gpuobj_free f{};
    f.id = m.id;
    (void)Call(kIoctlGpuobjFree, &f, "IOCTL_KGSL_GPUOBJ_FREE");
    return absl::Status(cpu.status().code(), absl::StrCat(device_, ": ", cpu.status().message()));
  }
  m.cpu = static_cast<uint8_t*>(*cpu);
  // With USE_CPU_MAP the GPU address is assigned at mmap; ask for it.
  kgsl_gpuobj_info info{};
  info.id = m.id;
  absl::Status ist = Call(kIoctlGpuobjInfo, &info, "IOCTL_KGSL_GPUOBJ_INFO");
  if (!ist.ok() || info.gpuaddr == 0) {
    (void)Free(m);
    return ist.ok() ? absl::InternalError(absl::StrCat(device_, ": GPU object ", m.id,
                                                       " has no GPU address after mmap"))
                    : ist;
  }
  m.gpu = info.gpuaddr;
  return m;
}

absl::Status Kgsl::Free(const Memory& m) {
  absl::Status st = absl::OkStatus();
  if (m.cpu != nullptr) st = io_.Munmap(m.cpu, m.mapped);
  kgsl_gpuobj_free req{};
  req.id = m.id;
  absl::Status fst = Call(kIoctlGpuobjFree, &req, "IOCTL_KGSL_GPUOBJ_FREE");
  return st.ok() ? fst : st;
}

absl::StatusOr<uint32_t> Kgsl::Submit(uint32_t context, uint64_t ib_gpu, uint64_t ib_bytes) {
  kgsl_command_object obj{};
  obj.gpuaddr = ib_gpu;
  obj.size = ib_bytes;
  obj.flags = kCmdlistIb;
  kgsl_gpu_command req{};
  req.cmdlist = reinterpret_cast<uint64_t>(&obj);
  req.cmdsize = sizeof(obj);
  req.numcmds = 1;
  req.context_id = context;
  RETURN_IF_ERROR(Call(kIoctlGpuCommand, &req, "IOCTL_KGSL_GPU_COMMAND"));
  return req.timestamp;
}

absl::StatusOr<uint32_t> Kgsl::RetiredTimestamp(uint32_t context) {
  kgsl_cmdstream_readtimestamp_ctxtid req{context, kTimestampRetired, 0};
  RETURN_IF_ERROR(
      Call(kIoctlReadTimestampCtxtid, &req, "IOCTL_KGSL_CMDSTREAM_READTIMESTAMP_CTXTID"));
  return req.timestamp;
}

absl::StatusOr<bool> Kgsl::WaitTimestamp(uint32_t context, uint32_t timestamp,
                                         uint32_t timeout_ms) {
  kgsl_device_waittimestamp_ctxtid req{context, timestamp, timeout_ms};
  const int err = io_.IoctlErrno(fd_, kIoctlWaitTimestampCtxtid, &req);
  if (err == 0) return true;
  if (err == ETIMEDOUT) return false;
  return ErrnoStatus(err, absl::StrCat(device_,
                                       ": ioctl IOCTL_KGSL_DEVICE_WAITTIMESTAMP_CTXTID "
                                       "(context ",
                                       context, ", timestamp ", timestamp, ")"));
}

}  // namespace uop
