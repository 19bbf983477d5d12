// An ONNX model loaded by the ModelManager onto GPUs (null GPUs: they accept
// every launch and compute nothing): each instance is warmed on its own GPU
// before the model is READY, and the GPU budget is charged the model's
// weight bytes, not its file size.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "drivers/device_registry.h"
#include "drivers/null/null_device.h"
#include "runtime/engine/engine.h"
#include "server/model_manager.h"
#include "server/onnx_backend.h"

namespace uop::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// examples/models/mlp: W1 [64, 128], b1 [128], W2 [128, 16], b2 [16], fp32;
// its file is 41,800 bytes.
constexpr int64_t kMlpWeightBytes = (64 * 128 + 128 + 128 * 16 + 16) * 4;

fs::path Repo(const std::string& name, const std::string& instance_group) {
  const fs::path repo = fs::path(testing::TempDir()) / name;
  fs::remove_all(repo);
  fs::create_directories(repo / "mlp" / "1");
  fs::copy_file("examples/models/mlp/1/model.onnx", repo / "mlp" / "1" / "model.onnx");
  std::ofstream(repo / "mlp" / "config.pbtxt")
      << "backend: \"onnxruntime\"\nmax_batch_size: 4\n"
      << "input [{ name: \"x\" data_type: TYPE_FP32 dims: [ 64 ] }]\n"
      << "output [{ name: \"y\" data_type: TYPE_FP32 dims: [ 16 ] }]\n"
      << instance_group << "\n";
  return repo;
}

NullDevice* Null(int i) {
  return static_cast<NullDevice*>(*DeviceRegistry::Global().Get(absl::StrCat("NULL:", i)));
}

class OnnxGpuModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EngineOptions o;
    o.cache_dir = "-";
    Engine::Install(o);
  }

  std::unique_ptr<ModelManager> Manager(const fs::path& repo, int64_t budget_bytes) {
    RegisterOnnxBackend(backends_);
    ModelManagerOptions o;
    o.repository = repo.string();
    o.mode = ControlMode::kExplicit;
    o.startup_models = {"mlp"};
    o.gpus = DiscoverGpus("NULL", 2);
    o.gpu_memory_budget_bytes = budget_bytes;
    return std::make_unique<ModelManager>(o, &backends_, nullptr);
  }

  BackendRegistry backends_;
};

TEST_F(OnnxGpuModelTest, EachInstanceIsWarmedOnItsGpuAndChargedItsWeights) {
  for (int g = 0; g < 2; ++g) Null(g)->ClearLaunches();
  // Two instances per GPU fit a budget of exactly two models' weights (their
  // file sizes would not).
  auto models = Manager(Repo("onnx_gpu_warm", "instance_group [{ kind: KIND_GPU count: 2 }]"),
                        2 * kMlpWeightBytes);
  absl::Status s = models->LoadStartupModels();
  ASSERT_TRUE(s.ok()) << s;
  auto v = models->Get("mlp", "");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ((*v)->placement.size(), 4u);
  EXPECT_EQ((*v)->placement[0].device, "NULL:0");
  EXPECT_EQ((*v)->placement[3].device, "NULL:1");
  // Warm-up (every batch bucket on every instance) ran kernels on both GPUs
  // before any request.
  EXPECT_FALSE(Null(0)->launches().empty());
  EXPECT_FALSE(Null(1)->launches().empty());
  EXPECT_EQ(models->gpu_memory().used(0), 2 * kMlpWeightBytes);
  EXPECT_EQ(models->gpu_memory().used(1), 2 * kMlpWeightBytes);
  // Unloaded and no longer held by anyone: the bytes go back.
  v = absl::NotFoundError("released");
  ASSERT_TRUE(models->Unload("mlp").ok());
  EXPECT_EQ(models->gpu_memory().used(0), 0);
  EXPECT_EQ(models->gpu_memory().used(1), 0);
}

TEST_F(OnnxGpuModelTest, InstancesBeyondTheBudgetFailTheLoadNamingTheGpu) {
  auto models = Manager(Repo("onnx_gpu_budget", "instance_group [{ kind: KIND_GPU count: 3 }]"),
                        2 * kMlpWeightBytes);
  absl::Status s = models->LoadStartupModels();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("mlp"));
  EXPECT_THAT(s.message(), HasSubstr("GPU 0"));
  EXPECT_EQ(models->gpu_memory().used(0), 0);
}

}  // namespace
}  // namespace uop::server
