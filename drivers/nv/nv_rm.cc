#include "drivers/nv/nv_rm.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {
// Never replaces a mapping that is already there (a collision is an error).
constexpr int kMapFixedNoReplace = 0x100000;  // MAP_FIXED_NOREPLACE
}  // namespace

std::string NvStatusName(uint32_t status) {
  const char* name = "NV_ERR";
  switch (status) {
    case nvrm::kOk:
      name = "NV_OK";
      break;
    case nvrm::kErrInsufficientPermissions:
      name = "NV_ERR_INSUFFICIENT_PERMISSIONS";
      break;
    case nvrm::kErrInvalidArgument:
      name = "NV_ERR_INVALID_ARGUMENT";
      break;
    case nvrm::kErrInvalidClass:
      name = "NV_ERR_INVALID_CLASS";
      break;
    case nvrm::kErrInvalidObjectHandle:
      name = "NV_ERR_INVALID_OBJECT_HANDLE";
      break;
    case nvrm::kErrInvalidState:
      name = "NV_ERR_INVALID_STATE";
      break;
    case nvrm::kErrNoMemory:
      name = "NV_ERR_NO_MEMORY";
      break;
    case nvrm::kErrNotSupported:
      name = "NV_ERR_NOT_SUPPORTED";
      break;
  }
  return absl::StrFormat("%s (0x%x)", name, status);
}

bool NvTraceEnabled() {
  static const bool on = [] {
    const char* v = std::getenv("UOP_NV_TRACE");
    return v != nullptr && *v != '\0' && std::string(v) != "0";
  }();
  return on;
}

void NvTrace(const std::string& line) {
  if (NvTraceEnabled()) fprintf(stderr, "nv: %s\n", line.c_str());
}

absl::Status NvRm::RmError(const std::string& what, uint32_t status) const {
  const std::string msg = absl::StrCat(device_, ": ", what, " failed: ", NvStatusName(status));
  switch (status) {
    case nvrm::kErrNoMemory:
      return absl::ResourceExhaustedError(msg);
    case nvrm::kErrInsufficientPermissions:
      return absl::PermissionDeniedError(msg);
    case nvrm::kErrInvalidArgument:
    case nvrm::kErrInvalidClass:
    case nvrm::kErrInvalidObjectHandle:
      return absl::InvalidArgumentError(msg);
    case nvrm::kErrNotSupported:
      return absl::UnimplementedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::StatusOr<std::unique_ptr<NvRm>> NvRm::Open(KernelIo& io, std::string ctl_path,
                                                 std::string device) {
  std::unique_ptr<NvRm> rm(new NvRm(io, std::move(device)));
  ASSIGN_OR_RETURN(rm->ctl_fd_, io.Open(ctl_path, O_RDWR | O_CLOEXEC));
  nvrm::NVOS21_PARAMETERS p{};
  p.hClass = nvrm::kRootClient;
  RETURN_IF_ERROR(io.Ioctl(rm->ctl_fd_, nvrm::kIoctlRmAlloc, &p, "NV_ESC_RM_ALLOC(root client)"));
  if (p.status != nvrm::kOk) return rm->RmError("allocating the RM client", p.status);
  rm->root_ = p.hObjectNew;
  return rm;
}

NvRm::~NvRm() {
  if (root_ != 0) {
    nvrm::NVOS00_PARAMETERS p{root_, 0, root_, 0};
    (void)io_.Ioctl(ctl_fd_, nvrm::kIoctlRmFree, &p, "NV_ESC_RM_FREE(root client)");
  }
  if (ctl_fd_ >= 0) (void)io_.Close(ctl_fd_);
}

absl::StatusOr<nvrm::Handle> NvRm::Alloc(nvrm::Handle parent, uint32_t cls, void* params,
                                         uint32_t params_size) {
  nvrm::NVOS21_PARAMETERS p{};
  p.hRoot = root_;
  p.hObjectParent = parent;
  p.hClass = cls;
  p.pAllocParms = reinterpret_cast<uintptr_t>(params);
  p.paramsSize = params_size;
  const std::string what =
      absl::StrFormat("NV_ESC_RM_ALLOC of class 0x%04x under 0x%08x", cls, parent);
  absl::Status st = io_.Ioctl(ctl_fd_, nvrm::kIoctlRmAlloc, &p, what);
  NvTrace(absl::StrCat(what, ": ", st.ok() ? NvStatusName(p.status) : st.ToString(), " -> 0x",
                       absl::Hex(p.hObjectNew)));
  RETURN_IF_ERROR(st);
  if (p.status != nvrm::kOk) return RmError(what, p.status);
  return p.hObjectNew;
}

absl::Status NvRm::Free(nvrm::Handle parent, nvrm::Handle object) {
  nvrm::NVOS00_PARAMETERS p{root_, parent, object, 0};
  const std::string what = absl::StrFormat("NV_ESC_RM_FREE of 0x%08x", object);
  absl::Status st = io_.Ioctl(ctl_fd_, nvrm::kIoctlRmFree, &p, what);
  NvTrace(absl::StrCat(what, ": ", st.ok() ? NvStatusName(p.status) : st.ToString()));
  RETURN_IF_ERROR(st);
  if (p.status != nvrm::kOk) return RmError(what, p.status);
  return absl::OkStatus();
}

absl::Status NvRm::Control(nvrm::Handle object, uint32_t cmd, void* params, uint32_t params_size,
                           const char* what) {
  nvrm::NVOS54_PARAMETERS p{};
  p.hClient = root_;
  p.hObject = object;
  p.cmd = cmd;
  p.params = reinterpret_cast<uintptr_t>(params);
  p.paramsSize = params_size;
  const std::string name = absl::StrFormat("control %s (0x%08x) on 0x%08x", what, cmd, object);
  absl::Status st = io_.Ioctl(ctl_fd_, nvrm::kIoctlRmControl, &p, name);
  NvTrace(absl::StrCat(name, ": ", st.ok() ? NvStatusName(p.status) : st.ToString()));
  RETURN_IF_ERROR(st);
  if (p.status != nvrm::kOk) return RmError(name, p.status);
  return absl::OkStatus();
}

absl::StatusOr<nvrm::Handle> NvRm::AllocOsDescriptor(int gpu_fd, nvrm::Handle device, void* host,
                                                     uint64_t bytes) {
  nvrm::nv_ioctl_nvos02_parameters_with_fd p{};
  p.params.hRoot = root_;
  p.params.hObjectParent = device;
  p.params.hObjectNew = next_os_handle_.fetch_add(1);
  p.params.hClass = nvrm::kMemorySystemOsDesc;
  p.params.flags =
      nvrm::kOs02PhysicalityNoncontiguous | nvrm::kOs02CoherencyCached | nvrm::kOs02MappingNoMap;
  p.params.pMemory = reinterpret_cast<uintptr_t>(host);
  p.params.limit = bytes - 1;
  p.fd = -1;
  const std::string what =
      absl::StrFormat("NV_ESC_RM_ALLOC_MEMORY (OS descriptor, %u bytes)", bytes);
  absl::Status st = io_.Ioctl(gpu_fd, nvrm::kIoctlRmAllocMemory, &p, what);
  NvTrace(absl::StrCat(what, ": ", st.ok() ? NvStatusName(p.params.status) : st.ToString()));
  RETURN_IF_ERROR(st);
  if (p.params.status != nvrm::kOk) return RmError(what, p.params.status);
  return p.params.hObjectNew;
}

absl::StatusOr<int> NvRm::OpenGpuNode(const std::string& node) {
  ASSIGN_OR_RETURN(int fd, io_.Open(node, O_RDWR | O_CLOEXEC));
  nvrm::nv_ioctl_register_fd_t r{ctl_fd_};
  absl::Status st = io_.Ioctl(fd, nvrm::kIoctlRegisterFd, &r, "NV_ESC_REGISTER_FD");
  if (!st.ok()) {
    (void)io_.Close(fd);
    return st;
  }
  return fd;
}

absl::StatusOr<void*> NvRm::MapToCpu(const std::string& node, nvrm::Handle device,
                                     nvrm::Handle memory, uint64_t bytes, void* fixed,
                                     uint32_t flags) {
  int fd;
  if (node.find("nvidiactl") != std::string::npos) {
    ASSIGN_OR_RETURN(fd, io_.Open(node, O_RDWR | O_CLOEXEC));
  } else {
    ASSIGN_OR_RETURN(fd, OpenGpuNode(node));
  }
  nvrm::nv_ioctl_nvos33_parameters_with_fd p{};
  p.params.hClient = root_;
  p.params.hDevice = device;
  p.params.hMemory = memory;
  p.params.length = bytes;
  p.params.flags = flags;
  p.fd = fd;
  const std::string what =
      absl::StrFormat("NV_ESC_RM_MAP_MEMORY of 0x%08x (%u bytes)", memory, bytes);
  absl::Status st = io_.Ioctl(ctl_fd_, nvrm::kIoctlRmMapMemory, &p, what);
  NvTrace(absl::StrCat(what, " on ", node, ": ",
                       st.ok() ? NvStatusName(p.params.status) : st.ToString()));
  if (st.ok() && p.params.status != nvrm::kOk) st = RmError(what, p.params.status);
  absl::StatusOr<void*> cpu =
      st.ok() ? io_.Mmap(fixed, bytes, PROT_READ | PROT_WRITE,
                         MAP_SHARED | (fixed != nullptr ? kMapFixedNoReplace : 0), fd, 0,
                         absl::StrFormat("RM memory 0x%08x", memory))
              : absl::StatusOr<void*>(st);
  // The mapping keeps what it needs of the file; the fd is no longer needed.
  (void)io_.Close(fd);
  return cpu;
}

absl::Status NvRm::MapToGpu(nvrm::Handle device, nvrm::Handle dma, nvrm::Handle memory, uint64_t va,
                            uint64_t bytes) {
  nvrm::NVOS46_PARAMETERS p{};
  p.hClient = root_;
  p.hDevice = device;
  p.hDma = dma;
  p.hMemory = memory;
  p.length = bytes;
  p.flags = nvrm::kOs46PageSize4Kb | nvrm::kOs46CacheSnoopEnable | nvrm::kOs46DmaOffsetFixed;
  p.dmaOffset = va;
  const std::string what =
      absl::StrFormat("NV_ESC_RM_MAP_MEMORY_DMA of 0x%08x at 0x%x (%u bytes)", memory, va, bytes);
  absl::Status st = io_.Ioctl(ctl_fd_, nvrm::kIoctlRmMapMemoryDma, &p, what);
  NvTrace(absl::StrCat(what, ": ", st.ok() ? NvStatusName(p.status) : st.ToString()));
  RETURN_IF_ERROR(st);
  if (p.status != nvrm::kOk) return RmError(what, p.status);
  if (p.dmaOffset != va) {
    return absl::InternalError(
        absl::StrFormat("%s: %s mapped at 0x%x instead", device_, what, p.dmaOffset));
  }
  return absl::OkStatus();
}

absl::Status NvRm::UnmapFromGpu(nvrm::Handle device, nvrm::Handle dma, nvrm::Handle memory,
                                uint64_t va, uint64_t bytes) {
  nvrm::NVOS47_PARAMETERS p{};
  p.hClient = root_;
  p.hDevice = device;
  p.hDma = dma;
  p.hMemory = memory;
  p.dmaOffset = va;
  p.size = bytes;
  const std::string what = absl::StrFormat("NV_ESC_RM_UNMAP_MEMORY_DMA at 0x%x", va);
  RETURN_IF_ERROR(io_.Ioctl(ctl_fd_, nvrm::kIoctlRmUnmapMemoryDma, &p, what));
  if (p.status != nvrm::kOk) return RmError(what, p.status);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<nvrm::nv_ioctl_card_info_t>> NvRm::Cards() {
  auto all = std::make_unique<nvrm::CardInfoArray>();
  std::memset(all.get(), 0, sizeof(*all));
  RETURN_IF_ERROR(io_.Ioctl(ctl_fd_, nvrm::kIoctlCardInfo, all.get(), "NV_ESC_CARD_INFO"));
  std::vector<nvrm::nv_ioctl_card_info_t> out;
  for (const nvrm::nv_ioctl_card_info_t& c : all->cards) {
    if (c.valid) out.push_back(c);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<NvUvm>> NvUvm::Open(KernelIo& io, std::string path,
                                                   std::string device) {
  std::unique_ptr<NvUvm> uvm(new NvUvm(io, std::move(device)));
  ASSIGN_OR_RETURN(uvm->fd_, io.Open(path, O_RDWR | O_CLOEXEC));
  nvrm::UVM_INITIALIZE_PARAMS init{};
  RETURN_IF_ERROR(uvm->Call(nvrm::kUvmInitialize, &init, &init.rmStatus, "UVM_INITIALIZE"));
  ASSIGN_OR_RETURN(uvm->mm_fd_, io.Open(path, O_RDWR | O_CLOEXEC));
  nvrm::UVM_MM_INITIALIZE_PARAMS mm{uvm->fd_, 0};
  // Older modules lack it and CUDA ignores its failure too: the first fd
  // then works without the address-space tie.
  (void)io.Ioctl(uvm->mm_fd_, nvrm::kUvmMmInitialize, &mm, "UVM_MM_INITIALIZE");
  uvm->map_params_ = std::make_unique<nvrm::UVM_MAP_EXTERNAL_ALLOCATION_PARAMS>();
  return uvm;
}

NvUvm::~NvUvm() {
  if (mm_fd_ >= 0) (void)io_.Close(mm_fd_);
  if (fd_ >= 0) (void)io_.Close(fd_);
}

absl::Status NvUvm::Call(unsigned long request, void* params, const uint32_t* rm_status,
                         const char* what) {
  absl::Status st = io_.Ioctl(fd_, request, params, what);
  NvTrace(absl::StrCat(what, ": ", st.ok() ? NvStatusName(*rm_status) : st.ToString()));
  RETURN_IF_ERROR(st);
  if (*rm_status != nvrm::kOk) {
    const std::string msg =
        absl::StrCat(device_, ": ", what, " failed: ", NvStatusName(*rm_status));
    return *rm_status == nvrm::kErrNoMemory ? absl::ResourceExhaustedError(msg)
                                            : absl::InternalError(msg);
  }
  return absl::OkStatus();
}

absl::Status NvUvm::RegisterGpu(const nvrm::NvUuid& gpu) {
  nvrm::UVM_REGISTER_GPU_PARAMS p{};
  p.gpu_uuid = gpu;
  p.rmCtrlFd = -1;
  return Call(nvrm::kUvmRegisterGpu, &p, &p.rmStatus, "UVM_REGISTER_GPU");
}

absl::Status NvUvm::UnregisterGpu(const nvrm::NvUuid& gpu) {
  nvrm::UVM_UNREGISTER_GPU_PARAMS p{};
  p.gpu_uuid = gpu;
  return Call(nvrm::kUvmUnregisterGpu, &p, &p.rmStatus, "UVM_UNREGISTER_GPU");
}

absl::Status NvUvm::RegisterGpuVaspace(const nvrm::NvUuid& gpu, int ctl_fd, nvrm::Handle client,
                                       nvrm::Handle vaspace) {
  nvrm::UVM_REGISTER_GPU_VASPACE_PARAMS p{};
  p.gpuUuid = gpu;
  p.rmCtrlFd = ctl_fd;
  p.hClient = client;
  p.hVaSpace = vaspace;
  return Call(nvrm::kUvmRegisterGpuVaspace, &p, &p.rmStatus, "UVM_REGISTER_GPU_VASPACE");
}

absl::Status NvUvm::RegisterChannel(const nvrm::NvUuid& gpu, int ctl_fd, nvrm::Handle client,
                                    nvrm::Handle channel, uint64_t base, uint64_t length) {
  nvrm::UVM_REGISTER_CHANNEL_PARAMS p{};
  p.gpuUuid = gpu;
  p.rmCtrlFd = ctl_fd;
  p.hClient = client;
  p.hChannel = channel;
  p.base = base;
  p.length = length;
  return Call(nvrm::kUvmRegisterChannel, &p, &p.rmStatus, "UVM_REGISTER_CHANNEL");
}

absl::Status NvUvm::CreateExternalRange(uint64_t base, uint64_t length) {
  nvrm::UVM_CREATE_EXTERNAL_RANGE_PARAMS p{base, length, 0};
  return Call(nvrm::kUvmCreateExternalRange, &p, &p.rmStatus, "UVM_CREATE_EXTERNAL_RANGE");
}

absl::Status NvUvm::MapExternal(const nvrm::NvUuid& gpu, uint64_t base, uint64_t length, int ctl_fd,
                                nvrm::Handle client, nvrm::Handle memory) {
  std::lock_guard<std::mutex> lock(map_mu_);
  nvrm::UVM_MAP_EXTERNAL_ALLOCATION_PARAMS& p = *map_params_;
  std::memset(&p, 0, sizeof(p));
  p.base = base;
  p.length = length;
  p.perGpuAttributes[0].gpuUuid = gpu;
  p.perGpuAttributes[0].gpuMappingType = nvrm::kUvmMappingReadWriteAtomic;
  p.gpuAttributesCount = 1;
  p.rmCtrlFd = ctl_fd;
  p.hClient = client;
  p.hMemory = memory;
  return Call(nvrm::kUvmMapExternalAllocation, &p, &p.rmStatus, "UVM_MAP_EXTERNAL_ALLOCATION");
}

absl::Status NvUvm::Free(uint64_t base, uint64_t length) {
  nvrm::UVM_FREE_PARAMS p{base, length, 0};
  return Call(nvrm::kUvmFree, &p, &p.rmStatus, "UVM_FREE");
}

}  // namespace uop
