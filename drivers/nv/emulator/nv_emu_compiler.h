// NvEmuCompiler: the emulated NV device's compiler for CUDA C kernels.
//
// NVRTC makes real cubins, but the emulated GPU runs host twins
// (drivers/common/host_twin.h), so the CUDA renderer's source is compiled a
// second way: as C++ for the host CPU by clang, with a prelude that supplies
// what CUDA C has and C++ lacks (__global__/__device__, blockIdx/threadIdx/
// blockDim from the ids the emulator passes after the kernel's values, the
// bit-cast intrinsics, sqrt/trunc as host instructions, and host versions of
// the renderer's half/bfloat16 conversions, which it writes in PTX inline
// assembly). An entry with the twin ABI calls the kernel; the object becomes
// a twin blob inside a cubin (nv_emu_cubin.h) whose parameters are the
// renderer's (8 bytes each: buffers, then int64 values). The NV driver loads,
// uploads and launches it exactly as it would NVRTC's output.
//
// Refused (Unimplemented, naming the kernel): kernels with __syncthreads or
// dynamic shared memory (the emulator runs work-items one after another)
// and kernels with other inline PTX (tensor-core mma).
//
// clang++ is found through $UOP_NV_EMU_CLANG, else `clang++` on the PATH;
// Create fails (FailedPrecondition) without it.
//
//   ASSIGN_OR_RETURN(auto cc, NvEmuCompiler::Create());
//   ASSIGN_OR_RETURN(std::string cubin, cc->Compile("E_4", cuda_source));
#ifndef UOP_DRIVERS_NV_EMULATOR_NV_EMU_COMPILER_H_
#define UOP_DRIVERS_NV_EMULATOR_NV_EMU_COMPILER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "drivers/compiler.h"

namespace uop {

class NvEmuCompiler final : public Compiler {
 public:
  static absl::StatusOr<std::unique_ptr<NvEmuCompiler>> Create();

  const std::string& CacheKey() const override { return cache_key_; }
  absl::StatusOr<std::string> Compile(absl::string_view name, absl::string_view source) override;

  // The C++ the host twin is compiled from; `globals` and `vars` receive the
  // kernel's parameter counts (for tests and debugging).
  static absl::StatusOr<std::string> TwinSource(absl::string_view name, absl::string_view source,
                                                int* globals, int* vars);

 private:
  NvEmuCompiler() = default;
  std::string clang_;
  std::string cache_key_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_NV_EMULATOR_NV_EMU_COMPILER_H_
