#include "client/uopctl/perf.h"

#include <atomic>

#include "gtest/gtest.h"

namespace uop::uopctl {
namespace {

TEST(Perf, ConcurrencyRanges) {
  EXPECT_EQ(*ParseConcurrencyRange("1:8:2"), (std::vector<int>{1, 3, 5, 7}));
  EXPECT_EQ(*ParseConcurrencyRange("4"), (std::vector<int>{4}));
  EXPECT_EQ(*ParseConcurrencyRange("2:3"), (std::vector<int>{2, 3}));
  for (const char* bad : {"", "0", "3:1", "1:2:0", "a", "1:2:3:4", "1:100000"}) {
    EXPECT_FALSE(ParseConcurrencyRange(bad).ok()) << bad;
  }
}

inference::ModelStatistics Stats(uint64_t count, uint64_t success_ns, uint64_t queue_ns,
                                 uint64_t infer_ns) {
  inference::ModelStatistics s;
  auto* i = s.mutable_inference_stats();
  i->mutable_success()->set_count(count);
  i->mutable_success()->set_ns(success_ns);
  i->mutable_queue()->set_ns(queue_ns);
  i->mutable_compute_infer()->set_ns(infer_ns);
  return s;
}

TEST(Perf, ServerTimeIsTheWindowsDeltaPerRequest) {
  ServerTime t = ServerTimeBetween(Stats(10, 1000000, 100000, 500000),
                                   Stats(110, 21000000, 2100000, 10500000));
  EXPECT_TRUE(t.available);
  EXPECT_EQ(t.requests, 100);
  EXPECT_DOUBLE_EQ(t.total_us, 200);
  EXPECT_DOUBLE_EQ(t.queue_us, 20);
  EXPECT_DOUBLE_EQ(t.compute_infer_us, 100);
  EXPECT_FALSE(ServerTimeBetween(Stats(5, 1, 1, 1), Stats(5, 1, 1, 1)).available);
}

TEST(Perf, MeasuresThroughputAndLatencyPerLevel) {
  std::atomic<int64_t> sent{0};
  // 2 ms per request: about 500/s per worker.
  InferFn infer = [&] {
    absl::SleepFor(absl::Milliseconds(2));
    sent.fetch_add(1);
    return absl::OkStatus();
  };
  StatsFn stats = [&]() -> absl::StatusOr<inference::ModelStatistics> {
    const int64_t n = sent.load();
    return Stats(n, n * 1500000, n * 100000, n * 1000000);
  };
  PerfOptions o{
      .concurrency = {1, 4}, .window = absl::Milliseconds(400), .warmup = absl::Milliseconds(50)};
  absl::StatusOr<std::vector<PerfPoint>> points = MeasurePerf(o, infer, stats);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 2u);
  const PerfPoint& one = (*points)[0];
  const PerfPoint& four = (*points)[1];
  EXPECT_EQ(one.concurrency, 1);
  EXPECT_GT(one.throughput, 150);
  EXPECT_LT(one.throughput, 520);
  EXPECT_GT(four.throughput, 2.5 * one.throughput);
  EXPECT_GE(one.p50_us, 2000);
  EXPECT_LE(one.p50_us, one.p99_us);
  EXPECT_TRUE(one.server.available);
  EXPECT_DOUBLE_EQ(one.server.total_us, 1500);
  EXPECT_DOUBLE_EQ(one.server.compute_infer_us, 1000);
  const std::string table = FormatPerfTable(*points);
  EXPECT_NE(table.find("concurrency"), std::string::npos);
  EXPECT_NE(table.find("server us"), std::string::npos);
  const std::string csv = PerfCsv(*points);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
  EXPECT_EQ(csv.rfind("Concurrency,Inferences/Second", 0), 0u);
}

TEST(Perf, TheFirstErrorEndsTheRun) {
  std::atomic<int> calls{0};
  InferFn infer = [&] {
    return ++calls > 3 ? absl::InvalidArgumentError("ModelInfer: bad input") : absl::OkStatus();
  };
  PerfOptions o{
      .concurrency = {2}, .window = absl::Milliseconds(100), .warmup = absl::Milliseconds(10)};
  absl::Status st = MeasurePerf(o, infer, nullptr).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "ModelInfer: bad input");
}

}  // namespace
}  // namespace uop::uopctl
