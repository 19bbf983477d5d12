#include "drivers/host_queue.h"

#include <atomic>
#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace uop {
namespace {

// A program that appends its first var to a log, so order is observable.
class LogProgram final : public Program {
 public:
  explicit LogProgram(std::vector<int64_t>* log) : log_(log) {}
  const ProgramDesc& desc() const override { return desc_; }
  absl::Status Run(absl::Span<DeviceBuffer* const>, absl::Span<const int64_t> vars, LaunchDims,
                   LaunchDims, RunTiming*) override {
    log_->push_back(vars[0]);
    return absl::OkStatus();
  }

 private:
  ProgramDesc desc_{.name = "log", .buffer_bytes = {}, .num_vars = 1};
  std::vector<int64_t>* log_;
};

std::shared_ptr<CommandBuffer> Cmds() { return std::make_shared<CommandBuffer>(); }

TEST(HostQueue, RunsCommandBuffersInOrder) {
  std::vector<int64_t> log;
  LogProgram p(&log);
  HostQueue q("CPU:0", "CPU:0/compute", {});
  for (int64_t i = 0; i < 50; ++i) {
    int64_t v[] = {i};
    auto c = Cmds();
    c->Exec(&p, {}, v, {}, {});
    ASSERT_TRUE(q.Submit(c).ok());
  }
  ASSERT_TRUE(q.Wait(absl::Seconds(10)).ok());
  ASSERT_EQ(log.size(), 50u);
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(log[i], i);
}

TEST(HostQueue, SignalsAfterPrecedingWorkAndWaitsAcrossQueues) {
  std::vector<int64_t> log;
  LogProgram p(&log);
  HostSignal ready("CPU:0", "ready", 0), done("CPU:0", "done", 0);
  HostQueue a("CPU:0", "CPU:0/a", {}), b("CPU:0", "CPU:0/b", {});
  int64_t one[] = {1}, two[] = {2};
  auto cb = Cmds();
  cb->Wait(&ready, 1).Exec(&p, {}, two, {}, {}).SignalValue(&done, 1);
  ASSERT_TRUE(b.Submit(cb).ok());
  auto ca = Cmds();
  ca->Exec(&p, {}, one, {}, {}).SignalValue(&ready, 1);
  ASSERT_TRUE(a.Submit(ca).ok());
  ASSERT_TRUE(done.Wait(1, absl::Seconds(10)).ok());
  EXPECT_EQ(log, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(done.expected_signaler(), "CPU:0/b");
}

TEST(HostQueue, WaitTimeoutFailsQueueWithClearErrorAndSkipsLaterWork) {
  std::vector<int64_t> log;
  LogProgram p(&log);
  HostSignal never("CPU:0", "never", 0);
  HostQueue q("CPU:0", "CPU:0/compute", QueueOptions{.wait_timeout = absl::Milliseconds(20)});
  int64_t v[] = {9};
  auto c = Cmds();
  c->Wait(&never, 4).Exec(&p, {}, v, {}, {});
  ASSERT_TRUE(q.Submit(c).ok());
  absl::Status st = q.Wait(absl::Seconds(10));
  ASSERT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_NE(st.message().find("queue 'CPU:0/compute'"), std::string::npos) << st;
  EXPECT_NE(st.message().find("'never' to reach 4 (seen 0"), std::string::npos) << st;
  EXPECT_TRUE(log.empty());
  // The queue stays failed.
  absl::Status again = q.Submit(Cmds());
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.message().find("failed earlier"), std::string::npos) << again;
}

TEST(HostQueue, HostWaitTimesOutNamingTheQueue) {
  HostSignal gate("CPU:0", "gate", 0);
  HostQueue q("CPU:0", "CPU:0/compute", {});
  auto c = Cmds();
  c->Wait(&gate, 1, absl::Seconds(10));
  ASSERT_TRUE(q.Submit(c).ok());
  absl::Status st = q.Wait(absl::Milliseconds(10));
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(st.message().find("queue 'CPU:0/compute'"), std::string::npos) << st;
  ASSERT_TRUE(gate.Set(1).ok());
  EXPECT_TRUE(q.Wait(absl::Seconds(10)).ok());
}

TEST(HostQueue, RejectsInvalidRecordingWithoutFailing) {
  HostQueue q("CPU:0", "CPU:0/compute", {});
  auto c = Cmds();
  c->SignalValue(nullptr, 1);
  EXPECT_EQ(q.Submit(c).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(q.Submit(nullptr).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(q.Submit(Cmds()).ok());
  EXPECT_TRUE(q.Wait(absl::Seconds(10)).ok());
}

TEST(HostQueue, CopiesBetweenHostVisibleBuffers) {
  std::vector<uint8_t> a(16, 1), b(16, 2);
  DeviceBuffer ba(nullptr, 1, 16, BufferOptions{.host_visible = true}, a.data(), 0);
  DeviceBuffer bb(nullptr, 2, 16, BufferOptions{.host_visible = true}, b.data(), 0);
  HostQueue q("CPU:0", "CPU:0/copy", {});
  auto c = Cmds();
  c->Copy(&ba, 4, &bb, 0, 8);
  ASSERT_TRUE(q.Submit(c).ok());
  ASSERT_TRUE(q.Wait(absl::Seconds(10)).ok());
  EXPECT_EQ(a, (std::vector<uint8_t>{1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1}));
}

TEST(HostQueue, DestructorFinishesSubmittedWork) {
  std::vector<int64_t> log;
  LogProgram p(&log);
  {
    HostQueue q("CPU:0", "CPU:0/compute", {});
    for (int64_t i = 0; i < 10; ++i) {
      int64_t v[] = {i};
      auto c = Cmds();
      c->Exec(&p, {}, v, {}, {});
      ASSERT_TRUE(q.Submit(c).ok());
    }
  }
  EXPECT_EQ(log.size(), 10u);
}

}  // namespace
}  // namespace uop
