#include "runtime/onnx/onnx_model.h"

#include <atomic>
#include <thread>

#include "drivers/device_registry.h"
#include "drivers/null/null_device.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/engine/engine.h"
#include "runtime/onnx/test_model_builder.h"
#include "runtime/tensor/tensor.h"

namespace uop::onnx_import {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
constexpr int kFloat = onnx::TensorProto::FLOAT;
constexpr int kInt64 = onnx::TensorProto::INT64;

class OnnxModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = Tensor::GetRealizer();
    engine_ = Engine::Install({.cache_dir = "-"});
  }
  void TearDown() override { Tensor::SetRealizer(previous_); }

  static HostValue F32(std::vector<float> v, Shape s) {
    return HostValue::Tensor(HostTensor::FromVector(v, std::move(s)));
  }
  static std::vector<float> Floats(const HostValue& v) {
    std::vector<float> out(v.tensor().numel());
    std::memcpy(out.data(), v.tensor().bytes.data(), out.size() * 4);
    return out;
  }
  static std::unique_ptr<OnnxModel> Load(const TestModelBuilder& b) {
    absl::StatusOr<std::unique_ptr<OnnxModel>> m = OnnxModel::FromBytes(b.Bytes());
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *std::move(m) : nullptr;
  }

  std::shared_ptr<Realizer> previous_;
  std::shared_ptr<Engine> engine_;
};

// y = relu(x + b) with x of shape (N, 3).
TestModelBuilder AddRelu() {
  TestModelBuilder b(13);
  b.Input("x", kFloat, {-1, 3}, {"N"});
  b.Initializer("b", HostTensor::FromVector<float>({1, -1, 0.5f}, {3}));
  b.Node("Add", {"x", "b"}, {"s"});
  b.Node("Relu", {"s"}, {"y"});
  b.Output("y");
  return b;
}

TEST_F(OnnxModelTest, RunsOnTheDeviceItIsPlacedOn) {
  LoadOptions on_null;
  on_null.device = "NULL:3";
  absl::StatusOr<std::unique_ptr<OnnxModel>> m = OnnxModel::FromBytes(AddRelu().Bytes(), on_null);
  ASSERT_TRUE(m.ok()) << m.status();
  absl::StatusOr<std::vector<HostValue>> on = (*m)->Run({{"x", F32({1, 2, 3}, {1, 3})}});
  ASSERT_TRUE(on.ok()) << on.status();
  Device* null3 = *DeviceRegistry::Global().Get("NULL:3");
  EXPECT_FALSE(static_cast<NullDevice*>(null3)->launches().empty());
  // The CPU model beside it is untouched by the placement.
  std::unique_ptr<OnnxModel> cpu = Load(AddRelu());
  absl::StatusOr<std::vector<HostValue>> out = cpu->Run({{"x", F32({1, 2, 3}, {1, 3})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{2, 1, 3.5f}));
}

TEST_F(OnnxModelTest, PlacementOnAMissingDeviceFailsAtLoadNamingIt) {
  LoadOptions nowhere;
  nowhere.device = "NULL:99";
  absl::StatusOr<std::unique_ptr<OnnxModel>> m = OnnxModel::FromBytes(AddRelu().Bytes(), nowhere);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), ::testing::HasSubstr("'NULL:99'"));
  nowhere.device = "NOSUCH";
  EXPECT_FALSE(OnnxModel::FromBytes(AddRelu().Bytes(), nowhere).ok());
}

TEST_F(OnnxModelTest, ModelsRunFromManyThreadsAtOnce) {
  std::unique_ptr<OnnxModel> a = Load(AddRelu()), b = Load(AddRelu());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    OnnxModel* m = t % 2 ? a.get() : b.get();
    threads.emplace_back([m, t, &wrong] {
      for (int i = 0; i < 50; ++i) {
        float v = static_cast<float>(t * 100 + i + 1);  // > 1: relu keeps every lane
        absl::StatusOr<std::vector<HostValue>> out = m->Run({{"x", F32({v, v, v}, {1, 3})}});
        if (!out.ok() || Floats((*out)[0]) != std::vector<float>{v + 1, v - 1, v + 0.5f}) {
          ++wrong;
          ADD_FAILURE() << "thread " << t << " run " << i << ": "
                        << (out.ok() ? ::testing::PrintToString(Floats((*out)[0]))
                                     : out.status().ToString());
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(a->stats().runs + b->stats().runs, 200u);
  EXPECT_EQ(a->stats().captures, 1u);
}

TEST_F(OnnxModelTest, RunsAndReplaysWithNewInputs) {
  std::unique_ptr<OnnxModel> m = Load(AddRelu());
  ASSERT_NE(m, nullptr);
  absl::StatusOr<std::vector<HostValue>> out = m->Run({{"x", F32({1, 2, 3, -5, 0, 1}, {2, 3})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{2, 1, 3.5f, 0, 0, 1.5f}));
  EXPECT_EQ(m->stats().captures, 1u);

  uint64_t kernels = engine_->stats().kernels_run;
  out = m->Run({{"x", F32({0, 0, 0, 1, 1, 1}, {2, 3})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{1, 0, 0.5f, 2, 0, 1.5f}));
  EXPECT_EQ(m->stats().replays, 1u);
  EXPECT_EQ(engine_->stats().kernels_run, kernels + 1);  // one fused kernel replayed

  // Another batch size is another plan.
  out = m->Run({{"x", F32({-1, -1, -1}, {1, 3})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(m->stats().captures, 2u);
}

TEST_F(OnnxModelTest, ReplayKeepsWeightsAliveAfterTheBuildIsGone) {
  // The weight's buffer is referenced only by the recorded launches once the
  // graph of the first run is dropped; if the plan did not own it, the
  // allocator would hand its memory to the next tensor of the same size.
  TestModelBuilder b(13);
  b.Input("x", kFloat, {1024});
  std::vector<float> w(1024);
  for (int i = 0; i < 1024; ++i) w[i] = static_cast<float>(i);
  b.Initializer("w", HostTensor::FromVector(w, {1024}));
  b.Node("Mul", {"x", "w"}, {"y"});
  b.Output("y");
  std::unique_ptr<OnnxModel> m = Load(b);
  ASSERT_NE(m, nullptr);
  std::vector<float> ones(1024, 1.0f);
  ASSERT_TRUE(m->Run({{"x", F32(ones, {1024})}}).ok());
  Tensor other = Tensor::Full({1024}, -7.0f).Contiguous();
  ASSERT_TRUE(other.Realize().ok());
  absl::StatusOr<std::vector<HostValue>> out = m->Run({{"x", F32(ones, {1024})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(m->stats().replays, 1u);
  EXPECT_EQ(Floats((*out)[0]), w);
}

TEST_F(OnnxModelTest, InputErrorsNameTheInputAndTheExpectation) {
  std::unique_ptr<OnnxModel> m = Load(AddRelu());
  ASSERT_NE(m, nullptr);
  EXPECT_THAT(m->Run({{"z", F32({1, 2, 3}, {1, 3})}}).status().message(),
              AllOf(HasSubstr("unknown input 'z'"), HasSubstr("x")));
  EXPECT_THAT(m->Run({}).status().message(), HasSubstr("input 'x' is missing"));
  EXPECT_THAT(m->Run({{"x", F32({1, 2}, {1, 2})}}).status().message(),
              AllOf(HasSubstr("input 'x'"), HasSubstr("FLOAT[N, 3]"), HasSubstr("float32[1, 2]")));
  EXPECT_THAT(m->Run({{"x", HostValue::Tensor(HostTensor::FromVector<int64_t>({1, 2, 3}, {1, 3}))}})
                  .status()
                  .message(),
              HasSubstr("int64[1, 3]"));
  HostValue bad = F32({1, 2, 3}, {1, 3});
  bad.mutable_tensor().bytes.resize(4);
  EXPECT_THAT(m->Run({{"x", bad}}).status().message(), HasSubstr("4 bytes of data"));
}

TEST_F(OnnxModelTest, SymbolicDimsMustAgreeAcrossInputs) {
  TestModelBuilder b(13);
  b.Input("a", kFloat, {-1}, {"N"});
  b.Input("c", kFloat, {-1}, {"N"});
  b.Node("Add", {"a", "c"}, {"y"});
  b.Output("y");
  std::unique_ptr<OnnxModel> m = Load(b);
  ASSERT_NE(m, nullptr);
  EXPECT_THAT(m->Run({{"a", F32({1, 2}, {2})}, {"c", F32({1, 2, 3}, {3})}}).status().message(),
              HasSubstr("dimension 'N' is 3 but input 'a' has it 2"));
  EXPECT_TRUE(m->Run({{"a", F32({1, 2}, {2})}, {"c", F32({1, 2}, {2})}}).ok());
}

TEST_F(OnnxModelTest, ShapeArithmeticFoldsAwayFromTheWarmRun) {
  // y = reshape(x, concat(shape(x)[0:1], [-1])) * 2: the shape subgraph is
  // folded at import; a replay runs the one kernel of real work.
  TestModelBuilder b(13);
  b.Input("x", kFloat, {2, 2, 2});
  b.Node("Shape", {"x"}, {"s"});
  b.Initializer("zero", HostTensor::FromVector<int64_t>({0}, {1}));
  b.Initializer("minus1", HostTensor::FromVector<int64_t>({-1}, {1}));
  b.Initializer("two", HostTensor::FromVector<float>({2}, {}));
  b.Node("Gather", {"s", "zero"}, {"n"});
  b.Node("Concat", {"n", "minus1"}, {"shape"}).add_attribute()->CopyFrom([] {
    onnx::AttributeProto a;
    a.set_name("axis");
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(0);
    return a;
  }());
  b.Node("Reshape", {"x", "shape"}, {"r"});
  b.Node("Mul", {"r", "two"}, {"y"});
  b.Output("y");
  std::unique_ptr<OnnxModel> m = Load(b);
  ASSERT_NE(m, nullptr);
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(m->Run({{"x", F32(x, {2, 2, 2})}}).ok());
  uint64_t kernels = engine_->stats().kernels_run;
  absl::StatusOr<std::vector<HostValue>> out = m->Run({{"x", F32(x, {2, 2, 2})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].tensor().shape, (Shape{2, 4}));
  EXPECT_EQ(Floats((*out)[0])[7], 16);
  EXPECT_EQ(engine_->stats().kernels_run, kernels + 1);
}

TEST_F(OnnxModelTest, IfOnASmallInputIsGuardedByItsValue) {
  TestModelBuilder b(13);
  b.Input("mode", kInt64, {});
  b.Input("x", kFloat, {2});
  b.Initializer("one", HostTensor::FromVector<int64_t>({1}, {}));
  b.Node("Equal", {"mode", "one"}, {"c"});
  onnx::GraphProto then_g, else_g;
  auto* n = then_g.add_node();
  n->set_op_type("Neg");
  n->add_input("x");
  n->add_output("t");
  then_g.add_output()->set_name("t");
  auto* e = else_g.add_node();
  e->set_op_type("Relu");
  e->add_input("x");
  e->add_output("u");
  else_g.add_output()->set_name("u");
  onnx::NodeProto& node = b.Node("If", {"c"}, {"y"});
  TestModelBuilder::AttrGraph(node, "then_branch", then_g);
  TestModelBuilder::AttrGraph(node, "else_branch", else_g);
  b.Output("y");
  std::unique_ptr<OnnxModel> m = Load(b);
  ASSERT_NE(m, nullptr);
  auto run = [&](int64_t mode) {
    absl::StatusOr<std::vector<HostValue>> out =
        m->Run({{"mode", HostValue::Tensor(HostTensor::FromVector<int64_t>({mode}, {}))},
                {"x", F32({-2, 3}, {2})}});
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? Floats((*out)[0]) : std::vector<float>{};
  };
  EXPECT_EQ(run(1), (std::vector<float>{2, -3}));
  EXPECT_EQ(run(0), (std::vector<float>{0, 3}));
  EXPECT_EQ(run(1), (std::vector<float>{2, -3}));
  EXPECT_EQ(run(0), (std::vector<float>{0, 3}));
  EXPECT_EQ(m->stats().captures, 2u);
  EXPECT_EQ(m->stats().replays, 2u);
}

TEST_F(OnnxModelTest, DataDependentShapesAreNotReplayed) {
  TestModelBuilder b(13);
  b.Input("x", kFloat, {100});
  b.Node("NonZero", {"x"}, {"y"});
  b.Output("y");
  std::unique_ptr<OnnxModel> m = Load(b);
  ASSERT_NE(m, nullptr);
  std::vector<float> x(100, 0);
  x[7] = 1;
  absl::StatusOr<std::vector<HostValue>> out = m->Run({{"x", F32(x, {100})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].tensor().shape, (Shape{1, 1}));
  x[9] = 2;
  out = m->Run({{"x", F32(x, {100})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].tensor().shape, (Shape{1, 2}));
  EXPECT_EQ(m->stats().replays, 0u);
  EXPECT_EQ(m->stats().uncacheable, 2u);
}

TEST_F(OnnxModelTest, OutputThatIsAnInputFollowsItOnReplay) {
  TestModelBuilder b(13);
  b.Input("x", kFloat, {2});
  b.Node("Identity", {"x"}, {"y"});
  b.Node("Neg", {"x"}, {"z"});
  b.Output("y");
  b.Output("z");
  std::unique_ptr<OnnxModel> m = Load(b);
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(m->Run({{"x", F32({1, 2}, {2})}}).ok());
  absl::StatusOr<std::vector<HostValue>> out = m->Run({{"x", F32({5, 6}, {2})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{5, 6}));
  EXPECT_EQ(Floats((*out)[1]), (std::vector<float>{-5, -6}));
  EXPECT_EQ(m->stats().replays, 1u);
}

}  // namespace
}  // namespace uop::onnx_import
