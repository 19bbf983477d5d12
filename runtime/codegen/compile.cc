#include "runtime/codegen/compile.h"

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/codegen/decompose.h"
#include "runtime/codegen/heuristics.h"
#include "runtime/codegen/linearize.h"
#include "runtime/uop/symbolic.h"

namespace uop {

absl::StatusOr<UOpPtr> LowerKernel(const Kernel& k) {
  ASSIGN_OR_RETURN(UOpPtr lowered, k.Lower());
  if (!k.caps().native_transcendentals) lowered = GraphRewrite(lowered, DecompositionRules());
  return Simplify(lowered);
}

absl::StatusOr<ProgramSpec> RenderKernel(const UOpPtr& ast, const Renderer& renderer,
                                         const std::optional<std::vector<Opt>>& opts) {
  ASSIGN_OR_RETURN(Kernel k, Kernel::Create(ast, renderer.caps()));
  if (opts) {
    for (const Opt& o : *opts) RETURN_IF_ERROR(k.Apply(o));
  } else {
    ApplyHandCodedOpts(k);
  }
  ASSIGN_OR_RETURN(UOpPtr lowered, LowerKernel(k));
  ASSIGN_OR_RETURN(std::vector<UOpPtr> program, Linearize(lowered));
  ProgramSpec spec;
  spec.name = k.Name();
  spec.language = renderer.caps().language;
  ASSIGN_OR_RETURN(spec.source, renderer.Render(spec.name, program));
  int thread_axis = k.FirstOf(AxisKind::kThread);
  if (thread_axis >= 0) spec.global_size[0] = k.full_shape()[thread_axis];
  // GPU launch dims: the grid from the SPECIAL gidx<d>, the block from lidx<d>.
  for (const UOpPtr& u : program) {
    if (u->op() != Op::kSpecial) continue;
    const std::string& s = u->arg().get<std::string>();
    if (s.size() != 5 || s[4] < '0' || s[4] > '2') continue;
    if (s.compare(0, 4, "gidx") == 0) spec.global_size[s[4] - '0'] = u->src(0)->const_int();
    if (s.compare(0, 4, "lidx") == 0) spec.local_size[s[4] - '0'] = u->src(0)->const_int();
  }
  // Buffers by slot, from the AST's DEFINE_GLOBALs.
  int64_t elements = 1;
  for (int64_t s : k.full_shape()) elements *= s;
  for (const UOp* u : ast->Toposort()) {
    if (u->op() == Op::kDefineGlobal) {
      int slot = static_cast<int>(u->arg().get<int64_t>());
      if (static_cast<int>(spec.buffers.size()) <= slot) spec.buffers.resize(slot + 1);
      spec.buffers[slot].slot = slot;
      spec.buffers[slot].dtype = u->dtype().Base().Scalar();
      spec.buffers[slot].size = u->dtype().ptr_size();
      spec.bytes += u->dtype().ptr_size() * u->dtype().Base().itemsize();
    } else if (u->op() == Op::kStore) {
      int slot = static_cast<int>(u->src(0)->arg().get<int64_t>());
      if (static_cast<int>(spec.buffers.size()) <= slot) spec.buffers.resize(slot + 1);
      spec.buffers[slot].is_output = true;
    } else if (u->op() == Op::kDefineVar) {
      spec.vars.push_back(u->arg().get<VarArg>().name);
    } else if (IsElementwise(u->op()) || u->op() == Op::kReduceAxis) {
      spec.ops += elements;
    }
  }
  std::sort(spec.vars.begin(), spec.vars.end());
  spec.vars.erase(std::unique(spec.vars.begin(), spec.vars.end()), spec.vars.end());
  return spec;
}

}  // namespace uop
