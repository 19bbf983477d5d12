// Shared pieces of the training tests (CPU and GPU): synthetic separable
// data, a small MLP and a conv net, and a JIT-captured training loop.
#ifndef UOP_RUNTIME_NN_TRAIN_TEST_UTIL_H_
#define UOP_RUNTIME_NN_TRAIN_TEST_UTIL_H_

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/jit.h"
#include "runtime/nn/layers.h"
#include "runtime/nn/loss.h"
#include "runtime/nn/norm.h"
#include "runtime/nn/optim.h"
#include "runtime/tensor/gradient.h"

namespace uop::nn::testing {

// Labels as int32 class indices on the CPU; elsewhere as one-hot float rows
// made on the host (so the step needs no arange, whose kernel the scheduler
// places on its default device "CPU" when it reads no buffer).
inline Tensor Labels(const std::vector<int32_t>& y, int classes, const std::string& device) {
  const int64_t n = static_cast<int64_t>(y.size());
  if (device == "CPU") return Tensor::FromVector(y, {n}, device);
  std::vector<float> onehot(n * classes, 0.0f);
  for (int64_t i = 0; i < n; ++i) onehot[i * classes + y[i]] = 1;
  return Tensor::FromVector(onehot, {n, classes}, device);
}

// Points in [-1, 1]^2, label 1 where x0 + 0.5 x1 > 0.1.
struct Batch {
  Tensor x, y;
};
inline Batch PointsBatch(std::mt19937& gen, int n, const std::string& device) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(2 * n);
  std::vector<int32_t> y(n);
  for (int i = 0; i < n; ++i) {
    x[2 * i] = u(gen), x[2 * i + 1] = u(gen);
    y[i] = x[2 * i] + 0.5f * x[2 * i + 1] > 0.1f;
  }
  return {Tensor::FromVector(x, {n, 2}, device), Labels(y, 2, device)};
}

// 8x8 images: class 0 a horizontal bar, class 1 a vertical bar, at a random
// position, with noise.
inline Batch BarsBatch(std::mt19937& gen, int n, const std::string& device) {
  std::uniform_real_distribution<float> noise(-0.3f, 0.3f);
  std::uniform_int_distribution<int> pos(1, 6), cls(0, 1);
  std::vector<float> x(n * 64);
  std::vector<int32_t> y(n);
  for (int i = 0; i < n; ++i) {
    y[i] = cls(gen);
    int p = pos(gen);
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 8; ++c)
        x[i * 64 + r * 8 + c] = noise(gen) + ((y[i] == 0 ? r : c) == p ? 1.0f : 0.0f);
  }
  return {Tensor::FromVector(x, {n, 1, 8, 8}, device), Labels(y, 2, device)};
}

struct Mlp : Module {
  explicit Mlp(const std::string& device = "CPU")
      : fc1(2, 16, {.seed = 11, .device = device}), fc2(16, 2, {.seed = 12, .device = device}) {}
  Linear fc1, fc2;
  Tensor operator()(const Tensor& x) const { return fc2(fc1(x).Relu()); }
  void Collect(const std::string& p, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override {
    fc1.Collect(p + "fc1.", params, buffers);
    fc2.Collect(p + "fc2.", params, buffers);
  }
};

struct ConvNet : Module {
  explicit ConvNet(const std::string& device = "CPU")
      : conv(1, 4, {3, 3}, {.padding = {{1, 1}}, .seed = 21, .device = device}),
        bn(4, {.device = device}),
        fc(4 * 4 * 4, 2, {.seed = 22, .device = device}) {}
  Conv2d conv;
  BatchNorm bn;
  Linear fc;
  Tensor operator()(const Tensor& x) {
    PoolOptions pool;
    pool.kernel = {2, 2};
    return fc(bn(conv(x), /*training=*/true).Relu().MaxPool2d(pool).Flatten(1));
  }
  void Collect(const std::string& p, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override {
    conv.Collect(p + "conv.", params, buffers);
    bn.Collect(p + "bn.", params, buffers);
    fc.Collect(p + "fc.", params, buffers);
  }
};

// The training step as a tensor function: loss, then the updates of the
// parameters, the optimizer state and the module's buffers.
template <typename Model>
Jit::Fn TrainStep(Model& model, Optimizer& opt) {
  return [&model, &opt](const std::vector<Tensor>& in) {
    Tensor loss = CrossEntropy(model(in[0]), in[1]);
    absl::StatusOr<std::vector<Tensor>> grads = Gradient(loss, opt.parameter_tensors());
    if (!grads.ok()) return std::vector<Tensor>{Tensor::Error(grads.status())};
    absl::StatusOr<std::vector<Tensor>> updates = opt.Step(*grads);
    if (!updates.ok()) return std::vector<Tensor>{Tensor::Error(updates.status())};
    std::vector<Tensor> out = {loss};
    out.insert(out.end(), updates->begin(), updates->end());
    for (const NamedTensor& b : model.Buffers()) out.push_back(*b.tensor);
    return out;
  };
}

// Trains for `steps` steps with batches made on `device`; returns the loss
// of every step. `ms_per_step` (optional) gets the median wall time of the
// replayed steps, the loss read included.
template <typename Model>
std::vector<float> Train(std::shared_ptr<Engine> engine, Model& model, Optimizer& opt,
                         Batch (*make)(std::mt19937&, int, const std::string&), int batch,
                         int steps, const std::string& device = "CPU",
                         double* ms_per_step = nullptr) {
  Jit jit(engine, TrainStep(model, opt));
  std::mt19937 gen(1234);
  std::vector<float> losses;
  std::vector<double> times;
  for (int s = 0; s < steps; ++s) {
    Batch b = make(gen, batch, device);
    uint64_t realizes = engine->stats().realizes;
    auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<Tensor>> out = jit.Call({b.x, b.y});
    EXPECT_TRUE(out.ok()) << out.status();
    if (!out.ok()) return losses;
    if (s >= 2) {
      EXPECT_EQ(engine->stats().realizes, realizes) << "step " << s << " replays";
    }
    absl::StatusOr<float> loss = (*out)[0].Item<float>();
    EXPECT_TRUE(loss.ok()) << loss.status();
    losses.push_back(loss.ok() ? *loss : NAN);
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  EXPECT_TRUE(jit.captured());
  if (times.size() > 4) {
    std::sort(times.begin() + 2, times.end());
    const double median = times[2 + (times.size() - 2) / 2];
    if (ms_per_step) *ms_per_step = median;
    printf("# %s: %d steps, %zu kernels per step, %.3f ms per replayed step, loss %.4f -> %.4f\n",
           device.c_str(), steps, jit.num_launches(), median, losses.front(), losses.back());
  }
  return losses;
}

inline float MeanOfLast(const std::vector<float>& v, size_t k) {
  float s = 0;
  for (size_t i = v.size() - k; i < v.size(); ++i) s += v[i];
  return s / k;
}

}  // namespace uop::nn::testing

#endif  // UOP_RUNTIME_NN_TRAIN_TEST_UTIL_H_
