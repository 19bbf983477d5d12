// QcomEmuCompiler: the emulated device's compiler for OpenCL C kernels.
//
// Qualcomm's OpenCL compiler (the only thing that turns OpenCL C into Adreno
// instructions) exists only on the device. Under emulation the kernel is
// compiled by clang's OpenCL C front end instead (so the renderer's output is
// checked by a real OpenCL C compiler: address spaces, types, builtins) for
// the host CPU, with a small prelude that supplies the work-item builtins
// from an ids array and an entry point with the CPU kernel ABI. The object
// becomes a host twin (drivers/common/host_twin.h), and the twin is the
// instruction image of an Adreno-layout binary (adreno_binary.h) whose
// arguments sit at byte 8 * i of the constant block, the layout AdrenoCp
// reads. So the QCOM driver loads, uploads and launches it exactly as it
// would a real binary.
//
// clang is found through $UOP_QCOM_EMU_CLANG, else `clang` on the PATH;
// Create fails (FailedPrecondition) without it. Kernels with workgroup
// barriers are refused (the emulator runs work-items one after another).
//
//   ASSIGN_OR_RETURN(auto cc, QcomEmuCompiler::Create());
//   ASSIGN_OR_RETURN(std::string binary, cc->Compile("E_4", opencl_source));
#ifndef UOP_DRIVERS_QCOM_EMULATOR_QCOM_EMU_COMPILER_H_
#define UOP_DRIVERS_QCOM_EMULATOR_QCOM_EMU_COMPILER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/compiler.h"

namespace uop {

// The kernel parameters of an OpenCL C source from the OpenCL renderer.
struct OpenClSignature {
  int globals = 0;  // from "// uop-abi: globals=G vars=V ..."
  int vars = 0;
  std::vector<std::string> param_types;  // as declared, "restrict" dropped
};
absl::StatusOr<OpenClSignature> ParseOpenClSignature(absl::string_view name,
                                                     absl::string_view source);

class QcomEmuCompiler final : public Compiler {
 public:
  static absl::StatusOr<std::unique_ptr<QcomEmuCompiler>> Create();

  const std::string& CacheKey() const override { return cache_key_; }
  absl::StatusOr<std::string> Compile(absl::string_view name, absl::string_view source) override;

  // The OpenCL C the host twin is compiled from (for tests and debugging).
  absl::StatusOr<std::string> TwinSource(absl::string_view name, absl::string_view source) const;

 private:
  QcomEmuCompiler() = default;
  std::string clang_;
  std::string cache_key_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_QCOM_EMULATOR_QCOM_EMU_COMPILER_H_
