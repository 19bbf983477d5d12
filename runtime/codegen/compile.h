// The codegen pipeline for one kernel AST:
//   Kernel::Create -> opts (given, or hand-coded heuristics) -> Lower ->
//   decompositions the target lacks -> symbolic simplification ->
//   Linearize -> Render.
//
//   ASSIGN_OR_RETURN(ProgramSpec spec, RenderKernel(ast, LlvmRenderer(2)));
//   // spec.source is LLVM IR following the CPU ABI, spec.global_size = {2,1,1}
#ifndef UOP_RUNTIME_CODEGEN_COMPILE_H_
#define UOP_RUNTIME_CODEGEN_COMPILE_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/codegen/kernel.h"
#include "runtime/codegen/program_spec.h"
#include "runtime/codegen/renderer.h"

namespace uop {

// `opts`: nullopt applies the heuristics; an explicit list (possibly empty)
// is applied as given and fails if an opt does not apply.
absl::StatusOr<ProgramSpec> RenderKernel(
    const UOpPtr& ast, const Renderer& renderer,
    const std::optional<std::vector<Opt>>& opts = std::nullopt);

// IR validity checks (runtime/uop/spec.h) between the passes: on in debug
// builds, with UOP_VERIFY=1, or when a test turns them on. A failure is an
// Internal error naming the pass after which the IR became invalid.
void SetVerifyPasses(bool on);
bool VerifyPasses();

// Lowered and simplified kernel (before linearization), for tests and tools.
absl::StatusOr<UOpPtr> LowerKernel(const Kernel& k);

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_COMPILE_H_
