#include "drivers/cuda/cuda_api.h"

#include <dlfcn.h>

#include <cstdlib>
#include <initializer_list>
#include <memory>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop::cuda {
namespace {

// Resolves `names` in order (a versioned name first, then the plain one)
// into `fn`; FailedPrecondition naming the first when none exists.
template <typename Fn>
absl::Status Resolve(void* handle, const std::string& library, Fn& fn,
                     std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (void* p = dlsym(handle, n)) {
      fn = reinterpret_cast<Fn>(p);
      return absl::OkStatus();
    }
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "CUDA driver '", library, "' lacks ", *names.begin(), " (driver too old or not libcuda)"));
}

absl::Status ResolveAll(void* handle, CudaApi& a);

}  // namespace

absl::StatusOr<CudaApi*> LoadCudaApi(const std::string& library) {
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return absl::FailedPreconditionError(
        absl::StrCat("CUDA driver library '", library,
                     "' cannot be loaded (no NVIDIA driver on this machine?): ",
                     err != nullptr ? err : "unknown dlopen error"));
  }
  auto api = std::make_unique<CudaApi>();
  api->library = library;
  api->handle_ = handle;
  absl::Status st = ResolveAll(handle, *api);
  if (!st.ok()) {
    dlclose(handle);
    return st;
  }
  return api.release();
}

namespace {

absl::Status ResolveAll(void* handle, CudaApi& a) {
  const std::string& l = a.library;
  RETURN_IF_ERROR(Resolve(handle, l, a.cuInit, {"cuInit"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuDriverGetVersion, {"cuDriverGetVersion"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuGetErrorName, {"cuGetErrorName"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuGetErrorString, {"cuGetErrorString"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuDeviceGetCount, {"cuDeviceGetCount"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuDeviceGet, {"cuDeviceGet"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuDeviceGetName, {"cuDeviceGetName"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuDeviceGetAttribute, {"cuDeviceGetAttribute"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuDeviceTotalMem, {"cuDeviceTotalMem_v2"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuDevicePrimaryCtxRetain, {"cuDevicePrimaryCtxRetain"}));
  RETURN_IF_ERROR(
      Resolve(handle, l, a.cuDevicePrimaryCtxRelease, {"cuDevicePrimaryCtxRelease_v2"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuCtxSetCurrent, {"cuCtxSetCurrent"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuCtxSynchronize, {"cuCtxSynchronize"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuMemGetInfo, {"cuMemGetInfo_v2"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuMemAlloc, {"cuMemAlloc_v2"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuMemFree, {"cuMemFree_v2"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuMemHostAlloc, {"cuMemHostAlloc"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuMemFreeHost, {"cuMemFreeHost"}));
  RETURN_IF_ERROR(
      Resolve(handle, l, a.cuMemHostGetDevicePointer, {"cuMemHostGetDevicePointer_v2"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuMemcpyHtoDAsync, {"cuMemcpyHtoDAsync_v2"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuMemcpyDtoHAsync, {"cuMemcpyDtoHAsync_v2"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuMemcpyDtoDAsync, {"cuMemcpyDtoDAsync_v2"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuMemsetD8Async, {"cuMemsetD8Async"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuModuleLoadData, {"cuModuleLoadData"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuModuleUnload, {"cuModuleUnload"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuModuleGetFunction, {"cuModuleGetFunction"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuFuncSetAttribute, {"cuFuncSetAttribute"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuLaunchKernel, {"cuLaunchKernel"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuLaunchHostFunc, {"cuLaunchHostFunc"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuStreamCreate, {"cuStreamCreate"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuStreamDestroy, {"cuStreamDestroy_v2"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuStreamQuery, {"cuStreamQuery"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuStreamWaitEvent, {"cuStreamWaitEvent"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuEventCreate, {"cuEventCreate"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuEventDestroy, {"cuEventDestroy_v2"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuEventRecord, {"cuEventRecord"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuEventQuery, {"cuEventQuery"}));
  RETURN_IF_ERROR(
      Resolve(handle, l, a.cuEventElapsedTime, {"cuEventElapsedTime_v2", "cuEventElapsedTime"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuGraphCreate, {"cuGraphCreate"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuGraphDestroy, {"cuGraphDestroy"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuGraphAddKernelNode, {"cuGraphAddKernelNode_v2"}));
  RETURN_IF_ERROR(
      Resolve(handle, l, a.cuGraphInstantiateWithFlags, {"cuGraphInstantiateWithFlags"}));
  RETURN_IF_ERROR(
      Resolve(handle, l, a.cuGraphExecKernelNodeSetParams, {"cuGraphExecKernelNodeSetParams_v2"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuGraphLaunch, {"cuGraphLaunch"}));
  RETURN_IF_ERROR(Resolve(handle, l, a.cuGraphExecDestroy, {"cuGraphExecDestroy"}));

  RETURN_IF_ERROR(a.Check(a.cuDriverGetVersion(&a.driver_version), "cuDriverGetVersion", l));
  if (a.driver_version < kMinDriverVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("CUDA driver '", l, "' is version ", a.driver_version / 1000, ".",
                     (a.driver_version % 1000) / 10, "; uop needs ", kMinDriverVersion / 1000, ".",
                     (kMinDriverVersion % 1000) / 10, " or newer"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<const CudaApi*> CudaApi::LoadFrom(const std::string& library) {
  ASSIGN_OR_RETURN(CudaApi * api, LoadCudaApi(library));
  return api;
}

absl::StatusOr<const CudaApi*> CudaApi::Get() {
  // Loaded once and never unloaded: kernels and host callbacks may still run
  // driver code until the process exits.
  static const absl::StatusOr<const CudaApi*>* const api = [] {
    auto* result = new absl::StatusOr<const CudaApi*>();
    const char* env = std::getenv("UOP_LIBCUDA");
    if (env != nullptr && *env != '\0') {
      *result = LoadFrom(env);
      return result;
    }
    absl::StatusOr<const CudaApi*> first = LoadFrom("libcuda.so.1");
    *result = first.ok() ? first : LoadFrom("libcuda.so");
    if (!result->ok() && !first.ok()) *result = first.status();
    return result;
  }();
  return *api;
}

std::string CudaApi::ErrorText(CUresult r) const {
  const char* name = nullptr;
  const char* text = nullptr;
  if (cuGetErrorName(r, &name) != kCudaSuccess || name == nullptr) name = "CUDA_ERROR_UNKNOWN";
  if (cuGetErrorString(r, &text) != kCudaSuccess || text == nullptr) text = "unknown error";
  return absl::StrCat(name, " (", r, "): ", text);
}

absl::Status CudaApi::Check(CUresult r, const char* call, absl::string_view where) const {
  if (r == kCudaSuccess) return absl::OkStatus();
  std::string msg = absl::StrCat(where, ": ", call, " failed: ", ErrorText(r));
  if (r == kCudaErrorOutOfMemory) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}

}  // namespace uop::cuda
