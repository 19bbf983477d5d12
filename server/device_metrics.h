// Prometheus metrics of the devices and the kernel compiler, read at scrape
// time (nothing on the request path):
//
//   uop_device_memory_bytes{device="CPU:0",kind="in_use|peak|cached|total"}
//   uop_device_busy_seconds_total{device}    model executions' run time
//   uop_device_utilization_ratio{device}     busy share since the last scrape
//   uop_kernel_compiles_total                kernels compiled (cache misses)
//   uop_kernel_cache_hits_total{cache="memory|disk"}
//
//   auto devices = std::make_shared<DeviceCollector>(engine, std::vector<std::string>{"CPU:0"});
//   metrics.AddCollectable(devices);
//   devices->AddBusy("CPU:0", ns);   // by whoever ran something on the device
#ifndef UOP_SERVER_DEVICE_METRICS_H_
#define UOP_SERVER_DEVICE_METRICS_H_

#include <prometheus/collectable.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "runtime/engine/engine.h"

namespace uop::server {

class DeviceCollector final : public prometheus::Collectable {
 public:
  // `engine` may be null (no compiler metrics).
  DeviceCollector(std::shared_ptr<Engine> engine, std::vector<std::string> devices);

  // Adds `ns` of busy time on device `index` (into `devices`).
  void AddBusy(size_t index, int64_t ns) {
    if (index < busy_.size()) busy_[index]->fetch_add(ns, std::memory_order_relaxed);
  }

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::shared_ptr<Engine> engine_;
  std::vector<std::string> devices_;
  std::vector<std::unique_ptr<std::atomic<int64_t>>> busy_;
  mutable std::mutex mu_;  // guards the last scrape
  mutable absl::Time last_scrape_;
  mutable std::vector<int64_t> last_busy_;
};

}  // namespace uop::server

#endif  // UOP_SERVER_DEVICE_METRICS_H_
