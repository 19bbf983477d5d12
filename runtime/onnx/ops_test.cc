// Operator handlers: the logic of their own (fast paths that must agree with
// the general ones, host-computed taps, tie rules, error messages). The ONNX
// node suite (//tests/onnx:node_conformance_test) checks every operator
// against onnx's expected outputs; these run on the float64 reference
// interpreter, so a failure here is the importer's, not the compiler's.
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/onnx/onnx_model.h"
#include "runtime/onnx/test_model_builder.h"
#include "runtime/tensor/reference_eval.h"
#include "runtime/tensor/tensor.h"

namespace uop::onnx_import {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
constexpr int kF = onnx::TensorProto::FLOAT;
constexpr int kI64 = onnx::TensorProto::INT64;

class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = Tensor::GetRealizer();
    Tensor::SetRealizer(std::make_shared<ReferenceRealizer>());
  }
  void TearDown() override { Tensor::SetRealizer(previous_); }

  static absl::StatusOr<std::vector<HostValue>> Run(
      const TestModelBuilder& b, const std::vector<std::pair<std::string, HostValue>>& in) {
    absl::StatusOr<std::unique_ptr<OnnxModel>> m = OnnxModel::FromBytes(b.Bytes());
    if (!m.ok()) return m.status();
    return (*m)->Run(in);
  }
  static HostValue F32(std::vector<float> v, Shape s) {
    return HostValue::Tensor(HostTensor::FromVector(v, std::move(s)));
  }
  static HostValue I64(std::vector<int64_t> v, Shape s) {
    return HostValue::Tensor(HostTensor::FromVector(v, std::move(s)));
  }
  static std::vector<double> Values(const HostValue& v) {
    std::vector<double> out;
    for (int64_t i = 0; i < v.tensor().numel(); ++i) out.push_back(v.tensor().AsDouble(i));
    return out;
  }
  std::shared_ptr<Realizer> previous_;
};

TEST_F(OpsTest, ResizeNearestRepeatAndLinearAlignCorners) {
  TestModelBuilder b(13);
  b.Input("x", kF, {1, 1, 2, 2});
  b.Initializer("roi", HostTensor::FromVector<float>({}, {0}));
  b.Initializer("scales", HostTensor::FromVector<float>({1, 1, 2, 2}, {4}));
  onnx::NodeProto& n = b.Node("Resize", {"x", "roi", "scales"}, {"near"});
  TestModelBuilder::AttrString(n, "coordinate_transformation_mode", "asymmetric");
  TestModelBuilder::AttrString(n, "nearest_mode", "floor");
  b.Initializer("sizes", HostTensor::FromVector<int64_t>({1, 1, 3, 3}, {4}));
  onnx::NodeProto& l = b.Node("Resize", {"x", "roi", "", "sizes"}, {"lin"});
  TestModelBuilder::AttrString(l, "mode", "linear");
  TestModelBuilder::AttrString(l, "coordinate_transformation_mode", "align_corners");
  b.Output("near");
  b.Output("lin");
  absl::StatusOr<std::vector<HostValue>> out = Run(b, {{"x", F32({1, 2, 3, 4}, {1, 1, 2, 2})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4));
  EXPECT_THAT(Values((*out)[1]), ElementsAre(1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4));
}

TEST_F(OpsTest, GatherWithConstantIndicesMatchesRuntimeIndices) {
  TestModelBuilder b(13);
  b.Input("x", kF, {3, 2});
  b.Input("i", kI64, {2, 2});
  b.Initializer("ci", HostTensor::FromVector<int64_t>({2, -3, 1, 2}, {2, 2}));
  b.Node("Gather", {"x", "ci"}, {"a"});
  b.Node("Gather", {"x", "i"}, {"b"});
  b.Output("a");
  b.Output("b");
  absl::StatusOr<std::vector<HostValue>> out =
      Run(b, {{"x", F32({1, 2, 3, 4, 5, 6}, {3, 2})}, {"i", I64({2, -3, 1, 2}, {2, 2})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].tensor().shape, (Shape{2, 2, 2}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(5, 6, 1, 2, 3, 4, 5, 6));
  EXPECT_EQ(Values((*out)[0]), Values((*out)[1]));
}

TEST_F(OpsTest, GatherOutOfRangeConstantIndexIsAnErrorNamingTheNode) {
  TestModelBuilder b(13);
  b.Input("x", kF, {3});
  b.Initializer("ci", HostTensor::FromVector<int64_t>({3}, {1}));
  b.Node("Gather", {"x", "ci"}, {"y"}, "pick");
  b.Output("y");
  EXPECT_THAT(Run(b, {{"x", F32({1, 2, 3}, {3})}}).status().message(),
              AllOf(HasSubstr("Gather 'pick'"), HasSubstr("index 3 is out of range")));
}

TEST_F(OpsTest, TopKPrefersTheLowerIndexOnTiesOnBothPaths) {
  for (int64_t n : {6, 2000}) {  // the graph path and the host path
    TestModelBuilder b(13);
    b.Input("x", kF, {n});
    b.Initializer("k", HostTensor::FromVector<int64_t>({3}, {1}));
    b.Node("TopK", {"x", "k"}, {"v", "i"});
    b.Output("v");
    b.Output("i");
    std::vector<float> x(n, 0.0f);
    x[1] = 5;
    x[3] = 5;
    x[4] = 7;
    absl::StatusOr<std::vector<HostValue>> out = Run(b, {{"x", F32(x, {n})}});
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_THAT(Values((*out)[0]), ElementsAre(7, 5, 5)) << n;
    EXPECT_THAT(Values((*out)[1]), ElementsAre(4, 1, 3)) << n;
  }
}

TEST_F(OpsTest, MaxPoolIndicesInBothStorageOrders) {
  for (int order : {0, 1}) {
    TestModelBuilder b(13);
    b.Input("x", kF, {1, 1, 2, 3});
    onnx::NodeProto& n = b.Node("MaxPool", {"x"}, {"y", "i"});
    TestModelBuilder::AttrInts(n, "kernel_shape", {2, 2});
    TestModelBuilder::AttrInt(n, "storage_order", order);
    b.Output("y");
    b.Output("i");
    absl::StatusOr<std::vector<HostValue>> out =
        Run(b, {{"x", F32({1, 9, 2, 3, 4, 8}, {1, 1, 2, 3})}});
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_THAT(Values((*out)[0]), ElementsAre(9, 9));
    // 9 is at (h=0, w=1): row-major 1, column-major 0 + 1 * 2 = 2.
    EXPECT_THAT(Values((*out)[1]), ElementsAre(order ? 2 : 1, order ? 2 : 1));
  }
}

TEST_F(OpsTest, NonOverlappingConvTransposeMatchesTheGeneralPath) {
  // stride == kernel takes the matmul + pixel-shuffle path; stride 1 with a
  // 1x1 kernel and the same weights is the general path's baseline.
  TestModelBuilder b(13);
  b.Input("x", kF, {1, 2, 2, 2});
  std::vector<float> w(2 * 3 * 2 * 2);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.25f * static_cast<float>(i) - 1;
  b.Initializer("w", HostTensor::FromVector(w, {2, 3, 2, 2}));
  b.Initializer("bias", HostTensor::FromVector<float>({1, 2, 3}, {3}));
  onnx::NodeProto& fast = b.Node("ConvTranspose", {"x", "w", "bias"}, {"fast"});
  TestModelBuilder::AttrInts(fast, "strides", {2, 2});
  TestModelBuilder::AttrInts(fast, "pads", {1, 0, 0, 1});
  b.Output("fast");
  std::vector<float> x = {1, -2, 3, 0.5f, -1, 2, 0, 4};
  absl::StatusOr<std::vector<HostValue>> out = Run(b, {{"x", F32(x, {1, 2, 2, 2})}});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ((*out)[0].tensor().shape, (Shape{1, 3, 3, 3}));
  // Direct definition: y[co, i*2+a-1, j*2+b] += x[ci, i, j] * w[ci, co, a, b] + bias.
  std::vector<double> want(27, 0.0);
  for (int co = 0; co < 3; ++co)
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) want[(co * 3 + r) * 3 + c] = co + 1;
  for (int ci = 0; ci < 2; ++ci)
    for (int co = 0; co < 3; ++co)
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
          for (int a = 0; a < 2; ++a)
            for (int bb = 0; bb < 2; ++bb) {
              const int r = i * 2 + a - 1, c = j * 2 + bb;
              if (r < 0 || r >= 3 || c >= 3) continue;
              want[(co * 3 + r) * 3 + c] +=
                  x[(ci * 2 + i) * 2 + j] * w[((ci * 3 + co) * 2 + a) * 2 + bb];
            }
  std::vector<double> got = Values((*out)[0]);
  for (size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-5) << k;
}

TEST_F(OpsTest, ConvSameUpperAndLowerPadTheOtherSide) {
  TestModelBuilder b(13);
  b.Input("x", kF, {1, 1, 1, 4});
  b.Initializer("w", HostTensor::FromVector<float>({1, 10}, {1, 1, 1, 2}));
  TestModelBuilder::AttrString(b.Node("Conv", {"x", "w"}, {"u"}), "auto_pad", "SAME_UPPER");
  TestModelBuilder::AttrString(b.Node("Conv", {"x", "w"}, {"l"}), "auto_pad", "SAME_LOWER");
  b.Output("u");
  b.Output("l");
  absl::StatusOr<std::vector<HostValue>> out = Run(b, {{"x", F32({1, 2, 3, 4}, {1, 1, 1, 4})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(21, 32, 43, 4));   // zero after the end
  EXPECT_THAT(Values((*out)[1]), ElementsAre(10, 21, 32, 43));  // zero before the start
}

TEST_F(OpsTest, EinsumWithEllipsisDiagonalAndImplicitOutput) {
  TestModelBuilder b(13);
  b.Input("a", kF, {2, 2, 2});
  b.Input("m", kF, {2, 2});
  TestModelBuilder::AttrString(b.Node("Einsum", {"a", "m"}, {"y"}), "equation", "...ij,jk->...ik");
  TestModelBuilder::AttrString(b.Node("Einsum", {"m"}, {"t"}), "equation", "ii");
  TestModelBuilder::AttrString(b.Node("Einsum", {"m", "m"}, {"z"}), "equation", "ij,jk");
  b.Output("y");
  b.Output("t");
  b.Output("z");
  absl::StatusOr<std::vector<HostValue>> out =
      Run(b, {{"a", F32({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2})}, {"m", F32({1, 2, 3, 4}, {2, 2})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(7, 10, 15, 22, 23, 34, 31, 46));
  EXPECT_THAT(Values((*out)[1]), ElementsAre(5));  // trace
  EXPECT_THAT(Values((*out)[2]), ElementsAre(7, 10, 15, 22));
}

TEST_F(OpsTest, AtanIsAccurateOverTheWholeLine) {
  TestModelBuilder b(13);
  b.Input("x", kF, {9});
  b.Node("Atan", {"x"}, {"y"});
  b.Output("y");
  std::vector<float> x = {-1e6f, -10, -1.5f, -1, -0.3f, 0, 0.41f, 2, INFINITY};
  absl::StatusOr<std::vector<HostValue>> out = Run(b, {{"x", F32(x, {9})}});
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<double> got = Values((*out)[0]);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(got[i], std::atan(x[i]), 2e-7) << x[i];
}

TEST_F(OpsTest, CastFloatToStringUsesShortestDigits) {
  TestModelBuilder b(13);
  b.Input("x", kF, {4});
  TestModelBuilder::AttrInt(b.Node("Cast", {"x"}, {"s"}), "to", onnx::TensorProto::STRING);
  TestModelBuilder::AttrInt(b.Node("Cast", {"s"}, {"back"}), "to", onnx::TensorProto::FLOAT);
  b.Output("s");
  b.Output("back");
  absl::StatusOr<std::vector<HostValue>> out = Run(b, {{"x", F32({1, 0.1f, 1e-5f, -2.5f}, {4})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT((*out)[0].tensor().strings, ElementsAre("1.0", "0.1", "1e-05", "-2.5"));
  EXPECT_THAT(Values((*out)[1]), ElementsAre(1, 0.1f, 1e-5f, -2.5));
}

TEST_F(OpsTest, LoopCarriesValuesAndStacksScanOutputs) {
  TestModelBuilder b(13);
  b.Input("x", kF, {2});
  b.Initializer("n", HostTensor::FromVector<int64_t>({3}, {}));
  b.Initializer("c", HostTensor::FromVector<bool>({true}, {}));
  onnx::GraphProto body;
  TestModelBuilder::SetType(body.add_input(), "i", kI64, {}, {});
  TestModelBuilder::SetType(body.add_input(), "cond", onnx::TensorProto::BOOL, {}, {});
  TestModelBuilder::SetType(body.add_input(), "v", kF, {2}, {});
  auto* add = body.add_node();
  add->set_op_type("Add");
  add->add_input("v");
  add->add_input("v");
  add->add_output("v2");
  auto* id = body.add_node();
  id->set_op_type("Identity");
  id->add_input("cond");
  id->add_output("c2");
  auto* scan = body.add_node();
  scan->set_op_type("Identity");
  scan->add_input("v2");
  scan->add_output("s");
  body.add_output()->set_name("c2");
  body.add_output()->set_name("v2");
  body.add_output()->set_name("s");
  TestModelBuilder::AttrGraph(b.Node("Loop", {"n", "c", "x"}, {"y", "all"}), "body", body);
  b.Output("y");
  b.Output("all");
  absl::StatusOr<std::vector<HostValue>> out = Run(b, {{"x", F32({1, -1}, {2})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(8, -8));
  EXPECT_EQ((*out)[1].tensor().shape, (Shape{3, 2}));
  EXPECT_THAT(Values((*out)[1]), ElementsAre(2, -2, 4, -4, 8, -8));
}

TEST_F(OpsTest, IfOnLargeRuntimeDataSelectsElementwise) {
  // The condition reads a 100-element input: both branches run and a Where
  // picks, with no host read (the run stays replayable).
  TestModelBuilder b(13);
  b.Input("x", kF, {100});
  b.Node("ReduceSum", {"x"}, {"s"});
  b.Initializer("zero", HostTensor::FromVector<float>({0}, {}));
  b.Node("Greater", {"s", "zero"}, {"c"});
  onnx::GraphProto t, e;
  auto* n = t.add_node();
  n->set_op_type("Neg");
  n->add_input("x");
  n->add_output("a");
  t.add_output()->set_name("a");
  auto* m = e.add_node();
  m->set_op_type("Abs");
  m->add_input("x");
  m->add_output("b");
  e.add_output()->set_name("b");
  onnx::NodeProto& node = b.Node("If", {"c"}, {"y"});
  TestModelBuilder::AttrGraph(node, "then_branch", t);
  TestModelBuilder::AttrGraph(node, "else_branch", e);
  b.Output("y");
  std::vector<float> x(100, -1.0f);
  absl::StatusOr<std::vector<HostValue>> out = Run(b, {{"x", F32(x, {100})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Values((*out)[0])[0], 1.0);  // sum < 0: else branch, |x|
  x.assign(100, 2.0f);
  out = Run(b, {{"x", F32(x, {100})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Values((*out)[0])[0], -2.0);
}

TEST_F(OpsTest, ShapeErrorsNameTheNodeAndTheShapes) {
  TestModelBuilder b(13);
  b.Input("x", kF, {2, 3});
  b.Initializer("shape", HostTensor::FromVector<int64_t>({4, 2}, {2}));
  b.Node("Reshape", {"x", "shape"}, {"y"}, "bad_reshape");
  b.Output("y");
  EXPECT_THAT(Run(b, {{"x", F32({1, 2, 3, 4, 5, 6}, {2, 3})}}).status().message(),
              AllOf(HasSubstr("Reshape 'bad_reshape'"), HasSubstr("(2, 3)"), HasSubstr("(4, 2)")));

  TestModelBuilder c(13);
  c.Input("a", kF, {2, 3});
  c.Input("b", kF, {2, 2});
  TestModelBuilder::AttrInt(c.Node("Concat", {"a", "b"}, {"y"}, "cat"), "axis", 0);
  c.Output("y");
  EXPECT_THAT(Run(c, {{"a", F32(std::vector<float>(6), {2, 3})}, {"b", F32({1, 2, 3, 4}, {2, 2})}})
                  .status()
                  .message(),
              HasSubstr("Concat 'cat'"));
}

TEST_F(OpsTest, OversizedResultsAreResourceExhausted) {
  TestModelBuilder b(13);
  b.Input("x", kF, {1});
  b.Initializer("shape", HostTensor::FromVector<int64_t>({1 << 20, 1 << 20}, {2}));
  b.Node("Expand", {"x", "shape"}, {"y"}, "huge");
  b.Output("y");
  absl::StatusOr<std::vector<HostValue>> out = Run(b, {{"x", F32({1}, {1})}});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(out.status().message(), HasSubstr("Expand 'huge'"));

  // Sizes whose element count overflows int64 are caught too.
  TestModelBuilder p(13);
  p.Input("x", kF, {2, 2});
  p.Initializer("pads",
                HostTensor::FromVector<int64_t>({0, 0, int64_t{1} << 62, int64_t{1} << 62}, {4}));
  p.Node("Pad", {"x", "pads"}, {"y"}, "wide");
  p.Output("y");
  out = Run(p, {{"x", F32({1, 2, 3, 4}, {2, 2})}});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(out.status().message(), HasSubstr("Pad 'wide'"));
}

}  // namespace
}  // namespace uop::onnx_import
