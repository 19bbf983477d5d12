#include "runtime/uop/matcher.h"

#include "gtest/gtest.h"

namespace uop {
namespace {

const UPat x = UPat::Var("x");
const UPat y = UPat::Var("y");
const UPat c = UPat::Cvar("c");

UOpPtr Rx(const Captures& m) { return m["x"]; }

TEST(UPat, MatchesOpAndBindsNames) {
  UOpPtr i = UOp::Var("i", 0, 9);
  Captures caps;
  EXPECT_TRUE((x + c).Match((i + 3).get(), caps));
  EXPECT_EQ(caps["x"], i);
  EXPECT_EQ(caps["c"]->const_int(), 3);
}

TEST(UPat, CommutativeOpsMatchEitherOrder) {
  UOpPtr i = UOp::Var("i", 0, 9);
  UOpPtr three = UOp::Index(3);
  Captures caps;
  EXPECT_TRUE((x + c).Match((three + i).get(), caps));
  EXPECT_EQ(caps["x"], i);
  Captures caps2;
  EXPECT_FALSE((x - c).Match((three - i).get(), caps2));  // SUB is not commutative
}

TEST(UPat, RepeatedNameMustBindSameNode) {
  UOpPtr i = UOp::Var("i", 0, 9), j = UOp::Var("j", 0, 9);
  Captures a, b;
  EXPECT_TRUE((x + x).Match((i + i).get(), a));
  EXPECT_FALSE((x + x).Match((i + j).get(), b));
}

TEST(UPat, BacktracksIntoNestedPermutations) {
  // (x * y) + x against (b * a) + a needs the inner MUL swapped.
  UOpPtr a = UOp::Var("a", 0, 9), b = UOp::Var("b", 0, 9);
  Captures caps;
  ASSERT_TRUE(((x * y) + x).Match(((b * a) + a).get(), caps));
  EXPECT_EQ(caps["x"], a);
  EXPECT_EQ(caps["y"], b);
}

TEST(UPat, ConstValueMatchesAnyDType) {
  Captures caps;
  EXPECT_TRUE(UPat::Const(0).Match(UOp::Const(DType::Float32(), 0.0).get(), caps));
  EXPECT_TRUE(UPat::Const(0).Match(UOp::Index(0).get(), caps));
  EXPECT_FALSE(UPat::Const(0).Match(UOp::Index(1).get(), caps));
}

TEST(UPat, DTypeFilters) {
  Captures caps;
  UOpPtr f = UOp::Const(DType::Float32(), 1.0);
  EXPECT_FALSE(x.IntLike().Match(f.get(), caps));
  EXPECT_TRUE(x.FloatLike().Match(f.get(), caps));
  EXPECT_TRUE(UPat().WithDType(DType::Float32()).Match(f.get(), caps));
  EXPECT_FALSE(UPat().WithDType(DType::Float16()).Match(f.get(), caps));
}

TEST(UPat, AnyOfAndAnyLen) {
  UOpPtr i = UOp::Var("i", 0, 9);
  Captures caps;
  UPat p = UPat::AnyOf({UPat(Op::kMul), UPat(Op::kAdd)}).Named("e");
  EXPECT_TRUE(p.Match((i + 1).get(), caps));
  EXPECT_FALSE(p.Match((i - 1).get(), caps));
  UPat sink = UPat(Op::kSink).WithSrcs({x}).AnyLen();
  UOpPtr s = UOp::Create(Op::kSink, DType::Void(), {i, i + 1, i + 2});
  Captures caps2;
  EXPECT_TRUE(sink.Match(s.get(), caps2));
  EXPECT_EQ(caps2["x"], i);
  Captures caps3;
  EXPECT_TRUE(UPat(Op::kSink).WithEachSrc(UPat().IntLike()).Match(s.get(), caps3));
}

TEST(PatternMatcher, FirstMatchingRuleWins) {
  PatternMatcher pm({
      {x + UPat::Const(0), Rx, "add_zero"},
      {x + c, [](const Captures& m) { return m["x"]; }, "drop_const"},
  });
  UOpPtr i = UOp::Var("i", 0, 9);
  EXPECT_EQ(pm.Rewrite((i + 0).get()), i);
  EXPECT_EQ(pm.Rewrite((i * 2).get()), nullptr);  // indexed by op: no MUL rule
}

TEST(PatternMatcher, CallbackReturningNullTriesNextRule) {
  PatternMatcher pm({
      {x + c, [](const Captures&) -> UOpPtr { return nullptr; }, "never"},
      {x + c, [](const Captures& m) { return m["x"] * 2; }, "double"},
  });
  UOpPtr i = UOp::Var("i", 0, 9);
  EXPECT_EQ(pm.Rewrite((i + 1).get()), i * 2);
}

TEST(PatternMatcher, StatsCountTriesAndRewrites) {
  PatternMatcher::EnableStats(true);
  PatternMatcher pm({{x * UPat::Const(1), Rx, "mul_one"}});
  UOpPtr i = UOp::Var("i", 0, 9);
  pm.Rewrite((i * 1).get());
  pm.Rewrite((i * 2).get());
  std::vector<RuleStats> stats = pm.Stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].name, "mul_one");
  EXPECT_EQ(stats[0].tries, 2u);
  EXPECT_EQ(stats[0].rewrites, 1u);
  PatternMatcher::EnableStats(false);
}

TEST(GraphRewrite, RewritesToFixedPoint) {
  // (x + c1) + c2 -> x + (c1 + c2), and x + 0 -> x.
  PatternMatcher pm({
      {(x + UPat::Cvar("c1")) + UPat::Cvar("c2"),
       [](const Captures& m) {
         return m["x"] + UOp::Index(m["c1"]->const_int() + m["c2"]->const_int());
       },
       "fold_add"},
      {x + UPat::Const(0), Rx, "add_zero"},
  });
  UOpPtr i = UOp::Var("i", 0, 9);
  UOpPtr e = (((i + 1) + 2) + -3) * ((i + 5) + 5);
  EXPECT_EQ(GraphRewrite(e, pm), i * (i + 10));
}

TEST(GraphRewrite, TopDownSeesParentBeforeChildren) {
  // Rewriting MUL(ADD(x, y), c) before its ADD child is simplified.
  std::vector<std::string> seen;
  PatternMatcher pm({
      {(x + y) * c, [](const Captures& m) { return m["x"] * m["c"] + m["y"] * m["c"]; },
       "distribute"},
  });
  UOpPtr i = UOp::Var("i", 0, 9), j = UOp::Var("j", 0, 9);
  UOpPtr e = (i + j) * 3;
  EXPECT_EQ(GraphRewrite(e, pm, nullptr, RewriteOrder::kTopDown), i * 3 + j * 3);
}

TEST(GraphRewrite, ContextReachesCallbacks) {
  int count = 0;
  PatternMatcher pm({{UPat(Op::kDefineVar).Named("v"),
                      [](const Captures& m) -> UOpPtr {
                        ++*m.ctx<int>();
                        return nullptr;
                      },
                      "count_vars"}});
  UOpPtr i = UOp::Var("i", 0, 9), j = UOp::Var("j", 0, 9);
  GraphRewrite((i + j) * (i + j), pm, &count);
  EXPECT_EQ(count, 2);  // shared nodes are visited once
}

TEST(GraphRewrite, DeepGraphs) {
  PatternMatcher pm({{x + UPat::Const(0), Rx, "add_zero"}});
  UOpPtr e = UOp::Var("d", 0, 1);
  UOpPtr expected = e;
  for (int k = 0; k < 100000; ++k) e = (e + 0) * 1, expected = expected * 1;
  EXPECT_EQ(GraphRewrite(e, pm), expected);
}

TEST(Substitute, ReplacesByIdentity) {
  UOpPtr i = UOp::Var("i", 0, 9), j = UOp::Var("j", 0, 9);
  EXPECT_EQ(Substitute(i * 2 + i, {{i, j}}), j * 2 + j);
}

}  // namespace
}  // namespace uop
