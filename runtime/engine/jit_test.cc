#include "runtime/engine/jit.h"

#include "gtest/gtest.h"

namespace uop {
namespace {

class JitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = Tensor::GetRealizer();
    engine_ = Engine::Install({.cache_dir = "-"});
  }
  void TearDown() override { Tensor::SetRealizer(previous_); }
  std::shared_ptr<Realizer> previous_;
  std::shared_ptr<Engine> engine_;
};

Tensor Vec(std::vector<float> v) {
  int64_t n = static_cast<int64_t>(v.size());
  return Tensor::FromVector(v, Shape{n});
}

TEST_F(JitTest, ReplaysWithNewInputsWithoutScheduling) {
  Tensor w = Tensor::FromVector<float>({1, -1, 2, 0.5}, Shape{2, 2});
  Jit jit(engine_, [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0].Reshape({1, 2}).Matmul(w).Relu().Add(in[1])};
  });
  for (int call = 0; call < 6; ++call) {
    float a = static_cast<float>(call), b = static_cast<float>(2 * call - 3);
    uint64_t realizes_before = engine_->stats().realizes;
    absl::StatusOr<std::vector<Tensor>> out = jit.Call({Vec({a, b}), Vec({10, 20})});
    ASSERT_TRUE(out.ok()) << out.status();
    if (call >= 2)
      EXPECT_EQ(engine_->stats().realizes, realizes_before) << "replays do not realize";
    std::vector<float> v = *(*out)[0].ToVector<float>();
    float want0 = std::max(a * 1 + b * 2, 0.0f) + 10,
          want1 = std::max(a * -1 + b * 0.5f, 0.0f) + 20;
    EXPECT_FLOAT_EQ(v[0], want0) << "call " << call;
    EXPECT_FLOAT_EQ(v[1], want1) << "call " << call;
  }
  EXPECT_TRUE(jit.captured());
  EXPECT_GE(jit.num_launches(), 1u);
}

TEST_F(JitTest, RefusesChangedShapes) {
  Jit jit(engine_, [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].Mul(2)}; });
  ASSERT_TRUE(jit.Call({Vec({1, 2})}).ok());
  absl::StatusOr<std::vector<Tensor>> bad = jit.Call({Vec({1, 2, 3})});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("input 0"), std::string::npos) << bad.status();
}

TEST_F(JitTest, RefusesHostReadsInsideTheFunction) {
  Jit jit(engine_, [](const std::vector<Tensor>& in) {
    float first = (*in[0].ToVector<float>())[0];  // data-dependent: not replayable
    return std::vector<Tensor>{in[0].Mul(first)};
  });
  absl::StatusOr<std::vector<Tensor>> r = jit.Call({Vec({1, 2})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("host"), std::string::npos) << r.status();
}

TEST_F(JitTest, RefusesValuesBakedInAsConstants) {
  float scale = 1;
  Jit jit(engine_, [&](const std::vector<Tensor>& in) {
    scale += 1;  // a host value that changes between calls becomes a different constant
    return std::vector<Tensor>{in[0].Mul(scale)};
  });
  ASSERT_TRUE(jit.Call({Vec({1, 2})}).ok());
  absl::StatusOr<std::vector<Tensor>> r = jit.Call({Vec({1, 2})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("different kernels"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace uop

namespace uop {
namespace {

TEST_F(JitTest, TemporaryBuffersOfTheFunctionStayAliveForReplays) {
  Jit jit(engine_, [](const std::vector<Tensor>& in) {
    // A constant made inside the function: its storage dies with the call.
    Tensor bias = Tensor::FromVector<float>({100, 200}, Shape{2});
    (void)bias.Realize();
    return std::vector<Tensor>{in[0].Add(bias)};
  });
  for (int call = 0; call < 5; ++call) {
    float a = static_cast<float>(call);
    absl::StatusOr<std::vector<Tensor>> out = jit.Call({Vec({a, -a})});
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*(*out)[0].ToVector<float>(), (std::vector<float>{100 + a, 200 - a})) << call;
  }
}

}  // namespace
}  // namespace uop
