// Per-GPU Prometheus metrics, read at scrape time from the schedulers'
// DeviceLoad (nothing on the request path), labelled with the GPU ordinal
// and the device name:
//
//   uop_gpu_executions_total{gpu="1",device="CUDA:1"}  model executions run on it
//   uop_gpu_rows_total{gpu,device}                     batch rows executed
//   uop_gpu_busy_seconds_total{gpu,device}             time its instances ran
//   uop_gpu_utilization_ratio{gpu,device}              busy share since the last scrape
//   uop_gpu_queue_depth{gpu,device}                    rows dispatched to it, not yet done
//   uop_gpu_healthy{gpu,device}                        0 while out of rotation
//   uop_gpu_failures_total{gpu,device}                 executions lost to device faults
//   uop_gpu_memory_bytes{gpu,device,kind="used|total|budget|reserved"}
//
//   auto gpus = std::make_shared<GpuCollector>(gpu_set, &budget, [&] { return AllLoads(); });
//   metrics.AddCollectable(gpus);
#ifndef UOP_SERVER_GPU_METRICS_H_
#define UOP_SERVER_GPU_METRICS_H_

#include <prometheus/collectable.h>

#include <functional>
#include <mutex>
#include <vector>

#include "absl/time/time.h"
#include "server/device_placement.h"
#include "server/scheduler.h"

namespace uop::server {

class GpuCollector final : public prometheus::Collectable {
 public:
  // `loads` returns the DeviceLoad of every loaded model version (the
  // collector sums them per device); `budget` may be null.
  GpuCollector(GpuSet gpus, const GpuMemoryBudget* budget,
               std::function<std::vector<DeviceLoad>()> loads);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const GpuSet gpus_;
  const GpuMemoryBudget* budget_;
  std::function<std::vector<DeviceLoad>()> loads_;
  mutable std::mutex mu_;  // guards the last scrape
  mutable absl::Time last_scrape_;
  mutable std::vector<int64_t> last_busy_;
};

}  // namespace uop::server

#endif  // UOP_SERVER_GPU_METRICS_H_
