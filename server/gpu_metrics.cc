#include "server/gpu_metrics.h"

#include <algorithm>
#include <string>

#include "absl/time/clock.h"
#include "drivers/device_registry.h"

namespace uop::server {
namespace {

using prometheus::MetricType;

prometheus::MetricFamily Family(const char* name, const char* help, MetricType type) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void Add(prometheus::MetricFamily& f, double value,
         std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

}  // namespace

GpuCollector::GpuCollector(GpuSet gpus, const GpuMemoryBudget* budget,
                           std::function<std::vector<DeviceLoad>()> loads)
    : gpus_(std::move(gpus)), budget_(budget), loads_(std::move(loads)) {
  last_scrape_ = absl::Now();
  last_busy_.assign(gpus_.count, 0);
}

std::vector<prometheus::MetricFamily> GpuCollector::Collect() const {
  auto executions =
      Family("uop_gpu_executions_total", "Model executions run on the GPU", MetricType::Counter);
  auto rows = Family("uop_gpu_rows_total", "Batch rows executed on the GPU", MetricType::Counter);
  auto busy = Family("uop_gpu_busy_seconds_total", "Time model instances on the GPU ran",
                     MetricType::Counter);
  auto util = Family("uop_gpu_utilization_ratio",
                     "Share of wall time the GPU ran model executions since the last scrape",
                     MetricType::Gauge);
  auto depth = Family("uop_gpu_queue_depth", "Batch rows dispatched to the GPU and not yet done",
                      MetricType::Gauge);
  auto healthy = Family("uop_gpu_healthy", "1 while the GPU is in rotation, 0 after a fault",
                        MetricType::Gauge);
  auto failures = Family("uop_gpu_failures_total", "Executions that failed with a device fault",
                         MetricType::Counter);
  auto memory = Family("uop_gpu_memory_bytes",
                       "GPU memory: used and total (the device), budget and reserved (by model "
                       "instances, --gpu-memory-budget-mb)",
                       MetricType::Gauge);
  std::vector<DeviceLoad> sum(gpus_.count);
  std::vector<bool> failed(gpus_.count, false);
  for (const DeviceLoad& load : loads_ ? loads_() : std::vector<DeviceLoad>{}) {
    for (int g = 0; g < gpus_.count; ++g) {
      if (load.device != gpus_.Name(g)) continue;
      DeviceLoad& s = sum[g];
      s.instances += load.instances;
      s.executions += load.executions;
      s.rows += load.rows;
      s.busy_ns += load.busy_ns;
      s.outstanding_rows += load.outstanding_rows;
      s.failures += load.failures;
      failed[g] = failed[g] || !load.healthy;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = absl::Now();
  const double wall = std::max(1e-9, absl::ToDoubleSeconds(now - last_scrape_));
  for (int g = 0; g < gpus_.count; ++g) {
    const std::string name = gpus_.Name(g);
    const std::vector<prometheus::ClientMetric::Label> labels = {{"gpu", std::to_string(g)},
                                                                 {"device", name}};
    const DeviceLoad& s = sum[g];
    Add(executions, static_cast<double>(s.executions), labels);
    Add(rows, static_cast<double>(s.rows), labels);
    Add(busy, static_cast<double>(s.busy_ns) / 1e9, labels);
    // Several instances overlap on one GPU: the share is of wall time, capped at 1.
    Add(util, std::clamp(static_cast<double>(s.busy_ns - last_busy_[g]) / 1e9 / wall, 0.0, 1.0),
        labels);
    last_busy_[g] = s.busy_ns;
    Add(depth, static_cast<double>(s.outstanding_rows), labels);
    Add(healthy, failed[g] ? 0.0 : 1.0, labels);
    Add(failures, static_cast<double>(s.failures), labels);
    auto with_kind = [&](const char* kind) {
      auto l = labels;
      l.push_back({"kind", kind});
      return l;
    };
    // Only devices something already opened: a scrape never initializes a GPU.
    if (s.instances > 0) {
      absl::StatusOr<Device*> device = DeviceRegistry::Global().Get(name);
      if (device.ok()) {
        MemoryInfo m = (*device)->memory_info();
        Add(memory, static_cast<double>(m.bytes_in_use), with_kind("used"));
        Add(memory, static_cast<double>(m.total_bytes), with_kind("total"));
      }
    }
    if (budget_ != nullptr) {
      Add(memory, static_cast<double>(budget_->budget(g)), with_kind("budget"));
      Add(memory, static_cast<double>(budget_->used(g)), with_kind("reserved"));
    }
  }
  last_scrape_ = now;
  return {executions, rows, busy, util, depth, healthy, failures, memory};
}

}  // namespace uop::server
