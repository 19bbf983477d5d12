#include "runtime/onnx/evaluator.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/onnx/test_model_builder.h"
#include "runtime/tensor/reference_eval.h"
#include "runtime/tensor/tensor.h"

namespace uop::onnx_import {
namespace {

constexpr int kF = onnx::TensorProto::FLOAT;

class EvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = Tensor::GetRealizer();
    Tensor::SetRealizer(std::make_shared<ReferenceRealizer>());
  }
  void TearDown() override { Tensor::SetRealizer(previous_); }
  std::shared_ptr<Realizer> previous_;
};

TEST_F(EvaluatorTest, ConstantSubgraphsFoldToHostKnownBuffers) {
  // shape(x)[1] * 2, computed from the input's shape alone: a constant.
  TestModelBuilder b(13);
  b.Input("x", kF, {3, 5});
  b.Node("Shape", {"x"}, {"s"});
  b.Initializer("one", HostTensor::FromVector<int64_t>({1}, {1}));
  b.Initializer("two", HostTensor::FromVector<int64_t>({2}, {1}));
  b.Node("Gather", {"s", "one"}, {"d"});
  b.Node("Mul", {"d", "two"}, {"y"});
  b.Node("Relu", {"x"}, {"r"});
  b.Output("y");
  b.Output("r");
  absl::StatusOr<std::shared_ptr<const ModelDef>> m = LoadModelBytes(b.Bytes());
  ASSERT_TRUE(m.ok()) << m.status();
  Evaluator ev(**m);
  std::vector<Value> in = {
      Value::FromTensor(Tensor::FromVector<float>(std::vector<float>(15, -1.0f), Shape{3, 5}))};
  absl::StatusOr<std::vector<Value>> out = ev.RunMain(std::move(in));
  ASSERT_TRUE(out.ok()) << out.status();
  const Value& y = (*out)[0];
  EXPECT_TRUE(y.is_const());
  ASSERT_NE(y.host(), nullptr);
  EXPECT_EQ(y.host()->AsInt(0), 10);
  EXPECT_FALSE((*out)[1].is_const());
  EXPECT_EQ((*out)[1].host(), nullptr);
  EXPECT_TRUE(ev.host_read_inputs().empty());
}

TEST_F(EvaluatorTest, ReadsOfInputDataAreRecorded) {
  TestModelBuilder b(13);
  b.Input("x", kF, {4});
  b.Input("k", onnx::TensorProto::INT64, {1});
  b.Node("TopK", {"x", "k"}, {"v", "i"});
  b.Output("v");
  absl::StatusOr<std::shared_ptr<const ModelDef>> m = LoadModelBytes(b.Bytes());
  ASSERT_TRUE(m.ok()) << m.status();
  Evaluator ev(**m);
  std::vector<Value> in = {Value::FromTensor(Tensor::FromVector<float>({3, 1, 4, 1})),
                           Value::FromTensor(Tensor::FromVector<int64_t>({2}))};
  absl::StatusOr<std::vector<Value>> out = ev.RunMain(std::move(in));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(ev.host_read_inputs(), ::testing::ElementsAre(1));  // k, not x
  EXPECT_EQ((*out)[0].tensor().shape(), (Shape{2}));
}

TEST_F(EvaluatorTest, ConstantCacheSharesStoredConstantsAcrossRuns) {
  auto w = std::make_shared<const HostTensor>(HostTensor::FromVector<float>({1, 2, 3}, {3}));
  ConstantCache cache;
  Value a = cache.Get(w), b = cache.Get(w);
  EXPECT_EQ(a.tensor().uop(), b.tensor().uop());  // one buffer, not two copies
  EXPECT_NE(Value::Constant(w).tensor().uop(), a.tensor().uop());
  EXPECT_TRUE(a.is_const());
}

}  // namespace
}  // namespace uop::onnx_import
