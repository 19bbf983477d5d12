#include "runtime/profiler/clock.h"

#include <cmath>

#include "gtest/gtest.h"

namespace uop::profiler {
namespace {

TEST(Clock, NowNsIsMonotonic) {
  int64_t last = NowNs();
  for (int i = 0; i < 1000; ++i) {
    int64_t now = NowNs();
    EXPECT_GE(now, last);
    last = now;
  }
  EXPECT_GT(BootTimeNs(), 0);
}

TEST(ClockSync, OffsetOnlyDeviceClockMapsExactly) {
  ClockSync sync;
  // Device clock = host clock - 5 s, sampled with a 100 ns host window.
  const int64_t offset = 5'000'000'000;
  ASSERT_TRUE(sync.AddPair(20'000'000'000 - offset, 20'000'000'000 - 50, 20'000'000'000 + 50).ok());
  EXPECT_EQ(sync.ToHost(21'000'000'000 - offset), 21'000'000'000);
  EXPECT_EQ(sync.uncertainty_ns(), 50);
  EXPECT_DOUBLE_EQ(sync.rate(), 1.0);
}

TEST(ClockSync, AnchorsOnTheTightestWindow) {
  ClockSync sync;
  // True mapping host = device + 1000. The wide pair's midpoint is 400 ns off.
  ASSERT_TRUE(sync.AddPair(10'000, 10'000 + 1000 - 100, 10'000 + 1000 + 900).ok());
  ASSERT_TRUE(sync.AddPair(20'000, 20'000 + 1000 - 10, 20'000 + 1000 + 10).ok());
  EXPECT_EQ(sync.ToHost(30'000), 31'000);
  EXPECT_EQ(sync.uncertainty_ns(), 10);
}

TEST(ClockSync, FitsDriftOnceThePairsSpanEnoughTime) {
  // A device clock at 1 MHz that runs 50 ppm fast against the host.
  ClockSync::Options options;
  options.device_ticks_per_second = 1e6;
  ClockSync sync(options);
  const double true_rate = 1000.0 / (1 + 50e-6);  // host ns per device tick
  auto host_of = [&](int64_t ticks) {
    return 7'000'000'000 + static_cast<int64_t>(std::llround(ticks * true_rate));
  };
  for (int64_t ticks = 0; ticks <= 4'000'000; ticks += 500'000) {  // 4 s of pairs
    const int64_t h = host_of(ticks);
    ASSERT_TRUE(sync.AddPair(ticks, h - 20, h + 20).ok());
  }
  EXPECT_NEAR(sync.rate(), true_rate, 1e-6);
  // One minute later the drift alone would be 3 ms; the fit keeps it tiny.
  const int64_t later = 64'000'000;
  EXPECT_NEAR(static_cast<double>(sync.ToHost(later)), static_cast<double>(host_of(later)), 100);
}

TEST(ClockSync, KeepsTheNominalRateUntilPairsSpanTheMinimum) {
  ClockSync sync;  // ns device clock, one second minimum span
  ASSERT_TRUE(sync.AddPair(0, 1000, 1000).ok());
  ASSERT_TRUE(sync.AddPair(1000, 2100, 2100).ok());  // 10% off over 1 us: noise, not drift
  EXPECT_DOUBLE_EQ(sync.rate(), 1.0);
}

TEST(ClockSync, RejectsAReversedHostWindow) {
  ClockSync sync;
  absl::Status st = sync.AddPair(5, 100, 99);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("before it begins"), absl::string_view::npos) << st;
  EXPECT_FALSE(sync.has_pairs());
}

TEST(ClockSync, RejectsADeviceClockGoingBackwardsUntilReset) {
  ClockSync sync;
  ASSERT_TRUE(sync.AddPair(1000, 0, 10).ok());
  absl::Status st = sync.AddPair(999, 20, 30);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("Reset"), absl::string_view::npos) << st;
  sync.Reset();
  EXPECT_FALSE(sync.has_pairs());
  EXPECT_TRUE(sync.AddPair(999, 20, 30).ok());
  EXPECT_EQ(sync.ToHost(999), 25);
}

TEST(ClockSync, DropsTheOldestPairsBeyondTheLimit) {
  ClockSync::Options options;
  options.max_pairs = 2;
  ClockSync sync(options);
  ASSERT_TRUE(sync.AddPair(0, 0, 0).ok());  // tightest, but falls out of the window
  ASSERT_TRUE(sync.AddPair(10, 110, 120).ok());
  ASSERT_TRUE(sync.AddPair(20, 120, 130).ok());
  EXPECT_EQ(sync.ToHost(20), 125);  // anchored on a kept pair, not the dropped one
}

}  // namespace
}  // namespace uop::profiler
