#include "runtime/nn/layers.h"

#include <cmath>
#include <numeric>

#include "runtime/nn/dropout.h"
#include "runtime/nn/loss.h"
#include "runtime/nn/norm.h"
#include "runtime/tensor/gradient.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop::nn {
namespace {

std::vector<std::string> Names(const std::vector<NamedTensor>& ts) {
  std::vector<std::string> out;
  for (const NamedTensor& t : ts) out.push_back(t.name);
  return out;
}

struct TwoLayer : Module {
  Linear fc1{3, 4, {.seed = 1}};
  BatchNorm bn{4};
  Linear fc2{4, 2, {.bias = false, .seed = 2}};
  void Collect(const std::string& p, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override {
    fc1.Collect(p + "fc1.", params, buffers);
    bn.Collect(p + "bn.", params, buffers);
    fc2.Collect(p + "fc2.", params, buffers);
  }
};

TEST(Module, NamesParametersAndBuffersInOrder) {
  TwoLayer m;
  EXPECT_EQ(Names(m.Parameters()), (std::vector<std::string>{"fc1.weight", "fc1.bias", "bn.weight",
                                                             "bn.bias", "fc2.weight"}));
  EXPECT_EQ(Names(m.Buffers()), (std::vector<std::string>{"bn.running_mean", "bn.running_var"}));
  EXPECT_EQ(m.State().size(), 7u);
  ASSERT_TRUE(RealizeState(m).ok());
  EXPECT_EQ(m.ParameterPointers()[0], &m.fc1.weight);
}

TEST(Linear, ComputesXWTransposePlusBiasWithTorchInitBounds) {
  Linear fc(16, 8, {.seed = 3});
  EXPECT_EQ(fc.weight.shape(), (Shape{8, 16}));
  ASSERT_TRUE(fc.bias.has_value());
  std::vector<double> w = Values(fc.weight), b = Values(*fc.bias);
  for (double v : w) EXPECT_LE(std::abs(v), 0.25);  // 1 / sqrt(16)
  for (double v : b) EXPECT_LE(std::abs(v), 0.25);
  EXPECT_NE(w[0], b[0]);
  Tensor x = Tensor::FromVector(RandomFloats(32, 4), {2, 16});
  std::vector<double> xv = Values(x), y = Values(fc(x));
  ASSERT_EQ(y.size(), 16u);
  for (int i = 0; i < 2; ++i)
    for (int o = 0; o < 8; ++o) {
      double want = b[o];
      for (int k = 0; k < 16; ++k) want += xv[i * 16 + k] * w[o * 16 + k];
      EXPECT_NEAR(y[i * 8 + o], want, 1e-5);
    }
  // The same seed gives the same weights.
  Linear again(16, 8, {.seed = 3});
  EXPECT_EQ(Values(again.weight), w);
}

TEST(Conv2d, ShapesAndGroups) {
  Conv2d conv(4, 6, {3, 3}, {.padding = {{1, 1}}, .groups = 2, .seed = 5});
  EXPECT_EQ(conv.weight.shape(), (Shape{6, 2, 3, 3}));
  Tensor x = Tensor::Rand({2, 4, 5, 5}, DType::Float32(), {.seed = 1});
  EXPECT_EQ(conv(x).shape(), (Shape{2, 6, 5, 5}));
  for (double v : Values(conv.weight)) EXPECT_LE(std::abs(v), 1 / std::sqrt(18.0));
  Conv2d bad(3, 6, {3, 3}, {.groups = 2});
  EXPECT_FALSE(bad(Tensor::Rand({1, 3, 5, 5})).ok());
}

TEST(Embedding, PicksRowsAndGetsScatteredGradients) {
  Embedding emb(5, 3, {.seed = 9});
  Tensor idx = Tensor::FromVector<int32_t>({4, 1, 4});
  std::vector<double> w = Values(emb.weight), e = Values(emb(idx));
  ASSERT_EQ(e.size(), 9u);
  for (int k = 0; k < 3; ++k) {
    EXPECT_DOUBLE_EQ(e[k], w[12 + k]);
    EXPECT_DOUBLE_EQ(e[3 + k], w[3 + k]);
  }
  absl::StatusOr<std::vector<Tensor>> g = Gradient(emb(idx).Sum(), {emb.weight});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(Values((*g)[0]), (std::vector<double>{0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 2}));
}

TEST(BatchNorm, TrainingNormalizesAndUpdatesRunningStatistics) {
  BatchNorm bn(2, {.momentum = 0.5});
  // Channel 0 holds 1, 3, 5, 7; channel 1 holds 2, 2, 2, 2 (variance 0).
  Tensor x = Tensor::FromVector<float>({1, 3, 2, 2, 5, 7, 2, 2}, {2, 2, 2});
  std::vector<double> y = Values(bn(x, /*training=*/true));
  const double sd = std::sqrt(5.0 + 1e-5);
  EXPECT_TRUE(AllClose(y, {-3 / sd, -1 / sd, 0, 0, 1 / sd, 3 / sd, 0, 0}, 1e-5));
  std::vector<Tensor*> stats = {&bn.running_mean, &bn.running_var};
  ASSERT_TRUE(Tensor::RealizeAll(stats).ok());
  // running = 0.5 * running + 0.5 * batch (unbiased variance 20/3 for the running var).
  EXPECT_TRUE(AllClose(Values(bn.running_mean), {2, 1}, 1e-6));
  EXPECT_TRUE(AllClose(Values(bn.running_var), {0.5 + 0.5 * 20.0 / 3, 0.5}, 1e-5));
  // Eval uses the running statistics.
  std::vector<double> z = Values(bn(x, /*training=*/false));
  EXPECT_NEAR(z[0], (1 - 2) / std::sqrt(0.5 + 10.0 / 3 + 1e-5), 1e-5);
  EXPECT_FALSE(bn(Tensor::Rand({2, 3, 2}), true).ok());
}

TEST(LayerNorm, NormalizesTrailingAxes) {
  LayerNorm ln({3});
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 10, 10, 13}, {2, 3});
  std::vector<double> y = Values(ln(x));
  const double s0 = std::sqrt(2.0 / 3 + 1e-5), s1 = std::sqrt(2.0 + 1e-5);
  EXPECT_TRUE(AllClose(y, {-1 / s0, 0, 1 / s0, -1 / s1, -1 / s1, 2 / s1}, 1e-5));
  EXPECT_EQ(ln.Parameters().size(), 2u);
  EXPECT_FALSE(ln(Tensor::Rand({2, 4})).ok());
}

TEST(Dropout, SeededMasksScaleAndAdvance) {
  Dropout a(0.25, 42), b(0.25, 42);
  Tensor x = Tensor::Ones({4000});
  std::vector<double> ya = Values(a(x, true)), yb = Values(b(x, true));
  EXPECT_EQ(ya, yb) << "same seed, same mask";
  int kept = 0;
  for (double v : ya) {
    EXPECT_TRUE(v == 0 || std::abs(v - 4.0 / 3) < 1e-6) << v;
    kept += v != 0;
  }
  EXPECT_NEAR(kept / 4000.0, 0.75, 0.03);
  ASSERT_TRUE(a.key.Realize().ok());
  std::vector<double> next = Values(a(x, true));
  EXPECT_NE(next, ya) << "the key advanced";
  EXPECT_EQ(Values(a(x, false)), Values(x));
  EXPECT_EQ(Values(Dropout(1, 1)(x, true)), std::vector<double>(4000, 0));
  EXPECT_EQ(ErrorOf(Dropout(1.5, 1)(x, true)), "Dropout: p = 1.5 is outside [0, 1]");
}

TEST(Loss, CrossEntropyAndMse) {
  Tensor logits = Tensor::FromVector<float>({2, 0, 0, 0, 0, 3}, {2, 3});
  Tensor labels = Tensor::FromVector<int32_t>({0, 2});
  double l0 = std::log(std::exp(2.0) + 2) - 2, l1 = std::log(std::exp(3.0) + 2) - 3;
  EXPECT_NEAR(Values(CrossEntropy(logits, labels))[0], (l0 + l1) / 2, 1e-6);
  // Class probabilities (one-hot rows) give the same loss.
  Tensor onehot = Tensor::FromVector<float>({1, 0, 0, 0, 0, 1}, {2, 3});
  EXPECT_NEAR(Values(CrossEntropy(logits, onehot))[0], (l0 + l1) / 2, 1e-6);
  EXPECT_NE(ErrorOf(CrossEntropy(logits, Tensor::Zeros({3}))).find("CrossEntropy: needs logits"),
            std::string::npos);
  EXPECT_FALSE(CrossEntropy(logits, onehot.Cast(DType::Float64())).ok());
  EXPECT_NEAR(Values(MseLoss(labels.Cast(DType::Float32()), Tensor::Ones({2})))[0], 1, 1e-7);
}

}  // namespace
}  // namespace uop::nn
