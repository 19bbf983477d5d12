// The codegen pipeline of one compiled kernel, step by step: the UOp graph
// after every rewrite stage, so an operator can see why a kernel looks the
// way it does (the web view's kernel panel; tinygrad's graph viewer is the
// model). It replays the steps RenderKernel (runtime/codegen/compile.h) runs,
// with the same opts, on the kernel's AST; codegen is deterministic, so the
// last step is the program that was compiled.
//
//   ASSIGN_OR_RETURN(std::vector<PipelineStep> steps,
//                    InspectKernel(kernel->ast, renderer, kernel->requested_opts));
//   steps[0].name;   // "kernel AST (scheduler)"
//   steps[0].text;   // the DAG, one node per line
//
// Errors are those of the pipeline itself (an opt that does not apply, a
// lowering failure), never a crash.
#ifndef UOP_SERVER_KERNEL_INSPECTOR_H_
#define UOP_SERVER_KERNEL_INSPECTOR_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/codegen/kernel.h"
#include "runtime/codegen/renderer.h"
#include "runtime/uop/uop.h"

namespace uop::server {

struct PipelineStep {
  std::string name;     // "lowered (index math, loops)", ...
  std::string text;     // the graph (UOp::ToString) or the program listing
  int64_t nodes = 0;    // UOps in the graph or program
  bool changed = true;  // false: the step left the graph as it was
};

// `opts`: nullopt for the hand-coded heuristics, else applied as given.
absl::StatusOr<std::vector<PipelineStep>> InspectKernel(
    const UOpPtr& ast, const Renderer& renderer, const std::optional<std::vector<Opt>>& opts);

}  // namespace uop::server

#endif  // UOP_SERVER_KERNEL_INSPECTOR_H_
