#include "client/uoprun/compile.h"

#include <cstring>
#include <fstream>

#include "client/uoprun/runner.h"
#include "drivers/device_registry.h"
#include "gtest/gtest.h"
#include "runtime/onnx/onnx_model.h"
#include "runtime/onnx/test_model_builder.h"

namespace uop::uoprun {
namespace {

using onnx_import::TestModelBuilder;

std::string WriteModel(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::vector<float> Floats(absl::Span<const uint8_t> b) {
  std::vector<float> f(b.size() / 4);
  std::memcpy(f.data(), b.data(), b.size());
  return f;
}

TEST(CompileOnnx, TheExampleAddModelRunsFromItsArtifact) {
  absl::StatusOr<Artifact> a = CompileOnnx("examples/models/add/1/model.onnx", {});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->inputs.size(), 2u);
  EXPECT_EQ(a->inputs[0].name, "A");
  EXPECT_EQ(a->inputs[1].shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(a->outputs[0].name, "C");
  const std::string path = ::testing::TempDir() + "/add.uop";
  ASSERT_TRUE(WriteArtifactFile(path, *a).ok());
  absl::StatusOr<std::unique_ptr<Runner>> r = Runner::Open(path, "CPU");
  ASSERT_TRUE(r.ok()) << r.status();
  const float x[4] = {1, 2, 3, 4}, y[4] = {0.5f, -2, 10, 0};
  std::memcpy((*r)->input(0).data(), x, 16);
  std::memcpy((*r)->input(1).data(), y, 16);
  ASSERT_TRUE((*r)->Step().ok());
  EXPECT_EQ(Floats((*r)->output(0)), (std::vector<float>{1.5f, 0, 13, 4}));
}

// y = MatMul(x, W) + b with weights, a symbolic batch and an int64 control
// input "k" that picks TopK's size (its value shapes the graph).
std::string ModelWithWeightsAndControl() {
  TestModelBuilder b(17);
  b.Input("x", onnx::TensorProto::FLOAT, {-1, 3}, {"batch"});
  b.Input("k", onnx::TensorProto::INT64, {1});
  b.Initializer("W", onnx_import::HostTensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {3, 2}));
  b.Initializer("bias", onnx_import::HostTensor::FromVector<float>({0.5f, -0.5f}, {2}));
  b.Node("MatMul", {"x", "W"}, {"xw"});
  b.Node("Add", {"xw", "bias"}, {"y"});
  b.Node("TopK", {"y", "k"}, {"top", "idx"});
  b.Output("y");
  b.Output("top");
  return b.Bytes();
}

TEST(CompileOnnx, ShapesAndBoundInputsMakeDynamicModelsCompilable) {
  const std::string path = WriteModel("dyn.onnx", ModelWithWeightsAndControl());
  absl::Status st = CompileOnnx(path, {}).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("input 'x' has dynamic dimensions [batch, 3]: give --shape x="),
            std::string::npos)
      << st;

  CompileOptions o;
  o.shapes["x"] = {2, 3};
  o.bound["k"] = BoundInput{.scalar = 1};
  absl::StatusOr<Artifact> a = CompileOnnx(path, o);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->inputs.size(), 1u);  // k is baked in
  EXPECT_EQ(a->inputs[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->outputs[1].shape, (std::vector<int64_t>{2, 1}));
  Device* cpu = *DeviceRegistry::Global().Get("CPU");
  auto r = *Runner::Create(*a, *cpu);
  const float x[6] = {1, 0, 0, 0, 1, 1};
  std::memcpy(r->input(0).data(), x, sizeof(x));
  ASSERT_TRUE(r->Step().ok());
  // y = [[1.5, 1.5], [8.5, 9.5]]; top-1 per row.
  EXPECT_EQ(Floats(r->output(0)), (std::vector<float>{1.5f, 1.5f, 8.5f, 9.5f}));
  EXPECT_EQ(Floats(r->output(1)), (std::vector<float>{1.5f, 9.5f}));
}

TEST(CompileOnnx, BadOptionsAndModelsAreClearErrors) {
  const std::string path = WriteModel("dyn2.onnx", ModelWithWeightsAndControl());
  CompileOptions o;
  o.shapes["x"] = {2, 4};  // declared [batch, 3]
  o.bound["k"] = BoundInput{.scalar = 1};
  absl::Status st = CompileOnnx(path, o).status();
  EXPECT_NE(st.message().find("declared [batch, 3], --shape gives [2, 4]"), std::string::npos)
      << st;
  o.shapes = {{"nope", {1}}};
  EXPECT_NE(CompileOnnx(path, o).status().message().find("--shape: no input 'nope'"),
            std::string::npos);
  o.shapes = {{"x", {2, 3}}};
  o.bound = {};
  // k left as an input: TopK reads its value while building the graph.
  st = CompileOnnx(path, o).status();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(path), std::string::npos) << st;

  EXPECT_EQ(CompileOnnx(::testing::TempDir() + "/missing.onnx", {}).status().code(),
            absl::StatusCode::kNotFound);
  const std::string garbage = WriteModel("garbage.onnx", "this is not a protobuf");
  EXPECT_FALSE(CompileOnnx(garbage, {}).ok());
  o.device = "NOSUCHDEVICE";
  EXPECT_EQ(CompileOnnx(path, o).status().code(), absl::StatusCode::kNotFound);
}

TEST(CompileOnnx, ExampleInputsMustMatch) {
  CompileOptions o;
  o.example_inputs["A"] = {client::Datatype::kFp32, {3}, std::string(12, 0)};
  absl::Status st = CompileOnnx("examples/models/add/1/model.onnx", o).status();
  EXPECT_NE(st.message().find("example input 'A' is FP32[3], the input is FP32[4]"),
            std::string::npos)
      << st;
}

TEST(CompileOnnx, OtherDevicesAreRefusedUpFront) {
  CompileOptions o;
  o.device = "NULL";
  absl::Status st = CompileOnnx("examples/models/add/1/model.onnx", o).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnimplemented) << st;
  EXPECT_NE(st.message().find("builds its graphs on the CPU"), std::string::npos) << st;
}

TEST(TensorDeviceName, CanonicalizesNames) {
  EXPECT_EQ(*TensorDeviceName("cpu"), "CPU");
  EXPECT_EQ(*TensorDeviceName("CPU:0"), "CPU");
  EXPECT_FALSE(TensorDeviceName("CPU:7").ok());
}

}  // namespace
}  // namespace uop::uoprun
