#include "client/uoprun/test_models.h"

#include <cmath>

namespace uop::uoprun {
namespace {

std::vector<float> Weights(int n, float scale, float phase) {
  std::vector<float> w(n);
  for (int i = 0; i < n; ++i) w[i] = scale * std::sin(0.37f * static_cast<float>(i) + phase);
  return w;
}

}  // namespace

TestModel MlpModel(int batch, int in, int hidden, int out, const std::string& device) {
  const std::vector<float> w1 = Weights(in * hidden, 0.5f, 0.1f);
  const std::vector<float> b1 = Weights(hidden, 0.1f, 0.7f);
  const std::vector<float> w2 = Weights(hidden * out, 0.3f, 1.3f);
  TestModel m;
  Tensor tw1 = Tensor::FromVector(w1, Shape{in, hidden}, device);
  Tensor tb1 = Tensor::FromVector(b1, Shape{hidden}, device);
  Tensor tw2 = Tensor::FromVector(w2, Shape{hidden, out}, device);
  m.fn = [tw1, tb1, tw2](const std::vector<Tensor>& x) {
    Tensor h = x[0].Matmul(tw1).Add(tb1).Relu();
    return std::vector<Tensor>{h.Sum({1}), h.Matmul(tw2)};
  };
  m.inputs = {{"x", DType::Float32(), {batch, in}}};
  m.outputs = {"hidden_sum", "y"};
  m.reference = [=](const std::vector<float>& x) {
    std::vector<float> sum(batch, 0), y(batch * out, 0);
    for (int b = 0; b < batch; ++b) {
      std::vector<double> h(hidden);
      for (int j = 0; j < hidden; ++j) {
        double acc = b1[j];
        for (int i = 0; i < in; ++i) acc += double{x[b * in + i]} * w1[i * hidden + j];
        h[j] = acc > 0 ? acc : 0;
        sum[b] += static_cast<float>(h[j]);
      }
      for (int o = 0; o < out; ++o) {
        double acc = 0;
        for (int j = 0; j < hidden; ++j) acc += h[j] * w2[j * out + o];
        y[b * out + o] = static_cast<float>(acc);
      }
    }
    return std::vector<std::vector<float>>{sum, y};
  };
  return m;
}

}  // namespace uop::uoprun
