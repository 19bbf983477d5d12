// Faults must be errors, never hangs or crashes: a kernel that does not
// finish gives a bounded DeadlineExceeded (Run and queues), an allocation
// past the GPU's memory a ResourceExhausted. Skips without a GPU.
#include <atomic>
#include <chrono>

#include "drivers/cuda/cuda_test_util.h"

namespace uop::cuda {
namespace {

using testing::kSpinKernel;
using testing::LoadKernel;

class CudaFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::GpuOrNull() == nullptr) {
      GTEST_SKIP() << "no CUDA GPU: " << CudaDevice::Availability();
    }
    // A device object of its own with a short run timeout (same GPU).
    absl::StatusOr<std::unique_ptr<CudaDevice>> d =
        CudaDevice::Create(0, {.run_timeout = absl::Milliseconds(300)});
    ASSERT_TRUE(d.ok()) << d.status();
    gpu_ = *std::move(d);
    absl::StatusOr<std::unique_ptr<Program>> p = LoadKernel(*gpu_, "spin", kSpinKernel, {4}, 0);
    ASSERT_TRUE(p.ok()) << p.status();
    spin_ = *std::move(p);
    absl::StatusOr<DeviceBuffer*> flag = gpu_->allocator().Alloc(64, {.host_visible = true});
    ASSERT_TRUE(flag.ok()) << flag.status();
    flag_.reset(*flag);
    Release(false);
  }
  void TearDown() override {
    if (flag_) Release(true);  // never leave a kernel spinning
  }
  void Release(bool go) { static_cast<std::atomic<int>*>(flag_->host_ptr())->store(go ? 1 : 0); }
  std::unique_ptr<CudaDevice> gpu_;
  std::unique_ptr<Program> spin_;
  ScopedBuffer flag_;
};

TEST_F(CudaFaultTest, AKernelThatNeverFinishesTimesOutAndTheDeviceRecovers) {
  DeviceBuffer* bufs[] = {flag_.get()};
  const auto t0 = std::chrono::steady_clock::now();
  absl::Status st = spin_->Run(bufs, {}, LaunchDims{1}, LaunchDims{1});
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_NE(st.message().find("CUDA:0"), std::string::npos) << st;
  EXPECT_NE(st.message().find("program 'spin'"), std::string::npos) << st;
  EXPECT_LT(waited, 5.0);
  Release(true);
  // Once the kernel ends, the device works again.
  absl::Status again = spin_->Run(bufs, {}, LaunchDims{1}, LaunchDims{1});
  EXPECT_TRUE(again.ok()) << again;
}

TEST_F(CudaFaultTest, AQueueWaitOnAStuckKernelIsBounded) {
  std::unique_ptr<Queue> q = *gpu_->CreateQueue("spin");
  DeviceBuffer* bufs[] = {flag_.get()};
  auto cb = std::make_shared<CommandBuffer>();
  cb->Exec(spin_.get(), bufs, {}, LaunchDims{1}, LaunchDims{1});
  ASSERT_TRUE(q->Submit(cb).ok());
  absl::Status st = q->Wait(absl::Milliseconds(200));
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_NE(st.message().find("queue 'CUDA:0/spin'"), std::string::npos) << st;
  Release(true);
  EXPECT_TRUE(q->Wait(absl::Seconds(10)).ok());
}

TEST_F(CudaFaultTest, OutOfMemoryIsResourceExhausted) {
  absl::StatusOr<DeviceBuffer*> huge = gpu_->allocator().Alloc(size_t{1} << 40);  // 1 TiB
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted) << huge.status();
  EXPECT_NE(huge.status().message().find("CUDA:0"), std::string::npos) << huge.status();
  EXPECT_NE(huge.status().message().find("1099511627776 bytes"), std::string::npos)
      << huge.status();
  absl::StatusOr<DeviceBuffer*> fine = gpu_->allocator().Alloc(1 << 20);
  ASSERT_TRUE(fine.ok()) << fine.status();
  gpu_->allocator().Free(*fine);
}

TEST(CudaAllocatorLimit, AConfiguredLimitIsResourceExhausted) {
  if (testing::GpuOrNull() == nullptr) GTEST_SKIP() << CudaDevice::Availability();
  CudaDevice::Options o;
  o.memory.memory_limit = 1 << 20;
  absl::StatusOr<std::unique_ptr<CudaDevice>> d = CudaDevice::Create(0, o);
  ASSERT_TRUE(d.ok()) << d.status();
  ScopedBuffer a(*(*d)->allocator().Alloc(768 << 10));
  absl::StatusOr<DeviceBuffer*> b = (*d)->allocator().Alloc(512 << 10);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted) << b.status();
  EXPECT_NE(b.status().message().find("memory limit"), std::string::npos) << b.status();
}

}  // namespace
}  // namespace uop::cuda
