// A closed-loop load generator for uopd (or any KServe v2 gRPC server):
// `concurrency` clients, each on its own channel (its own TCP connection),
// send ModelInfer back to back for a fixed time and record every latency.
//
//   LoadOptions o;
//   o.target = "127.0.0.1:8001"; o.model = "add"; o.concurrency = 16;
//   ASSIGN_OR_RETURN(LoadResult r, RunLoad(o));
//   r.throughput(); r.Percentile(0.99);   // calls/s, nanoseconds
//
// Inputs come from the model's metadata: zeros (or `values`), variable dims
// 1 except the batch dim, which is `batch`. With `shm`, each client puts its
// inputs in its own POSIX shared-memory region and requests only name it.
// With `echo_bytes` > 0 the model is not asked: one FP32 input "INPUT0" of
// that many bytes is sent (for the bare echo server, tests/load/echo_server).
#ifndef UOP_TESTS_LOAD_LOADGEN_H_
#define UOP_TESTS_LOAD_LOADGEN_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace uop::load {

struct LoadOptions {
  std::string target = "127.0.0.1:8001";
  std::string model = "add";
  int concurrency = 1;
  absl::Duration duration = absl::Seconds(5);
  absl::Duration warmup = absl::Milliseconds(500);  // not recorded
  int64_t batch = 1;
  bool shm = false;
  int64_t echo_bytes = 0;
  std::map<std::string, double> values;  // input name -> constant fill
};

struct LoadResult {
  int64_t requests = 0;  // answered OK in the measured window
  int64_t errors = 0;
  std::map<std::string, int64_t> error_codes;  // "UNAVAILABLE: message" -> count
  double seconds = 0;
  std::vector<int64_t> latencies_ns;  // sorted
  int64_t request_bytes = 0;          // one request's tensor bytes
  int64_t all_ok = 0;                 // answered OK, warm-up included

  double throughput() const { return seconds > 0 ? requests / seconds : 0; }
  // The p-quantile latency in nanoseconds (0 <= p <= 1); 0 with no samples.
  int64_t Percentile(double p) const;
  // "requests=... errors=... throughput=.../s p50_us=... p90_us=... p99_us=..."
  std::string Summary() const;
};

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options);

}  // namespace uop::load

#endif  // UOP_TESTS_LOAD_LOADGEN_H_
