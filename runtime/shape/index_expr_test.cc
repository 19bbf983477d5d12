#include "runtime/shape/index_expr.h"

#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/shape/index_eval_for_test.h"
#include "runtime/shape/view.h"

namespace uop {
namespace shape_internal {
namespace {

// sum coef[i] * leaf[i] + constant
Affine Make(IndexExprBuilder& b, const std::vector<int>& leaves, const std::vector<int64_t>& coefs,
            int64_t constant) {
  Affine a;
  for (size_t i = 0; i < leaves.size(); ++i) b.AddScaled(&a, b.Leaf(leaves[i]), coefs[i]);
  a.constant = constant;
  return a;
}

bool UsesOp(const UOpPtr& u, Op op) {
  for (const UOp* n : u->Toposort())
    if (n->op() == op) return true;
  return false;
}

TEST(IndexExpr, DivAndModOfNonCarryingSums) {
  IndexExprBuilder b;
  UOpPtr i = UOp::Var("i", 0, 3);
  const int li = b.AddLeaf(i, 0, 3);
  Affine flat = Make(b, {li}, {4}, 2);  // 4*i + 2
  EXPECT_EQ(b.ToUOp(b.FloorDiv(flat, 4)), i);
  EXPECT_EQ(b.ToUOp(b.FloorMod(flat, 4)), UOp::Index(2));
  EXPECT_EQ(b.num_leaves(), 1);  // nothing opaque was needed
}

TEST(IndexExpr, SymmetricRemainderFoldsFlips) {
  // (2*x + 2) mod 3 over x in [0, 2] is 2 - x.
  IndexExprBuilder b;
  const int lx = b.AddLeaf(UOp::Var("x", 0, 2), 0, 2);
  Affine m = b.FloorMod(Make(b, {lx}, {2}, 2), 3);
  ASSERT_EQ(m.terms.size(), 1u);
  EXPECT_EQ(m.terms[0].coef, -1);
  EXPECT_EQ(m.constant, 2);
}

TEST(IndexExpr, SmallTermsBelowACommonFactorDrop) {
  // (4*a + c) // 12 with c in [0, 3] is a // 3; (4*a + c) mod 12 is 4*(a mod 3) + c.
  IndexExprBuilder b;
  const int la = b.AddLeaf(UOp::Var("a", 0, 9), 0, 9);
  const int lc = b.AddLeaf(UOp::Var("c", 0, 3), 0, 3);
  Affine a = Make(b, {la, lc}, {4, 1}, 0);
  Affine d = b.FloorDiv(a, 12);
  ASSERT_EQ(d.terms.size(), 1u);
  EXPECT_FALSE(UsesOp(b.ToUOp(d), Op::kMod));
  for (const AffineTerm& t : d.terms) EXPECT_NE(t.leaf, lc);
  Affine m = b.FloorMod(a, 12);
  bool has_c = false;
  for (const AffineTerm& t : m.terms) has_c |= t.leaf == lc && t.coef == 1;
  EXPECT_TRUE(has_c);
}

TEST(IndexExpr, TwoValuedLeavesBecomeLines) {
  // (x + 5) mod 3 over x in {0, 1} is 2 - 2x.
  IndexExprBuilder b;
  const int lx = b.AddLeaf(UOp::Var("x", 0, 1), 0, 1);
  Affine m = b.FloorMod(Make(b, {lx}, {1}, 5), 3);
  ASSERT_EQ(m.terms.size(), 1u);
  EXPECT_EQ(m.terms[0].coef, -2);
  EXPECT_EQ(m.constant, 2);
}

TEST(IndexExpr, NestedModSeesThroughOpaqueLeaf) {
  // ((x mod 12) mod 3) == x mod 3; (x mod 12) // 3 == (x // 3) mod 4.
  IndexExprBuilder b;
  UOpPtr x = UOp::Var("x", 0, 100);
  const int lx = b.AddLeaf(x, 0, 100);
  Affine m12 = b.FloorMod(b.Leaf(lx), 12);
  EXPECT_EQ(b.ToUOp(b.FloorMod(m12, 3)), x % UOp::Index(3));
  EXPECT_EQ(b.ToUOp(b.FloorDiv(m12, 3)), (x / UOp::Index(3)) % UOp::Index(4));
  // (x // 4) // 3 == x // 12
  Affine d4 = b.FloorDiv(b.Leaf(lx), 4);
  EXPECT_EQ(b.ToUOp(b.FloorDiv(d4, 3)), x / UOp::Index(12));
}

TEST(IndexExpr, ToUOpFoldsTrivialTerms) {
  IndexExprBuilder b;
  UOpPtr i = UOp::Var("i", 0, 3), j = UOp::Var("j", 0, 3);
  const int li = b.AddLeaf(i, 0, 3), lj = b.AddLeaf(j, 0, 3);
  EXPECT_EQ(b.ToUOp(Make(b, {li}, {1}, 0)), i);
  EXPECT_EQ(b.ToUOp(Make(b, {li, lj}, {1, 3}, 0)), i + j * UOp::Index(3));
  EXPECT_EQ(b.ToUOp(Make(b, {li}, {2}, -1)), i * UOp::Index(2) + UOp::Index(-1));
  EXPECT_EQ(b.ToUOp(Affine{}), UOp::Index(0));
  // Terms that cancel disappear.
  Affine a = Make(b, {li, lj}, {2, 1}, 0);
  b.AddScaled(&a, b.Leaf(li), -2);
  EXPECT_EQ(b.ToUOp(a), j);
}

TEST(IndexExpr, ReduceBoundDropsTermsThatCannotDecide) {
  IndexExprBuilder b;
  const int li = b.AddLeaf(UOp::Var("i", 0, 9), 0, 9);
  const int lj = b.AddLeaf(UOp::Var("j", 0, 4), 0, 4);
  // 5*i + j >= 5  <=>  i >= 1
  Affine a = Make(b, {li, lj}, {5, 1}, 0);
  int64_t bound = 5;
  EXPECT_TRUE(b.ReduceBound(&a, &bound, /*lower=*/true));
  EXPECT_EQ(b.ToUOp(a), b.leaf_uop(li));
  EXPECT_EQ(bound, 1);
  // 5*i + j < 12 depends on j (i = 2 passes only for j < 2): unchanged.
  Affine c = Make(b, {li, lj}, {5, 1}, 0);
  int64_t upper = 12;
  EXPECT_FALSE(b.ReduceBound(&c, &upper, /*lower=*/false));
}

TEST(IndexExpr, NarrowedBoundsMarkEmpty) {
  IndexExprBuilder b;
  const int li = b.AddLeaf(UOp::Var("i", 0, 9), 0, 9);
  EXPECT_FALSE(b.Empty());
  b.Narrow(li, 3, 5);
  EXPECT_EQ(b.Range(b.Leaf(li)).first, 3);
  EXPECT_EQ(b.Range(b.Leaf(li)).second, 5);
  b.Narrow(li, 6, 9);
  EXPECT_TRUE(b.Empty());
}

// Random affine forms over small non-negative leaves: FloorDiv and FloorMod
// agree with floor semantics wherever the dividend is non-negative, and
// ReduceBound keeps checks equivalent, at every point of the leaf box.
TEST(IndexExpr, RandomFormsMatchBruteForce) {
  std::mt19937_64 rng(7);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 3000; ++trial) {
    SCOPED_TRACE(trial);
    IndexExprBuilder b;
    const int n = uniform(1, 3);
    std::vector<UOpPtr> vars;
    std::vector<int64_t> hi(n);
    std::vector<int> leaves;
    std::vector<int64_t> coefs;
    for (int i = 0; i < n; ++i) {
      hi[i] = uniform(0, 6);
      vars.push_back(UOp::Var(absl::StrCat("r", i), 0, hi[i]));
      leaves.push_back(b.AddLeaf(vars[i], 0, hi[i]));
      coefs.push_back(uniform(-12, 12));
    }
    // Shift so the form is non-negative over the whole box.
    int64_t min_value = 0;
    for (int i = 0; i < n; ++i) min_value += std::min<int64_t>(0, coefs[i] * hi[i]);
    Affine a = Make(b, leaves, coefs, -min_value + uniform(0, 20));
    const int64_t k = uniform(1, 24);
    // Nest one level (a, a // k0 or a mod k0), then divide and reduce that.
    const int64_t k0 = uniform(1, 12);
    const int nest = uniform(0, 2);
    const Affine inner = nest == 0 ? a : nest == 1 ? b.FloorDiv(a, k0) : b.FloorMod(a, k0);
    const Affine d = b.FloorDiv(inner, k), m = b.FloorMod(inner, k);
    int64_t bound = uniform(0, 40);
    Affine lower_check = inner, upper_check = inner;
    int64_t lower_bound = bound, upper_bound = bound;
    b.ReduceBound(&lower_check, &lower_bound, /*lower=*/true);
    b.ReduceBound(&upper_check, &upper_bound, /*lower=*/false);
    IndexEvaluator eval(
        {b.ToUOp(inner), b.ToUOp(d), b.ToUOp(m), b.ToUOp(lower_check), b.ToUOp(upper_check)}, vars);
    ASSERT_TRUE(eval.status().ok()) << eval.status();
    std::vector<int64_t> point(n, 0);
    while (true) {
      absl::StatusOr<std::vector<int64_t>> out = eval.Run(point);
      ASSERT_TRUE(out.ok()) << out.status();
      const int64_t v = (*out)[0];
      ASSERT_GE(v, 0);
      EXPECT_EQ((*out)[1], FloorDivide(v, k)) << "v=" << v << " k=" << k;
      EXPECT_EQ((*out)[2], FloorModulo(v, k)) << "v=" << v << " k=" << k;
      EXPECT_EQ((*out)[3] >= lower_bound, v >= bound) << "v=" << v;
      EXPECT_EQ((*out)[4] < upper_bound, v < bound) << "v=" << v;
      if (HasFailure()) return;
      int i = 0;
      while (i < n && ++point[i] > hi[i]) point[i++] = 0;
      if (i == n) break;
    }
  }
}

}  // namespace
}  // namespace shape_internal
}  // namespace uop
