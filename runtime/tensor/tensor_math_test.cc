#include <cmath>
#include <limits>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// f applied to `xs` in double precision.
template <typename F>
std::vector<double> Map(const std::vector<double>& xs, F f) {
  std::vector<double> out;
  for (double x : xs) out.push_back(f(x));
  return out;
}

Tensor F64(const std::vector<double>& v) { return Tensor::FromVector(v); }

const std::vector<double> kXs = {-3.7, -1, -0.25, 0, 0.3, 1, 2.5, 7};

TEST(TensorMath, TranscendentalsFromPrimitives) {
  Tensor x = F64(kXs);
  EXPECT_TRUE(
      AllClose(Values(x.Exp()), Map(kXs, [](double v) { return std::exp(v); }), 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(Values(x.Exp2()), Map(kXs, [](double v) { return std::exp2(v); })));
  EXPECT_TRUE(AllClose(Values(x.Sin()), Map(kXs, [](double v) { return std::sin(v); })));
  EXPECT_TRUE(
      AllClose(Values(x.Cos()), Map(kXs, [](double v) { return std::cos(v); }), 1e-12, 1e-12));
  EXPECT_TRUE(
      AllClose(Values(x.Tan()), Map(kXs, [](double v) { return std::tan(v); }), 1e-12, 1e-12));
  std::vector<double> pos = {0.01, 0.5, 1, 2, 1000};
  Tensor p = F64(pos);
  EXPECT_TRUE(
      AllClose(Values(p.Log()), Map(pos, [](double v) { return std::log(v); }), 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(Values(p.Log2()), Map(pos, [](double v) { return std::log2(v); })));
  EXPECT_TRUE(AllClose(Values(p.Sqrt()), Map(pos, [](double v) { return std::sqrt(v); })));
  EXPECT_TRUE(AllClose(Values(p.Rsqrt()), Map(pos, [](double v) { return 1 / std::sqrt(v); })));
  EXPECT_TRUE(AllClose(Values(p.Reciprocal()), Map(pos, [](double v) { return 1 / v; })));
  // Exp is EXP2 of a scaled input: the graph has no other transcendental.
  bool has_exp2 = false;
  for (const UOp* u : x.Exp().uop()->Toposort()) has_exp2 |= u->op() == Op::kExp2;
  EXPECT_TRUE(has_exp2);
}

TEST(TensorMath, IntegerInputsComputeAsFloat32) {
  Tensor i = Tensor::FromVector<int32_t>({1, 4});
  EXPECT_EQ(i.Sqrt().dtype(), DType::Float32());
  EXPECT_EQ(Values(i.Sqrt()), (std::vector<double>{1, 2}));
  EXPECT_EQ(i.Exp().dtype(), DType::Float32());
  EXPECT_EQ(i.Sigmoid().dtype(), DType::Float32());
}

TEST(TensorMath, Erf) {
  std::vector<double> xs = {-3, -1, -0.5, 0, 0.1, 0.5, 1, 2, 4};
  EXPECT_TRUE(
      AllClose(Values(F64(xs).Erf()), Map(xs, [](double v) { return std::erf(v); }), 2e-7, 0));
}

TEST(TensorMath, SigmoidIsStable) {
  Tensor x = Tensor::FromVector<float>({-1000, -50, 0, 50, 1000});
  std::vector<double> v = Values(x.Sigmoid());
  EXPECT_TRUE(AllClose(v, {0, 1.9287498479639178e-22, 0.5, 1, 1}, 1e-30, 1e-5));
  for (double s : v) EXPECT_FALSE(std::isnan(s));
  Tensor h = x.Cast(DType::Float16());
  std::vector<double> vh = Values(h.Sigmoid());
  EXPECT_EQ(vh.front(), 0);
  EXPECT_EQ(vh.back(), 1);
  for (double s : vh) EXPECT_FALSE(std::isnan(s));
  EXPECT_TRUE(AllClose(Values(x.Tanh()), {-1, -1, 0, 1, 1}));
  EXPECT_TRUE(AllClose(Values(F64({-kInf, kInf}).Sigmoid()), {0, 1}));
}

TEST(TensorMath, Activations) {
  Tensor x = F64(kXs);
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  EXPECT_TRUE(AllClose(Values(x.Sigmoid()), Map(kXs, sig), 1e-12, 1e-12));
  EXPECT_TRUE(
      AllClose(Values(x.Tanh()), Map(kXs, [](double v) { return std::tanh(v); }), 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(Values(x.Relu()), Map(kXs, [](double v) { return v > 0 ? v : 0; })));
  EXPECT_TRUE(
      AllClose(Values(x.LeakyRelu(0.1)), Map(kXs, [](double v) { return v > 0 ? v : 0.1 * v; })));
  EXPECT_TRUE(
      AllClose(Values(x.Silu()), Map(kXs, [&](double v) { return v * sig(v); }), 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(
      Values(x.Gelu()),
      Map(kXs, [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2))); }), 1e-6, 0));
  EXPECT_TRUE(AllClose(
      Values(x.Gelu(/*tanh_approx=*/true)),
      Map(kXs,
          [](double v) {
            return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
          }),
      1e-12, 1e-12));
  EXPECT_TRUE(AllClose(Values(x.Softplus()),
                       Map(kXs, [](double v) { return std::log1p(std::exp(v)); }), 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(Values(F64({1000, -1000}).Softplus()), {1000, 0}));
  EXPECT_TRUE(AllClose(Values(x.Elu()),
                       Map(kXs, [](double v) { return v > 0 ? v : std::exp(v) - 1; }), 1e-12,
                       1e-12));
  EXPECT_TRUE(AllClose(Values(x.HardSigmoid()),
                       Map(kXs, [](double v) { return std::clamp(v / 6 + 0.5, 0.0, 1.0); })));
  EXPECT_TRUE(AllClose(Values(x.HardSwish()),
                       Map(kXs, [](double v) { return v * std::clamp(v + 3, 0.0, 6.0) / 6; })));
  EXPECT_TRUE(AllClose(Values(x.Mish()),
                       Map(kXs, [](double v) { return v * std::tanh(std::log1p(std::exp(v))); }),
                       1e-12, 1e-12));
  EXPECT_TRUE(AllClose(Values(x.Selu()),
                       Map(kXs,
                           [](double v) {
                             return 1.0507009873554805 *
                                    (v > 0 ? v : 1.6732632423543772 * (std::exp(v) - 1));
                           }),
                       1e-12, 1e-12));
  EXPECT_TRUE(std::isnan(Values(F64({kNaN}).Relu())[0]));
}

TEST(TensorMath, Rounding) {
  std::vector<double> xs = {-2.5, -1.5, -0.5, -0.4, 0.5, 1.5, 2.5, 2.6, -2.6, 3, -1e-10, 1e17};
  Tensor x = F64(xs);
  EXPECT_EQ(Values(x.Floor()), Map(xs, [](double v) { return std::floor(v); }));
  EXPECT_EQ(Values(x.Ceil()), Map(xs, [](double v) { return std::ceil(v); }));
  EXPECT_EQ(Values(x.Trunc()), Map(xs, [](double v) { return std::trunc(v); }));
  EXPECT_EQ(Values(x.Round()), Map(xs, [](double v) { return std::nearbyint(v); }));
  Tensor f = Tensor::FromVector<float>({0.49999997f, -0.49999997f, 8388609.0f});
  EXPECT_EQ(Values(f.Round()), (std::vector<double>{0, 0, 8388609.0}));
  Tensor special = F64({kInf, -kInf, kNaN});
  EXPECT_TRUE(AllClose(Values(special.Round()), {kInf, -kInf, kNaN}));
  EXPECT_TRUE(AllClose(Values(special.Floor()), {kInf, -kInf, kNaN}));
  EXPECT_EQ(Values(Tensor::FromVector<int32_t>({-3, 4}).Floor()), (std::vector<double>{-3, 4}));
}

TEST(TensorMath, AbsSignNanInf) {
  Tensor x = F64({-2, 0, 3, kNaN, -kInf});
  EXPECT_TRUE(AllClose(Values(x.Abs()), {2, 0, 3, kNaN, kInf}));
  EXPECT_TRUE(AllClose(Values(x.Sign()), {-1, 0, 1, kNaN, -1}));
  EXPECT_EQ(*x.IsNan().ToVector<bool>(), (std::vector<bool>{false, false, false, true, false}));
  EXPECT_EQ(*x.IsInf().ToVector<bool>(), (std::vector<bool>{false, false, false, false, true}));
  EXPECT_EQ(*x.IsInf(true, false).ToVector<bool>(),
            (std::vector<bool>{false, false, false, false, false}));
  Tensor i = Tensor::FromVector<int32_t>({-5, 0, 7});
  EXPECT_EQ(Values(i.Abs()), (std::vector<double>{5, 0, 7}));
  EXPECT_EQ(Values(i.Sign()), (std::vector<double>{-1, 0, 1}));
  EXPECT_EQ(i.Sign().dtype(), DType::Int32());
  EXPECT_EQ(*i.IsNan().ToVector<bool>(), (std::vector<bool>{false, false, false}));
}

}  // namespace
}  // namespace uop
