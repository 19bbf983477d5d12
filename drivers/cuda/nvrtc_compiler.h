// NvrtcCompiler: CUDA C (from the CUDA renderer) → cubin for one GPU
// architecture, through NVRTC loaded at run time (nvrtc_api.h).
//
// The output is the packed format of cuda_binary.h (the kernel's parameter
// layout, then the cubin), which the engine stores in the on-disk
// KernelCache. CacheKey names NVRTC's version, the architecture and every
// option, so a cached cubin is only reused for the same target.
//
//   ASSIGN_OR_RETURN(auto cc, NvrtcCompiler::Create({.arch = "sm_90"}));
//   ASSIGN_OR_RETURN(std::string bin, cc->Compile("E_4", cuda_source));
//
// NVRTC needs no GPU: tests compile rendered kernels on machines without one.
// Errors: FailedPrecondition when NVRTC is missing (Create), InvalidArgument
// with NVRTC's log for source it rejects.
// Thread safety: Compile may run on several threads at once.
#ifndef UOP_DRIVERS_CUDA_NVRTC_COMPILER_H_
#define UOP_DRIVERS_CUDA_NVRTC_COMPILER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/compiler.h"
#include "drivers/cuda/nvrtc_api.h"

namespace uop::cuda {

class NvrtcCompiler final : public Compiler {
 public:
  struct Options {
    // "sm_90", or "sm_90a" for Hopper-only instructions (wgmma).
    std::string arch = "sm_90";
    // Extra NVRTC options (part of the cache key).
    std::vector<std::string> flags;
  };

  static absl::StatusOr<std::unique_ptr<NvrtcCompiler>> Create(const Options& options);

  const std::string& CacheKey() const override { return cache_key_; }
  absl::StatusOr<std::string> Compile(absl::string_view name, absl::string_view source) override;

  // PTX instead of a cubin (for inspecting what the renderer produced).
  absl::StatusOr<std::string> CompileToPtx(absl::string_view name, absl::string_view source);

  const std::string& arch() const { return options_.arch; }

 private:
  NvrtcCompiler(const NvrtcApi* api, Options options);
  // Compiles and returns NVRTC's program handle (caller destroys it).
  absl::StatusOr<NvrtcProgram> Build(absl::string_view name, absl::string_view source,
                                     const std::string& arch_flag);

  const NvrtcApi* api_;
  const Options options_;
  std::string cache_key_;
};

}  // namespace uop::cuda

#endif  // UOP_DRIVERS_CUDA_NVRTC_COMPILER_H_
