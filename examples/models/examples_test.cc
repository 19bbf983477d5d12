// Checks each example model: config.pbtxt parses as inference::ModelConfig
// (so the field names match Triton's), and its inputs and outputs agree with
// the ONNX graph in <model>/1/<default_model_filename>.
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "proto/model_config.pb.h"

namespace {

namespace fs = std::filesystem;

// Under `bazel test` the working directory is the workspace's runfiles root.
const fs::path kRepository = "examples/models";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> ModelNames() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kRepository)) {
    if (fs::exists(entry.path() / "config.pbtxt")) names.push_back(entry.path().filename());
  }
  return names;
}

int OnnxElemType(inference::DataType type) {
  static const std::map<inference::DataType, int> kMap = {
      {inference::TYPE_BOOL, onnx::TensorProto::BOOL},
      {inference::TYPE_UINT8, onnx::TensorProto::UINT8},
      {inference::TYPE_INT8, onnx::TensorProto::INT8},
      {inference::TYPE_INT32, onnx::TensorProto::INT32},
      {inference::TYPE_INT64, onnx::TensorProto::INT64},
      {inference::TYPE_FP16, onnx::TensorProto::FLOAT16},
      {inference::TYPE_FP32, onnx::TensorProto::FLOAT},
      {inference::TYPE_FP64, onnx::TensorProto::DOUBLE},
      {inference::TYPE_BF16, onnx::TensorProto::BFLOAT16},
  };
  auto it = kMap.find(type);
  return it == kMap.end() ? -1 : it->second;
}

// Compares one config tensor with the ONNX graph's value of the same name.
// A batching config (max_batch_size > 0) leaves out the graph's variable
// dim 0; a config may fix a dim the graph leaves symbolic.
template <typename ConfigTensor>
void ExpectSameTensor(const ConfigTensor& config, const onnx::ValueInfoProto& onnx_value,
                      int max_batch_size) {
  SCOPED_TRACE(config.name());
  EXPECT_EQ(config.name(), onnx_value.name());
  const auto& tensor_type = onnx_value.type().tensor_type();
  EXPECT_EQ(OnnxElemType(config.data_type()), tensor_type.elem_type());
  const int skip = max_batch_size > 0 ? 1 : 0;
  if (skip) EXPECT_FALSE(tensor_type.shape().dim(0).has_dim_value()) << "dim 0 must be variable";
  ASSERT_EQ(config.dims_size() + skip, tensor_type.shape().dim_size());
  for (int i = 0; i < config.dims_size(); ++i) {
    const auto& dim = tensor_type.shape().dim(i + skip);
    if (dim.has_dim_value()) EXPECT_EQ(config.dims(i), dim.dim_value()) << "dim " << i;
  }
}

TEST(ExampleModels, RepositoryHasTheAddModel) {
  std::vector<std::string> names = ModelNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "add"), names.end());
}

TEST(ExampleModels, ConfigsParseAndMatchTheirOnnxGraphs) {
  for (const std::string& name : ModelNames()) {
    SCOPED_TRACE(name);
    inference::ModelConfig config;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        ReadFile(kRepository / name / "config.pbtxt"), &config));
    EXPECT_EQ(config.name(), name);
    EXPECT_FALSE(config.backend().empty() && config.platform().empty());

    std::string file =
        config.default_model_filename().empty() ? "model.onnx" : config.default_model_filename();
    onnx::ModelProto model;
    ASSERT_TRUE(model.ParseFromString(ReadFile(kRepository / name / "1" / file)));
    EXPECT_NO_THROW(onnx::checker::check_model(model));

    const onnx::GraphProto& graph = model.graph();
    // Inputs are all configured (initializers are not graph inputs here);
    // outputs may be left to uopd to fill in from the graph.
    const int mbs = config.max_batch_size();
    ASSERT_EQ(config.input_size(), graph.input_size());
    for (int i = 0; i < config.input_size(); ++i) {
      ExpectSameTensor(config.input(i), graph.input(i), mbs);
    }
    ASSERT_LE(config.output_size(), graph.output_size());
    for (int i = 0; i < config.output_size(); ++i) {
      ExpectSameTensor(config.output(i), graph.output(i), mbs);
    }
  }
}

TEST(ExampleModels, AddIsOneAddNode) {
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(ReadFile(kRepository / "add" / "1" / "model.onnx")));
  ASSERT_EQ(model.graph().node_size(), 1);
  EXPECT_EQ(model.graph().node(0).op_type(), "Add");
  EXPECT_EQ(model.graph().node(0).input(0), "A");
  EXPECT_EQ(model.graph().node(0).input(1), "B");
  EXPECT_EQ(model.graph().node(0).output(0), "C");
}

}  // namespace
