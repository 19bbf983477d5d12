// Process metrics in the names Prometheus client libraries use, so standard
// dashboards work: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_start_time_seconds.
//
// Read from /proc at scrape time; nothing runs in between.
#ifndef UOP_SERVER_PROCESS_METRICS_H_
#define UOP_SERVER_PROCESS_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace uop::server {

struct ProcessStats {
  double cpu_seconds = 0;  // user + system
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double open_fds = 0;
  double start_time_seconds = 0;  // Unix time
};

// Reads <proc_root>/self/stat, <proc_root>/stat (boot time) and
// <proc_root>/self/fd. Tests pass a fake tree instead of "/proc".
absl::StatusOr<ProcessStats> ReadProcessStats(const std::string& proc_root = "/proc");

class ProcessCollector final : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::string proc_root = "/proc") : proc_root_(std::move(proc_root)) {}

  // Empty when /proc cannot be read: a scrape then lacks these families rather
  // than reporting zeros that look real.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string proc_root_;
};

}  // namespace uop::server

#endif  // UOP_SERVER_PROCESS_METRICS_H_
