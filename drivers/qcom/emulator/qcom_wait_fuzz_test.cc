// The QCOM wait fuzzer: random submissions, GPU stalls and waits with random
// bounds on the emulated Adreno, checking the two properties the reference
// system broke (a signal wait that slept in a loop and stalled for its whole
// 30 s timeout):
//   * no wait overshoots its bound: a wait that times out returns within
//     kMaxOvershoot of its deadline, and never before it;
//   * no completion is missed: a wait whose value was reached before its
//     deadline returns OK, and when everything is released every signal
//     reaches its last value and every launch ran exactly once.
// Runs for UOP_QCOM_FUZZ_SECONDS (default 3; the long tier runs longer) and
// prints the waits it made and the largest overshoot it saw.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "drivers/host_signal.h"
#include "drivers/qcom/emulator/qcom_emu_device.h"
#include "drivers/qcom/emulator/test_kernels.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kMaxOvershoot = std::chrono::milliseconds(50);
// A value set this long before a deadline must have woken its waiter.
constexpr auto kSetSlack = std::chrono::milliseconds(2);

// A HostSignal that remembers when each value was set.
class RecordingSignal final : public Signal {
 public:
  explicit RecordingSignal(std::string name)
      : Signal("QCOM_EMU:0", name), s_("QCOM_EMU:0", name, 0) {}
  uint64_t value() const override { return s_.value(); }
  // The time is taken after the store, so it is never earlier than the
  // moment a waiter could have seen the value.
  absl::Status Set(uint64_t v) override {
    absl::Status st = s_.Set(v);
    const auto now = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    if (st.ok() && v > last_) {
      sets_.push_back({v, now});
      last_ = v;
    }
    return st;
  }
  absl::Status Wait(uint64_t v, absl::Duration timeout, absl::string_view waiter) override {
    absl::Status st = s_.Wait(v, timeout, waiter);
    if (st.code() != absl::StatusCode::kDeadlineExceeded) return st;
    return TimeoutError(v, value(), timeout, waiter);  // names the expected queue
  }
  // When the signal first reached `v` (Clock::time_point::max() if never).
  Clock::time_point ReachedAt(uint64_t v) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [value, at] : sets_)
      if (value >= v) return at;
    return Clock::time_point::max();
  }

 private:
  HostSignal s_;
  mutable std::mutex mu_;
  uint64_t last_ = 0;
  std::vector<std::pair<uint64_t, Clock::time_point>> sets_;
};

int FuzzSeconds() {
  const char* e = std::getenv("UOP_QCOM_FUZZ_SECONDS");
  int s = 3;
  if (e != nullptr && absl::SimpleAtoi(e, &s) && s > 0) return s;
  return 3;
}

TEST(QcomWaitFuzz, NoWaitOvershootsAndNoCompletionIsMissed) {
  absl::StatusOr<EmulatedQcom> made = CreateEmulatedQcom();
  ASSERT_TRUE(made.ok()) << made.status();
  EmulatedQcom emu = std::move(*made);
  Device& d = *emu.device;
  emu.kgsl->set_latency(absl::ZeroDuration(), absl::Milliseconds(3));

  absl::StatusOr<std::string> bin = d.compiler().Compile("count", qcom_test::kCount);
  ASSERT_TRUE(bin.ok()) << bin.status();
  absl::StatusOr<std::unique_ptr<Program>> count =
      d.LoadProgram({.name = "count", .buffer_bytes = {4}}, *bin);
  ASSERT_TRUE(count.ok()) << count.status();

  constexpr int kQueues = 3;
  std::vector<std::unique_ptr<Queue>> queues;
  std::vector<std::unique_ptr<RecordingSignal>> signals;
  std::vector<ScopedBuffer> counters;
  for (int q = 0; q < kQueues; ++q) {
    absl::StatusOr<std::unique_ptr<Queue>> queue =
        d.CreateQueue(absl::StrCat("q", q), QueueOptions{.wait_timeout = absl::Seconds(20)});
    ASSERT_TRUE(queue.ok()) << queue.status();
    queues.push_back(std::move(*queue));
    signals.push_back(std::make_unique<RecordingSignal>(absl::StrCat("s", q)));
    absl::StatusOr<DeviceBuffer*> b = d.allocator().Alloc(4);
    ASSERT_TRUE(b.ok());
    const int32_t zero = 0;
    ASSERT_TRUE(d.allocator().CopyIn(**b, 0, AsBytes(absl::MakeConstSpan(&zero, 1))).ok());
    counters.emplace_back(*b);
  }

  const auto end = Clock::now() + std::chrono::seconds(FuzzSeconds());
  std::atomic<bool> stop{false};
  std::vector<std::atomic<uint64_t>> planned(kQueues);  // last value submitted
  std::vector<std::atomic<int64_t>> launches(kQueues);  // launches submitted
  std::mutex report_mu;
  int64_t waits = 0, timeouts = 0, oks = 0;
  Clock::duration max_overshoot{0};
  std::vector<std::string> violations;
  auto violation = [&](std::string v) {
    std::lock_guard<std::mutex> lock(report_mu);
    if (violations.size() < 20) violations.push_back(std::move(v));
  };

  std::vector<std::thread> threads;
  // Submitters: launches, signals, and waits on the other queues' signals.
  for (int q = 0; q < kQueues; ++q) {
    threads.emplace_back([&, q] {
      std::mt19937 rng(100 + q);
      while (!stop.load()) {
        // Back-pressure: keep at most ~32 signals in flight per queue.
        const uint64_t sent = planned[q].load();
        if (sent > 32) (void)signals[q]->Wait(sent - 16, absl::Seconds(5), "fuzz submitter");
        auto cb = std::make_shared<CommandBuffer>();
        const int other = (q + 1 + static_cast<int>(rng() % (kQueues - 1))) % kQueues;
        if (rng() % 3 == 0) {
          const uint64_t upto = planned[other].load();
          if (upto > 0) cb->Wait(signals[other].get(), 1 + rng() % upto);
        }
        DeviceBuffer* bufs[] = {counters[q].get()};
        const int n = static_cast<int>(rng() % 4);
        for (int i = 0; i < n; ++i) cb->Exec(count->get(), bufs, {}, LaunchDims{}, LaunchDims{});
        const uint64_t v = planned[q].load() + 1;
        cb->SignalValue(signals[q].get(), v);
        absl::Status st = queues[q]->Submit(cb);
        if (!st.ok()) {
          violation(absl::StrCat("submit on q", q, ": ", st.ToString()));
          return;
        }
        launches[q] += n;
        planned[q] = v;
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
      }
    });
  }
  // The GPU stalls now and then.
  threads.emplace_back([&] {
    std::mt19937 rng(7);
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 15));
      emu.kgsl->Pause();
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 25));
      emu.kgsl->Resume();
    }
  });
  // Waiters with random bounds and targets, some beyond what will come.
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(1000 + w);
      while (!stop.load()) {
        const int q = static_cast<int>(rng() % kQueues);
        RecordingSignal& s = *signals[q];
        // Half the targets are already submitted (they must come), half lie
        // just past what was submitted (they come only if submitted in time).
        const uint64_t sent = planned[q].load();
        const uint64_t target = rng() % 2 ? s.value() + 1 + rng() % 3 : sent + 1 + rng() % 3;
        const auto timeout = std::chrono::milliseconds(rng() % 30);
        const auto t0 = Clock::now();
        absl::Status st = s.Wait(target, absl::FromChrono(timeout), "fuzz waiter");
        const auto t1 = Clock::now();
        const auto deadline = t0 + timeout;
        std::lock_guard<std::mutex> lock(report_mu);
        ++waits;
        if (st.ok()) {
          ++oks;
          if (s.value() < target) violations.push_back("OK wait below its target");
          continue;
        }
        if (st.code() != absl::StatusCode::kDeadlineExceeded) {
          violations.push_back(st.ToString());
          continue;
        }
        ++timeouts;
        if (t1 < deadline) violations.push_back("wait timed out before its deadline");
        max_overshoot = std::max(max_overshoot, t1 - deadline);
        if (t1 - deadline > kMaxOvershoot) {
          violations.push_back(absl::StrCat(
              "wait overshot its ", timeout.count(), " ms bound by ",
              std::chrono::duration<double, std::milli>(t1 - deadline).count(), " ms"));
        }
        const auto reached = s.ReachedAt(target);
        if (reached != Clock::time_point::max() && reached + kSetSlack < deadline) {
          violations.push_back(
              absl::StrCat("missed completion: signal s", q, " reached ", target, " ",
                           std::chrono::duration<double, std::milli>(deadline - reached).count(),
                           " ms before the deadline of a ", timeout.count(),
                           " ms wait that timed out (", st.message(), "); value now ", s.value()));
        }
      }
    });
  }
  // Queue waits with random bounds.
  threads.emplace_back([&] {
    std::mt19937 rng(99);
    while (!stop.load()) {
      const int q = static_cast<int>(rng() % kQueues);
      const auto timeout = std::chrono::milliseconds(rng() % 20);
      const auto t0 = Clock::now();
      absl::Status st = queues[q]->Wait(absl::FromChrono(timeout));
      const auto over = Clock::now() - (t0 + timeout);
      std::lock_guard<std::mutex> lock(report_mu);
      ++waits;
      if (!st.ok() && st.code() != absl::StatusCode::kDeadlineExceeded) {
        violations.push_back(st.ToString());
      } else if (!st.ok()) {
        ++timeouts;
        max_overshoot = std::max(max_overshoot, over);
        if (over > kMaxOvershoot) violations.push_back("queue wait overshot its bound");
      }
    }
  });

  while (Clock::now() < end && violations.empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  for (auto& t : threads) t.join();
  emu.kgsl->Resume();

  // Everything submitted completes: every signal reaches its last value and
  // every launch ran once.
  for (int q = 0; q < kQueues; ++q) {
    ASSERT_TRUE(queues[q]->Wait(absl::Seconds(30)).ok()) << q;
    EXPECT_EQ(signals[q]->value(), planned[q].load()) << q;
    int32_t n = -1;
    ASSERT_TRUE(
        d.allocator().CopyOut(*counters[q], 0, AsWritableBytes(absl::MakeSpan(&n, 1))).ok());
    EXPECT_EQ(n, launches[q].load()) << q;
  }
  EXPECT_TRUE(emu.kgsl->fault().empty()) << emu.kgsl->fault();
  for (const std::string& v : violations) ADD_FAILURE() << v;
  std::printf(
      "qcom wait fuzz: %lld waits (%lld ok, %lld timed out), largest overshoot %.2f ms, "
      "%llu GPU submissions\n",
      static_cast<long long>(waits), static_cast<long long>(oks), static_cast<long long>(timeouts),
      std::chrono::duration<double, std::milli>(max_overshoot).count(),
      static_cast<unsigned long long>(emu.kgsl->stats().submissions));
  EXPECT_GT(timeouts, 0);  // the fuzzer did exercise timeouts
  EXPECT_GT(oks, 0);
}

}  // namespace
}  // namespace uop
