#include "server/kernel_inspector.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"
#include "runtime/codegen/decompose.h"
#include "runtime/codegen/heuristics.h"
#include "runtime/codegen/linearize.h"
#include "runtime/uop/matcher.h"
#include "runtime/uop/symbolic.h"

namespace uop::server {
namespace {

const char* AxisKindName(AxisKind k) {
  switch (k) {
    case AxisKind::kThread:
      return "thread";
    case AxisKind::kLoop:
      return "loop";
    case AxisKind::kReduce:
      return "reduce";
    case AxisKind::kUpcast:
      return "upcast";
    case AxisKind::kUnroll:
      return "unroll";
    case AxisKind::kLocal:
      return "local";
    case AxisKind::kGroupReduce:
      return "group_reduce";
  }
  return "?";
}

// The kernel's axes after its opts: "64:thread 16:loop 4:upcast | 32:reduce".
std::string AxesText(const Kernel& k) {
  std::vector<std::string> axes;
  for (size_t i = 0; i < k.full_shape().size(); ++i) {
    axes.push_back(absl::StrCat(k.full_shape()[i], ":", AxisKindName(k.kinds()[i])));
  }
  return absl::StrJoin(axes, " ");
}

PipelineStep GraphStep(std::string name, const UOpPtr& graph, const UOpPtr& before) {
  PipelineStep s;
  s.name = std::move(name);
  s.text = graph->ToString();
  s.nodes = static_cast<int64_t>(graph->Toposort().size());
  // Hash-consing: an unchanged graph is the same node.
  s.changed = before == nullptr || graph.get() != before.get();
  return s;
}

}  // namespace

absl::StatusOr<std::vector<PipelineStep>> InspectKernel(
    const UOpPtr& ast, const Renderer& renderer, const std::optional<std::vector<Opt>>& opts) {
  if (ast == nullptr) {
    return absl::FailedPreconditionError(
        "the kernel has no AST to inspect (it was loaded from an artifact)");
  }
  std::vector<PipelineStep> steps;
  steps.push_back(GraphStep("kernel AST (scheduler)", ast, nullptr));

  ASSIGN_OR_RETURN(Kernel k, Kernel::Create(ast, renderer.caps()));
  PipelineStep shape;
  shape.name = "axes after canonicalization";
  shape.text = AxesText(k);
  shape.nodes = static_cast<int64_t>(k.full_shape().size());
  steps.push_back(std::move(shape));

  if (opts) {
    for (const Opt& o : *opts) RETURN_IF_ERROR(k.Apply(o));
  } else {
    ApplyHandCodedOpts(k);
  }
  PipelineStep opt_step;
  opt_step.name = opts ? "opts (as requested)" : "opts (hand-coded heuristics)";
  std::vector<std::string> applied;
  for (const Opt& o : k.applied_opts()) applied.push_back(o.ToString());
  opt_step.text = absl::StrCat(applied.empty() ? "(none)" : absl::StrJoin(applied, "\n"),
                               "\n\naxes: ", AxesText(k));
  opt_step.nodes = static_cast<int64_t>(applied.size());
  opt_step.changed = !applied.empty();
  steps.push_back(std::move(opt_step));

  // LowerKernel's steps, one by one.
  ASSIGN_OR_RETURN(UOpPtr lowered, k.Lower());
  steps.push_back(GraphStep("lowered (index math, loops)", lowered, nullptr));
  UOpPtr current = lowered;
  if (!k.caps().native_transcendentals) {
    UOpPtr decomposed = GraphRewrite(current, DecompositionRules());
    steps.push_back(
        GraphStep("decompositions (transcendentals to polynomials)", decomposed, current));
    current = decomposed;
  }
  UOpPtr simplified = Simplify(current);
  steps.push_back(GraphStep("symbolic simplification", simplified, current));

  ASSIGN_OR_RETURN(std::vector<UOpPtr> program, Linearize(simplified));
  PipelineStep linear;
  linear.name = "linearized program";
  std::vector<std::string> lines;
  lines.reserve(program.size());
  for (const UOpPtr& u : program) lines.push_back(u->ShortString());
  linear.text = absl::StrJoin(lines, "\n");
  linear.nodes = static_cast<int64_t>(program.size());
  steps.push_back(std::move(linear));

  PipelineStep rendered;
  rendered.name = absl::StrCat("rendered (", renderer.caps().language, ")");
  ASSIGN_OR_RETURN(rendered.text, renderer.Render(k.Name(), program));
  rendered.nodes = static_cast<int64_t>(program.size());
  steps.push_back(std::move(rendered));
  return steps;
}

}  // namespace uop::server
