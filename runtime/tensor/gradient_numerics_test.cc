// Gradient numerics: ties of max/min, extreme inputs (no NaN where the true
// gradient is finite), products with zeros, second and third derivatives and
// Hessian-vector products against finite differences.
#include <cmath>
#include <limits>
#include <vector>

#include "runtime/tensor/gradient.h"
#include "runtime/tensor/gradient_test_util.h"

namespace uop {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor F32(std::vector<float> v) { return Tensor::FromVector(v); }
Tensor F64(std::vector<double> v) { return Tensor::FromVector(v); }

std::vector<double> Grad(const Tensor& loss, const Tensor& x) {
  absl::StatusOr<std::vector<Tensor>> g = Gradient(loss, {x});
  EXPECT_TRUE(g.ok()) << g.status();
  return g.ok() ? Values((*g)[0]) : std::vector<double>{};
}

bool AllFinite(const std::vector<double>& v) {
  for (double x : v)
    if (!std::isfinite(x)) return false;
  return !v.empty();
}

// ------------------------------------------------------------------ ties

TEST(GradientTies, ReduceMaxSplitsEvenlyAmongTies) {
  Tensor x = F64({1, 3, 3, 2});
  EXPECT_EQ(Grad(x.Max(), x), (std::vector<double>{0, 0.5, 0.5, 0}));
  Tensor m = Tensor::FromVector<double>({5, 5, 5, 1, 2, 0}, {2, 3});
  EXPECT_TRUE(AllClose(Grad(m.Max({1}).Sum(), m), {1.0 / 3, 1.0 / 3, 1.0 / 3, 0, 1, 0}));
}

TEST(GradientTies, MinSplitsEvenlyAmongTies) {
  Tensor x = F64({2, 1, 1, 5});
  EXPECT_EQ(Grad(x.Min(), x), (std::vector<double>{0, 0.5, 0.5, 0}));
}

TEST(GradientTies, BinaryMaximumAndReluAtTheKink) {
  Tensor a = F64({1, 2, 3}), b = F64({1, 5, 0});
  EXPECT_EQ(Grad(a.Maximum(b).Sum(), a), (std::vector<double>{0.5, 0, 1}));
  EXPECT_EQ(Grad(a.Maximum(b).Sum(), b), (std::vector<double>{0.5, 1, 0}));
  Tensor z = F64({-1, 0, 2});
  EXPECT_EQ(Grad(z.Relu().Sum(), z), (std::vector<double>{0, 0.5, 1}));
}

TEST(GradientTies, MaxPoolTiesShareTheGradient) {
  Tensor x = Tensor::FromVector<double>({1, 1, 1, 1}, {1, 1, 2, 2});
  PoolOptions p;
  p.kernel = {2, 2};
  EXPECT_EQ(Grad(x.MaxPool2d(p).Sum(), x), (std::vector<double>{0.25, 0.25, 0.25, 0.25}));
}

// ------------------------------------------------------- extreme inputs

TEST(GradientExtremes, SigmoidSaturatesToZeroNotNaN) {
  std::vector<float> xs = {-1000, -100, -50, -10, 0, 10, 50, 100, 1000};
  Tensor x = F32(xs);
  std::vector<double> g = Grad(x.Sigmoid().Sum(), x);
  ASSERT_TRUE(AllFinite(g));
  for (size_t i = 0; i < xs.size(); ++i) {
    double s = 1 / (1 + std::exp(-double{xs[i]}));
    EXPECT_NEAR(g[i], s * (1 - s), 1e-6) << "x = " << xs[i];
  }
  Tensor t = F32({-500, 0, 500});
  EXPECT_TRUE(AllClose(Grad(t.Tanh().Sum(), t), {0, 1, 0}, 1e-6));
}

TEST(GradientExtremes, SoftmaxCrossEntropyWithHugeLogits) {
  Tensor logits = Tensor::FromVector<float>({1e4f, 0, -1e4f, 3e4f, 3e4f, -3e4f}, {2, 3});
  Tensor onehot = Tensor::FromVector<float>({0, 1, 0, 1, 0, 0}, {2, 3});
  Tensor loss = -(logits.LogSoftmax(1) * onehot).Sum();
  std::vector<double> g = Grad(loss, logits);
  // softmax - onehot: row 0 puts all mass on logit 0, row 1 half on each of the first two.
  EXPECT_TRUE(AllClose(g, {1, -1, 0, -0.5, 0.5, 0}, 1e-6));
  std::vector<double> gs = Grad((logits.Softmax(1) * onehot).Sum(), logits);
  EXPECT_TRUE(AllFinite(gs));
  Tensor big = F32({1e30f, 1e30f});
  EXPECT_TRUE(AllClose(Grad(big.LogSumExp({0}), big), {0.5, 0.5}, 1e-6));
}

TEST(GradientExtremes, MaskedBranchesDoNotLeakNaN) {
  Tensor x = F64({-1, 0, 4});
  // sqrt of a negative, 1/0 and 0*log(0) in the branch WHERE discards.
  EXPECT_EQ(Grad(x.Gt(0).Where(x.Sqrt(), 0).Sum(), x), (std::vector<double>{0, 0, 0.25}));
  EXPECT_EQ(Grad(x.Ne(0).Where(x.Reciprocal(), 0).Sum(), x),
            (std::vector<double>{-1, 0, -1.0 / 16}));
  Tensor p = F64({0, 0.5});
  std::vector<double> ent = Grad(p.Gt(0).Where(p * p.Log(), 0).Sum(), p);
  EXPECT_EQ(ent[0], 0);
  EXPECT_NEAR(ent[1], std::log(0.5) + 1, 1e-12);
  // Unmasked, the true derivative of x log x at 0 is -inf, and that is what we give.
  EXPECT_EQ(Grad((p * p.Log()).Sum(), p)[0], -kInf);
}

TEST(GradientExtremes, ClampedAndPaddedInfinities) {
  Tensor x = F64({-kInf, 1, kInf});
  // Clip's gradient routes by comparison: 0 for the infinite (clamped) ends.
  EXPECT_EQ(Grad(x.Clip(-2, 2).Sum(), x), (std::vector<double>{0, 1, 0}));
  Tensor y = F64({3, -kInf});
  EXPECT_EQ(Grad(y.Max(), y), (std::vector<double>{1, 0}));
}

TEST(GradientExtremes, ProductWithZerosHasExactGradient) {
  Tensor one_zero = F64({2, 0, 3});
  EXPECT_EQ(Grad(one_zero.Prod(), one_zero), (std::vector<double>{0, 6, 0}));
  Tensor two_zeros = F64({0, 0, 3});
  EXPECT_EQ(Grad(two_zeros.Prod(), two_zeros), (std::vector<double>{0, 0, 0}));
  Tensor none = F64({2, 4, -1});
  EXPECT_EQ(Grad(none.Prod(), none), (std::vector<double>{-4, -2, 8}));
}

// ------------------------------------------------- higher-order derivatives

TEST(GradientHigherOrder, SecondAndThirdDerivativesOfAPolynomial) {
  Tensor x = F64({-1.5, 0.5, 2});
  Tensor y = x.Pow(4).Sum();  // y' = 4x^3, y'' = 12x^2, y''' = 24x
  absl::StatusOr<std::vector<Tensor>> g1 = Gradient(y, {x});
  ASSERT_TRUE(g1.ok()) << g1.status();
  absl::StatusOr<std::vector<Tensor>> g2 = Gradient((*g1)[0].Sum(), {x});
  ASSERT_TRUE(g2.ok()) << g2.status();
  absl::StatusOr<std::vector<Tensor>> g3 = Gradient((*g2)[0].Sum(), {x});
  ASSERT_TRUE(g3.ok()) << g3.status();
  EXPECT_TRUE(AllClose(Values((*g1)[0]), {-13.5, 0.5, 32}, 1e-12));
  EXPECT_TRUE(AllClose(Values((*g2)[0]), {27, 3, 48}, 1e-12));
  EXPECT_TRUE(AllClose(Values((*g3)[0]), {-36, 12, 48}, 1e-12));
}

TEST(GradientHigherOrder, SecondDerivativesOfActivations) {
  Tensor x = F64({-2, -0.3, 0.7, 3});
  struct Fn {
    const char* name;
    Tensor (*f)(const Tensor&);
    double (*second)(double);
  };
  const Fn fns[] = {
      {"tanh", [](const Tensor& t) { return t.Tanh(); },
       [](double v) { return -2 * std::tanh(v) * (1 - std::tanh(v) * std::tanh(v)); }},
      {"sigmoid", [](const Tensor& t) { return t.Sigmoid(); },
       [](double v) {
         double s = 1 / (1 + std::exp(-v));
         return s * (1 - s) * (1 - 2 * s);
       }},
      {"exp", [](const Tensor& t) { return t.Exp(); }, [](double v) { return std::exp(v); }},
      {"sin", [](const Tensor& t) { return t.Sin(); }, [](double v) { return -std::sin(v); }},
      {"recip_shifted", [](const Tensor& t) { return t.Add(5).Reciprocal(); },
       [](double v) { return 2 / std::pow(v + 5, 3); }},
  };
  for (const Fn& fn : fns) {
    SCOPED_TRACE(fn.name);
    absl::StatusOr<std::vector<Tensor>> g = Gradient(fn.f(x).Sum(), {x});
    ASSERT_TRUE(g.ok()) << g.status();
    std::vector<double> h = Grad((*g)[0].Sum(), x);
    std::vector<double> want;
    for (double v : {-2.0, -0.3, 0.7, 3.0}) want.push_back(fn.second(v));
    EXPECT_TRUE(AllClose(h, want, 1e-9, 1e-9));
  }
}

// H v by double backward against central differences of the gradient along v.
void CheckHvp(const char* name, Tensor (*f)(const Tensor&, const Tensor&), const Shape& xs,
              const Shape& ws) {
  SCOPED_TRACE(name);
  Tensor x = RandomF64(xs, 11), w = RandomF64(ws, 12);
  Tensor v = RandomF64(ws, 13);
  Tensor loss = f(x, w);
  absl::StatusOr<std::vector<Tensor>> g = Gradient(loss, {w});
  ASSERT_TRUE(g.ok()) << g.status();
  absl::StatusOr<std::vector<Tensor>> hv = Gradient(((*g)[0] * v).Sum(), {w});
  ASSERT_TRUE(hv.ok()) << hv.status();
  std::vector<double> analytic = Values((*hv)[0]);

  std::shared_ptr<Storage> s = w.storages().storages()[0];
  std::vector<uint8_t> original = s->host;
  std::vector<double> vv = Values(v), at[2];
  const double h = 1e-5;
  for (int side = 0; side < 2; ++side) {
    std::vector<uint8_t> bytes = original;
    for (size_t i = 0; i < vv.size(); ++i) {
      double wi;
      std::memcpy(&wi, bytes.data() + 8 * i, 8);
      wi += (side == 0 ? h : -h) * vv[i];
      std::memcpy(bytes.data() + 8 * i, &wi, 8);
    }
    s->SetHostBytes(bytes);
    absl::StatusOr<HostArray> gv = ReferenceEvaluate((*g)[0].uop());
    ASSERT_TRUE(gv.ok()) << gv.status();
    for (int64_t i = 0; i < gv->numel(); ++i) at[side].push_back(gv->AsDouble(i));
  }
  s->SetHostBytes(original);
  std::vector<double> numeric;
  for (size_t i = 0; i < at[0].size(); ++i) numeric.push_back((at[0][i] - at[1][i]) / (2 * h));
  EXPECT_TRUE(AllClose(analytic, numeric, 1e-6, 1e-5));
}

TEST(GradientHigherOrder, HessianVectorProducts) {
  CheckHvp("mlp_tanh",
           [](const Tensor& x, const Tensor& w) { return x.Matmul(w).Tanh().Square().Sum(); },
           {3, 4}, {4, 2});
  CheckHvp("softmax_cross_entropy",
           [](const Tensor& x, const Tensor& w) {
             Tensor onehot = Tensor::FromVector<double>({1, 0, 0, 0, 0, 1}, {2, 3});
             return -(x.Matmul(w).LogSoftmax(1) * onehot).Sum();
           },
           {2, 4}, {4, 3});
  CheckHvp("conv_sigmoid",
           [](const Tensor& x, const Tensor& w) { return x.Conv2d(w).Sigmoid().Sum(); },
           {1, 2, 4, 4}, {2, 2, 3, 3});
  CheckHvp("layernorm",
           [](const Tensor& x, const Tensor& w) { return x.LayerNorm(-1, w).Exp().Sum(); }, {2, 4},
           {4});
}

}  // namespace
}  // namespace uop
