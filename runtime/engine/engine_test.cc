#include "runtime/engine/engine.h"

#include "gtest/gtest.h"
#include "runtime/tensor/tensor.h"

namespace uop {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = Tensor::GetRealizer();
    engine_ = Engine::Install({.cache_dir = "-"});
  }
  void TearDown() override { Tensor::SetRealizer(previous_); }
  std::shared_ptr<Realizer> previous_;
  std::shared_ptr<Engine> engine_;
};

TEST_F(EngineTest, ElementwiseAndReduce) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  Tensor y = x.Mul(2).Add(1).Sum({1});
  absl::StatusOr<std::vector<float>> v = y.ToVector<float>();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, (std::vector<float>{15, 33}));
  EXPECT_GE(engine_->stats().kernels_run, 1u);
}

TEST_F(EngineTest, MatmulMatchesLoops) {
  std::vector<float> a(6 * 5), b(5 * 7);
  for (size_t i = 0; i < a.size(); ++i) a[i] = 0.5f * i - 3;
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.25f * (i % 7) - 1;
  Tensor c = Tensor::FromVector(a, Shape{6, 5}).Matmul(Tensor::FromVector(b, Shape{5, 7}));
  absl::StatusOr<std::vector<float>> v = c.ToVector<float>();
  ASSERT_TRUE(v.ok()) << v.status();
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 7; ++j) {
      float want = 0;
      for (int k = 0; k < 5; ++k) want += a[i * 5 + k] * b[k * 7 + j];
      EXPECT_NEAR((*v)[i * 7 + j], want, 1e-4) << i << "," << j;
    }
}

TEST_F(EngineTest, RealizedResultIsReusedWithoutRecompute) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, Shape{4});
  Tensor y = x.Exp();
  ASSERT_TRUE(y.Realize().ok());
  uint64_t before = engine_->stats().kernels_run;
  Tensor z = y.Add(1);
  absl::StatusOr<std::vector<float>> v = z.ToVector<float>();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(engine_->stats().kernels_run, before + 1);  // exp is not run again
  EXPECT_NEAR((*v)[2], std::exp(3.0f) + 1, 1e-4);
}

TEST_F(EngineTest, SameGraphCompilesOnce) {
  for (int i = 0; i < 3; ++i) {
    Tensor x = Tensor::FromVector<float>({1, 2, 3, float(i)}, Shape{4});
    ASSERT_TRUE(x.Mul(3).Realize().ok());
  }
  EXPECT_EQ(engine_->stats().compiler.compiled, 1u);
  EXPECT_GE(engine_->stats().compiler.memory_hits, 2u);
}

TEST_F(EngineTest, SoftmaxRowsSumToOne) {
  Tensor x = Tensor::Randn({8, 33});
  absl::StatusOr<std::vector<float>> v = x.Softmax(-1).Sum({1}).ToVector<float>();
  ASSERT_TRUE(v.ok()) << v.status();
  for (float s : *v) EXPECT_NEAR(s, 1.0f, 1e-5);
}

TEST_F(EngineTest, ErrorsSurfaceAsStatus) {
  Tensor bad = Tensor::FromVector<float>({1, 2, 3}, Shape{3}).Add(Tensor::Zeros({4}));
  absl::StatusOr<std::vector<float>> v = bad.ToVector<float>();
  EXPECT_FALSE(v.ok());
}

class CountingRecorder : public Recorder {
 public:
  void OnLaunch(const RecordedLaunch& l) override { launches.push_back(l); }
  void OnHostRead(const Storage&) override { ++host_reads; }
  void KeepAlive(std::shared_ptr<void> r) override { kept.push_back(std::move(r)); }
  std::vector<RecordedLaunch> launches;
  std::vector<std::shared_ptr<void>> kept;
  int host_reads = 0;
};

TEST_F(EngineTest, RecordedLaunchesReplayWithNewInputs) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, Shape{4});
  ASSERT_TRUE(x.Realize().ok());
  Tensor out = Tensor::Empty({4});
  CountingRecorder rec;
  engine_->SetRecorder(&rec);
  Tensor y = out.Assign(x.Mul(10).Add(1));
  ASSERT_TRUE(y.Realize().ok());
  engine_->SetRecorder(nullptr);
  ASSERT_FALSE(rec.launches.empty());
  EXPECT_EQ(*out.ToVector<float>(), (std::vector<float>{11, 21, 31, 41}));
  // New input data in x's device buffer, then replay the same launches.
  std::shared_ptr<Storage> xs = LookupStorage(rec.launches[0].buffer_ids.back());
  ASSERT_NE(xs, nullptr);
  absl::StatusOr<DeviceBuffer*> xb = engine_->DeviceBufferFor(*xs);
  ASSERT_TRUE(xb.ok());
  std::vector<float> fresh = {5, 6, 7, 8};
  ASSERT_TRUE((*xb)->owner()->CopyIn(**xb, 0, AsBytes(absl::MakeConstSpan(fresh))).ok());
  ASSERT_TRUE(engine_->Replay(rec.launches).ok());
  std::shared_ptr<Storage> os = LookupStorage(rec.launches[0].buffer_ids[0]);
  os->host_valid = false;
  EXPECT_EQ(*out.ToVector<float>(), (std::vector<float>{51, 61, 71, 81}));
}

}  // namespace
}  // namespace uop

namespace uop {
namespace {

// The same graph through the engine and through the float64 reference.
std::vector<float> Through(std::shared_ptr<Realizer> r, const std::function<Tensor()>& make) {
  std::shared_ptr<Realizer> prev = Tensor::GetRealizer();
  Tensor::SetRealizer(r);
  absl::StatusOr<std::vector<float>> v = make().ToVector<float>();
  Tensor::SetRealizer(prev);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : std::vector<float>{};
}

TEST(EngineVsReference, ConvReluPoolNet) {
  auto make = [] {
    Tensor::ManualSeed(7);
    Tensor x = Tensor::Randn({1, 3, 20, 24});
    Tensor w1 = Tensor::Randn({8, 3, 3, 3}).Mul(0.3), b1 = Tensor::Randn({8});
    Tensor w2 = Tensor::Randn({16, 8, 3, 3}).Mul(0.2), b2 = Tensor::Randn({16});
    ConvOptions pad1;
    pad1.padding = {{1, 1}, {1, 1}};
    PoolOptions pool;
    pool.kernel = {2, 2};
    Tensor h = x.Conv2d(w1, b1, pad1).Relu().MaxPool2d(pool);
    return h.Conv2d(w2, b2, pad1).Relu().MaxPool2d(pool);
  };
  std::vector<float> ref = Through(nullptr, make);
  std::vector<float> got = Through(std::make_shared<Engine>(EngineOptions{.cache_dir = "-"}), make);
  ASSERT_EQ(ref.size(), got.size());
  ASSERT_EQ(ref.size(), 16u * 5 * 6);
  for (size_t i = 0; i < ref.size(); ++i)
    EXPECT_NEAR(got[i], ref[i], 1e-4 * (1 + std::abs(ref[i]))) << i;
}

}  // namespace
}  // namespace uop
