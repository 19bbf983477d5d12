#include "runtime/schedule/kernel_builder.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/shape/format.h"

namespace uop::schedule_internal {
namespace {

UOpPtr ViewNode(ShapeTracker st) {
  return MakeViewUOp(std::make_shared<const ShapeTracker>(std::move(st)));
}

bool HasMask(const ShapeTracker& st) {
  for (const View& v : st.views())
    if (v.has_mask()) return true;
  return false;
}

}  // namespace

void KernelBuilder::Reset() {
  steps_.clear();
  step_index_.clear();
  memo_.clear();
  slot_of_.clear();
  globals_.clear();
  k_ = BuiltKernel{};
  store_view_ = nullptr;
}

const KernelBuilder::Step* KernelBuilder::Push(const UOp* mov, const Step* next) {
  auto [it, inserted] = step_index_.try_emplace({mov, next}, nullptr);
  if (inserted) {
    steps_.push_back(Step{mov->op(), &mov->arg(), Arg(), next, next ? next->length + 1 : 1,
                          mov->op() == Op::kPad || (next && next->has_pad)});
    it->second = &steps_.back();
  }
  return it->second;
}

const KernelBuilder::Step* KernelBuilder::PushOwned(Op op, Arg arg, const Step* next) {
  steps_.push_back(
      Step{op, nullptr, std::move(arg), next, next ? next->length + 1 : 1, next && next->has_pad});
  Step& s = steps_.back();
  s.arg = &s.owned;
  return &s;
}

absl::StatusOr<ShapeTracker> ApplyMovement(const ShapeTracker& st, Op op, const Arg& a) {
  switch (op) {
    case Op::kReshape:
      return st.Reshape(a.get<std::vector<int64_t>>());
    case Op::kExpand:
      return st.Expand(a.get<std::vector<int64_t>>());
    case Op::kPermute:
      return st.Permute(a.get<std::vector<int64_t>>());
    case Op::kPad:
      return st.Pad(a.get<PairList>());
    case Op::kShrink:
      return st.Shrink(a.get<PairList>());
    case Op::kFlip:
      return st.Flip(a.get<std::vector<int64_t>>());
    default:
      return absl::InternalError(absl::StrCat("not a movement op: ", OpName(op)));
  }
}

absl::StatusOr<ShapeTracker> KernelBuilder::Apply(ShapeTracker st, const Step* t) const {
  for (; t != nullptr; t = t->next) {
    ASSIGN_OR_RETURN(st, ApplyMovement(st, t->op, *t->arg));
  }
  return st;
}

UOpPtr KernelBuilder::Global(const UOpPtr& buffer) {
  auto [it, inserted] = slot_of_.try_emplace(buffer.get(), static_cast<int>(globals_.size()));
  if (inserted) {
    const int64_t size = buffer->arg().get<BufferArg>().size;
    globals_.push_back(UOp::Create(Op::kDefineGlobal, buffer->dtype().Ptr(AddrSpace::kGlobal, size),
                                   {}, Arg(int64_t{it->second})));
    k_.bufs.push_back(buffer);
  }
  return globals_[it->second];
}

// A constant is bare unless padding makes part of it invalid: then it
// carries its ShapeTracker, and reads 0 where the view is not valid.
UOpPtr KernelBuilder::Const(const UOp* c, const Step* t, const Shape& context,
                            absl::Status* status) {
  UOpPtr bare = UOpPtr::FromBorrowed(c);
  if (t == nullptr || !t->has_pad) return bare;
  ShapeTracker st = ShapeTracker::FromShape({});
  if (!context.empty()) {
    absl::StatusOr<ShapeTracker> b =
        ShapeTracker::FromShape(std::vector<int64_t>(context.size(), 1)).Expand(context);
    if (!b.ok()) return *status = b.status(), nullptr;
    st = *std::move(b);
  }
  absl::StatusOr<ShapeTracker> full = Apply(std::move(st), t);
  if (!full.ok()) return *status = full.status(), nullptr;
  if (!HasMask(*full)) return bare;
  if (full->rank() != rank_) {
    *status = absl::InternalError(absl::StrCat("constant view of rank ", full->rank()));
    return nullptr;
  }
  return UOp::Create(Op::kConst, c->dtype(), {ViewNode(*std::move(full))}, c->arg());
}

BuiltKernel KernelBuilder::CopyKernel(NodeId leaf, const BufferView& out, const BufferView& src) {
  auto global = [](const UOpPtr& buffer, int64_t slot) {
    const int64_t size = buffer->arg().get<BufferArg>().size;
    return UOp::Create(Op::kDefineGlobal, buffer->dtype().Ptr(AddrSpace::kGlobal, size), {},
                       Arg(slot));
  };
  UOpPtr load =
      UOp::Create(Op::kLoad, src.buffer->dtype(), {global(src.buffer, 1), ViewNode(*src.st)});
  UOpPtr store =
      UOp::Create(Op::kStore, DType::Void(), {global(out.buffer, 0), ViewNode(*out.st), load});
  BuiltKernel k;
  k.ast = UOp::Create(Op::kSink, DType::Void(), {store});
  k.bufs = {out.buffer, src.buffer};
  k.reads.push_back({leaf, leaf});
  return k;
}

absl::StatusOr<BuiltKernel> KernelBuilder::Build(NodeId root, const BufferView& out,
                                                 absl::Span<const BufferView* const> views) {
  Reset();
  root_ = root;
  auto where = [&] { return NodeName(g_.node(root), root); };

  // The movement path from the kernel's reduce to the root, inverted: the
  // steps taking root-space operands (and the store) to reduce-output space.
  const Step* t0 = nullptr;
  std::vector<const UOp*> path;
  for (const PathStep* p = grp_.root_path[root]; p != nullptr; p = p->prev) path.push_back(p->mov);
  for (auto it = path.rbegin(); it != path.rend(); ++it) {  // from the reduce up
    const UOp* m = *it;
    if (m->op() == Op::kReshape) {
      t0 = PushOwned(Op::kReshape, Arg(*m->src(0)->shape()), t0);
    } else {  // PERMUTE
      const auto& order = m->arg().get<std::vector<int64_t>>();
      std::vector<int64_t> inverse(order.size());
      for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int64_t>(i);
      t0 = PushOwned(Op::kPermute, Arg(std::move(inverse)), t0);
    }
  }

  absl::StatusOr<ShapeTracker> store_st = Apply(*out.st, t0);
  if (!store_st.ok())
    return absl::InternalError(
        absl::StrCat(where(), ": store view: ", store_st.status().message()));
  rank_ = store_st->rank();
  if (NodeId r = grp_.root_reduce[root]; r != kNoNode) {
    const Shape& in = *g_.node(r)->src(0)->shape();
    if (static_cast<int>(in.size()) != rank_)
      return absl::InternalError(absl::StrCat(where(), ": store rank ", rank_,
                                              " differs from the reduce input ", FormatDims(in)));
  }
  Global(out.buffer);  // slot 0
  store_view_ = ViewNode(*std::move(store_st));

  NodeId value = root;
  bool compute_value = true;
  if (g_.op(root) == Op::kContiguous) {
    value = g_.src(root, 0);
    compute_value = false;
  } else if (g_.op(root) == Op::kAssign) {
    value = g_.src(root, 1);
    compute_value = false;
  }
  absl::StatusOr<UOpPtr> v = Render(value, t0, compute_value, views);
  if (!v.ok()) return absl::InternalError(absl::StrCat(where(), ": ", v.status().message()));
  UOpPtr store = UOp::Create(Op::kStore, DType::Void(), {globals_[0], store_view_, *v});
  k_.ast = UOp::Create(Op::kSink, DType::Void(), {store});
  return std::move(k_);
}

absl::StatusOr<UOpPtr> KernelBuilder::Render(NodeId value, const Step* t0, bool compute_value,
                                             absl::Span<const BufferView* const> views) {
  const PathStep* root_path = grp_.root_path[root_];
  const int path_length = root_path ? root_path->length : 0;
  struct Frame {
    NodeId n;
    const Step* t;
    NodeId chain_top;
    bool expanded;
  };
  std::vector<Frame> stack = {{value, t0, value, false}};
  absl::Status status;
  auto is_leaf = [&](NodeId n) { return grp_.realized(n) && !(compute_value && n == value); };
  auto child_step = [&](NodeId n, const Step* t) -> const Step* {
    if (g_.op(n) == Op::kReduceAxis) return nullptr;  // the reduce input is the full space
    if (g_.is_view(n) && g_.op(n) != Op::kDetach) return Push(g_.node(n), t);
    return t;
  };
  while (!stack.empty()) {
    const Frame f = stack.back();
    const std::pair<NodeId, const Step*> key{f.n, f.t};
    const UOp* u = g_.node(f.n);
    if (!f.expanded) {
      if (memo_.contains(key)) {
        stack.pop_back();
        continue;
      }
      if (is_leaf(f.n)) {
        const BufferView* view = views[f.n];
        if (view == nullptr)
          return absl::InternalError(absl::StrCat("no buffer for ", NodeName(u, f.n)));
        ASSIGN_OR_RETURN(ShapeTracker st, Apply(*view->st, f.t));
        if (st.rank() != rank_)
          return absl::InternalError(absl::StrCat("load of ", NodeName(u, f.n), " has rank ",
                                                  st.rank(), ", kernel rank ", rank_));
        UOpPtr vn = ViewNode(std::move(st));
        UOpPtr global = Global(view->buffer);
        if (global == globals_[0] && vn != store_view_) k_.hazards.push_back({f.n, f.chain_top});
        bool seen = false;
        for (const KernelRead& r : k_.reads) seen = seen || r.leaf == f.n;
        if (!seen) k_.reads.push_back({f.n, f.chain_top});
        memo_[key] = UOp::Create(Op::kLoad, view->buffer->dtype(), {global, vn});
        stack.pop_back();
        continue;
      }
      if (u->op() == Op::kConst) {
        UOpPtr c = Const(u, f.t, Shape{}, &status);
        if (!status.ok()) return status;
        memo_[key] = std::move(c);
        stack.pop_back();
        continue;
      }
      if (u->op() == Op::kReduceAxis) {
        // Only the kernel's reduce space may hold a reduce: the pending
        // steps must be the path up to the root followed by its inverse.
        const Step* rest = f.t;
        for (int i = 0; i < path_length && rest != nullptr; ++i) rest = rest->next;
        if ((f.t ? f.t->length : 0) != 2 * path_length || rest != t0)
          return absl::InternalError(
              absl::StrCat(NodeName(u, f.n), " is not in the kernel's reduce space"));
      } else if (!g_.is_view(f.n) && !IsElementwise(u->op())) {
        return absl::InternalError(absl::StrCat("cannot fuse ", NodeName(u, f.n)));
      }
      stack.back().expanded = true;
      const Step* ct = child_step(f.n, f.t);
      // Pushed last to first, so sources render (and take slots) in order.
      absl::Span<const NodeId> srcs = g_.srcs(f.n);
      for (auto it = srcs.rbegin(); it != srcs.rend(); ++it) {
        const NodeId s = *it;
        // A shapeless constant under an elementwise op takes that op's
        // shape: it is rendered in place below.
        if (!g_.is_view(f.n) && g_.node(s)->shape() == nullptr) continue;
        NodeId top = g_.is_view(f.n) ? f.chain_top : s;
        if (!memo_.contains({s, ct})) stack.push_back({s, ct, top, false});
      }
      continue;
    }
    const Step* ct = child_step(f.n, f.t);
    UOpPtr result;
    if (g_.is_view(f.n)) {
      result = memo_.at({g_.src(f.n, 0), ct});
    } else {
      UOpList srcs;
      for (NodeId s : g_.srcs(f.n)) {
        if (g_.node(s)->shape() == nullptr) {
          srcs.push_back(Const(g_.node(s), f.t, *u->shape(), &status));
          if (!status.ok()) return status;
        } else {
          srcs.push_back(memo_.at({s, ct}));
        }
      }
      result = UOp::Create(u->op(), u->dtype(), srcs, u->arg());
    }
    memo_[key] = std::move(result);
    stack.pop_back();
  }
  return memo_.at({value, t0});
}

}  // namespace uop::schedule_internal
