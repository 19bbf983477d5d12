// AmEmuCompiler: the emulated AM device's compiler.
//
// It compiles each kernel twice from the AmdRenderer's source: for the GPU
// with AmdgpuCompiler (a real AMDGPU code object: what the driver loads, and
// what a real GPU would run), and for the host with the CPU backend's
// LlvmCompiler, from the same body: the target lines and the amdgpu_kernel
// entry are dropped, the LLVM renderer's CPU entry is made external again,
// and an entry with the host-twin ABI (drivers/common/host_twin.h) maps the
// kernel's variables and the emulator's work-item ids onto it. The host
// object is embedded in the code object as a constant (.rodata), so the
// emulator finds it in the memory the driver uploaded.
//
//   ASSIGN_OR_RETURN(auto cc, AmEmuCompiler::Create("gfx1100"));
//   ASSIGN_OR_RETURN(std::string code_object, cc->Compile("E_4", amdgcn_ir));
#ifndef UOP_DRIVERS_AM_EMULATOR_AM_EMU_COMPILER_H_
#define UOP_DRIVERS_AM_EMULATOR_AM_EMU_COMPILER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "drivers/am/amdgpu_compiler.h"
#include "drivers/compiler.h"
#include "drivers/cpu/llvm_compiler.h"

namespace uop {

class AmEmuCompiler final : public Compiler {
 public:
  static absl::StatusOr<std::unique_ptr<AmEmuCompiler>> Create(const std::string& arch);

  const std::string& CacheKey() const override { return cache_key_; }
  absl::StatusOr<std::string> Compile(absl::string_view name, absl::string_view source) override;

  // The host twin's LLVM IR for a kernel (for tests and debugging).
  static absl::StatusOr<std::string> TwinIr(absl::string_view name, absl::string_view source,
                                            int* globals, int* vars);

 private:
  AmEmuCompiler() = default;
  std::unique_ptr<AmdgpuCompiler> gpu_;
  std::unique_ptr<LlvmCompiler> host_;
  std::string cache_key_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_AM_EMU_COMPILER_H_
