#include "tests/onnx/conformance_runner.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/onnx/tensor_proto.h"
#include "runtime/onnx/test_model_builder.h"
#include "runtime/tensor/reference_eval.h"
#include "runtime/tensor/tensor.h"

namespace uop::onnx_import {
namespace {

using ::testing::HasSubstr;

HostValue F32(std::vector<float> v, Shape s) {
  return HostValue::Tensor(HostTensor::FromVector(v, std::move(s)));
}

TEST(CompareValues, FloatsWithinOnnxTolerancesAndNanEqualsNan) {
  EXPECT_TRUE(
      CompareValues(F32({1.0f, NAN, INFINITY}, {3}), F32({1.0009f, NAN, INFINITY}, {3}), 1e-3, 1e-7)
          .ok());
  absl::Status st = CompareValues(F32({1.0f, 2.0f}, {2}), F32({1.0f, 2.01f}, {2}), 1e-3, 1e-7);
  EXPECT_THAT(st.message(), HasSubstr("1/2 values differ (first at 1"));
  EXPECT_FALSE(CompareValues(F32({NAN}, {1}), F32({0}, {1}), 1e-3, 1e-7).ok());
  EXPECT_FALSE(CompareValues(F32({-INFINITY}, {1}), F32({INFINITY}, {1}), 1e-3, 1e-7).ok());
}

TEST(CompareValues, DtypeShapeAndIntegersAreExact) {
  EXPECT_THAT(CompareValues(F32({1, 2}, {2}), F32({1, 2}, {1, 2}), 1e-3, 1e-7).message(),
              HasSubstr("shape"));
  HostValue i = HostValue::Tensor(HostTensor::FromVector<int64_t>({1, 2}, {2}));
  EXPECT_THAT(CompareValues(F32({1, 2}, {2}), i, 1e-3, 1e-7).message(), HasSubstr("dtype"));
  HostValue j = HostValue::Tensor(HostTensor::FromVector<int64_t>({1, 3}, {2}));
  EXPECT_FALSE(CompareValues(i, j, 1.0, 1.0).ok());  // tolerances do not apply to integers
  EXPECT_TRUE(CompareValues(HostValue::Sequence({F32({1}, {1})}),
                            HostValue::Sequence({F32({1}, {1})}), 1e-3, 1e-7)
                  .ok());
  EXPECT_THAT(CompareValues(HostValue::None(), F32({1}, {1}), 1e-3, 1e-7).message(),
              HasSubstr("expected"));
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = Tensor::GetRealizer();
    Tensor::SetRealizer(std::make_shared<ReferenceRealizer>());
    root_ =
        std::filesystem::temp_directory_path() / ("uop_conformance_" + std::to_string(::getpid()));
    std::filesystem::create_directories(root_);
  }
  void TearDown() override {
    Tensor::SetRealizer(previous_);
    std::filesystem::remove_all(root_);
  }
  // A case computing y = -x with the given expected output.
  void WriteCase(const std::string& name, const std::vector<float>& want) {
    std::filesystem::path d = root_ / name / "test_data_set_0";
    std::filesystem::create_directories(d);
    TestModelBuilder b(13);
    b.Input("x", onnx::TensorProto::FLOAT, {2});
    b.Node("Neg", {"x"}, {"y"});
    b.Output("y");
    std::ofstream(root_ / name / "model.onnx", std::ios::binary) << b.Bytes();
    std::ofstream(d / "input_0.pb", std::ios::binary)
        << TensorToProto(HostTensor::FromVector<float>({1, 2}, {2}), "x").SerializeAsString();
    std::ofstream(d / "output_0.pb", std::ios::binary)
        << TensorToProto(HostTensor::FromVector(want, {2}), "y").SerializeAsString();
  }
  std::shared_ptr<Realizer> previous_;
  std::filesystem::path root_;
};

TEST_F(RunnerTest, FindsCasesRunsThemAndReadsIndexTolerances) {
  WriteCase("good", {-1, -2});
  WriteCase("bad", {-1, -3});
  WriteCase("loose", {-1, -2.5f});
  std::ofstream(root_ / "index.json") << R"({"loose": {"op": "Neg", "rtol": 0.5, "atol": 0}})";
  absl::StatusOr<std::vector<ConformanceCase>> cases = FindCases({root_.string()});
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_EQ(cases->size(), 3u);
  EXPECT_EQ((*cases)[0].name, "bad");
  EXPECT_EQ((*cases)[1].name, "good");
  EXPECT_EQ((*cases)[1].rtol, 1e-3);
  EXPECT_EQ((*cases)[2].op, "Neg");
  EXPECT_EQ((*cases)[2].rtol, 0.5);
  CaseResult bad = RunCase((*cases)[0]);
  EXPECT_FALSE(bad.pass);
  EXPECT_THAT(bad.reason, HasSubstr("mismatch: output 0 'y'"));
  EXPECT_TRUE(RunCase((*cases)[1]).pass);
  EXPECT_TRUE(RunCase((*cases)[2]).pass);
}

TEST_F(RunnerTest, BrokenCasesAreFailuresWithReasons) {
  std::filesystem::create_directories(root_ / "junk");
  std::ofstream(root_ / "junk" / "model.onnx") << "not a model";
  absl::StatusOr<std::vector<ConformanceCase>> cases = FindCases({root_.string()});
  ASSERT_TRUE(cases.ok());
  ASSERT_EQ(cases->size(), 1u);
  CaseResult r = RunCase((*cases)[0]);
  EXPECT_FALSE(r.pass);
  EXPECT_THAT(r.reason, HasSubstr("not a valid ONNX model"));
  EXPECT_FALSE(FindCases({(root_ / "missing").string()}).ok());
}

}  // namespace
}  // namespace uop::onnx_import
