#include "runtime/uop/symbolic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <iostream>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

// Infix rendering for readable failures: ((i*8)+j), (x//4), ...
std::string R(const UOpPtr& u) {
  auto s = [&](int i) { return R(u->src(i)); };
  switch (u->op()) {
    case Op::kConst:
      if (u->dtype().is_bool()) return u->const_int() ? "true" : "false";
      return u->dtype().is_float() ? absl::StrCat(u->const_float()) : absl::StrCat(u->const_int());
    case Op::kDefineVar:
      return u->arg().get<VarArg>().name;
    case Op::kAdd:
      return absl::StrCat("(", s(0), "+", s(1), ")");
    case Op::kSub:
      return absl::StrCat("(", s(0), "-", s(1), ")");
    case Op::kMul:
      return absl::StrCat("(", s(0), "*", s(1), ")");
    case Op::kIdiv:
      return absl::StrCat("(", s(0), "//", s(1), ")");
    case Op::kMod:
      return absl::StrCat("(", s(0), "%", s(1), ")");
    case Op::kCmpLt:
      return absl::StrCat("(", s(0), "<", s(1), ")");
    case Op::kCmpNe:
      return absl::StrCat("(", s(0), "!=", s(1), ")");
    case Op::kCmpEq:
      return absl::StrCat("(", s(0), "==", s(1), ")");
    case Op::kAnd:
      return absl::StrCat("(", s(0), "&", s(1), ")");
    case Op::kOr:
      return absl::StrCat("(", s(0), "|", s(1), ")");
    case Op::kMax:
      return absl::StrCat("max(", s(0), ",", s(1), ")");
    case Op::kWhere:
      return absl::StrCat("where(", s(0), ",", s(1), ",", s(2), ")");
    default:
      return absl::StrCat(OpName(u->op()), "(", u->num_srcs() ? s(0) : "", ")");
  }
}

#define EXPECT_SIMPLIFIES(expr, expected)                                            \
  do {                                                                               \
    UOpPtr got_ = Simplify(expr), want_ = (expected);                                \
    EXPECT_EQ(got_, want_) << R(expr) << " -> " << R(got_) << ", want " << R(want_); \
  } while (0)

#define EXPECT_UNCHANGED(expr)                                         \
  do {                                                                 \
    UOpPtr e_ = (expr);                                                \
    EXPECT_EQ(Simplify(e_), e_) << R(e_) << " -> " << R(Simplify(e_)); \
  } while (0)

UOpPtr V(const char* name, int64_t lo, int64_t hi) { return UOp::Var(name, lo, hi); }
UOpPtr I(int64_t v) { return UOp::Index(v); }
UOpPtr True() { return UOp::ConstBool(true); }
UOpPtr False() { return UOp::ConstBool(false); }
// An opaque float value (bounds: everything).
UOpPtr FloatVar(const char* name) {
  return UOp::Create(Op::kDefineVar, DType::Float32(), {}, Arg(VarArg{name, 0, 0}));
}
UOpPtr BoolVar(const char* name) {
  return Lt(V(name, 0, 10), I(5));  // an undecided bool
}
UOpPtr F(double v) { return UOp::Const(DType::Float32(), v); }

const UOpPtr i = V("i", 0, 63), j = V("j", 0, 7), k = V("k", 0, 15);
const UOpPtr s = V("s", -20, 20);  // mixed sign
const UOpPtr n = V("n", -20, -1);  // negative

// --- identities --------------------------------------------------------------

TEST(SymbolicSimple, Identities) {
  EXPECT_EQ(GraphRewrite(i + 0, SymbolicSimple()), i);
  EXPECT_EQ(GraphRewrite(i * 1, SymbolicSimple()), i);
  EXPECT_EQ(GraphRewrite(i * 0, SymbolicSimple()), I(0));
  EXPECT_EQ(GraphRewrite(i / 1, SymbolicSimple()), i);
  EXPECT_EQ(GraphRewrite(i % 1, SymbolicSimple()), I(0));
  EXPECT_EQ(GraphRewrite(i - i, SymbolicSimple()), I(0));
  EXPECT_EQ(GraphRewrite(Max(i, i), SymbolicSimple()), i);
  EXPECT_EQ(GraphRewrite(-(-i), SymbolicSimple()), i);
  EXPECT_EQ(GraphRewrite(I(3) + I(4), SymbolicSimple()), I(7));
  // No bounds reasoning in the simple set.
  EXPECT_EQ(GraphRewrite(j % 8, SymbolicSimple()), j % 8);
}

TEST(Symbolic, IdentitiesOnIntegers) {
  EXPECT_SIMPLIFIES(i + 0, i);
  EXPECT_SIMPLIFIES(0 + i, i);
  EXPECT_SIMPLIFIES(i * 1, i);
  EXPECT_SIMPLIFIES(i * 0, I(0));
  EXPECT_SIMPLIFIES(i / 1, i);
  EXPECT_SIMPLIFIES(s / -1, s * -1);
  EXPECT_SIMPLIFIES(s % 1, I(0));
  EXPECT_SIMPLIFIES(s % -1, I(0));
  EXPECT_SIMPLIFIES(s - s, I(0));
  EXPECT_SIMPLIFIES(Max(s, s), s);
  EXPECT_SIMPLIFIES(Lt(s, s), False());
  EXPECT_SIMPLIFIES(Ne(s, s), False());
  EXPECT_SIMPLIFIES(Eq(s, s), True());
}

TEST(Symbolic, DoesNotFoldZeroTimesInf) {
  UOpPtr f = FloatVar("f");
  EXPECT_UNCHANGED(f * F(0.0));  // f may be inf or nan
  EXPECT_UNCHANGED(f - f);       // inf - inf is nan
  EXPECT_UNCHANGED(Ne(f, f));    // nan != nan
  UOpPtr folded = Simplify(F(INFINITY) * F(0.0));
  ASSERT_TRUE(folded->is_const());
  EXPECT_TRUE(std::isnan(folded->const_float()));
}

TEST(Symbolic, FloatIdentitiesThatAreExact) {
  UOpPtr f = FloatVar("f");
  EXPECT_SIMPLIFIES(f * F(1.0), f);
  EXPECT_SIMPLIFIES(f + F(0.0), f);
  EXPECT_SIMPLIFIES(UOp::Alu(Op::kFdiv, {f, F(1.0)}), f);
  EXPECT_SIMPLIFIES(Lt(f, f), False());
  // Float sums are not re-associated (rounding).
  EXPECT_UNCHANGED((f + F(1.0)) + F(2.0));
  EXPECT_UNCHANGED(f + f);
}

TEST(Symbolic, WhereFolding) {
  UOpPtr b = BoolVar("b");
  EXPECT_SIMPLIFIES(Where(b, i, i), i);
  EXPECT_SIMPLIFIES(Where(True(), i, j), i);
  EXPECT_SIMPLIFIES(Where(False(), i, j), j);
  EXPECT_SIMPLIFIES(Where(b, True(), False()), b);
  EXPECT_SIMPLIFIES(Where(LogicalNot(b), i, j), Where(b, j, i));
  EXPECT_SIMPLIFIES(Where(Lt(i, 100), i, j), i);  // condition decided by bounds
}

TEST(Symbolic, BoolAlgebra) {
  UOpPtr a = BoolVar("a"), b = BoolVar("b");
  EXPECT_SIMPLIFIES(LogicalAnd(a, True()), a);
  EXPECT_SIMPLIFIES(LogicalAnd(a, False()), False());
  EXPECT_SIMPLIFIES(UOp::Alu(Op::kOr, {a, True()}), True());
  EXPECT_SIMPLIFIES(UOp::Alu(Op::kOr, {a, False()}), a);
  EXPECT_SIMPLIFIES(LogicalNot(LogicalNot(a)), a);
  EXPECT_SIMPLIFIES(LogicalAnd(a, a), a);
  EXPECT_SIMPLIFIES(UOp::Alu(Op::kOr, {a, LogicalAnd(a, b)}), a);
  EXPECT_SIMPLIFIES(LogicalAnd(a, UOp::Alu(Op::kOr, {a, b})), a);
  EXPECT_SIMPLIFIES(LogicalAnd(a, LogicalNot(a)), False());
  EXPECT_SIMPLIFIES(UOp::Alu(Op::kOr, {a, LogicalNot(a)}), True());
  EXPECT_SIMPLIFIES(a * b, LogicalAnd(a, b));
  EXPECT_SIMPLIFIES(Eq(a, False()), LogicalNot(a));
  EXPECT_UNCHANGED(LogicalAnd(a, b));
}

// --- bounds ------------------------------------------------------------------

TEST(Symbolic, BoundsFoldToConstants) {
  EXPECT_SIMPLIFIES(Lt(i, 64), True());
  EXPECT_SIMPLIFIES(Lt(i, 0), False());
  EXPECT_SIMPLIFIES(V("one", 5, 5) + 1, I(6));
  EXPECT_SIMPLIFIES(Max(i, I(-1)), i);
  EXPECT_SIMPLIFIES(Max(I(100), i), I(100));
  EXPECT_UNCHANGED(Max(i, j));
}

TEST(Symbolic, UnsignedBoundsPastInt64AreNotFolded) {
  // v * 2^62 in uint64 is 2^63 or 3 * 2^62: past INT64_MAX the bounds are
  // "unknown" [0, INT64_MAX] (bounds.cc), never one value.
  UOpPtr v = Cast(V("v", 2, 3), DType::UInt64());
  UOpPtr e = v * UOp::Const(DType::UInt64(), int64_t{1} << 62);
  ASSERT_NE(e->vmin(), e->vmax());
  EXPECT_UNCHANGED(e);
  // Below INT64_MAX unsigned bounds are exact and fold.
  EXPECT_SIMPLIFIES(Lt(v, UOp::Const(DType::UInt64(), int64_t{4})), True());
}

TEST(Symbolic, ModAndDivOfSmallValues) {
  EXPECT_SIMPLIFIES(j % 8, j);
  EXPECT_SIMPLIFIES(j / 8, I(0));
  EXPECT_UNCHANGED(j % 7);
  // |s| < 21: C semantics keep the sign, so s % 21 == s and s // 21 == 0.
  EXPECT_SIMPLIFIES(s % 21, s);
  EXPECT_SIMPLIFIES(s / 21, I(0));
  EXPECT_UNCHANGED(s % 20);
  // By a variable whose range excludes zero.
  UOpPtr d = V("d", 10, 12);
  EXPECT_SIMPLIFIES(j % d, j);
  EXPECT_SIMPLIFIES(j / d, I(0));
  EXPECT_SIMPLIFIES((j + 12) / d, I(1));
  EXPECT_SIMPLIFIES((j + 12) % d, (j + d * -1) + 12);
  EXPECT_UNCHANGED((j + 8) / d);
}

TEST(Symbolic, ModOfNegativeKeepsSign) {
  // s*4 + 3 spans zero: at s = -1 it is -1, and -1 % 4 == -1, not 3.
  UOpPtr e = Simplify((s * 4 + 3) % 4);
  EXPECT_NE(e, I(3)) << R(e);
  // All non-positive: n*4 - 3 % 4 == -3 for every n.
  EXPECT_SIMPLIFIES((n * 4 - 3) % 4, I(-3));
  EXPECT_SIMPLIFIES((n * 4 - 3) / 4, n);
  // x % -c == x % c (the sign follows the dividend).
  EXPECT_SIMPLIFIES(n % -32, n);
}

TEST(Symbolic, DivModSplitsSums) {
  EXPECT_SIMPLIFIES((i * 8 + j) / 8, i);
  EXPECT_SIMPLIFIES((i * 8 + j) % 8, j);
  EXPECT_SIMPLIFIES((j + i * 8) % 8, j);
  EXPECT_SIMPLIFIES((i * 8 + j + 16) / 8, i + 2);
  EXPECT_SIMPLIFIES(((i * 64 + j * 8 + k % 8) / 8) % 8, j);
  // Negative bounds on both sides stay exact.
  EXPECT_SIMPLIFIES((n * 8 - j) / 8, n);
  EXPECT_SIMPLIFIES((n * 8 - j) % 8, j * -1);
}

TEST(Symbolic, DivModDoesNotSplitAcrossSigns) {
  // s*8 + j with s in [-20, 20]: at s = -1, j = 3: -5 // 8 == 0, not -1.
  UOpPtr e = Simplify((s * 8 + j) / 8);
  EXPECT_NE(e, s) << R(e);
  EXPECT_NE(Simplify((s * 8 + j) % 8), j);
}

TEST(Symbolic, DividesFactorsOutCommonConstants) {
  UOpPtr a = V("a", 0, 1000), b = V("b", 0, 1000);
  EXPECT_SIMPLIFIES((a * 4 + b * 8) / 4, a + b * 2);
  EXPECT_SIMPLIFIES((a * 4 + b * 8) % 4, I(0));
  // (4a + 8b) // 8 == (a + 2b) // 2 == b + a // 2 (a, b >= 0)
  EXPECT_SIMPLIFIES((a * 4 + b * 8) / 8, b + a / 2);
  EXPECT_SIMPLIFIES((a * 4 + b * 8) % 8, (a % 2) * 4);
  // Also for mixed signs when the constant is a multiple too (exact).
  UOpPtr m = V("m", -1000, 1000);
  EXPECT_SIMPLIFIES((m * 6 + b * 9) / 3, m * 2 + b * 3);
}

TEST(Symbolic, SplitsOutMultiplesWhenTheRestKeepsTheSign) {
  UOpPtr a = V("a", 0, 1000), b = V("b", 0, 100);
  EXPECT_SIMPLIFIES((a * 24 + b) % 8, b % 8);
  EXPECT_SIMPLIFIES((a * 24 + b) / 8, a * 3 + b / 8);
  EXPECT_SIMPLIFIES((a * 10 + b) % 8, (a * 2 + b) % 8);  // coefficients reduced mod 8
  // b may be negative: a*24 + b and b can have different signs.
  UOpPtr sb = V("sb", -5, 100);
  EXPECT_UNCHANGED((a * 24 + sb) % 8);
}

TEST(Symbolic, NestedDivAndModOfMod) {
  EXPECT_SIMPLIFIES((i / 4) / 2, i / 8);
  EXPECT_SIMPLIFIES((s / 4) / 2, s / 8);  // truncation composes for every sign
  EXPECT_SIMPLIFIES((i % 24) % 8, i % 8);
  EXPECT_SIMPLIFIES((s % 24) % 8, s % 8);
  EXPECT_UNCHANGED((i % 24) % 5);
  EXPECT_SIMPLIFIES((i % 4) % 8, i % 4);  // by bounds
  EXPECT_SIMPLIFIES((i * V("d", 1, 9)) / V("d", 1, 9), i);
  EXPECT_UNCHANGED((i * j) / j);  // j may be 0
}

TEST(Symbolic, ModPlusDivIsIdentity) {
  EXPECT_SIMPLIFIES(s % 5 + (s / 5) * 5, s);
  EXPECT_SIMPLIFIES((s % 5) * 3 + (s / 5) * 15, s * 3);
}

// --- sums --------------------------------------------------------------------

TEST(Symbolic, CombinesLikeTerms) {
  EXPECT_SIMPLIFIES(s + s, s * 2);
  EXPECT_SIMPLIFIES(s * 3 + s * 5, s * 8);
  EXPECT_SIMPLIFIES((i + s) + s * 4, i + s * 5);
  EXPECT_SIMPLIFIES((i + s) - i, s);
  EXPECT_SIMPLIFIES((i + 3) + (j + 4), (i + j) + 7);
  EXPECT_SIMPLIFIES(s * 2 - s * 2, I(0));
}

TEST(Symbolic, ReassociatesConstants) {
  EXPECT_SIMPLIFIES((s + 3) + 4, s + 7);
  EXPECT_SIMPLIFIES((s * 3) * 4, s * 12);
  EXPECT_SIMPLIFIES(3 + s, s + 3);
  EXPECT_SIMPLIFIES(3 * s, s * 3);
  EXPECT_SIMPLIFIES((s + 3) + i, (s + i) + 3);
  EXPECT_SIMPLIFIES((s * 3) * i, (s * i) * 3);
}

TEST(Symbolic, DistributesConstants) {
  EXPECT_SIMPLIFIES((s + 2) * 3, s * 3 + 6);
  EXPECT_SIMPLIFIES(((i + 1) * 4 + V("j3", 0, 3)) % 4, V("j3", 0, 3));
}

TEST(Symbolic, DoesNotCombineOverflowingConstants) {
  int64_t max = std::numeric_limits<int64_t>::max();
  UOpPtr w = V("w", -max, 0);
  // (w + MAX) + MAX is fine for w = -MAX, but w + (MAX + MAX) would overflow.
  EXPECT_UNCHANGED((w + max) + max);
  // 2^40 * 2^40 overflows: the constants stay apart.
  int64_t p40 = int64_t{1} << 40;
  EXPECT_UNCHANGED((s * p40) * p40);
}

TEST(Symbolic, ConstantsPastInt32) {
  int64_t p40 = int64_t{1} << 40;
  UOpPtr big = V("big", 0, int64_t{1} << 20), lo = V("lo", 0, p40 - 1);
  EXPECT_SIMPLIFIES((big * p40 + lo) / p40, big);
  EXPECT_SIMPLIFIES((big * p40 + lo) % p40, lo);
  UOpPtr x31 = V("x31", 0, (int64_t{1} << 31) + 5);
  EXPECT_SIMPLIFIES(x31 % ((int64_t{1} << 31) + 6), x31);
  UOpPtr x40 = V("x40", 0, p40);
  EXPECT_SIMPLIFIES(Lt(x40 * 4, int64_t{1} << 34), Lt(x40, int64_t{1} << 32));
}

// --- comparisons -------------------------------------------------------------

TEST(Symbolic, LtFolding) {
  EXPECT_SIMPLIFIES(Lt(i * 4, 10), Lt(i, 3));
  EXPECT_SIMPLIFIES(Lt(s * 4, -10), Lt(s, -2));     // s*4 < -10 <=> s <= -3
  EXPECT_SIMPLIFIES(Lt(s * -4, 10), Lt(I(-3), s));  // -4s < 10 <=> s > -2.5
  EXPECT_SIMPLIFIES(Lt(i + 5, 10), Lt(i, 5));
  EXPECT_SIMPLIFIES(Lt(I(10), i + 5), Lt(I(5), i));
  EXPECT_SIMPLIFIES(Lt(I(10), i * 4), Lt(I(2), i));  // 4i > 10 <=> i >= 3
  EXPECT_SIMPLIFIES(Lt(i / 4, 3), Lt(i, 12));
  EXPECT_SIMPLIFIES(Lt(s / 4, -1), Lt(s, -7));  // trunc(s/4) <= -2 <=> s <= -8
  EXPECT_SIMPLIFIES(Lt(s / 4, 0), Lt(s, -3));   // trunc(s/4) <= -1 <=> s <= -4
  EXPECT_SIMPLIFIES(Lt(I(1), s / 4), Lt(I(7), s));
  UOpPtr a = V("a", 0, 100), b = V("b", 0, 3);
  EXPECT_SIMPLIFIES(Lt(a * 4 + b, 8), Lt(a, 2));  // 0 <= b < 4 never crosses a multiple of 4
  EXPECT_UNCHANGED(Lt(a * 4 + V("b5", 0, 4), 8));
  EXPECT_SIMPLIFIES(Ne(s + 3, I(5)), Ne(s, I(2)));
  EXPECT_SIMPLIFIES(Eq(s * 4, I(6)), False());
}

// --- validity conditions -----------------------------------------------------

TEST(SimplifyGiven, NarrowsAVariable) {
  UOpPtr x = V("x", 0, 9);
  UOpPtr valid = LogicalAnd(Lt(I(0), x), Lt(x, 9));  // 1 <= x <= 8
  EXPECT_EQ(SimplifyGiven((x - 1) % 8, valid), x + -1);
  EXPECT_EQ(SimplifyGiven((x - 1) / 8, valid), I(0));
  // !(x < 5) means x >= 5.
  EXPECT_EQ(SimplifyGiven(x / 5, LogicalNot(Lt(x, 5))), I(1));
  // Without the condition, x - 1 may be -1: nothing folds.
  EXPECT_SIMPLIFIES((x - 1) % 8, (x + -1) % 8);
}

TEST(SimplifyGiven, NarrowsASumThroughOneOfItsTerms) {
  UOpPtr a = V("a", 0, 9), b = V("b", 0, 2);
  UOpPtr valid = LogicalAnd(Lt(I(0), a + b), Lt(a + b, 9));  // 1 <= a + b <= 8
  // (b + a) is not the node (a + b): a is rewritten as (a + b) - b.
  UOpPtr x = Simplify((b + a + -1) % 8);
  EXPECT_EQ(SimplifyGiven(x, valid), Simplify(a + b - 1));
}

TEST(SimplifyGiven, KeepsXWhenNothingImproves) {
  UOpPtr x = V("x", 0, 9);
  UOpPtr valid = Lt(x, 5);
  EXPECT_EQ(SimplifyGiven(x * 2, valid), x * 2);
  EXPECT_EQ(SimplifyGiven(x % 8, Lt(x, 100)), x % 8);  // no tighter bound
  EXPECT_EQ(SimplifyGiven(x % 8, Lt(x, 0)), x % 8);    // never valid: x is unused
}

TEST(Symbolic, WhereValueSimplifiedGivenItsCondition) {
  UOpPtr x = V("x", 0, 9);
  UOpPtr valid = LogicalAnd(Lt(I(0), x), Lt(x, 9));
  EXPECT_SIMPLIFIES(Where(valid, (x - 1) % 8, I(0)), Where(valid, x + -1, I(0)));
}

TEST(Symbolic, GatedIndexSimplifiedGivenItsValid) {
  UOpPtr x = V("x", 0, 9);
  UOpPtr valid = LogicalAnd(Lt(I(0), x), Lt(x, 9));
  UOpPtr buf = UOp::Create(Op::kDefineGlobal, DType::Float32().Ptr(AddrSpace::kGlobal, 8), {},
                           Arg(int64_t{0}));
  auto index = [&](UOpList srcs) { return UOp::Create(Op::kIndex, buf->dtype(), srcs); };
  EXPECT_SIMPLIFIES(index({buf, (x - 1) % 8, valid}), index({buf, x + -1, valid}));
  EXPECT_UNCHANGED(index({buf, (x + -1) % 8}));  // ungated: every x counts
}

// --- statistics and timing ---------------------------------------------------

TEST(Symbolic, RulesAreNamedForStatistics) {
  PatternMatcher::EnableStats(true);
  Symbolic().ResetStats();
  Simplify((i * 8 + j) % 8);
  bool seen = false;
  for (const RuleStats& r : Symbolic().Stats()) {
    EXPECT_FALSE(r.name.empty());
    if (r.name == "mod_fold" && r.rewrites > 0) seen = true;
  }
  PatternMatcher::EnableStats(false);
  EXPECT_TRUE(seen);
}

// Prints (does not assert) the time Simplify takes on a typical view index.
double TimeSimplify(const char* what, const std::function<UOpPtr()>& build) {
  UOpPtr e = build();
  UOpPtr once = Simplify(e);
  // The best of several batches: the machine may be shared.
  constexpr int kBatches = 7, kRuns = 200;
  double us = 1e30;
  for (int b = 0; b < kBatches; ++b) {
    auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < kRuns; ++r) EXPECT_EQ(Simplify(build()), once);
    double t = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                   .count() /
               kRuns;
    us = std::min(us, t);
  }
  std::cout << "Simplify " << what << ": " << us << " us per call (" << e->Toposort().size()
            << " -> " << once->Toposort().size() << " nodes)\n  " << R(e) << "\n  -> " << R(once)
            << "\n";
  return us;
}

// A (24, 512) tensor permuted to (512, 24) and reshaped to (64, 8, 8, 3): the
// loop indices i0..i3 address flat = ((i0*8 + i1)*8 + i2)*3 + i3 of the
// permuted view, whose element (flat // 24, flat % 24) sits at
// (flat % 24) * 512 + flat // 24 of the buffer.
TEST(Symbolic, IndexOfPermutedReshapedView) {
  UOpPtr i0 = V("i0", 0, 63), i1 = V("i1", 0, 7), i2 = V("i2", 0, 7), i3 = V("i3", 0, 2);
  auto build = [&] {
    UOpPtr flat = ((i0 * 8 + i1) * 8 + i2) * 3 + i3;
    return (flat % 24) * 512 + flat / 24;
  };
  TimeSimplify("4-D permuted/reshaped view index", build);
  EXPECT_SIMPLIFIES(build(), ((i2 * 1536 + i3 * 512) + i0 * 8) + i1);
}

// The same view padded by one on the last axis: the index is only used where
// 0 < i3 < 4, but without that fact flat may be -1, which blocks the folds.
TEST(Symbolic, IndexOfPaddedPermutedViewTiming) {
  UOpPtr i0 = V("i0", 0, 63), i1 = V("i1", 0, 7), i2 = V("i2", 0, 7), i3 = V("i3", 0, 4);
  auto build = [&] {
    UOpPtr flat = ((i0 * 8 + i1) * 8 + i2) * 3 + (i3 - 1);
    UOpPtr valid = LogicalAnd(Lt(I(0), i3), Lt(i3, 4));
    return Where(valid, (flat % 24) * 512 + flat / 24, I(0));
  };
  TimeSimplify("4-D padded/permuted view index", build);
}

}  // namespace
}  // namespace uop
