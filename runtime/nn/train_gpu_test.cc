// The training step of train_test on the GPU ("CUDA"): the same MLP and
// conv net, parameters, batches and optimizer state on the device, the step
// captured by the JIT (CUDA-graph replay) and replayed; the loss must fall
// below the same thresholds. Skips without a GPU.
#include "drivers/cuda/cuda_device.h"
#include "drivers/device_registry.h"
#include "runtime/nn/train_test_util.h"

namespace uop::nn {
namespace {

using testing::BarsBatch;
using testing::ConvNet;
using testing::MeanOfLast;
using testing::Mlp;
using testing::PointsBatch;
using testing::Train;

class TrainGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status available = cuda::CudaDevice::Availability();
    if (!available.ok() || !DeviceRegistry::Global().Get("CUDA").ok())
      GTEST_SKIP() << "no CUDA GPU: " << available;
    previous_ = Tensor::GetRealizer();
    engine_ = Engine::Install({.cache_dir = "-"});
  }
  void TearDown() override {
    if (previous_) Tensor::SetRealizer(previous_);
  }
  std::shared_ptr<Realizer> previous_;
  std::shared_ptr<Engine> engine_;
};

TEST_F(TrainGpuTest, MlpTrainsOnTheGpu) {
  Mlp mlp("CUDA");
  absl::StatusOr<std::unique_ptr<Adam>> opt = Adam::Create(mlp.ParameterPointers(), {.lr = 0.05});
  ASSERT_TRUE(opt.ok()) << opt.status();
  ASSERT_EQ((*opt)->flat_parameters().device(), "CUDA");
  std::vector<float> losses = Train(engine_, mlp, **opt, PointsBatch, 64, 120, "CUDA");
  ASSERT_EQ(losses.size(), 120u);
  EXPECT_LT(MeanOfLast(losses, 10), 0.15f) << "first loss " << losses[0];
}

TEST_F(TrainGpuTest, ConvNetWithBatchNormTrainsOnTheGpu) {
  ConvNet net("CUDA");
  absl::StatusOr<std::unique_ptr<Sgd>> opt =
      Sgd::Create(net.ParameterPointers(), {.lr = 0.1, .momentum = 0.9});
  ASSERT_TRUE(opt.ok()) << opt.status();
  std::vector<float> losses = Train(engine_, net, **opt, BarsBatch, 32, 60, "CUDA");
  ASSERT_EQ(losses.size(), 60u);
  EXPECT_LT(MeanOfLast(losses, 10), 0.1f) << "first loss " << losses[0];
}

}  // namespace
}  // namespace uop::nn
