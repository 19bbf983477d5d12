#include "runtime/codegen/kernel.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"
#include "runtime/codegen/gemm_lowering.h"

namespace uop {
namespace {

// Position of a kind in the canonical axis order.
int KindRank(AxisKind k) {
  switch (k) {
    case AxisKind::kThread:
      return 0;
    case AxisKind::kLoop:
      return 1;
    case AxisKind::kLocal:
      return 2;
    case AxisKind::kReduce:
      return 3;
    case AxisKind::kGroupReduce:
      return 4;
    case AxisKind::kUpcast:
      return 5;
    case AxisKind::kUnroll:
      return 6;
  }
  return 7;
}

const char* OptName(OptOp op) {
  switch (op) {
    case OptOp::kUpcast:
      return "UPCAST";
    case OptOp::kUnroll:
      return "UNROLL";
    case OptOp::kThread:
      return "THREAD";
    case OptOp::kSwap:
      return "SWAP";
    case OptOp::kLocal:
      return "LOCAL";
    case OptOp::kGroup:
      return "GROUP";
    case OptOp::kGemm:
      return "GEMM";
  }
  return "?";
}

std::string ShapeStr(absl::Span<const int64_t> s) {
  return absl::StrCat("(", absl::StrJoin(s, ", "), ")");
}

}  // namespace

std::string Opt::ToString() const {
  return absl::StrCat(OptName(op), "(", axis, ", ", amount, ")");
}

absl::StatusOr<Kernel> Kernel::Create(const UOpPtr& ast, const RendererCaps& caps) {
  if (ast->op() != Op::kSink) {
    return absl::InvalidArgumentError(
        absl::StrCat("Kernel: AST root must be SINK, got ", ast->ShortString()));
  }
  Kernel k;
  k.ast_ = ast;
  k.caps_ = caps;
  std::vector<int64_t> reduce_axes;
  bool have_reduce_axes = false, have_store = false;
  for (const UOp* u : ast->Toposort()) {
    switch (u->op()) {
      case Op::kView: {
        const ShapeTracker* st = u->arg().object<ShapeTracker>();
        if (st == nullptr) return absl::InvalidArgumentError("Kernel: VIEW without a ShapeTracker");
        k.view_index_[u] = static_cast<int>(k.view_nodes_.size());
        k.view_nodes_.push_back(u);
        k.sts_.push_back(*st);
        break;
      }
      case Op::kReduceAxis: {
        const auto* r = u->arg().get_if<ReduceArg>();
        if (r == nullptr)
          return absl::InvalidArgumentError("Kernel: REDUCE_AXIS without ReduceArg");
        std::vector<int64_t> axes = r->axes;
        std::sort(axes.begin(), axes.end());
        if (have_reduce_axes && axes != reduce_axes) {
          return absl::UnimplementedError(absl::StrCat("Kernel: reductions over different axes ",
                                                       ShapeStr(reduce_axes), " and ",
                                                       ShapeStr(axes), " in one kernel"));
        }
        reduce_axes = axes;
        have_reduce_axes = true;
        k.has_reduce_ = true;
        break;
      }
      default:
        break;
    }
  }
  for (const UOp* u : ast->Toposort()) {
    if (u->op() == Op::kLoad || u->op() == Op::kStore) {
      if (u->num_srcs() < 2 || u->src(1)->op() != Op::kView) {
        return absl::InvalidArgumentError(
            absl::StrCat("Kernel: ", OpName(u->op()), " needs (buffer, VIEW) sources"));
      }
      int vi = k.view_index_.at(u->src(1).get());
      if (u->op() == Op::kLoad) k.load_views_.push_back(vi);
      if (u->op() == Op::kStore && !have_store) {
        have_store = true;
        k.output_view_ = vi;
        k.output_dtype_ = u->src(0)->dtype().Base().Scalar();
      }
    }
  }
  if (!have_store) return absl::InvalidArgumentError("Kernel: AST has no STORE");
  int rank = k.sts_[0].rank();
  k.full_shape_.assign(rank, 1);
  for (const ShapeTracker& st : k.sts_) {
    if (st.rank() != rank) {
      return absl::InvalidArgumentError(absl::StrCat("Kernel: views of different ranks ",
                                                     ShapeStr(k.sts_[0].shape()), " and ",
                                                     ShapeStr(st.shape())));
    }
    for (int i = 0; i < rank; ++i) k.full_shape_[i] = std::max(k.full_shape_[i], st.shape()[i]);
  }
  for (const ShapeTracker& st : k.sts_) {
    for (int i = 0; i < rank; ++i) {
      if (st.shape()[i] != 1 && st.shape()[i] != k.full_shape_[i]) {
        return absl::InvalidArgumentError(absl::StrCat("Kernel: view shape ", ShapeStr(st.shape()),
                                                       " does not broadcast to ",
                                                       ShapeStr(k.full_shape_)));
      }
    }
  }
  k.kinds_.assign(rank, AxisKind::kLoop);
  for (int64_t a : reduce_axes) {
    if (a < 0 || a >= rank)
      return absl::InvalidArgumentError(absl::StrCat("Kernel: reduce axis ", a, " out of range"));
    k.kinds_[a] = AxisKind::kReduce;
  }
  RETURN_IF_ERROR(k.Canonicalize());
  return k;
}

absl::Status Kernel::Reshape(const std::vector<int64_t>& new_full,
                             const std::vector<std::vector<int64_t>>& new_view_shapes) {
  for (size_t i = 0; i < sts_.size(); ++i) {
    ASSIGN_OR_RETURN(sts_[i], sts_[i].Reshape(new_view_shapes[i]));
  }
  full_shape_ = new_full;
  return absl::OkStatus();
}

absl::Status Kernel::PermuteAll(const std::vector<int>& order) {
  std::vector<int64_t> perm(order.begin(), order.end());
  for (ShapeTracker& st : sts_) {
    ASSIGN_OR_RETURN(st, st.Permute(perm));
  }
  std::vector<int64_t> full(order.size());
  std::vector<AxisKind> kinds(order.size());
  for (size_t i = 0; i < order.size(); ++i)
    full[i] = full_shape_[order[i]], kinds[i] = kinds_[order[i]];
  full_shape_ = std::move(full);
  kinds_ = std::move(kinds);
  return absl::OkStatus();
}

absl::Status Kernel::Canonicalize() {
  // Reduce axes after loop axes (stable).
  std::vector<int> order(full_shape_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return KindRank(kinds_[a]) < KindRank(kinds_[b]); });
  RETURN_IF_ERROR(PermuteAll(order));
  // Drop size-1 axes.
  std::vector<int64_t> full;
  std::vector<AxisKind> kinds;
  std::vector<std::vector<int64_t>> shapes(sts_.size());
  for (size_t i = 0; i < full_shape_.size(); ++i) {
    if (full_shape_[i] == 1) continue;
    full.push_back(full_shape_[i]);
    kinds.push_back(kinds_[i]);
    for (size_t v = 0; v < sts_.size(); ++v) shapes[v].push_back(sts_[v].shape()[i]);
  }
  RETURN_IF_ERROR(Reshape(full, shapes));
  kinds_ = std::move(kinds);
  MergeAdjacentAxes();
  return absl::OkStatus();
}

void Kernel::MergeAdjacentAxes() {
  for (int i = static_cast<int>(full_shape_.size()) - 2; i >= 0; --i) {
    if (kinds_[i] != kinds_[i + 1]) continue;
    std::vector<ShapeTracker> merged;
    merged.reserve(sts_.size());
    bool ok = true;
    for (const ShapeTracker& st : sts_) {
      const auto& s = st.shape();
      bool both_full = s[i] == full_shape_[i] && s[i + 1] == full_shape_[i + 1];
      bool both_one = s[i] == 1 && s[i + 1] == 1;
      if (!both_full && !both_one) {
        ok = false;
        break;
      }
      std::vector<int64_t> ns(s.begin(), s.end());
      ns[i] *= ns[i + 1];
      ns.erase(ns.begin() + i + 1);
      absl::StatusOr<ShapeTracker> r = st.Reshape(ns);
      if (!r.ok() || r->views().size() > st.views().size()) {
        ok = false;
        break;
      }
      merged.push_back(*std::move(r));
    }
    if (!ok) continue;
    sts_ = std::move(merged);
    full_shape_[i] *= full_shape_[i + 1];
    full_shape_.erase(full_shape_.begin() + i + 1);
    kinds_.erase(kinds_.begin() + i + 1);
  }
}

absl::Status Kernel::Split(int a, int64_t outer, int64_t inner, AxisKind outer_kind,
                           AxisKind inner_kind) {
  std::vector<int64_t> full = full_shape_;
  full[a] = outer;
  full.insert(full.begin() + a + 1, inner);
  std::vector<std::vector<int64_t>> shapes;
  for (const ShapeTracker& st : sts_) {
    std::vector<int64_t> s(st.shape().begin(), st.shape().end());
    bool is_full = s[a] == full_shape_[a];
    s[a] = is_full ? outer : 1;
    s.insert(s.begin() + a + 1, is_full ? inner : 1);
    shapes.push_back(std::move(s));
  }
  RETURN_IF_ERROR(Reshape(full, shapes));
  kinds_[a] = outer_kind;
  kinds_.insert(kinds_.begin() + a + 1, inner_kind);
  // Move the new (or changed) axis to the end of its kind's group; the other
  // stays. Expanded axes created later sit further inside.
  int moved = outer_kind == AxisKind::kThread ? a : a + 1;
  AxisKind kind = kinds_[moved];
  std::vector<int> order;
  for (int i = 0; i < static_cast<int>(full_shape_.size()); ++i)
    if (i != moved) order.push_back(i);
  int insert_at = 0;
  while (insert_at < static_cast<int>(order.size()) &&
         KindRank(kinds_[order[insert_at]]) <= KindRank(kind))
    ++insert_at;
  order.insert(order.begin() + insert_at, moved);
  RETURN_IF_ERROR(PermuteAll(order));
  // Drop a remainder axis of size 1.
  std::vector<int64_t> nf;
  std::vector<AxisKind> nk;
  std::vector<std::vector<int64_t>> ns(sts_.size());
  for (size_t i = 0; i < full_shape_.size(); ++i) {
    if (full_shape_[i] == 1) continue;
    nf.push_back(full_shape_[i]);
    nk.push_back(kinds_[i]);
    for (size_t v = 0; v < sts_.size(); ++v) ns[v].push_back(sts_[v].shape()[i]);
  }
  if (nf.size() != full_shape_.size()) {
    RETURN_IF_ERROR(Reshape(nf, ns));
    kinds_ = std::move(nk);
  }
  return absl::OkStatus();
}

absl::Status Kernel::Apply(const Opt& opt) {
  int rank = static_cast<int>(full_shape_.size());
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("Kernel ", Name(), ": cannot apply ", opt.ToString(), ": ", why));
  };
  if (opt.axis < 0 || opt.axis >= rank)
    return bad(absl::StrCat("axis out of range for shape ", ShapeStr(full_shape_)));
  AxisKind kind = kinds_[opt.axis];
  int64_t size = full_shape_[opt.axis];
  if (gemm_variant_ >= 0) return bad("the kernel is already lowered as a GEMM");
  switch (opt.op) {
    case OptOp::kGemm: {
      if (!applied_.empty()) return bad("GEMM must be the first and only opt");
      absl::StatusOr<GemmPlan> plan = GemmLowering::MakePlan(*this, opt.amount);
      if (!plan.ok()) return bad(std::string(plan.status().message()));
      gemm_variant_ = static_cast<int>(opt.amount);
      break;
    }
    case OptOp::kUpcast:
    case OptOp::kUnroll:
    case OptOp::kThread: {
      AxisKind want = opt.op == OptOp::kUnroll ? AxisKind::kReduce : AxisKind::kLoop;
      if (kind != want)
        return bad(opt.op == OptOp::kUnroll ? "axis is not a reduce axis"
                                            : "axis is not a loop axis");
      if (opt.amount <= 1 || size % opt.amount != 0)
        return bad(absl::StrCat("amount does not divide ", size));
      if (opt.op == OptOp::kThread) {
        if (CountOf(AxisKind::kThread) > 0) return bad("kernel is already split over threads");
        if (!caps_.has_threads || opt.amount > caps_.max_threads)
          return bad("not that many threads");
        RETURN_IF_ERROR(
            Split(opt.axis, opt.amount, size / opt.amount, AxisKind::kThread, AxisKind::kLoop));
      } else {
        AxisKind inner = opt.op == OptOp::kUpcast ? AxisKind::kUpcast : AxisKind::kUnroll;
        RETURN_IF_ERROR(Split(opt.axis, size / opt.amount, opt.amount, kind, inner));
      }
      break;
    }
    case OptOp::kLocal:
    case OptOp::kGroup: {
      const bool local = opt.op == OptOp::kLocal;
      if (kind != (local ? AxisKind::kLoop : AxisKind::kReduce))
        return bad(local ? "axis is not a loop axis" : "axis is not a reduce axis");
      if (!caps_.has_local || (!local && !caps_.has_shared))
        return bad("the target has no workgroups with shared memory");
      if (opt.amount <= 1 || size % opt.amount != 0)
        return bad(absl::StrCat("amount does not divide ", size));
      if (!local && (opt.amount & (opt.amount - 1)) != 0)
        return bad("group size must be a power of two");
      if (!local && CountOf(AxisKind::kGroupReduce) > 0) return bad("kernel already has a group");
      int64_t threads = opt.amount;
      for (size_t i = 0; i < kinds_.size(); ++i)
        if (kinds_[i] == AxisKind::kLocal || kinds_[i] == AxisKind::kGroupReduce)
          threads *= full_shape_[i];
      if (threads > caps_.local_max[0])
        return bad(absl::StrCat(threads, " threads per workgroup, more than ", caps_.local_max[0]));
      RETURN_IF_ERROR(Split(opt.axis, size / opt.amount, opt.amount, kind,
                            local ? AxisKind::kLocal : AxisKind::kGroupReduce));
      break;
    }
    case OptOp::kSwap: {
      int b = static_cast<int>(opt.amount);
      if (b < 0 || b >= rank || b == opt.axis || kind != AxisKind::kLoop ||
          kinds_[b] != AxisKind::kLoop)
        return bad("both axes must be distinct loop axes");
      std::vector<int> order(rank);
      for (int i = 0; i < rank; ++i) order[i] = i;
      std::swap(order[opt.axis], order[b]);
      RETURN_IF_ERROR(PermuteAll(order));
      break;
    }
  }
  applied_.push_back(opt);
  return absl::OkStatus();
}

std::vector<const ShapeTracker*> Kernel::input_views() const {
  std::vector<const ShapeTracker*> out;
  for (int i : load_views_) out.push_back(&sts_[i]);
  return out;
}

int Kernel::FirstOf(AxisKind kind) const {
  for (size_t i = 0; i < kinds_.size(); ++i)
    if (kinds_[i] == kind) return static_cast<int>(i);
  return -1;
}

int Kernel::CountOf(AxisKind kind) const {
  return static_cast<int>(std::count(kinds_.begin(), kinds_.end(), kind));
}

std::string Kernel::Name() const {
  std::string name = has_reduce_ ? "r" : "E";
  for (int64_t s : full_shape_) absl::StrAppend(&name, "_", s);
  return name;
}

}  // namespace uop
