// AmdgpuCompiler: LLVM IR for amdgcn-amd-amdhsa → an AMDGPU code object
// (ELF relocatable), in process, with the AMDGPU backend of Debian's LLVM 16.
//
// The toolchain is LLVM only (no ROCm, no comgr, no hipcc): the IR comes
// from runtime/codegen's AmdRenderer, whose body is target-neutral; here its
// stack allocas are moved to the private address space (5), the AMDGPU data
// layout is set, the new pass manager's O3 pipeline runs (inlining the body
// into the amdgpu_kernel entry, inferring global address spaces), and the
// backend emits an object for the device's architecture (e.g. gfx1100).
// drivers/am/code_object.h lays it out for upload (there is no lld here).
//
//   ASSIGN_OR_RETURN(auto cc, AmdgpuCompiler::Create({.arch = "gfx1100"}));
//   ASSIGN_OR_RETURN(std::string object, cc->Compile("E_4", ir));
//
// Errors: InvalidArgument with LLVM's message for IR that does not parse or
// verify, lacks the amdgpu_kernel entry, or targets something else.
// Thread safety: Compile runs concurrently (a context per call).
#ifndef UOP_DRIVERS_AM_AMDGPU_COMPILER_H_
#define UOP_DRIVERS_AM_AMDGPU_COMPILER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "drivers/compiler.h"

namespace llvm {
class Target;
}  // namespace llvm

namespace uop {

class AmdgpuCompiler final : public Compiler {
 public:
  struct Options {
    std::string arch = "gfx1100";
    int opt_level = 3;
  };

  static absl::StatusOr<std::unique_ptr<AmdgpuCompiler>> Create(const Options& options);
  const std::string& CacheKey() const override { return cache_key_; }
  absl::StatusOr<std::string> Compile(absl::string_view name, absl::string_view source) override;

  // Compiles with extra IR appended to `source` (the emulated compiler adds
  // its host twin this way).
  absl::StatusOr<std::string> CompileWith(absl::string_view name, absl::string_view source,
                                          absl::string_view extra_ir);
  const std::string& arch() const { return options_.arch; }

 private:
  AmdgpuCompiler() = default;
  Options options_;
  const llvm::Target* target_ = nullptr;
  std::string cache_key_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_AMDGPU_COMPILER_H_
