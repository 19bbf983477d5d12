#include "runtime/codegen/compile.h"

#include <atomic>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/codegen/decompose.h"
#include "runtime/codegen/heuristics.h"
#include "runtime/codegen/linearize.h"
#include "runtime/uop/spec.h"
#include "runtime/uop/symbolic.h"

namespace uop {

namespace {
std::atomic<bool>& VerifyFlag() {
  static std::atomic<bool> flag{[] {
#ifndef NDEBUG
    return true;
#else
    const char* e = std::getenv("UOP_VERIFY");
    return e != nullptr && e[0] == '1';
#endif
  }()};
  return flag;
}

// A failed IR check is a compiler bug; the status says which pass broke it.
absl::Status Checked(absl::Status st, const char* after) {
  if (st.ok()) return st;
  return absl::InternalError(absl::StrCat("IR check after ", after, ": ", st.message()));
}
}  // namespace

void SetVerifyPasses(bool on) { VerifyFlag().store(on); }
bool VerifyPasses() { return VerifyFlag().load(std::memory_order_relaxed); }

absl::StatusOr<UOpPtr> LowerKernel(const Kernel& k) {
  ASSIGN_OR_RETURN(UOpPtr lowered, k.Lower());
  if (VerifyPasses()) RETURN_IF_ERROR(Checked(VerifyLoweredKernel(lowered), "lowering"));
  if (!k.caps().native_transcendentals) lowered = GraphRewrite(lowered, DecompositionRules());
  lowered = Simplify(lowered);
  if (VerifyPasses())
    RETURN_IF_ERROR(Checked(VerifyLoweredKernel(lowered), "decompositions and simplification"));
  return lowered;
}

absl::StatusOr<ProgramSpec> RenderKernel(const UOpPtr& ast, const Renderer& renderer,
                                         const std::optional<std::vector<Opt>>& opts) {
  if (VerifyPasses()) RETURN_IF_ERROR(Checked(VerifyKernelAst(ast), "scheduling"));
  ASSIGN_OR_RETURN(Kernel k, Kernel::Create(ast, renderer.caps()));
  if (opts) {
    for (const Opt& o : *opts) RETURN_IF_ERROR(k.Apply(o));
  } else {
    ApplyHandCodedOpts(k);
  }
  ASSIGN_OR_RETURN(UOpPtr lowered, LowerKernel(k));
  ASSIGN_OR_RETURN(std::vector<UOpPtr> program, Linearize(lowered));
  if (VerifyPasses()) RETURN_IF_ERROR(Checked(VerifyLinearKernel(program), "linearization"));
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
