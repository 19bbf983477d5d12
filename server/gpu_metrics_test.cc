#include "server/gpu_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/metrics.h"

namespace uop::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(GpuCollector, SumsLoadsPerGpuWithOrdinalAndDeviceLabels) {
  GpuSet gpus{"NULL", 2, {0, 0}};
  GpuMemoryBudget budget(gpus, 1000);
  auto held = budget.Reserve("m", {{1, 300}});
  ASSERT_TRUE(held.ok());
  std::vector<DeviceLoad> loads(3);
  loads[0].device = "NULL:0";
  loads[0].instances = 1;
  loads[0].executions = 4;
  loads[0].rows = 40;
  loads[0].busy_ns = 2'000'000'000;
  loads[1].device = "NULL:1";
  loads[1].instances = 1;
  loads[1].executions = 5;
  loads[1].outstanding_rows = 8;
  loads[1].healthy = false;
  loads[1].failures = 1;
  loads[2] = loads[0];  // a second model on GPU 0
  loads[2].executions = 1;
  ServerMetrics metrics;
  metrics.AddCollectable(std::make_shared<GpuCollector>(gpus, &budget, [&] { return loads; }));
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("uop_gpu_executions_total{gpu=\"0\",device=\"NULL:0\"} 5"));
  EXPECT_THAT(text, HasSubstr("uop_gpu_executions_total{gpu=\"1\",device=\"NULL:1\"} 5"));
  EXPECT_THAT(text, HasSubstr("uop_gpu_rows_total{gpu=\"0\",device=\"NULL:0\"} 80"));
  EXPECT_THAT(text, HasSubstr("uop_gpu_busy_seconds_total{gpu=\"0\",device=\"NULL:0\"} 4"));
  EXPECT_THAT(text, HasSubstr("uop_gpu_queue_depth{gpu=\"1\",device=\"NULL:1\"} 8"));
  EXPECT_THAT(text, HasSubstr("uop_gpu_healthy{gpu=\"0\",device=\"NULL:0\"} 1"));
  EXPECT_THAT(text, HasSubstr("uop_gpu_healthy{gpu=\"1\",device=\"NULL:1\"} 0"));
  EXPECT_THAT(text, HasSubstr("uop_gpu_failures_total{gpu=\"1\",device=\"NULL:1\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("uop_gpu_memory_bytes{gpu=\"1\",device=\"NULL:1\",kind=\"reserved\"} 300"));
  EXPECT_THAT(text,
              HasSubstr("uop_gpu_memory_bytes{gpu=\"0\",device=\"NULL:0\",kind=\"budget\"} 1000"));
  EXPECT_THAT(text, HasSubstr("uop_gpu_memory_bytes{gpu=\"0\",device=\"NULL:0\",kind=\"total\"}"));
  EXPECT_THAT(text, HasSubstr("uop_gpu_utilization_ratio{gpu=\"0\",device=\"NULL:0\"}"));
}

TEST(GpuCollector, UtilizationIsTheBusyShareSinceTheLastScrape) {
  GpuSet gpus{"NULL", 1, {}};
  int64_t busy = 0;
  GpuCollector c(gpus, nullptr, [&] {
    DeviceLoad l;
    l.device = "NULL:0";
    l.busy_ns = busy;
    return std::vector<DeviceLoad>{l};
  });
  c.Collect();
  absl::SleepFor(absl::Milliseconds(50));
  busy = 25'000'000;  // 25 ms busy in >= 50 ms
  auto families = c.Collect();
  double ratio = -1;
  for (const auto& f : families) {
    if (f.name == "uop_gpu_utilization_ratio") ratio = f.metric.at(0).gauge.value;
  }
  EXPECT_GT(ratio, 0.05);
  EXPECT_LE(ratio, 0.5);
  // Without loads there is still one series per GPU (at zero).
  GpuCollector empty(gpus, nullptr, nullptr);
  ServerMetrics metrics;
  metrics.AddCollectable(std::make_shared<GpuCollector>(gpus, nullptr, nullptr));
  EXPECT_THAT(metrics.Render(),
              HasSubstr("uop_gpu_executions_total{gpu=\"0\",device=\"NULL:0\"} 0"));
  EXPECT_THAT(metrics.Render(), Not(HasSubstr("kind=\"budget\"")));
}

}  // namespace
}  // namespace uop::server
