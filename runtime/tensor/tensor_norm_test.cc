#include <cmath>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

TEST(TensorNorm, SoftmaxRowsSumToOne) {
  std::vector<float> data = RandomFloats(4 * 5, 7, -20, 20);
  Tensor x = Tensor::FromVector(data, Shape{4, 5});
  std::vector<double> s = Values(x.Softmax(-1));
  for (int r = 0; r < 4; ++r) {
    double total = 0, denom = 0, mx = -1e9;
    for (int c = 0; c < 5; ++c) mx = std::max(mx, double{data[r * 5 + c]});
    for (int c = 0; c < 5; ++c) denom += std::exp(data[r * 5 + c] - mx);
    for (int c = 0; c < 5; ++c) {
      total += s[r * 5 + c];
      EXPECT_NEAR(s[r * 5 + c], std::exp(data[r * 5 + c] - mx) / denom, 1e-6);
    }
    EXPECT_NEAR(total, 1.0, 1e-6);
  }
  std::vector<double> cols = Values(x.Softmax(0).Sum({0}));
  for (double c : cols) EXPECT_NEAR(c, 1.0, 1e-6);
}

TEST(TensorNorm, SoftmaxOfLargeValuesDoesNotOverflow) {
  Tensor x = Tensor::FromVector<float>({1000, 1001, -1000});
  EXPECT_TRUE(AllClose(Values(x.Softmax()),
                       {1 / (1 + std::exp(1.0)), std::exp(1.0) / (1 + std::exp(1.0)), 0}, 1e-6,
                       1e-5));
  std::vector<double> ls = Values(x.LogSoftmax());
  EXPECT_NEAR(ls[0], -std::log1p(std::exp(1.0)), 1e-5);
  EXPECT_NEAR(ls[1], 1 - std::log1p(std::exp(1.0)), 1e-5);
  EXPECT_NEAR(ls[2], -2001 - std::log1p(std::exp(-1.0)), 1e-3);
  EXPECT_EQ(Tensor::FromVector<int32_t>({1, 2}).Softmax().dtype(), DType::Float32());
  EXPECT_FALSE(x.Softmax(1).ok());
}

TEST(TensorNorm, LayerNormMatchesLoop) {
  const int rows = 3, cols = 4;
  std::vector<float> data = RandomFloats(rows * cols, 8, -3, 3);
  std::vector<float> w = {1, 2, 0.5, -1}, b = {0, 1, 2, 3};
  std::vector<double> expected;
  for (int r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int c = 0; c < cols; ++c) mean += data[r * cols + c] / double{cols};
    for (int c = 0; c < cols; ++c) var += std::pow(data[r * cols + c] - mean, 2) / cols;
    for (int c = 0; c < cols; ++c)
      expected.push_back((data[r * cols + c] - mean) / std::sqrt(var + 1e-5) * w[c] + b[c]);
  }
  Tensor x = Tensor::FromVector(data, Shape{rows, cols});
  Tensor y = x.LayerNorm(-1, Tensor::FromVector(w), Tensor::FromVector(b));
  EXPECT_TRUE(AllClose(Values(y), expected, 1e-5, 1e-5));
  // Normalizing over both axes: the whole tensor has mean 0 and variance ~1.
  Tensor all = x.LayerNorm(0);
  EXPECT_NEAR(Values(all.Mean())[0], 0, 1e-6);
  EXPECT_NEAR(Values(all.Var({0, 1}, false, 0))[0], 1, 1e-3);
}

TEST(TensorNorm, BatchNormInference) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6, 7, 8}, Shape{1, 2, 2, 2});
  Tensor scale = Tensor::FromVector<float>({2, 1});
  Tensor bias = Tensor::FromVector<float>({0, 10});
  Tensor mean = Tensor::FromVector<float>({2.5, 0});
  Tensor var = Tensor::FromVector<float>({4, 1});
  std::vector<double> expected;
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 4; ++i) {
      double v = 1 + c * 4 + i;
      double m = c == 0 ? 2.5 : 0, s = c == 0 ? 2 : 1, bb = c == 0 ? 0 : 10, vv = c == 0 ? 4 : 1;
      expected.push_back((v - m) / std::sqrt(vv + 1e-5) * s + bb);
    }
  EXPECT_TRUE(AllClose(Values(x.BatchNorm(scale, bias, mean, var)), expected, 1e-5, 1e-5));
  EXPECT_EQ(ErrorOf(x.BatchNorm(Tensor::Ones({3}), bias, mean, var)),
            "BatchNorm: scale has shape (3,), expected (2,) for input (1, 2, 2, 2)");
}

}  // namespace
}  // namespace uop
