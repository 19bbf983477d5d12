// Per-model-version statistics: Triton's ModelStatistics (the statistics
// extension) and the Prometheus series behind nv_inference_* and uop_*.
//
//   ModelStats stats("add", "1", metrics.ForModel("add", "1"));
//   stats.RecordExecution(batch_jobs, bucket);   // by the scheduler, per execution
//   stats.RecordRequest(job, status, end_ns);    // by the front end, per request
//   stats.Fill(&proto);                          // ModelStatistics RPC
#ifndef UOP_SERVER_MODEL_STATS_H_
#define UOP_SERVER_MODEL_STATS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "proto/grpc_service.pb.h"
#include "server/infer_job.h"
#include "server/metrics.h"

namespace uop::server {

class ModelStats {
 public:
  // `metrics` may be null (tests, warm-up).
  ModelStats(std::string name, std::string version, std::shared_ptr<ModelMetrics> metrics);

  // One execution of `rows` real rows (1 for a non-batching model) in a
  // bucket of `bucket`, taking the times in `times`.
  void RecordExecution(int64_t rows, int bucket, const JobTimes& times);

  // A request finished: success (inference count += its batch) or failure.
  // `request_ns` is the whole time in the server (receipt to response ready).
  void RecordRequest(const InferJob& job, const absl::Status& status, int64_t request_ns);

  // Requests waiting in the queue right now (a gauge).
  void SetQueueDepth(int64_t depth);

  void Fill(inference::ModelStatistics* out) const;

  // Called with each execution's run time (device utilization metrics).
  void SetBusyHook(std::function<void(int64_t)> hook) { busy_hook_ = std::move(hook); }

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }

 private:
  const std::string name_;
  const std::string version_;
  std::shared_ptr<ModelMetrics> metrics_;
  std::function<void(int64_t)> busy_hook_;

  mutable std::mutex mu_;  // guards what follows
  inference::InferStatistics infer_;
  std::map<int, inference::InferBatchStatistics> batches_;
  uint64_t inference_count_ = 0;
  uint64_t execution_count_ = 0;
  uint64_t last_inference_ms_ = 0;
};

}  // namespace uop::server

#endif  // UOP_SERVER_MODEL_STATS_H_
