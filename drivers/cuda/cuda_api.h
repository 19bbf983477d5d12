// CudaApi: the CUDA driver API (libcuda), loaded with dlopen at run time.
//
// The project builds and runs on machines without a GPU or CUDA: nothing
// links against libcuda. The handful of types and functions the CUDA backend
// uses are declared here (ABI-stable since CUDA 11; `_v2` entry points where
// the driver versions them), resolved once per process. A missing library,
// a missing symbol or a driver older than kMinDriverVersion gives one clear
// FailedPrecondition error, and the device registry then offers no CUDA
// device.
//
//   ASSIGN_OR_RETURN(const CudaApi* cu, CudaApi::Get());
//   RETURN_IF_ERROR(cu->Check(cu->cuInit(0), "cuInit", "CUDA"));
//
// The library is looked up as $UOP_LIBCUDA if set, else "libcuda.so.1" then
// "libcuda.so" on the loader's path.
//
// Thread safety: the table is immutable after loading; the driver itself is
// thread-safe (each thread makes the device's context current first).
#ifndef UOP_DRIVERS_CUDA_CUDA_API_H_
#define UOP_DRIVERS_CUDA_CUDA_API_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop::cuda {

// Driver API types (cuda.h), declared here so no CUDA header is needed.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUstream = struct CUstream_st*;
using CUevent = struct CUevent_st*;
using CUgraph = struct CUgraph_st*;
using CUgraphNode = struct CUgraphNode_st*;
using CUgraphExec = struct CUgraphExec_st*;
using CUkernel = struct CUkern_st*;
using CUhostFn = void (*)(void* user_data);

// CUDA_KERNEL_NODE_PARAMS_v2 (cuda.h, CUDA 12+).
struct CudaKernelNodeParams {
  CUfunction func;
  unsigned int grid_x, grid_y, grid_z;
  unsigned int block_x, block_y, block_z;
  unsigned int shared_bytes;
  void** kernel_params;
  void** extra;
  CUkernel kern;
  CUcontext ctx;
};

inline constexpr CUresult kCudaSuccess = 0;
inline constexpr CUresult kCudaErrorOutOfMemory = 2;
inline constexpr CUresult kCudaErrorNoDevice = 100;
inline constexpr CUresult kCudaErrorNotReady = 600;

// CUdevice_attribute values used by the backend.
enum DeviceAttribute : int {
  kAttrMaxThreadsPerBlock = 1,
  kAttrMaxBlockDimX = 2,
  kAttrMaxBlockDimY = 3,
  kAttrMaxBlockDimZ = 4,
  kAttrMaxGridDimX = 5,
  kAttrMaxGridDimY = 6,
  kAttrMaxGridDimZ = 7,
  kAttrMaxSharedMemoryPerBlock = 8,
  kAttrClockRateKhz = 13,
  kAttrMultiprocessorCount = 16,
  kAttrL2CacheSize = 38,
  kAttrComputeCapabilityMajor = 75,
  kAttrComputeCapabilityMinor = 76,
  kAttrMaxSharedMemoryPerBlockOptin = 97,
};

inline constexpr unsigned kStreamNonBlocking = 0x1;
inline constexpr unsigned kEventDisableTiming = 0x2;
inline constexpr unsigned kMemHostAllocPortable = 0x1;
inline constexpr unsigned kMemHostAllocDeviceMap = 0x2;
inline constexpr int kFuncAttrMaxDynamicSharedBytes = 8;
inline constexpr int kStreamCaptureModeThreadLocal = 1;

// CUDA 12.0: cuGraphExecKernelNodeSetParams_v2, cuGraphAddKernelNode_v2.
inline constexpr int kMinDriverVersion = 12000;

struct CudaApi {
  // Loads the driver library once per process; the error (if any) is
  // remembered and returned again.
  static absl::StatusOr<const CudaApi*> Get();
  // Loads from `library` without caching (tests of the failure paths).
  static absl::StatusOr<const CudaApi*> LoadFrom(const std::string& library);

  // OK for CUDA_SUCCESS; otherwise an error naming `where` (device), the call
  // and the driver's name and text for the code. Out of memory maps to
  // ResourceExhausted, everything else to Internal.
  absl::Status Check(CUresult r, const char* call, absl::string_view where) const;
  // "CUDA_ERROR_OUT_OF_MEMORY: out of memory" for a result code.
  std::string ErrorText(CUresult r) const;

  std::string library;  // what was dlopen'ed
  int driver_version = 0;

  CUresult (*cuInit)(unsigned flags);
  CUresult (*cuDriverGetVersion)(int* version);
  CUresult (*cuGetErrorName)(CUresult r, const char** name);
  CUresult (*cuGetErrorString)(CUresult r, const char** text);
  CUresult (*cuDeviceGetCount)(int* count);
  CUresult (*cuDeviceGet)(CUdevice* dev, int ordinal);
  CUresult (*cuDeviceGetName)(char* name, int len, CUdevice dev);
  CUresult (*cuDeviceGetAttribute)(int* value, int attribute, CUdevice dev);
  CUresult (*cuDeviceTotalMem)(size_t* bytes, CUdevice dev);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext* ctx, CUdevice dev);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice dev);
  CUresult (*cuCtxSetCurrent)(CUcontext ctx);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuMemGetInfo)(size_t* free_bytes, size_t* total_bytes);
  CUresult (*cuMemAlloc)(CUdeviceptr* ptr, size_t bytes);
  CUresult (*cuMemFree)(CUdeviceptr ptr);
  CUresult (*cuMemHostAlloc)(void** ptr, size_t bytes, unsigned flags);
  CUresult (*cuMemFreeHost)(void* ptr);
  CUresult (*cuMemHostGetDevicePointer)(CUdeviceptr* dptr, void* host, unsigned flags);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr dst, const void* src, size_t bytes, CUstream s);
  CUresult (*cuMemcpyDtoHAsync)(void* dst, CUdeviceptr src, size_t bytes, CUstream s);
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream s);
  CUresult (*cuMemsetD8Async)(CUdeviceptr dst, unsigned char value, size_t n, CUstream s);
  CUresult (*cuModuleLoadData)(CUmodule* module, const void* image);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction* fn, CUmodule module, const char* name);
  CUresult (*cuFuncSetAttribute)(CUfunction fn, int attribute, int value);
  CUresult (*cuLaunchKernel)(CUfunction fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                             unsigned by, unsigned bz, unsigned shared_bytes, CUstream s,
                             void** params, void** extra);
  CUresult (*cuLaunchHostFunc)(CUstream s, CUhostFn fn, void* user_data);
  CUresult (*cuStreamCreate)(CUstream* s, unsigned flags);
  CUresult (*cuStreamDestroy)(CUstream s);
  CUresult (*cuStreamQuery)(CUstream s);
  CUresult (*cuStreamWaitEvent)(CUstream s, CUevent e, unsigned flags);
  CUresult (*cuEventCreate)(CUevent* e, unsigned flags);
  CUresult (*cuEventDestroy)(CUevent e);
  CUresult (*cuEventRecord)(CUevent e, CUstream s);
  CUresult (*cuEventQuery)(CUevent e);
  CUresult (*cuEventElapsedTime)(float* ms, CUevent start, CUevent end);
  CUresult (*cuGraphCreate)(CUgraph* graph, unsigned flags);
  CUresult (*cuGraphDestroy)(CUgraph graph);
  CUresult (*cuGraphAddKernelNode)(CUgraphNode* node, CUgraph graph, const CUgraphNode* deps,
                                   size_t num_deps, const CudaKernelNodeParams* params);
  CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec* exec, CUgraph graph,
                                          unsigned long long flags);
  CUresult (*cuGraphExecKernelNodeSetParams)(CUgraphExec exec, CUgraphNode node,
                                             const CudaKernelNodeParams* params);
  CUresult (*cuGraphLaunch)(CUgraphExec exec, CUstream s);
  CUresult (*cuGraphExecDestroy)(CUgraphExec exec);

 private:
  void* handle_ = nullptr;
  friend absl::StatusOr<CudaApi*> LoadCudaApi(const std::string& library);
};

}  // namespace uop::cuda

#endif  // UOP_DRIVERS_CUDA_CUDA_API_H_
