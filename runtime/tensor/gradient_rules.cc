// The gradient rule table (gradient_rules.h). Each rule builds tensor-level
// UOps only: the result is a lazy graph the scheduler fuses like any other.
#include "runtime/tensor/gradient_rules.h"

#include <algorithm>
#include <array>
#include <numbers>

#include "absl/container/flat_hash_set.h"

namespace uop {
namespace {

constexpr double kLn2 = std::numbers::ln2;

const Shape& ShapeOf(const UOp& u) { return *u.shape(); }

UOpPtr Full(const UOp& like, double v) { return GradConst(like.dtype(), ShapeOf(like), v); }
UOpPtr Full(const UOpPtr& like, double v) { return Full(*like, v); }

UOpPtr Move(Op op, const UOpPtr& x, Arg arg) {
  return UOp::Create(op, x->dtype(), {x}, std::move(arg));
}

UOpPtr ExpandTo(const UOpPtr& x, const Shape& shape) {
  return ShapeOf(*x) == shape ? x : Move(Op::kExpand, x, Arg(shape));
}

// REDUCE_AXIS(op) over `axes` (kept as size 1). Half-precision sums
// accumulate in float32, like Tensor::Sum.
UOpPtr Reduce(const UOpPtr& x, Op op, const std::vector<int64_t>& axes) {
  if (axes.empty()) return x;
  const ScalarType s = x->dtype().scalar_type();
  if (op == Op::kAdd && (s == ScalarType::kFloat16 || s == ScalarType::kBFloat16)) {
    UOpPtr wide = Cast(x, DType::Float32());
    UOpPtr r = UOp::Create(Op::kReduceAxis, wide->dtype(), {wide}, ReduceArg{op, axes});
    return Cast(r, x->dtype());
  }
  return UOp::Create(Op::kReduceAxis, x->dtype(), {x}, ReduceArg{op, axes});
}

// g * d where g != 0, else 0: a zero gradient never meets an infinite local
// derivative (no 0 * inf = NaN). `gd` is the product already built.
UOpPtr StrongZero(const UOpPtr& g, const UOpPtr& gd) {
  UOpPtr zero = Full(g, 0);
  return Where(Ne(g, zero), gd, zero);
}

UOpPtr SafeMul(const UOpPtr& g, const UOpPtr& factor, bool factor_may_be_nonfinite) {
  UOpPtr gd = g * factor;
  return factor_may_be_nonfinite ? StrongZero(g, gd) : gd;
}

// The share of the gradient an argument of MAX gets: all of it where it is
// the larger one, half where the two tie, none where it is smaller (or NaN).
UOpPtr MaxShare(const UOpPtr& g, const UOpPtr& self, const UOpPtr& other) {
  UOpPtr zero = Full(g, 0);
  UOpPtr half = g * Full(g, 0.5);
  return Where(Lt(other, self), g, Where(Eq(self, other), half, zero));
}

// ------------------------------------------------------------------ rules

// add(a, b): (g, g)
SrcGrads AddRule(const UOp&, const UOpPtr& g, const GradContext&) { return {g, g}; }

// sub(a, b): (g, -g)
SrcGrads SubRule(const UOp&, const UOpPtr& g, const GradContext&) { return {g, -g}; }

// neg(a): -g
SrcGrads NegRule(const UOp&, const UOpPtr& g, const GradContext&) { return {-g}; }

// mul(a, b): (g * b, g * a)
SrcGrads MulRule(const UOp& u, const UOpPtr& g, const GradContext& ctx) {
  const UOpPtr &a = u.src(0), &b = u.src(1);
  return {SafeMul(g, b, ctx.MayBeNonFinite(b.get())), SafeMul(g, a, ctx.MayBeNonFinite(a.get()))};
}

// fdiv(a, b) = q: (g / b, -(g / b) * q)
SrcGrads FdivRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  UOpPtr ga = g / u.src(1);
  UOpPtr q = UOpPtr::FromBorrowed(&u);
  return {StrongZero(g, ga), StrongZero(g, -(ga * q))};
}

// exp2(a) = e: g * e * ln2
SrcGrads Exp2Rule(const UOp& u, const UOpPtr& g, const GradContext&) {
  UOpPtr e = UOpPtr::FromBorrowed(&u);
  return {StrongZero(g, g * (e * Full(u, kLn2)))};
}

// log2(a): g / (a * ln2)
SrcGrads Log2Rule(const UOp& u, const UOpPtr& g, const GradContext&) {
  const UOpPtr& a = u.src(0);
  return {StrongZero(g, g / (a * Full(u, kLn2)))};
}

// sin(a): g * sin(pi/2 - a)
SrcGrads SinRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  const UOpPtr& a = u.src(0);
  UOpPtr cos = UOp::Alu(Op::kSin, {Full(u, std::numbers::pi / 2) - a});
  return {g * cos};
}

// sqrt(a) = r: g / (2 r)
SrcGrads SqrtRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  UOpPtr r = UOpPtr::FromBorrowed(&u);
  return {StrongZero(g, g / (r * Full(u, 2)))};
}

// recip(a) = r: -(g * r) * r   ((g r) r, not g (r r): r * r may overflow)
SrcGrads RecipRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  UOpPtr r = UOpPtr::FromBorrowed(&u);
  return {StrongZero(g, -((g * r) * r))};
}

// pow(a, b) = p: (g * b * a^(b-1), g * p * ln(a)); the second is 0 where a == 0
SrcGrads PowRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  const UOpPtr &a = u.src(0), &b = u.src(1);
  UOpPtr p = UOpPtr::FromBorrowed(&u);
  UOpPtr da = b * UOp::Alu(Op::kPow, {a, b - Full(b, 1)});
  UOpPtr ln_a = UOp::Alu(Op::kLog2, {a}) * Full(a, kLn2);
  UOpPtr gb = Where(Eq(a, Full(a, 0)), Full(g, 0), StrongZero(g, g * (p * ln_a)));
  return {StrongZero(g, g * da), gb};
}

// trunc(a): 0 (piecewise constant)
SrcGrads TruncRule(const UOp& u, const UOpPtr&, const GradContext&) { return {Full(u, 0)}; }

// max(a, b): ties split evenly
SrcGrads MaxRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  const UOpPtr &a = u.src(0), &b = u.src(1);
  return {MaxShare(g, a, b), MaxShare(g, b, a)};
}

// where(c, a, b): (none, where(c, g, 0), where(c, 0, g))
SrcGrads WhereRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  const UOpPtr& c = u.src(0);
  UOpPtr zero = Full(g, 0);
  return {nullptr, Where(c, g, zero), Where(c, zero, g)};
}

// cast(a): cast(g) back to a's dtype; no gradient into integers and bools
SrcGrads CastRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  DType from = u.src(0)->dtype();
  if (!from.is_float()) return {nullptr};
  return {Cast(g, from)};
}

// contiguous(a), assign(t, a) and the like: the value passes unchanged
SrcGrads IdentityRule(const UOp&, const UOpPtr& g, const GradContext&) { return {g}; }
SrcGrads AssignRule(const UOp&, const UOpPtr& g, const GradContext&) { return {nullptr, g}; }

// The DEVICE a node's value lives on: that of the nearest BUFFER or COPY
// below it (breadth first), or null for constants.
UOpPtr DeviceOf(const UOp& u) {
  std::vector<const UOp*> queue = {&u};
  absl::flat_hash_set<const UOp*> seen = {&u};
  for (size_t i = 0; i < queue.size(); ++i) {
    const UOp* n = queue[i];
    if (n->op() == Op::kBuffer && n->num_srcs() == 1) return n->src(0);
    if (n->op() == Op::kCopy && n->num_srcs() == 2) return n->src(1);
    for (const UOpPtr& s : n->src())
      if (seen.insert(s.get()).second) queue.push_back(s.get());
  }
  return nullptr;
}

// copy(a, device): g copied back to a's device
SrcGrads CopyRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  UOpPtr device = DeviceOf(*u.src(0));
  if (!device || device == u.src(1)) return {g, nullptr};
  return {UOp::Create(Op::kCopy, g->dtype(), {g, device}), nullptr};
}

// reshape(a): reshape(g, a.shape)
SrcGrads ReshapeRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  return {Move(Op::kReshape, g, Arg(ShapeOf(*u.src(0))))};
}

// permute(a, order): permute(g, inverse(order))
SrcGrads PermuteRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  const auto& order = u.arg().get<std::vector<int64_t>>();
  std::vector<int64_t> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int64_t>(i);
  return {Move(Op::kPermute, g, Arg(inverse))};
}

// expand(a): sum(g) over the expanded axes
SrcGrads ExpandRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  const Shape &in = ShapeOf(*u.src(0)), &out = ShapeOf(u);
  std::vector<int64_t> axes;
  for (size_t k = 0; k < in.size(); ++k)
    if (in[k] != out[k]) axes.push_back(static_cast<int64_t>(k));
  return {Reduce(g, Op::kAdd, axes)};
}

// pad(a, (before, after)): shrink(g, (before, before + size))
SrcGrads PadRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  const Shape& in = ShapeOf(*u.src(0));
  const PairList& pads = u.arg().get<PairList>();
  PairList bounds;
  for (size_t k = 0; k < in.size(); ++k) bounds.push_back({pads[k].first, pads[k].first + in[k]});
  return {Move(Op::kShrink, g, Arg(bounds))};
}

// shrink(a, (begin, end)): pad(g, (begin, size - end)) with zeros
SrcGrads ShrinkRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  const Shape& in = ShapeOf(*u.src(0));
  const PairList& bounds = u.arg().get<PairList>();
  PairList pads;
  for (size_t k = 0; k < in.size(); ++k)
    pads.push_back({bounds[k].first, in[k] - bounds[k].second});
  return {Move(Op::kPad, g, Arg(pads))};
}

// flip(a, axes): flip(g, axes)
SrcGrads FlipRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  return {Move(Op::kFlip, g, u.arg())};
}

// reduce_axis(a): ADD -> expand(g); MAX -> expand(g) / ties where a == max,
// else 0; MUL -> expand(g) * product of the other elements (zeros handled
// exactly: no division by a zero element).
SrcGrads ReduceRule(const UOp& u, const UOpPtr& g, const GradContext&) {
  const UOpPtr& a = u.src(0);
  const Shape& in = ShapeOf(*a);
  const ReduceArg& r = u.arg().get<ReduceArg>();
  UOpPtr ge = ExpandTo(g, in);
  UOpPtr zero = Full(a, 0);
  switch (r.op) {
    case Op::kAdd:
      return {ge};
    case Op::kMax: {
      UOpPtr is_max = Eq(a, ExpandTo(UOpPtr::FromBorrowed(&u), in));
      UOpPtr ties = ExpandTo(Reduce(Cast(is_max, a->dtype()), Op::kAdd, r.axes), in);
      return {Where(is_max, ge / ties, zero)};
    }
    case Op::kMul: {
      UOpPtr is_zero = Eq(a, zero);
      UOpPtr one = Full(a, 1);
      UOpPtr nonzero_prod = ExpandTo(Reduce(Where(is_zero, one, a), Op::kMul, r.axes), in);
      UOpPtr zeros = ExpandTo(Reduce(Cast(is_zero, a->dtype()), Op::kAdd, r.axes), in);
      // The product of the others: nonzero_prod / a without zeros; at the
      // only zero, nonzero_prod; 0 with two or more zeros.
      UOpPtr others = Where(is_zero, Where(Eq(zeros, one), nonzero_prod, zero),
                            Where(Eq(zeros, zero), nonzero_prod / a, zero));
      return {ge * others};
    }
    default:
      return {nullptr};
  }
}

// ------------------------------------------------------------------ table

constexpr GradEntry Rule(GradRule r) { return {GradKind::kRule, r}; }
constexpr GradEntry kLeaf = {GradKind::kLeaf, nullptr};
constexpr GradEntry kStop = {GradKind::kStop, nullptr};

// One entry per tensor-level op. Kernel-only ops stay kUnclassified.
constexpr GradEntry EntryFor(Op op) {
  switch (op) {
    case Op::kAdd:
      return Rule(AddRule);  // (g, g)
    case Op::kSub:
      return Rule(SubRule);  // (g, -g)
    case Op::kNeg:
      return Rule(NegRule);  // -g
    case Op::kMul:
      return Rule(MulRule);  // (g b, g a)
    case Op::kFdiv:
      return Rule(FdivRule);  // (g / b, -(g / b) q)
    case Op::kExp2:
      return Rule(Exp2Rule);  // g e ln2
    case Op::kLog2:
      return Rule(Log2Rule);  // g / (a ln2)
    case Op::kSin:
      return Rule(SinRule);  // g cos(a)
    case Op::kSqrt:
      return Rule(SqrtRule);  // g / (2 r)
    case Op::kRecip:
      return Rule(RecipRule);  // -(g r) r
    case Op::kPow:
      return Rule(PowRule);  // (g b a^(b-1), g p ln a)
    case Op::kTrunc:
      return Rule(TruncRule);  // 0
    case Op::kMax:
      return Rule(MaxRule);  // to the larger; ties split
    case Op::kWhere:
      return Rule(WhereRule);  // masked by c
    case Op::kCast:
      return Rule(CastRule);  // cast back (floats only)
    case Op::kContiguous:
      return Rule(IdentityRule);
    case Op::kAssign:
      return Rule(AssignRule);  // to the value
    case Op::kCopy:
      return Rule(CopyRule);  // copied back
    case Op::kReshape:
      return Rule(ReshapeRule);
    case Op::kPermute:
      return Rule(PermuteRule);
    case Op::kExpand:
      return Rule(ExpandRule);  // sum over expanded axes
    case Op::kPad:
      return Rule(PadRule);  // shrink
    case Op::kShrink:
      return Rule(ShrinkRule);  // pad with zeros
    case Op::kFlip:
      return Rule(FlipRule);
    case Op::kReduceAxis:
      return Rule(ReduceRule);
    case Op::kConst:
    case Op::kDefineVar:
    case Op::kBind:
    case Op::kDevice:
    case Op::kBuffer:
    case Op::kBufferView:
    case Op::kView:
      return kLeaf;
    case Op::kDetach:  // the user's explicit stop
    case Op::kCmpLt:   // bool results: piecewise constant
    case Op::kCmpNe:
    case Op::kCmpEq:
    case Op::kIdiv:  // integer and bit ops: no float values flow through them
    case Op::kMod:
    case Op::kAnd:
    case Op::kOr:
    case Op::kXor:
    case Op::kShl:
    case Op::kShr:
    case Op::kThreefry:
    case Op::kBitcast:  // reinterpreted bits have no derivative
    case Op::kSink:
    case Op::kNoop:
    case Op::kKernelCall:
      return kStop;
    default:
      return {};
  }
}

constexpr uint32_t kTraitsOf[] = {
#define UOP_X(name, str, traits) static_cast<uint32_t>(traits),
    UOP_OPS(UOP_X)
#undef UOP_X
};

constexpr bool EveryTensorOpClassified() {
  for (int i = 0; i < kNumOps; ++i) {
    GradEntry e = EntryFor(static_cast<Op>(i));
    if ((kTraitsOf[i] & kTensor) != 0 && e.kind == GradKind::kUnclassified) return false;
    if ((e.kind == GradKind::kRule) != (e.rule != nullptr)) return false;
  }
  return true;
}
static_assert(EveryTensorOpClassified(),
              "every tensor-level op (kTensor in ops.h) needs a gradient entry in EntryFor: a "
              "rule, kLeaf or kStop");

constexpr std::array<GradEntry, kNumOps> MakeTable() {
  std::array<GradEntry, kNumOps> t{};
  for (int i = 0; i < kNumOps; ++i) t[i] = EntryFor(static_cast<Op>(i));
  return t;
}
constexpr std::array<GradEntry, kNumOps> kTable = MakeTable();

}  // namespace

GradEntry GradEntryOf(Op op) { return kTable[static_cast<size_t>(op)]; }

UOpPtr GradConst(DType dtype, const Shape& shape, double value) {
  UOpPtr c =
      UOp::Create(Op::kReshape, dtype, {UOp::Const(dtype, value)}, Arg(Shape(shape.size(), 1)));
  if (std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d != 1; }))
    c = UOp::Create(Op::kExpand, dtype, {c}, Arg(shape));
  return c;
}

}  // namespace uop
