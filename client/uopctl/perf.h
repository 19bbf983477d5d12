// The measurement behind `uopctl perf`, after Triton's perf_analyzer: for
// each concurrency level, that many threads send requests back to back; after
// a warm-up, one measurement window counts completed requests (throughput)
// and their client-side latencies (mean, p50, p90, p95, p99). The server's
// own view of the same window comes from ModelStatistics before and after:
// average time per request in the queue and in compute (input, infer,
// output), so client time splits into server time and everything else
// (network, serialization).
//
//   PerfOptions o{.concurrency = {1, 2, 4}, .window = absl::Seconds(5)};
//   ASSIGN_OR_RETURN(auto points, MeasurePerf(o, [&] { return SendOne(); }, stats_fn));
//   std::cout << FormatPerfTable(points);
#ifndef UOP_CLIENT_UOPCTL_PERF_H_
#define UOP_CLIENT_UOPCTL_PERF_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/grpc_service.pb.h"

namespace uop::uopctl {

struct PerfOptions {
  std::vector<int> concurrency = {1};
  absl::Duration window = absl::Seconds(5);
  absl::Duration warmup = absl::Milliseconds(500);
};

struct ServerTime {
  bool available = false;  // the server reported statistics for the window
  int64_t requests = 0;
  double total_us = 0;  // per request: success time (queue + compute + the rest)
  double queue_us = 0, compute_input_us = 0, compute_infer_us = 0, compute_output_us = 0;
};

struct PerfPoint {
  int concurrency = 0;
  int64_t requests = 0;  // completed in the window
  double seconds = 0;
  double throughput = 0;  // requests per second
  double avg_us = 0, p50_us = 0, p90_us = 0, p95_us = 0, p99_us = 0;
  ServerTime server;
};

// `infer` sends one request and waits for it (called from many threads).
// `stats` returns the model's cumulative statistics (null: no server time).
// The first failed request ends the measurement with its error.
using InferFn = std::function<absl::Status()>;
using StatsFn = std::function<absl::StatusOr<inference::ModelStatistics>()>;
absl::StatusOr<std::vector<PerfPoint>> MeasurePerf(const PerfOptions& options, const InferFn& infer,
                                                   const StatsFn& stats);

// Server time per request from two cumulative snapshots.
ServerTime ServerTimeBetween(const inference::ModelStatistics& before,
                             const inference::ModelStatistics& after);

// "1:8:2" -> {1, 3, 5, 7}; "4" -> {4}. InvalidArgument otherwise.
absl::StatusOr<std::vector<int>> ParseConcurrencyRange(const std::string& range);

// A table like perf_analyzer's summary, one row per level.
std::string FormatPerfTable(const std::vector<PerfPoint>& points);
// perf_analyzer's CSV columns (times in microseconds).
std::string PerfCsv(const std::vector<PerfPoint>& points);

}  // namespace uop::uopctl

#endif  // UOP_CLIENT_UOPCTL_PERF_H_
