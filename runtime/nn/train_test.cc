// End to end: a small MLP and a small conv net (with BatchNorm) train on
// synthetic, separable data through the Engine (CPU), each step captured by
// the JIT once and replayed with new batches; the loss must fall below a
// threshold within a fixed number of steps, identically for the same seed.
#include "drivers/cpu/cpu_device.h"
#include "runtime/nn/train_test_util.h"

namespace uop::nn {
namespace {

using testing::BarsBatch;
using testing::ConvNet;
using testing::MeanOfLast;
using testing::Mlp;
using testing::PointsBatch;
using testing::Train;

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

TEST_F(TrainTest, MlpLearnsASeparableProblemWithAJitCapturedStep) {
  std::vector<float> runs[2];
  for (std::vector<float>& losses : runs) {
    Mlp mlp;
    absl::StatusOr<std::unique_ptr<Adam>> opt = Adam::Create(mlp.ParameterPointers(), {.lr = 0.05});
    ASSERT_TRUE(opt.ok()) << opt.status();
    losses = Train(engine_, mlp, **opt, PointsBatch, 64, 120);
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
  std::vector<float> losses = Train(engine_, net, **opt, BarsBatch, 32, 60);
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
