#include "drivers/common/device_queue.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "drivers/host_signal.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

class NopProgram final : public Program {
 public:
  const ProgramDesc& desc() const override { return desc_; }
  absl::Status Run(absl::Span<DeviceBuffer* const>, absl::Span<const int64_t>, LaunchDims,
                   LaunchDims, RunTiming*) override {
    return absl::OkStatus();
  }

 private:
  ProgramDesc desc_{.name = "nop"};
};

// A device whose fence the test advances by hand; WaitFence blocks on a
// condition variable like an interrupt-driven wait ioctl.
class FakeEngine final : public QueueEngine {
 public:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    uint64_t submitted = 0;  // fences handed out
    uint64_t completed = 0;
    bool auto_complete = false;
    uint64_t execs = 0;
    absl::Status fault;
    absl::Status add_error;
  };
  explicit FakeEngine(std::shared_ptr<State> s) : s_(std::move(s)) {}

  absl::Status AddExec(const ExecCommand&) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (!s_->add_error.ok()) return s_->add_error;
    ++batch_;
    ++s_->execs;
    return absl::OkStatus();
  }
  absl::Status AddCopy(const CopyCommand&) override {
    ++batch_;
    return absl::OkStatus();
  }
  bool HasWork() const override { return batch_ > 0; }
  absl::StatusOr<uint64_t> Flush() override {
    batch_ = 0;
    std::lock_guard<std::mutex> lock(s_->mu);
    const uint64_t f = ++s_->submitted;
    if (s_->auto_complete) s_->completed = f;
    s_->cv.notify_all();
    return f;
  }
  absl::StatusOr<uint64_t> CompletedFence() override {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (!s_->fault.ok()) return s_->fault;
    return s_->completed;
  }
  absl::Status WaitFence(uint64_t fence, absl::Duration timeout) override {
    std::unique_lock<std::mutex> lock(s_->mu);
    s_->cv.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                    [&] { return s_->completed >= fence || !s_->fault.ok(); });
    return s_->fault;
  }

 private:
  std::shared_ptr<State> s_;
  int batch_ = 0;
};

void Complete(FakeEngine::State& s, uint64_t upto) {
  std::lock_guard<std::mutex> lock(s.mu);
  s.completed = upto;
  s.cv.notify_all();
}

struct Fixture {
  std::shared_ptr<FakeEngine::State> state = std::make_shared<FakeEngine::State>();
  std::unique_ptr<DeviceQueue> queue = std::make_unique<DeviceQueue>(
      "FAKE:0", "FAKE:0/compute", QueueOptions{.wait_timeout = absl::Seconds(5)},
      std::make_unique<FakeEngine>(state));
  NopProgram program;
  std::shared_ptr<CommandBuffer> Exec() {
    auto cb = std::make_shared<CommandBuffer>();
    cb->Exec(&program, {}, {}, LaunchDims{}, LaunchDims{});
    return cb;
  }
};

TEST(DeviceQueue, SignalIsSetWhenTheDeviceReachesItsFence) {
  Fixture f;
  HostSignal s("FAKE:0", "s", 0);
  auto cb = f.Exec();
  cb->SignalValue(&s, 7);
  ASSERT_TRUE(f.queue->Submit(cb).ok());
  EXPECT_EQ(s.expected_signaler(), "FAKE:0/compute");
  EXPECT_EQ(s.Wait(7, absl::Milliseconds(30)).code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(s.value(), 0u);
  Complete(*f.state, 1);
  EXPECT_TRUE(s.Wait(7, absl::Seconds(5)).ok());
  EXPECT_TRUE(f.queue->Wait(absl::Seconds(5)).ok());
  DeviceQueueStats st = f.queue->stats();
  EXPECT_EQ(st.inline_submits, 1u);
  EXPECT_EQ(st.flushes, 1u);
}

TEST(DeviceQueue, HostWaitHoldsLaterWorkBackInOrder) {
  Fixture f;
  f.state->auto_complete = true;
  HostSignal gate("FAKE:0", "gate", 0), a("FAKE:0", "a", 0), b("FAKE:0", "b", 0);
  auto first = f.Exec();
  first->Wait(&gate, 1).SignalValue(&a, 1);
  auto second = f.Exec();
  second->SignalValue(&b, 1);
  ASSERT_TRUE(f.queue->Submit(first).ok());
  ASSERT_TRUE(f.queue->Submit(second).ok());  // must queue behind `first`
  EXPECT_EQ(b.Wait(1, absl::Milliseconds(50)).code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(a.value(), 0u);
  {
    std::lock_guard<std::mutex> lock(f.state->mu);
    EXPECT_EQ(f.state->execs, 1u);  // the work before the wait was flushed
  }
  ASSERT_TRUE(gate.Set(1).ok());
  EXPECT_TRUE(b.Wait(1, absl::Seconds(5)).ok());
  EXPECT_EQ(a.value(), 1u);
  EXPECT_TRUE(f.queue->Wait(absl::Seconds(5)).ok());
  DeviceQueueStats st = f.queue->stats();
  EXPECT_EQ(st.worker_submits, 2u);
  EXPECT_EQ(st.host_waits, 1u);
}

TEST(DeviceQueue, SignalWithNothingInFlightIsSetAtOnce) {
  Fixture f;
  HostSignal s("FAKE:0", "s", 0);
  auto cb = std::make_shared<CommandBuffer>();
  cb->SignalValue(&s, 3);
  ASSERT_TRUE(f.queue->Submit(cb).ok());
  EXPECT_EQ(s.value(), 3u);
  EXPECT_TRUE(f.queue->Wait(absl::ZeroDuration()).ok());
}

TEST(DeviceQueue, WaitTimeoutFailsTheQueue) {
  Fixture f;
  HostSignal never("FAKE:0", "never", 0);
  auto cb = std::make_shared<CommandBuffer>();
  cb->Wait(&never, 1, absl::Milliseconds(20));
  ASSERT_TRUE(f.queue->Submit(cb).ok());
  absl::Status st = f.queue->Wait(absl::Seconds(5));
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_NE(st.message().find("never"), absl::string_view::npos) << st;
  EXPECT_EQ(f.queue->Submit(f.Exec()).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(DeviceQueue, EncodingErrorFailsTheQueueAfterEarlierWork) {
  Fixture f;
  HostSignal s("FAKE:0", "s", 0);
  auto ok = f.Exec();
  ok->SignalValue(&s, 1);
  ASSERT_TRUE(f.queue->Submit(ok).ok());
  {
    std::lock_guard<std::mutex> lock(f.state->mu);
    f.state->add_error = absl::InvalidArgumentError("bad launch");
  }
  ASSERT_TRUE(f.queue->Submit(f.Exec()).ok());
  Complete(*f.state, 1);
  absl::Status st = f.queue->Wait(absl::Seconds(5));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_EQ(s.value(), 1u);  // the work before the failure completed normally
}

TEST(DeviceQueue, DeviceFaultWakesWaitersWithoutTheirTimeout) {
  Fixture f;
  HostSignal s("FAKE:0", "s", 0);
  auto cb = f.Exec();
  cb->SignalValue(&s, 1);
  ASSERT_TRUE(f.queue->Submit(cb).ok());
  std::thread fault([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    std::lock_guard<std::mutex> lock(f.state->mu);
    f.state->fault = absl::UnavailableError("GPU page fault at 0xdead000");
    f.state->cv.notify_all();
  });
  const auto t0 = std::chrono::steady_clock::now();
  absl::Status st = f.queue->Wait(absl::Seconds(30));
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fault.join();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("0xdead000"), absl::string_view::npos) << st;
  EXPECT_LT(waited, 2.0);
  EXPECT_EQ(s.value(), 0u);  // lost work never signals
  EXPECT_EQ(f.queue->Submit(f.Exec()).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(DeviceQueue, QueueWaitIsBoundedWhenTheDeviceStalls) {
  Fixture f;
  ASSERT_TRUE(f.queue->Submit(f.Exec()).ok());
  const auto t0 = std::chrono::steady_clock::now();
  absl::Status st = f.queue->Wait(absl::Milliseconds(80));
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(waited, 0.079);
  EXPECT_LT(waited, 0.5);
  EXPECT_EQ(f.queue->Wait(absl::InfiniteDuration()).code(), absl::StatusCode::kInvalidArgument);
  Complete(*f.state, 1);
  EXPECT_TRUE(f.queue->Wait(absl::Seconds(5)).ok());
}

TEST(DeviceQueue, ManySubmittersCompleteEverything) {
  Fixture f;
  f.state->auto_complete = true;
  constexpr int kThreads = 4, kPer = 200;
  std::vector<std::unique_ptr<HostSignal>> signals;
  for (int t = 0; t < kThreads; ++t)
    signals.push_back(std::make_unique<HostSignal>("FAKE:0", "t", 0));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 1; i <= kPer; ++i) {
        auto cb = f.Exec();
        cb->SignalValue(signals[t].get(), i);
        ASSERT_TRUE(f.queue->Submit(cb).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(f.queue->Wait(absl::Seconds(10)).ok());
  for (auto& s : signals) EXPECT_EQ(s->value(), uint64_t{kPer});
}

}  // namespace
}  // namespace uop
