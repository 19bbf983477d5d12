// CUDA queues: ordering across queues with timeline signals, copies, bounded
// waits that fail the queue, and CUDA-graph replay of repeated command
// buffers (with new buffers patched in). Skips without a GPU.
#include "drivers/cuda/cuda_queue.h"

#include <numeric>

#include "drivers/cuda/cuda_test_util.h"

namespace uop::cuda {
namespace {

using testing::kScaleKernel;
using testing::LoadKernel;

constexpr int kN = 4096;

class CudaQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu_ = testing::GpuOrNull();
    if (gpu_ == nullptr) GTEST_SKIP() << "no CUDA GPU: " << CudaDevice::Availability();
    absl::StatusOr<std::unique_ptr<Program>> p =
        LoadKernel(*gpu_, "scale", kScaleKernel, {kN * 4, kN * 4}, 1);
    ASSERT_TRUE(p.ok()) << p.status();
    scale_ = *std::move(p);
  }
  ScopedBuffer Filled(float start) {
    ScopedBuffer b(*gpu_->allocator().Alloc(kN * 4));
    std::vector<float> x(kN);
    std::iota(x.begin(), x.end(), start);
    EXPECT_TRUE(gpu_->allocator().CopyIn(*b, 0, AsBytes(absl::MakeConstSpan(x))).ok());
    return b;
  }
  std::vector<float> Read(const DeviceBuffer& b) {
    std::vector<float> y(kN);
    EXPECT_TRUE(gpu_->allocator().CopyOut(b, 0, AsWritableBytes(absl::MakeSpan(y))).ok());
    return y;
  }
  CudaDevice* gpu_ = nullptr;
  std::unique_ptr<Program> scale_;
};

TEST_F(CudaQueueTest, OrdersWorkAcrossQueuesWithSignals) {
  std::unique_ptr<Queue> q1 = *gpu_->CreateQueue("one"), q2 = *gpu_->CreateQueue("two");
  EXPECT_EQ(q1->name(), "CUDA:0/one");
  std::unique_ptr<Signal> mid = *gpu_->CreateSignal("mid"), end = *gpu_->CreateSignal("end");
  ScopedBuffer in = Filled(1), out(*gpu_->allocator().Alloc(kN * 4)),
               copy(*gpu_->allocator().Alloc(kN * 4));
  DeviceBuffer* bufs[] = {out.get(), in.get()};
  auto second = std::make_shared<CommandBuffer>();
  second->Wait(mid.get(), 1).Copy(copy.get(), 0, out.get(), 0, kN * 4).SignalValue(end.get(), 1);
  ASSERT_TRUE(q2->Submit(second).ok());
  auto first = std::make_shared<CommandBuffer>();
  first->Exec(scale_.get(), bufs, {int64_t{kN}}, LaunchDims{kN / 256}, LaunchDims{256})
      .SignalValue(mid.get(), 1);
  ASSERT_TRUE(q1->Submit(first).ok());
  EXPECT_TRUE(end->Wait(1, absl::Seconds(10)).ok());
  EXPECT_TRUE(q1->Wait(absl::Seconds(10)).ok());
  EXPECT_TRUE(q2->Wait(absl::Seconds(10)).ok());
  std::vector<float> y = Read(*copy);
  for (int i = 0; i < kN; ++i) ASSERT_EQ(y[i], (1.0f + i) * 2 + i) << i;
}

TEST_F(CudaQueueTest, RepeatedBuffersReplayAsGraphsWithNewArgumentsPatchedIn) {
  absl::StatusOr<std::unique_ptr<CudaQueue>> q = CudaQueue::Create(gpu_, "CUDA:0/graphs", {});
  ASSERT_TRUE(q.ok()) << q.status();
  ScopedBuffer a = Filled(0), b = Filled(100), mid(*gpu_->allocator().Alloc(kN * 4)),
               out(*gpu_->allocator().Alloc(kN * 4));
  auto chain = [&](DeviceBuffer* in) {
    DeviceBuffer* s1[] = {mid.get(), in};
    DeviceBuffer* s2[] = {out.get(), mid.get()};
    auto cb = std::make_shared<CommandBuffer>();
    cb->Exec(scale_.get(), s1, {int64_t{kN}}, LaunchDims{kN / 256}, LaunchDims{256})
        .Exec(scale_.get(), s2, {int64_t{kN}}, LaunchDims{kN / 256}, LaunchDims{256});
    return cb;
  };
  auto with_a = chain(a.get());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE((*q)->Submit(with_a).ok());
  ASSERT_TRUE((*q)->Wait(absl::Seconds(10)).ok());
  CudaQueueStats s = (*q)->stats();
  EXPECT_EQ(s.graphs_built, 1u);
  EXPECT_EQ(s.graph_launches, 3u);
  EXPECT_EQ(s.direct_launches, 2u);  // the first submission's two kernels
  std::vector<float> y = Read(*out);
  for (int i = 0; i < kN; ++i) ASSERT_EQ(y[i], (i * 2.0f + i) * 2 + i) << i;
  // Same structure, another input: the graph is reused with node 0 patched.
  ASSERT_TRUE((*q)->Submit(chain(b.get())).ok());
  ASSERT_TRUE((*q)->Wait(absl::Seconds(10)).ok());
  s = (*q)->stats();
  EXPECT_EQ(s.graphs_built, 1u);
  EXPECT_EQ(s.nodes_updated, 1u);
  y = Read(*out);
  for (int i = 0; i < kN; ++i) ASSERT_EQ(y[i], ((100.0f + i) * 2 + i) * 2 + i) << i;
}

TEST_F(CudaQueueTest, AWaitThatTimesOutFailsTheQueueWithAClearError) {
  std::unique_ptr<Queue> q = *gpu_->CreateQueue("stuck", QueueOptions{absl::Milliseconds(50)});
  std::unique_ptr<Signal> never = *gpu_->CreateSignal("never-set");
  auto cb = std::make_shared<CommandBuffer>();
  cb->Wait(never.get(), 1);
  ASSERT_TRUE(q->Submit(cb).ok());
  absl::Status st = q->Wait(absl::Seconds(10));
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_NE(st.message().find("'never-set'"), std::string::npos) << st;
  EXPECT_NE(st.message().find("queue 'CUDA:0/stuck'"), std::string::npos) << st;
  EXPECT_NE(st.message().find("to reach 1 (seen 0"), std::string::npos) << st;
  EXPECT_EQ(q->Submit(std::make_shared<CommandBuffer>()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CudaQueueTest, BadRecordingsAreRefusedAtSubmit) {
  std::unique_ptr<Queue> q = *gpu_->CreateQueue("strict");
  ScopedBuffer small(*gpu_->allocator().Alloc(16));
  DeviceBuffer* bufs[] = {small.get(), small.get()};
  auto cb = std::make_shared<CommandBuffer>();
  cb->Exec(scale_.get(), bufs, {int64_t{4}}, LaunchDims{1}, LaunchDims{4});
  EXPECT_EQ(q->Submit(cb).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(q->Submit(nullptr).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(q->Wait(absl::Seconds(1)).ok());  // unaffected
}

}  // namespace
}  // namespace uop::cuda
