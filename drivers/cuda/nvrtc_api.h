// NvrtcApi: NVIDIA's run-time CUDA C compiler (libnvrtc), loaded with dlopen.
//
// Like the driver API (cuda_api.h), nothing links against NVRTC: a machine
// without the CUDA toolkit builds and runs everything else, and compiling a
// CUDA kernel there is one clear FailedPrecondition error. NVRTC needs no
// GPU, so CUDA C can be compiled to cubin on any machine that has it.
//
//   ASSIGN_OR_RETURN(const NvrtcApi* nvrtc, NvrtcApi::Get());
//   nvrtc->version_major;  // 13
//
// Looked up as $UOP_LIBNVRTC if set, else "libnvrtc.so.13", "libnvrtc.so.12",
// "libnvrtc.so" on the loader's path, then in /usr/local/cuda/lib64 and
// /usr/local/cuda-13.0/lib64.
#ifndef UOP_DRIVERS_CUDA_NVRTC_API_H_
#define UOP_DRIVERS_CUDA_NVRTC_API_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace uop::cuda {

using NvrtcResult = int;
using NvrtcProgram = struct _nvrtcProgram*;

struct NvrtcApi {
  // Loads once per process; the error (if any) is remembered.
  static absl::StatusOr<const NvrtcApi*> Get();
  static absl::StatusOr<const NvrtcApi*> LoadFrom(const std::string& library);

  std::string library;
  int version_major = 0;
  int version_minor = 0;

  NvrtcResult (*nvrtcVersion)(int* major, int* minor);
  const char* (*nvrtcGetErrorString)(NvrtcResult r);
  NvrtcResult (*nvrtcCreateProgram)(NvrtcProgram* prog, const char* src, const char* name,
                                    int num_headers, const char* const* headers,
                                    const char* const* include_names);
  NvrtcResult (*nvrtcDestroyProgram)(NvrtcProgram* prog);
  NvrtcResult (*nvrtcCompileProgram)(NvrtcProgram prog, int num_options,
                                     const char* const* options);
  NvrtcResult (*nvrtcGetProgramLogSize)(NvrtcProgram prog, size_t* size);
  NvrtcResult (*nvrtcGetProgramLog)(NvrtcProgram prog, char* log);
  NvrtcResult (*nvrtcGetCUBINSize)(NvrtcProgram prog, size_t* size);
  NvrtcResult (*nvrtcGetCUBIN)(NvrtcProgram prog, char* cubin);
  NvrtcResult (*nvrtcGetPTXSize)(NvrtcProgram prog, size_t* size);
  NvrtcResult (*nvrtcGetPTX)(NvrtcProgram prog, char* ptx);
};

}  // namespace uop::cuda

#endif  // UOP_DRIVERS_CUDA_NVRTC_API_H_
