#include "runtime/uop/symbolic.h"

#include <limits>

#include "runtime/uop/const_fold.h"
#include "runtime/uop/symbolic_terms.h"

namespace uop {
namespace {

using symbolic_internal::CombineLikeTerms;
using symbolic_internal::FitsIn;
using symbolic_internal::FoldConstLt;
using symbolic_internal::FoldDivModConst;
using symbolic_internal::FoldLtConst;
using symbolic_internal::i128;
using symbolic_internal::IsSignedIndexLike;
using symbolic_internal::SumBuilder;

// ---------------------------------------------------------------------------
// Predicates and small builders (no allocation: they run on every match try).

bool IsIntOrBool(const UOp& u) {
  DType d = u.dtype();
  return (d.is_int() || d.is_bool()) && !d.is_ptr();
}
bool IsBool(const UOp& u) { return u.dtype() == DType::Bool(); }
bool IsIndexInt(const UOp& u) { return IsSignedIndexLike(u.dtype()); }
bool ExcludesZero(const UOp& u) { return u.vmin() > 0 || u.vmax() < 0; }
bool IsScalarConst(const UOp& u) { return u.is_const() && u.dtype().count() == 1; }

// vmin/vmax are exact for these nodes. uint64 bounds saturate at INT64_MAX
// (bounds.h), so a uint64 node bounded there may be larger.
bool BoundsTrusted(const UOp& u) {
  DType d = u.dtype();
  if (!(d.is_int() || d.is_bool()) || d.is_ptr() || d.count() != 1) return false;
  return !(d.scalar_type() == ScalarType::kUInt64 &&
           u.vmax() == std::numeric_limits<int64_t>::max());
}

const UOp* Get(const Captures& m, const char* name) { return m.Get(name); }
UOpPtr Ref(const UOp* u) { return UOpPtr::FromBorrowed(u); }
int64_t CInt(const Captures& m, const char* name) { return m.Get(name)->const_int(); }

UOpPtr ConstOf(const UOp& like, int64_t v) { return UOp::Const(like.dtype(), v); }

// a * b over the bounds of a and b, checked against the dtype.
bool ProductFits(const UOp& a, const UOp& b) {
  i128 c[4] = {i128(a.vmin()) * b.vmin(), i128(a.vmin()) * b.vmax(), i128(a.vmax()) * b.vmin(),
               i128(a.vmax()) * b.vmax()};
  for (i128 v : c)
    if (!FitsIn(v, a.dtype())) return false;
  return true;
}

bool SumFits(const UOp& a, const UOp& b) {
  return FitsIn(i128(a.vmin()) + b.vmin(), a.dtype()) &&
         FitsIn(i128(a.vmax()) + b.vmax(), a.dtype());
}

// x // y with y's range excluding zero: the quotient at the four corners of
// the bounds (truncated division is monotone in each argument on such a box).
std::optional<int64_t> ConstantQuotient(const UOp& x, const UOp& y) {
  if (!ExcludesZero(y) || !BoundsTrusted(x) || !BoundsTrusted(y)) return std::nullopt;
  i128 q = i128(x.vmin()) / y.vmin();
  for (i128 v : {i128(x.vmin()) / y.vmax(), i128(x.vmax()) / y.vmin(), i128(x.vmax()) / y.vmax()})
    if (v != q) return std::nullopt;
  if (!FitsIn(q, x.dtype())) return std::nullopt;
  return static_cast<int64_t>(q);
}

// The lt threshold for x // c < d (c > 0): x < T.
// d > 0: trunc(x/c) <= d-1 <=> x < d*c;  d <= 0: trunc(x/c) <= d-1 <=> x <= (d-1)*c.
i128 DivLtThreshold(i128 d, i128 c) { return d > 0 ? d * c : (d - 1) * c + 1; }

// ---------------------------------------------------------------------------
// Patterns

const UPat x = UPat::Var("x");
const UPat y = UPat::Var("y");
const UPat z = UPat::Var("z");
const UPat c = UPat::Cvar("c");
const UPat c1 = UPat::Cvar("c1");
const UPat c2 = UPat::Cvar("c2");
const UPat c3 = UPat::Cvar("c3");
const UPat xi = x.Where(IsIndexInt);     // signed integer / index
const UPat xint = x.Where(IsIntOrBool);  // any integer or bool
const UPat xb = x.Where(IsBool);
const UPat kTrue = UPat::Const(1).WithDType(DType::Bool());
const UPat kFalse = UPat::Const(0).WithDType(DType::Bool());

UPat Alu(Op op, std::vector<UPat> srcs) { return AluPat(op, std::move(srcs)); }
UPat NotPat(const UPat& b) { return Alu(Op::kCmpNe, {b, kTrue}); }

// Every op ConstFold evaluates.
const UPat kFoldable =
    UPat({Op::kExp2, Op::kLog2,    Op::kSin, Op::kSqrt,  Op::kRecip,    Op::kNeg,   Op::kTrunc,
          Op::kCast, Op::kBitcast, Op::kAdd, Op::kSub,   Op::kMul,      Op::kFdiv,  Op::kIdiv,
          Op::kMod,  Op::kMax,     Op::kPow, Op::kCmpLt, Op::kCmpNe,    Op::kCmpEq, Op::kAnd,
          Op::kOr,   Op::kXor,     Op::kShl, Op::kShr,   Op::kThreefry, Op::kWhere, Op::kMulAcc});
const std::initializer_list<Op> kCommutative = {Op::kAdd, Op::kMul, Op::kMax,   Op::kAnd,
                                                Op::kOr,  Op::kXor, Op::kCmpNe, Op::kCmpEq};

// Rules valid for every dtype.
std::vector<Rule> SimpleRules() {
  return {
      // op(CONST...) -> CONST, exact dtype semantics (const_fold.h)
      {kFoldable.WithEachSrc(UPat(Op::kConst)),
       [](const Captures& m) { return ConstFold(*m.root()); }, "const_fold"},
      // x + 0 -> x
      {x + UPat::Const(0), [](const Captures& m) { return m["x"]; }, "add_zero"},
      // x - 0 -> x
      {x - UPat::Const(0), [](const Captures& m) { return m["x"]; }, "sub_zero"},
      // x * 1 -> x
      {x * UPat::Const(1), [](const Captures& m) { return m["x"]; }, "mul_one"},
      // x * 0 -> 0, integers only: 0 * inf and 0 * nan are nan
      {xint * UPat::Const(0), [](const Captures& m) { return ConstOf(*Get(m, "x"), 0); },
       "mul_zero_int"},
      // x // 1 -> x
      {x / UPat::Const(1), [](const Captures& m) { return m["x"]; }, "idiv_one"},
      // x // -1 -> x * -1 (same wrap at INT_MIN)
      {xi / UPat::Const(-1), [](const Captures& m) { return m["x"] * ConstOf(*Get(m, "x"), -1); },
       "idiv_neg_one"},
      // x % 1 -> 0, x % -1 -> 0
      {xint % UPat::Cvar("c").Where(
                  [](const UOp& u) { return u.IsConstValue(1) || u.IsConstValue(-1); }),
       [](const Captures& m) { return ConstOf(*Get(m, "x"), 0); }, "mod_one"},
      // x / 1.0 -> x
      {Alu(Op::kFdiv, {x, UPat::Const(1)}), [](const Captures& m) { return m["x"]; }, "fdiv_one"},
      // x - x -> 0 (integers; inf - inf is nan)
      {xint - x, [](const Captures& m) { return ConstOf(*Get(m, "x"), 0); }, "sub_self"},
      // x ^ x -> 0
      {Alu(Op::kXor, {xint, x}), [](const Captures& m) { return ConstOf(*Get(m, "x"), 0); },
       "xor_self"},
      // max(x, x) -> x, x & x -> x, x | x -> x
      {UPat({Op::kMax, Op::kAnd, Op::kOr}).WithSrcs({x, x}),
       [](const Captures& m) { return m["x"]; }, "idempotent"},
      // x < x -> false (also for nan)
      {Alu(Op::kCmpLt, {x, x}), [](const Captures&) { return UOp::ConstBool(false); }, "lt_self"},
      // x != x -> false, integers only (nan != nan)
      {Alu(Op::kCmpNe, {xint, x}), [](const Captures&) { return UOp::ConstBool(false); },
       "ne_self_int"},
      // x == x -> true, integers only
      {Alu(Op::kCmpEq, {xint, x}), [](const Captures&) { return UOp::ConstBool(true); },
       "eq_self_int"},
      // where(c, x, x) -> x
      {UPat(Op::kWhere).WithSrcs({UPat(), x, x}), [](const Captures& m) { return m["x"]; },
       "where_same"},
      // where(true, x, y) -> x; where(false, x, y) -> y
      {UPat(Op::kWhere).WithSrcs({UPat::Cvar("c").Where(IsScalarConst), x, y}),
       [](const Captures& m) { return CInt(m, "c") != 0 ? m["x"] : m["y"]; }, "where_const"},
      // where(b, true, false) -> b
      {UPat(Op::kWhere).WithSrcs({xb, kTrue, kFalse}), [](const Captures& m) { return m["x"]; },
       "where_true_false"},
      // where(b, false, true) -> !b
      {UPat(Op::kWhere).WithSrcs({xb, kFalse, kTrue}),
       [](const Captures& m) { return LogicalNot(m["x"]); }, "where_false_true"},
      // where(!b, t, f) -> where(b, f, t)
      {UPat(Op::kWhere).WithSrcs({NotPat(xb), y, z}),
       [](const Captures& m) { return Where(m["x"], m["z"], m["y"]); }, "where_not"},
      // !!b -> b
      {NotPat(NotPat(xb)), [](const Captures& m) { return m["x"]; }, "not_not"},
      // b != false -> b
      {Alu(Op::kCmpNe, {xb, kFalse}), [](const Captures& m) { return m["x"]; }, "ne_false"},
      // b == true -> b
      {Alu(Op::kCmpEq, {xb, kTrue}), [](const Captures& m) { return m["x"]; }, "eq_true"},
      // b == false -> !b
      {Alu(Op::kCmpEq, {xb, kFalse}), [](const Captures& m) { return LogicalNot(m["x"]); },
       "eq_false"},
      // b ^ true -> !b
      {Alu(Op::kXor, {xb, kTrue}), [](const Captures& m) { return LogicalNot(m["x"]); },
       "xor_true"},
      // b & true -> b;  b & false -> false
      {Alu(Op::kAnd, {xb, UPat::Cvar("c").Where(IsScalarConst)}),
       [](const Captures& m) { return CInt(m, "c") ? m["x"] : m["c"]; }, "and_bool_const"},
      // b | false -> b;  b | true -> true
      {Alu(Op::kOr, {xb, UPat::Cvar("c").Where(IsScalarConst)}),
       [](const Captures& m) { return CInt(m, "c") ? m["c"] : m["x"]; }, "or_bool_const"},
      // b * b' -> b & b'  (bool arithmetic, see const_fold.h)
      {Alu(Op::kMul, {xb, y}), [](const Captures& m) { return LogicalAnd(m["x"], m["y"]); },
       "mul_bool"},
      // b + b' -> b | b';  max(b, b') -> b | b'
      {UPat({Op::kAdd, Op::kMax}).WithPermSrcs({xb, y}),
       [](const Captures& m) {
         return UOp::Alu(Op::kOr, {m["x"], m["y"]});
       },
       "add_max_bool"},
      // x ^ 0 -> x;  x | 0 -> x
      {UPat({Op::kXor, Op::kOr}).WithPermSrcs({xint, UPat::Const(0)}),
       [](const Captures& m) { return m["x"]; }, "xor_or_zero"},
      // x & 0 -> 0
      {Alu(Op::kAnd, {xint, UPat::Const(0)}),
       [](const Captures& m) { return ConstOf(*Get(m, "x"), 0); }, "and_zero"},
      // -(-x) -> x
      {-(-x), [](const Captures& m) { return m["x"]; }, "neg_neg"},
      // trunc(x) -> x for integers
      {UPat(Op::kTrunc).WithSrcs({xint}), [](const Captures& m) { return m["x"]; }, "trunc_int"},
      // cast(x) -> x, bitcast(x) -> x when the dtype does not change
      {UPat({Op::kCast, Op::kBitcast}).WithSrcs({x}),
       [](const Captures& m) {
         return m.root()->dtype() == Get(m, "x")->dtype() ? m["x"] : UOpPtr();
       },
       "cast_noop"},
  };
}

// Bounds-based folding and the index algebra.
std::vector<Rule> IndexRules() {
  const UPat cpos = c.Where([](const UOp& u) { return IsScalarConst(u) && u.const_int() > 0; });
  return {
      // an int/bool node whose bounds are one value -> CONST
      {UPat({Op::kDefineVar, Op::kCast, Op::kNeg, Op::kAdd, Op::kSub, Op::kMul, Op::kIdiv, Op::kMod,
             Op::kMax, Op::kCmpLt, Op::kCmpNe, Op::kCmpEq, Op::kAnd, Op::kOr, Op::kXor, Op::kShl,
             Op::kShr, Op::kWhere})
           .Where([](const UOp& u) { return u.vmin() == u.vmax() && BoundsTrusted(u); }),
       [](const Captures& m) {
         const UOp& u = *m.root();
         return UOp::Const(u.dtype(), u.vmin());
       },
       "bounds_const"},
      // op(CONST, x) -> op(x, CONST) for commutative ops: constants last
      {UPat(kCommutative).WithSrcs({c, x.Where([](const UOp& u) { return !u.is_const(); })}),
       [](const Captures& m) {
         return m.root()->Replace({m["x"], m["c"]});
       },
       "const_last"},
      // max(x, y) -> x when x >= y over the bounds (or y when y >= x)
      {Alu(Op::kMax, {xint, y}),
       [](const Captures& m) {
         const UOp *a = Get(m, "x"), *b = Get(m, "y");
         if (!BoundsTrusted(*a) || !BoundsTrusted(*b)) return UOpPtr();
         if (a->vmin() >= b->vmax()) return Ref(a);
         return b->vmin() >= a->vmax() ? Ref(b) : UOpPtr();
       },
       "max_bounds"},
      // x - y -> x + y*-1 (one canonical form for sums)
      {xi - y,
       [](const Captures& m) {
         const UOp* b = Get(m, "y");
         if (b->vmin() == b->dtype().min_int()) return UOpPtr();
         return m["x"] + m["y"] * ConstOf(*b, -1);
       },
       "sub_to_add"},
      // -x -> x * -1
      {-xi, [](const Captures& m) { return m["x"] * ConstOf(*Get(m, "x"), -1); }, "neg_to_mul"},
      // (x + c1) + c2 -> x + (c1 + c2);  (x * c1) * c2 -> x * (c1 * c2); signed types
      // skip when c1 op c2 overflows, unsigned ones wrap (exact modulo 2^n)
      {UPat({Op::kAdd, Op::kMul})
           .WithPermSrcs({UPat({Op::kAdd, Op::kMul}).Named("inner").WithPermSrcs({x, c1}), c2})
           .Where([](const UOp& u) { return !u.dtype().is_float() && !u.dtype().is_bool(); }),
       [](const Captures& m) {
         Op op = m.root()->op();
         DType d = m.root()->dtype();
         if (Get(m, "inner")->op() != op) return UOpPtr();
         if (IsSignedIndexLike(d)) {
           i128 a = CInt(m, "c1"), b = CInt(m, "c2");
           i128 k = op == Op::kAdd ? a + b : a * b;
           if (!FitsIn(k, d)) return UOpPtr();
           return UOp::Alu(op, {m["x"], UOp::Const(d, static_cast<int64_t>(k))});
         }
         UOpPtr k = ConstFold(op, d, {m["c1"], m["c2"]});
         return k ? UOp::Alu(op, {m["x"], k}) : UOpPtr();
       },
       "assoc_const"},
      // (x op c1) op c2 -> x op (c1 op c2) for &, |, ^, max on integers
      {UPat({Op::kAnd, Op::kOr, Op::kXor, Op::kMax})
           .WithPermSrcs({UPat({Op::kAnd, Op::kOr, Op::kXor, Op::kMax})
                              .Named("inner")
                              .WithPermSrcs({xint, c1}),
                          c2}),
       [](const Captures& m) {
         Op op = m.root()->op();
         if (Get(m, "inner")->op() != op) return UOpPtr();
         UOpPtr k = ConstFold(op, m.root()->dtype(), {m["c1"], m["c2"]});
         return k ? UOp::Alu(op, {m["x"], k}) : UOpPtr();
       },
       "assoc_const_bitwise"},
      // x*a + x*b -> x*(a+b), x + x -> x*2, constants gathered last (ADD chains)
      {UPat(Op::kAdd).Where(IsIndexInt),
       [](const Captures& m) { return CombineLikeTerms(*m.root()); }, "combine_terms"},
      // (x % c) + (x // c) * c -> x  (C: x == (x/c)*c + x%c)
      {(x % c) + (x / c) * c, [](const Captures& m) { return m["x"]; }, "mod_plus_div"},
      // (x % c1) * c2 + (x // c1) * c3 -> x * c2  when c1 * c2 == c3
      {(x % c1) * c2 + (x / c1) * c3,
       [](const Captures& m) {
         i128 p = i128(CInt(m, "c1")) * CInt(m, "c2");
         return p == CInt(m, "c3") ? m["x"] * m["c2"] : UOpPtr();
       },
       "mod_plus_div_scaled"},
      // (x + c1) * c2 -> x*c2 + c1*c2
      {(xi + c1) * c2,
       [](const Captures& m) {
         SumBuilder b(Get(m, "x")->dtype());
         b.Add(Get(m, "x"), CInt(m, "c2"));
         b.AddConst(i128(CInt(m, "c1")) * CInt(m, "c2"));
         return b.Build();
       },
       "distribute_const"},
      // (x * c) * y -> (x * y) * c
      {(xi * c) * y.Where([](const UOp& u) { return !u.is_const(); }),
       [](const Captures& m) {
         if (!ProductFits(*Get(m, "x"), *Get(m, "y"))) return UOpPtr();
         return (m["x"] * m["y"]) * m["c"];
       },
       "mul_const_last"},
      // (x + c) + y -> (x + y) + c
      {(xi + c) + y.Where([](const UOp& u) { return !u.is_const(); }),
       [](const Captures& m) {
         if (!SumFits(*Get(m, "x"), *Get(m, "y"))) return UOpPtr();
         return (m["x"] + m["y"]) + m["c"];
       },
       "add_const_last"},
      // x // x -> 1, x % x -> 0 (x != 0)
      {xi / x,
       [](const Captures& m) {
         return ExcludesZero(*Get(m, "x")) ? ConstOf(*Get(m, "x"), 1) : UOpPtr();
       },
       "idiv_self"},
      {xi % x,
       [](const Captures& m) {
         return ExcludesZero(*Get(m, "x")) ? ConstOf(*Get(m, "x"), 0) : UOpPtr();
       },
       "mod_self"},
      // x // y -> q when every x, y in bounds give the same quotient
      {xi / y,
       [](const Captures& m) {
         auto q = ConstantQuotient(*Get(m, "x"), *Get(m, "y"));
         return q ? ConstOf(*Get(m, "x"), *q) : UOpPtr();
       },
       "idiv_bounds"},
      // x % y -> x - q*y when every x, y in bounds give the same quotient q (q == 0: x)
      {xi % y,
       [](const Captures& m) {
         auto q = ConstantQuotient(*Get(m, "x"), *Get(m, "y"));
         if (!q) return UOpPtr();
         SumBuilder b(Get(m, "x")->dtype());
         b.Add(Get(m, "x"), 1);
         b.Add(Get(m, "y"), -*q);
         return b.Build();
       },
       "mod_bounds"},
      // (x * y) // y -> x (y != 0)
      {(xi * y) / y,
       [](const Captures& m) { return ExcludesZero(*Get(m, "y")) ? m["x"] : UOpPtr(); },
       "idiv_mul_cancel"},
      // (x // c1) // c2 -> x // (c1*c2) for c1, c2 > 0 (truncation composes)
      {(xi / c1) / c2,
       [](const Captures& m) {
         int64_t a = CInt(m, "c1"), b = CInt(m, "c2"), p;
         if (a <= 0 || b <= 0 || __builtin_mul_overflow(a, b, &p)) return UOpPtr();
         return m["x"] / ConstOf(*Get(m, "x"), p);
       },
       "idiv_nested"},
      // x // c -> (x // -c) * -1 for c < 0
      {xi / c,
       [](const Captures& m) {
         int64_t k = CInt(m, "c");
         if (k >= 0 || k == std::numeric_limits<int64_t>::min()) return UOpPtr();
         const UOp& a = *Get(m, "x");
         return (m["x"] / ConstOf(a, -k)) * ConstOf(a, -1);
       },
       "idiv_neg_const"},
      // x % c -> x % -c for c < 0 (C: the sign follows x)
      {xi % c,
       [](const Captures& m) {
         int64_t k = CInt(m, "c");
         if (k >= 0 || k == std::numeric_limits<int64_t>::min()) return UOpPtr();
         return m["x"] % ConstOf(*Get(m, "x"), -k);
       },
       "mod_neg_const"},
      // (x % c1) % c2 -> x % c2 when c2 | c1 (c1, c2 > 0)
      {(xi % c1) % c2,
       [](const Captures& m) {
         int64_t a = CInt(m, "c1"), b = CInt(m, "c2");
         return a > 0 && b > 0 && a % b == 0 ? m["x"] % m["c2"] : UOpPtr();
       },
       "mod_mod"},
      // x // c, c > 1: split sums by c (symbolic_terms.h)
      {xi / cpos,
       [](const Captures& m) { return FoldDivModConst(*Get(m, "x"), CInt(m, "c"), false); },
       "idiv_fold"},
      // x % c, c > 1: split sums by c (symbolic_terms.h)
      {xi % cpos,
       [](const Captures& m) { return FoldDivModConst(*Get(m, "x"), CInt(m, "c"), true); },
       "mod_fold"},
      // x // c < d -> x < T(c, d) for c > 0 (T: d*c if d > 0, else (d-1)*c + 1)
      {Alu(Op::kCmpLt, {xi / cpos, c2}),
       [](const Captures& m) {
         const UOp& a = *Get(m, "x");
         i128 t = DivLtThreshold(CInt(m, "c2"), CInt(m, "c"));
         return FitsIn(t, a.dtype()) ? Lt(m["x"], ConstOf(a, static_cast<int64_t>(t))) : UOpPtr();
       },
       "lt_idiv"},
      // d < x // c -> T(c, d+1) - 1 < x for c > 0
      {Alu(Op::kCmpLt, {c2, xi / cpos}),
       [](const Captures& m) {
         const UOp& a = *Get(m, "x");
         i128 t = DivLtThreshold(i128(CInt(m, "c2")) + 1, CInt(m, "c")) - 1;
         return FitsIn(t, a.dtype()) ? Lt(ConstOf(a, static_cast<int64_t>(t)), m["x"]) : UOpPtr();
       },
       "const_lt_idiv"},
      // sum < d: constants to the right, common factors divided out, c*x < d solved
      {Alu(Op::kCmpLt, {xi, c}),
       [](const Captures& m) { return FoldLtConst(*Get(m, "x"), CInt(m, "c")); }, "lt_fold"},
      // d < sum: the mirror of lt_fold
      {Alu(Op::kCmpLt, {c, xi}),
       [](const Captures& m) { return FoldConstLt(CInt(m, "c"), *Get(m, "x")); }, "const_lt_fold"},
      // (x + c1) != c2 -> x != c2 - c1;  (x + c1) == c2 -> x == c2 - c1
      {UPat({Op::kCmpNe, Op::kCmpEq}).WithPermSrcs({xi + c1, c2}),
       [](const Captures& m) {
         i128 k = i128(CInt(m, "c2")) - CInt(m, "c1");
         if (!FitsIn(k, Get(m, "x")->dtype())) return UOpPtr();
         return UOp::Alu(m.root()->op(), {m["x"], ConstOf(*Get(m, "x"), static_cast<int64_t>(k))});
       },
       "cmp_eq_add_const"},
      // x * c1 != c2 -> x != c2 / c1 if c1 | c2, else true (== mirrored)
      {UPat({Op::kCmpNe, Op::kCmpEq}).WithPermSrcs({xi * c1, c2}),
       [](const Captures& m) {
         int64_t a = CInt(m, "c1"), b = CInt(m, "c2");
         bool ne = m.root()->op() == Op::kCmpNe;
         if (a == 0 || (a == -1 && b == std::numeric_limits<int64_t>::min())) return UOpPtr();
         if (b % a != 0) return UOp::ConstBool(ne);
         return UOp::Alu(m.root()->op(), {m["x"], ConstOf(*Get(m, "x"), b / a)});
       },
       "cmp_eq_mul_const"},
      // where(v, x, y) -> where(v, x', y): x simplified given v (bounds from v's clauses)
      {UPat(Op::kWhere).WithSrcs({UPat::Var("v"), xi, y}),
       [](const Captures& m) {
         UOpPtr nx = SimplifyGiven(m["x"], m["v"]);
         return nx == m["x"] ? UOpPtr() : Where(m["v"], nx, m["y"]);
       },
       "where_valid"},
      // INDEX(buf, idx, v) -> INDEX(buf, idx', v): idx only matters where v holds
      {UPat(Op::kIndex).WithSrcs({UPat::Var("buf"), xi, UPat::Var("v")}),
       [](const Captures& m) {
         UOpPtr nx = SimplifyGiven(m["x"], m["v"]);
         return nx == m["x"] ? UOpPtr() : m.root()->Replace({m["buf"], nx, m["v"]});
       },
       "index_valid"},
      // x | (x & y) -> x;  x & (x | y) -> x
      {Alu(Op::kOr, {xint, Alu(Op::kAnd, {x, y})}), [](const Captures& m) { return m["x"]; },
       "absorb_or"},
      {Alu(Op::kAnd, {xint, Alu(Op::kOr, {x, y})}), [](const Captures& m) { return m["x"]; },
       "absorb_and"},
      // b & !b -> false;  b | !b -> true
      {Alu(Op::kAnd, {xb, NotPat(x)}), [](const Captures&) { return UOp::ConstBool(false); },
       "and_not_self"},
      {Alu(Op::kOr, {xb, NotPat(x)}), [](const Captures&) { return UOp::ConstBool(true); },
       "or_not_self"},
  };
}

}  // namespace

UOpPtr LogicalNot(const UOpPtr& x) {
  return UOp::Alu(Op::kCmpNe, {x, UOp::Const(x->dtype(), int64_t{1})});
}

const PatternMatcher& SymbolicSimple() {
  static const PatternMatcher* pm = new PatternMatcher(SimpleRules());
  return *pm;
}

const PatternMatcher& Symbolic() {
  static const PatternMatcher* pm = [] {
    std::vector<Rule> rules = SimpleRules();
    for (Rule& r : IndexRules()) rules.push_back(std::move(r));
    return new PatternMatcher(std::move(rules));
  }();
  return *pm;
}

UOpPtr Simplify(const UOpPtr& root) { return GraphRewrite(root, Symbolic()); }

}  // namespace uop
