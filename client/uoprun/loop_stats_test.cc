#include "client/uoprun/loop_stats.h"

#include "gtest/gtest.h"

namespace uop::uoprun {
namespace {

constexpr int64_t kMs = 1000000;

TEST(LoopRecorder, PercentilesLatenessAndMisses) {
  LoopRecorder rec(/*capacity=*/1000, /*deadline_ns=*/50 * kMs);
  // Latencies 1..100 ms; each step starts 0.5 ms late.
  for (int i = 1; i <= 100; ++i) {
    const int64_t sched = i * 100 * kMs;
    rec.Record(sched, sched + kMs / 2, sched + kMs / 2 + i * kMs);
  }
  rec.RecordSkipped(3);
  LoopStats s = rec.Summarize();
  EXPECT_EQ(s.iterations, 100);
  EXPECT_EQ(s.samples, 100);
  EXPECT_DOUBLE_EQ(s.latency.p50, 50);
  EXPECT_DOUBLE_EQ(s.latency.p90, 90);
  EXPECT_DOUBLE_EQ(s.latency.p99, 99);
  EXPECT_DOUBLE_EQ(s.latency.max, 100);
  EXPECT_DOUBLE_EQ(s.latency.mean, 50.5);
  EXPECT_DOUBLE_EQ(s.jitter.p99, 0.5);
  // Finished past scheduled + 50 ms: latencies 50..100 (0.5 ms late start).
  EXPECT_EQ(s.deadline_misses, 51);
  EXPECT_EQ(s.skipped_periods, 3);
  std::string text = s.Format();
  EXPECT_NE(text.find("iterations 100"), std::string::npos) << text;
  EXPECT_NE(text.find("51 deadline misses"), std::string::npos) << text;
  EXPECT_NE(text.find("p99   99.000"), std::string::npos) << text;
}

TEST(LoopRecorder, KeepsTheLatestSamplesWhenFull) {
  LoopRecorder rec(/*capacity=*/10, /*deadline_ns=*/kMs);
  for (int i = 1; i <= 25; ++i) rec.Record(0, 0, i);  // latencies 1..25 ns
  LoopStats s = rec.Summarize();
  EXPECT_EQ(s.iterations, 25);
  EXPECT_EQ(s.samples, 10);
  EXPECT_DOUBLE_EQ(s.latency.max, 25 / 1e6);
  EXPECT_DOUBLE_EQ(s.latency.p50, 20 / 1e6);  // of 16..25
  // The mean covers every step.
  EXPECT_DOUBLE_EQ(s.latency.mean, 13 / 1e6);
}

TEST(LoopRecorder, EmptyIsAllZero) {
  LoopStats s = LoopRecorder(4, kMs).Summarize();
  EXPECT_EQ(s.iterations, 0);
  EXPECT_EQ(s.latency.p99, 0);
}

}  // namespace
}  // namespace uop::uoprun
