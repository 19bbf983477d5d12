#include "server/onnx_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "drivers/device_registry.h"
#include "drivers/null/null_device.h"
#include "runtime/engine/engine.h"

namespace uop::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Floats(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

class OnnxBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EngineOptions o;
    o.cache_dir = "-";  // hermetic: no disk cache
    Engine::Install(o);
  }
};

TEST_F(OnnxBackendTest, LoadsTheExampleAddModelDescribesAndRunsIt) {
  ModelFiles files;
  files.version_dir = "examples/models/add/1";
  files.file_name = "model.onnx";
  auto backend = LoadOnnxBackend(files, {});
  ASSERT_TRUE(backend.ok()) << backend.status();
  ASSERT_EQ((*backend)->inputs().size(), 2u);
  EXPECT_EQ((*backend)->inputs()[0].name, "A");
  EXPECT_EQ((*backend)->inputs()[0].dtype, inference::TYPE_FP32);
  EXPECT_THAT((*backend)->inputs()[0].dims, ElementsAre(4));
  EXPECT_EQ((*backend)->outputs()[0].name, "C");
  const std::string a = Floats({1, 2, 3, 4}), b = Floats({10, 20, 30, 40});
  std::vector<InputTensor> in = {{"A", inference::TYPE_FP32, {4}, a},
                                 {"B", inference::TYPE_FP32, {4}, b}};
  std::vector<OutputTensor> out;
  for (int run = 0; run < 3; ++run) {  // build, capture, replay
    ASSERT_TRUE((*backend)->Run(in, &out).ok());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].name, "C");
    EXPECT_THAT(out[0].shape, ElementsAre(4));
    EXPECT_EQ(out[0].data, Floats({11, 22, 33, 44})) << "run " << run;
  }
}

TEST_F(OnnxBackendTest, RunIntoWritesOutputsIntoTheCallersSharedMemory) {
  ModelFiles files;
  files.version_dir = "examples/models/add/1";
  files.file_name = "model.onnx";
  auto backend = LoadOnnxBackend(files, {});
  ASSERT_TRUE(backend.ok()) << backend.status();
  const std::string a = Floats({1, 2, 3, 4}), b = Floats({10, 20, 30, 40});
  std::vector<InputTensor> in = {{"A", inference::TYPE_FP32, {4}, a},
                                 {"B", inference::TYPE_FP32, {4}, b}};
  std::vector<char> shm(24, 'x');
  std::vector<OutputDestination> to_shm = {{"C", absl::MakeSpan(shm)}};
  std::vector<OutputTensor> out;
  for (int run = 0; run < 3; ++run) {  // build, capture, replay
    std::fill(shm.begin(), shm.end(), 'x');
    ASSERT_TRUE((*backend)->RunInto(in, to_shm, &out).ok());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].name, "C");
    EXPECT_EQ(out[0].dtype, inference::TYPE_FP32);
    EXPECT_THAT(out[0].shape, ElementsAre(4));
    EXPECT_EQ(out[0].in_destination, 16) << "run " << run;
    EXPECT_EQ(out[0].data, "") << "run " << run;
    EXPECT_EQ(std::string(shm.data(), 16), Floats({11, 22, 33, 44})) << "run " << run;
    EXPECT_EQ(std::string(shm.data() + 16, 8), "xxxxxxxx");  // nothing past the output
  }
  // Without a destination the same warm model answers in `data`.
  ASSERT_TRUE((*backend)->RunInto(in, {}, &out).ok());
  EXPECT_EQ(out[0].in_destination, -1);
  EXPECT_EQ(out[0].data, Floats({11, 22, 33, 44}));
}

TEST_F(OnnxBackendTest, AnOutputThatDoesNotFitItsSharedMemoryIsInvalidArgument) {
  ModelFiles files;
  files.version_dir = "examples/models/add/1";
  files.file_name = "model.onnx";
  auto backend = LoadOnnxBackend(files, {});
  ASSERT_TRUE(backend.ok()) << backend.status();
  const std::string a = Floats({1, 2, 3, 4});
  std::vector<InputTensor> in = {{"A", inference::TYPE_FP32, {4}, a},
                                 {"B", inference::TYPE_FP32, {4}, a}};
  std::vector<char> shm(12, 'x');
  std::vector<OutputDestination> to_shm = {{"C", absl::MakeSpan(shm)}};
  std::vector<OutputTensor> out;
  for (int run = 0; run < 3; ++run) {  // building and warm runs alike
    absl::Status st = (*backend)->RunInto(in, to_shm, &out);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(st.message(),
                HasSubstr("output 'C': 16 bytes do not fit its shared memory (12 bytes)"));
    EXPECT_EQ(shm, std::vector<char>(12, 'x'));
  }
  // A wrong-sized input is refused by the model with the input named.
  std::vector<InputTensor> short_in = {{"A", inference::TYPE_FP32, {4}, a.substr(0, 12)},
                                       {"B", inference::TYPE_FP32, {4}, a}};
  absl::Status st = (*backend)->RunInto(short_in, {}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("input 'A': 12 bytes of data for float32[4] (16 expected)"));
}

TEST_F(OnnxBackendTest, ModelBytesLoadWithoutAFile) {
  std::ifstream f("examples/models/add/1/model.onnx", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  ModelFiles files;
  files.bytes = ss.str();
  EXPECT_TRUE(LoadOnnxBackend(files, {}).ok());
}

TEST_F(OnnxBackendTest, ABrokenModelDoesNotImportWithAClearError) {
  ModelFiles files;
  files.bytes = "definitely not a protobuf";
  auto backend = LoadOnnxBackend(files, {});
  ASSERT_FALSE(backend.ok());
  EXPECT_THAT(backend.status().message(), HasSubstr("the ONNX model does not import"));
  ModelFiles missing;
  missing.version_dir = "/nonexistent";
  missing.file_name = "model.onnx";
  EXPECT_FALSE(LoadOnnxBackend(missing, {}).ok());
}

TEST_F(OnnxBackendTest, BadInputShapesAreInvalidArgumentFromTheModel) {
  ModelFiles files;
  files.version_dir = "examples/models/add/1";
  files.file_name = "model.onnx";
  auto backend = LoadOnnxBackend(files, {});
  ASSERT_TRUE(backend.ok());
  const std::string a = Floats({1, 2, 3});
  std::vector<InputTensor> in = {{"A", inference::TYPE_FP32, {3}, a},
                                 {"B", inference::TYPE_FP32, {3}, a}};
  std::vector<OutputTensor> out;
  absl::Status s = (*backend)->Run(in, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

NullDevice* Null(const std::string& name) {
  absl::StatusOr<Device*> d = DeviceRegistry::Global().Get(name);
  return d.ok() ? static_cast<NullDevice*>(*d) : nullptr;
}

// examples/models/mlp: W1 [64, 128], b1 [128], W2 [128, 16], b2 [16], fp32.
constexpr int64_t kMlpWeightBytes = (64 * 128 + 128 + 128 * 16 + 16) * 4;

TEST_F(OnnxBackendTest, AGpuInstanceRunsOnItsDeviceAndChargesItsWeights) {
  NullDevice* gpu0 = Null("NULL:0");
  NullDevice* gpu1 = Null("NULL:1");
  ASSERT_NE(gpu0, nullptr);
  ASSERT_NE(gpu1, nullptr);
  gpu0->ClearLaunches();
  gpu1->ClearLaunches();
  ModelFiles files;
  files.version_dir = "examples/models/mlp/1";
  files.file_name = "model.onnx";
  files.device = "NULL:1";
  auto backend = LoadOnnxBackend(files, {});
  ASSERT_TRUE(backend.ok()) << backend.status();
  // The weights, not the file (which also holds names and the graph).
  EXPECT_EQ((*backend)->DeviceBytes(), kMlpWeightBytes);
  const std::string x(2 * 64 * 4, '\0');
  std::vector<InputTensor> in = {{"x", inference::TYPE_FP32, {2, 64}, x}};
  std::vector<OutputTensor> out;
  for (int run = 0; run < 2; ++run) {  // build + capture, replay
    ASSERT_TRUE((*backend)->Run(in, &out).ok());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_THAT(out[0].shape, ElementsAre(2, 16));
    EXPECT_EQ(out[0].data.size(), 2u * 16 * 4);
  }
  EXPECT_FALSE(gpu1->launches().empty()) << "the kernels ran somewhere else";
  EXPECT_TRUE(gpu0->launches().empty()) << "NULL:0 ran kernels of an instance on NULL:1";
}

TEST_F(OnnxBackendTest, ACpuInstanceChargesNoGpuMemory) {
  ModelFiles files;
  files.version_dir = "examples/models/mlp/1";
  files.file_name = "model.onnx";
  auto backend = LoadOnnxBackend(files, {});
  ASSERT_TRUE(backend.ok()) << backend.status();
  EXPECT_EQ((*backend)->DeviceBytes(), 0);
}

TEST_F(OnnxBackendTest, AnInstanceOnAMissingGpuFailsNamingIt) {
  ModelFiles files;
  files.version_dir = "examples/models/mlp/1";
  files.file_name = "model.onnx";
  files.device = "NULL:99";
  auto backend = LoadOnnxBackend(files, {});
  ASSERT_FALSE(backend.ok());
  EXPECT_THAT(backend.status().message(), HasSubstr("'NULL:99'"));
}

TEST(OnnxBackend, RegistersTritonNames) {
  BackendRegistry registry;
  RegisterOnnxBackend(registry);
  inference::ModelConfig c;
  for (const char* name : {"onnxruntime", "uop"}) {
    c.set_backend(name);
    EXPECT_TRUE(registry.Find(c).ok()) << name;
  }
  c.clear_backend();
  c.set_platform("onnxruntime_onnx");
  EXPECT_TRUE(registry.Find(c).ok());
  c.set_platform("tensorflow_savedmodel");
  EXPECT_THAT(registry.Find(c).status().message(),
              HasSubstr("unknown backend/platform 'tensorflow_savedmodel'"));
}

}  // namespace
}  // namespace uop::server
