#include "drivers/host_signal.h"

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(HostSignal, WaitReturnsAtOnceWhenReached) {
  HostSignal s("CPU:0", "s", 5);
  EXPECT_TRUE(s.Wait(5, absl::ZeroDuration()).ok());
  EXPECT_TRUE(s.Wait(3, absl::ZeroDuration()).ok());
  EXPECT_EQ(s.value(), 5u);
}

TEST(HostSignal, TimeoutNamesDeviceWaiterSignalExpectedSeenAndSignaler) {
  HostSignal s("CPU:0", "kernels_done", 3);
  s.set_expected_signaler("CPU:0/compute");
  const absl::Time start = absl::Now();
  absl::Status st = s.Wait(7, absl::Milliseconds(30), "queue 'CPU:0/copy'");
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(29));
  ASSERT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  for (const char* part : {"CPU:0", "queue 'CPU:0/copy'", "'kernels_done'", "reach 7", "seen 3",
                           "queue 'CPU:0/compute'", "30ms"}) {
    EXPECT_NE(st.message().find(part), std::string::npos) << part << " missing in: " << st;
  }
}

TEST(HostSignal, TimeoutWithoutSignalerSaysSo) {
  HostSignal s("NULL:0", "orphan", 0);
  absl::Status st = s.Wait(1, absl::ZeroDuration());
  ASSERT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(st.message().find("no queue has work that signals it"), std::string::npos) << st;
}

TEST(HostSignal, RejectsUnboundedAndNegativeTimeouts) {
  HostSignal s("CPU:0", "s", 0);
  EXPECT_EQ(s.Wait(1, absl::InfiniteDuration()).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Wait(1, absl::Milliseconds(-1)).code(), absl::StatusCode::kInvalidArgument);
}

TEST(HostSignal, IsMonotonic) {
  HostSignal s("CPU:0", "s", 0);
  EXPECT_TRUE(s.Set(4).ok());
  EXPECT_TRUE(s.Set(4).ok());
  absl::Status st = s.Set(2);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("below its current value 4"), std::string::npos) << st;
  EXPECT_EQ(s.value(), 4u);
}

TEST(HostSignal, SetFromAnotherThreadWakesWaiterPromptly) {
  HostSignal s("CPU:0", "s", 0);
  std::thread setter([&] {
    absl::SleepFor(absl::Milliseconds(5));
    ASSERT_TRUE(s.Set(1).ok());
  });
  const absl::Time start = absl::Now();
  EXPECT_TRUE(s.Wait(1, absl::Seconds(10)).ok());
  // Woken by the Set, not by the 10 s bound.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  setter.join();
}

// Randomized: several setters raise the value in steps, many waiters wait for
// random targets with random timeouts. Every wait either succeeds with the
// value reached, or times out while the value was still below its target.
TEST(HostSignal, FuzzConcurrentSetAndWait) {
  HostSignal s("CPU:0", "fuzz", 0);
  constexpr uint64_t kFinal = 2000;
  std::atomic<uint64_t> next{1};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (uint64_t v; (v = next.fetch_add(1)) <= kFinal;) {
        // Out-of-order setters: a lower value may arrive late and is refused.
        absl::Status st = s.Set(v);
        if (!st.ok()) {
          EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
        }
      }
    });
  }
  std::atomic<int> timeouts{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 200; ++i) {
        const uint64_t target = rng() % (kFinal + 1);
        absl::Status st = s.Wait(target, absl::Microseconds(rng() % 200));
        if (st.ok()) {
          EXPECT_GE(s.value(), target);
        } else {
          EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
          timeouts.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  // Set(kFinal) can never be refused, so whatever the order, the largest wins.
  EXPECT_EQ(s.value(), kFinal);
  EXPECT_TRUE(s.Wait(kFinal, absl::ZeroDuration()).ok());
}

}  // namespace
}  // namespace uop
