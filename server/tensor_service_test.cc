#include "server/tensor_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "runtime/engine/engine.h"
#include "server/onnx_backend.h"

namespace uop::server {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Floats(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

class TensorServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EngineOptions o;
    o.cache_dir = "-";
    Engine::Install(o);
  }
  void SetUp() override { RegisterOnnxBackend(backends_); }

  static uop::v1::ExecuteRequest AddRequest(const std::string& model) {
    uop::v1::ExecuteRequest r;
    r.set_onnx_model(model);
    for (const char* name : {"A", "B"}) {
      auto* in = r.add_inputs();
      in->set_name(name);
      in->set_datatype("FP32");
      in->add_shape(4);
      r.add_raw_input_contents(Floats({1, 2, 3, 4}));
    }
    return r;
  }

  BackendRegistry backends_;
  ShmRegistry shm_;
  const std::string add_ = ReadFile("examples/models/add/1/model.onnx");
};

TEST_F(TensorServiceTest, RunsAProgramAndKeepsItWarmByHash) {
  TensorService tensors(&backends_, &shm_, InferLimits());
  uop::v1::ExecuteResponse first;
  ASSERT_TRUE(tensors.Run(AddRequest(add_), absl::InfiniteFuture(), &first).ok());
  EXPECT_FALSE(first.cached());
  EXPECT_EQ(first.program_sha256().size(), 64u);
  ASSERT_EQ(first.outputs_size(), 1);
  EXPECT_EQ(first.outputs(0).name(), "C");
  EXPECT_EQ(first.raw_output_contents(0), Floats({2, 4, 6, 8}));

  uop::v1::ExecuteResponse second;
  ASSERT_TRUE(tensors.Run(AddRequest(add_), absl::InfiniteFuture(), &second).ok());
  EXPECT_TRUE(second.cached());

  uop::v1::ExecuteRequest by_hash = AddRequest("");
  by_hash.set_program_sha256(first.program_sha256());
  uop::v1::ExecuteResponse third;
  ASSERT_TRUE(tensors.Run(by_hash, absl::InfiniteFuture(), &third).ok());
  EXPECT_TRUE(third.cached());
  EXPECT_EQ(third.raw_output_contents(0), Floats({2, 4, 6, 8}));
  EXPECT_EQ(tensors.cached_programs(), 1);
}

TEST_F(TensorServiceTest, ErrorsAreTheSameAsModelInfer) {
  TensorService tensors(&backends_, &shm_, InferLimits());
  uop::v1::ExecuteRequest bad = AddRequest(add_);
  bad.mutable_inputs(0)->set_shape(0, 3);
  uop::v1::ExecuteResponse out;
  absl::Status s = tensors.Run(bad, absl::InfiniteFuture(), &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("input 'A': shape [3] given, model 'program "));
  EXPECT_THAT(s.message(), HasSubstr("expects [4]"));

  uop::v1::ExecuteRequest unknown = AddRequest("");
  unknown.set_program_sha256(std::string(64, 'a'));
  EXPECT_EQ(tensors.Run(unknown, absl::InfiniteFuture(), &out).code(), absl::StatusCode::kNotFound);
  uop::v1::ExecuteRequest mismatch = AddRequest(add_);
  mismatch.set_program_sha256(std::string(64, 'b'));
  EXPECT_THAT(tensors.Run(mismatch, absl::InfiniteFuture(), &out).message(),
              HasSubstr("but the program's bytes hash to"));
  EXPECT_THAT(tensors.Run(AddRequest("not onnx"), absl::InfiniteFuture(), &out).message(),
              HasSubstr("the ONNX model does not import"));
  EXPECT_EQ(tensors.Run(uop::v1::ExecuteRequest(), absl::InfiniteFuture(), &out).code(),
            absl::StatusCode::kInvalidArgument);
  InferLimits small;
  small.max_request_bytes = 8;
  TensorService limited(&backends_, &shm_, small);
  EXPECT_EQ(limited.Run(AddRequest(add_), absl::InfiniteFuture(), &out).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(TensorServiceTest, LeastRecentlyUsedProgramsAreDropped) {
  TensorServiceOptions options;
  options.max_programs = 1;
  TensorService tensors(&backends_, &shm_, InferLimits(), options);
  uop::v1::ExecuteResponse a;
  ASSERT_TRUE(tensors.Run(AddRequest(add_), absl::InfiniteFuture(), &a).ok());
  uop::v1::ExecuteRequest mean;
  mean.set_onnx_model(ReadFile("examples/models/image_mean/1/model.onnx"));
  auto* in = mean.add_inputs();
  in->set_name("image");
  in->set_datatype("FP32");
  for (int d : {1, 3, 224, 224}) in->add_shape(d);
  mean.add_raw_input_contents(std::string(3 * 224 * 224 * 4, '\0'));
  uop::v1::ExecuteResponse m;
  ASSERT_TRUE(tensors.Run(mean, absl::InfiniteFuture(), &m).ok());
  EXPECT_EQ(tensors.cached_programs(), 1);
  uop::v1::ExecuteRequest by_hash = AddRequest("");
  by_hash.set_program_sha256(a.program_sha256());
  uop::v1::ExecuteResponse out;
  EXPECT_EQ(tensors.Run(by_hash, absl::InfiniteFuture(), &out).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace uop::server
