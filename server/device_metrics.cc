#include "server/device_metrics.h"

#include <prometheus/metric_family.h>

#include "absl/time/clock.h"
#include "drivers/device_registry.h"

namespace uop::server {
namespace {

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void AddSample(prometheus::MetricFamily& f, double value,
               std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

}  // namespace

DeviceCollector::DeviceCollector(std::shared_ptr<Engine> engine, std::vector<std::string> devices)
    : engine_(std::move(engine)), devices_(std::move(devices)) {
  for (size_t i = 0; i < devices_.size(); ++i) {
    busy_.push_back(std::make_unique<std::atomic<int64_t>>(0));
  }
  last_scrape_ = absl::Now();
  last_busy_.assign(devices_.size(), 0);
}

std::vector<prometheus::MetricFamily> DeviceCollector::Collect() const {
  using prometheus::MetricType;
  auto memory = Family("uop_device_memory_bytes",
                       "Device memory by kind: in_use, peak (of in_use), cached (pooled), total",
                       MetricType::Gauge);
  auto busy = Family("uop_device_busy_seconds_total", "Time model executions ran on the device",
                     MetricType::Counter);
  auto util = Family("uop_device_utilization_ratio",
                     "Share of wall time the device ran model executions since the last scrape",
                     MetricType::Gauge);
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = absl::Now();
  const double wall = std::max(1e-9, absl::ToDoubleSeconds(now - last_scrape_));
  for (size_t i = 0; i < devices_.size(); ++i) {
    const std::string& name = devices_[i];
    absl::StatusOr<Device*> device = DeviceRegistry::Global().Get(name);
    if (device.ok()) {
      MemoryInfo m = (*device)->memory_info();
      AddSample(memory, static_cast<double>(m.bytes_in_use),
                {{"device", name}, {"kind", "in_use"}});
      AddSample(memory, static_cast<double>(m.peak_bytes_in_use),
                {{"device", name}, {"kind", "peak"}});
      AddSample(memory, static_cast<double>(m.cached_bytes),
                {{"device", name}, {"kind", "cached"}});
      AddSample(memory, static_cast<double>(m.total_bytes), {{"device", name}, {"kind", "total"}});
    }
    const int64_t b = busy_[i]->load(std::memory_order_relaxed);
    AddSample(busy, static_cast<double>(b) / 1e9, {{"device", name}});
    AddSample(util, std::min(1.0, static_cast<double>(b - last_busy_[i]) / 1e9 / wall),
              {{"device", name}});
    last_busy_[i] = b;
  }
  last_scrape_ = now;
  std::vector<prometheus::MetricFamily> out = {std::move(memory), std::move(busy), std::move(util)};
  if (engine_) {
    const EngineStats s = engine_->stats();
    auto compiles = Family("uop_kernel_compiles_total", "Kernels compiled (compile-cache misses)",
                           MetricType::Counter);
    AddSample(compiles, static_cast<double>(s.compiler.compiled), {});
    auto hits = Family("uop_kernel_cache_hits_total",
                       "Kernels found compiled, by cache (memory or disk)", MetricType::Counter);
    AddSample(hits, static_cast<double>(s.compiler.memory_hits), {{"cache", "memory"}});
    AddSample(hits, static_cast<double>(s.compiler.disk_hits), {{"cache", "disk"}});
    auto runs =
        Family("uop_kernels_run_total", "Kernel launches by the engine", MetricType::Counter);
    AddSample(runs, static_cast<double>(s.kernels_run), {});
    out.push_back(std::move(compiles));
    out.push_back(std::move(hits));
    out.push_back(std::move(runs));
  }
  return out;
}

}  // namespace uop::server
