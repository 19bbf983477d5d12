// End to end: a small MLP and a small conv net (with BatchNorm) train on
// synthetic, separable data through the Engine (CPU), each step captured by
// the JIT once and replayed with new batches; the loss must fall below a
// threshold within a fixed number of steps, identically for the same seed.
#include <cmath>
#include <random>
#include <vector>

#include "drivers/cpu/cpu_device.h"
#include "gtest/gtest.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/jit.h"
#include "runtime/nn/layers.h"
#include "runtime/nn/loss.h"
#include "runtime/nn/norm.h"
#include "runtime/nn/optim.h"
#include "runtime/tensor/gradient.h"

namespace uop::nn {
namespace {

class TrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = Tensor::GetRealizer();
    engine_ = Engine::Install({.cache_dir = "-"});
  }
  void TearDown() override { Tensor::SetRealizer(previous_); }
  std::shared_ptr<Realizer> previous_;
  std::shared_ptr<Engine> engine_;
};

// Points in [-1, 1]^2, label 1 where x0 + 0.5 x1 > 0.1.
struct Batch {
  Tensor x, y;
};
Batch PointsBatch(std::mt19937& gen, int n) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(2 * n);
  std::vector<int32_t> y(n);
  for (int i = 0; i < n; ++i) {
    x[2 * i] = u(gen), x[2 * i + 1] = u(gen);
    y[i] = x[2 * i] + 0.5f * x[2 * i + 1] > 0.1f;
  }
  return {Tensor::FromVector(x, {n, 2}), Tensor::FromVector(y, {n})};
}

// 8x8 images: class 0 a horizontal bar, class 1 a vertical bar, at a random
// position, with noise.
Batch BarsBatch(std::mt19937& gen, int n) {
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
  return {Tensor::FromVector(x, {n, 1, 8, 8}), Tensor::FromVector(y, {n})};
}

struct Mlp : Module {
  Linear fc1{2, 16, {.seed = 11}}, fc2{16, 2, {.seed = 12}};
  Tensor operator()(const Tensor& x) const { return fc2(fc1(x).Relu()); }
  void Collect(const std::string& p, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override {
    fc1.Collect(p + "fc1.", params, buffers);
    fc2.Collect(p + "fc2.", params, buffers);
  }
};

struct ConvNet : Module {
  Conv2d conv{1, 4, {3, 3}, {.padding = {{1, 1}}, .seed = 21}};
  BatchNorm bn{4};
  Linear fc{4 * 4 * 4, 2, {.seed = 22}};
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

// Trains for `steps` steps; returns the loss of every step.
template <typename Model>
std::vector<float> Train(Engine* engine, std::shared_ptr<Engine> shared, Model& model,
                         Optimizer& opt, Batch (*make)(std::mt19937&, int), int batch, int steps) {
  Jit jit(shared, TrainStep(model, opt));
  std::mt19937 gen(1234);
  std::vector<float> losses;
  for (int s = 0; s < steps; ++s) {
    Batch b = make(gen, batch);
    uint64_t realizes = engine->stats().realizes;
    absl::StatusOr<std::vector<Tensor>> out = jit.Call({b.x, b.y});
    EXPECT_TRUE(out.ok()) << out.status();
    if (!out.ok()) return losses;
    if (s >= 2) {
      EXPECT_EQ(engine->stats().realizes, realizes) << "step " << s << " replays";
    }
    absl::StatusOr<float> loss = (*out)[0].Item<float>();
    EXPECT_TRUE(loss.ok()) << loss.status();
    losses.push_back(loss.ok() ? *loss : NAN);
  }
  EXPECT_TRUE(jit.captured());
  if (!losses.empty())
    printf("# %d steps, %zu kernels per step, loss %.4f -> %.4f\n", steps, jit.num_launches(),
           losses.front(), losses.back());
  return losses;
}

float MeanOfLast(const std::vector<float>& v, size_t k) {
  float s = 0;
  for (size_t i = v.size() - k; i < v.size(); ++i) s += v[i];
  return s / k;
}

TEST_F(TrainTest, MlpLearnsASeparableProblemWithAJitCapturedStep) {
  std::vector<float> runs[2];
  for (std::vector<float>& losses : runs) {
    Mlp mlp;
    absl::StatusOr<std::unique_ptr<Adam>> opt = Adam::Create(mlp.ParameterPointers(), {.lr = 0.05});
    ASSERT_TRUE(opt.ok()) << opt.status();
    losses = Train(engine_.get(), engine_, mlp, **opt, PointsBatch, 64, 120);
    ASSERT_EQ(losses.size(), 120u);
    EXPECT_GT(losses[0], 0.5f);
    EXPECT_LT(MeanOfLast(losses, 10), 0.15f) << "first loss " << losses[0];
  }
  EXPECT_EQ(runs[0], runs[1]) << "same seed, same losses";
}

TEST_F(TrainTest, ConvNetWithBatchNormLearnsBarsWithSgdMomentum) {
  ConvNet net;
  absl::StatusOr<std::unique_ptr<Sgd>> opt =
      Sgd::Create(net.ParameterPointers(), {.lr = 0.1, .momentum = 0.9});
  ASSERT_TRUE(opt.ok()) << opt.status();
  std::vector<float> losses = Train(engine_.get(), engine_, net, **opt, BarsBatch, 32, 60);
  ASSERT_EQ(losses.size(), 60u);
  EXPECT_LT(MeanOfLast(losses, 10), 0.1f) << "first loss " << losses[0];
  // The running statistics moved off their initial 0 / 1 during training.
  std::vector<float> mean = *net.bn.running_mean.ToVector<float>();
  float moved = 0;
  for (float m : mean) moved += std::abs(m);
  EXPECT_GT(moved, 1e-3f);
}

}  // namespace
}  // namespace uop::nn
