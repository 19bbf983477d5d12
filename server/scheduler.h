// Scheduler: the request queue of one model version and the executions of
// its instances, with dynamic batching, priorities, deadlines and limits.
//
//   Scheduler s(options, std::move(instances), &stats);
//   InferJob job; ...
//   absl::Status st = s.Infer(&job);   // blocks; job.outputs on success
//   s.Close();                          // refuse new jobs, wait for queued and running ones
//
// No dispatcher thread: the caller of Infer runs executions itself whenever
// an instance is idle (leader/follower). An uncontended request is run on
// the thread that received it, with no hand-off; under load the thread that
// gets an instance takes every joinable queued request into one batch (up to
// max_batch_size, waiting up to max_queue_delay for preferred sizes), runs
// it, wakes the owners, and keeps executing until its own request is done,
// then hands the instance to the next waiting request's thread.
//
// Deadlines and cancellation are checked when a batch is formed: an expired
// or cancelled request is answered DEADLINE_EXCEEDED / CANCELLED and never
// computed; a waiting request whose deadline passes leaves the queue at once.
// A full queue (requests or bytes) answers RESOURCE_EXHAUSTED.
#ifndef UOP_SERVER_SCHEDULER_H_
#define UOP_SERVER_SCHEDULER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/backend.h"
#include "server/infer_job.h"
#include "server/model_stats.h"

namespace uop::server {

struct SchedulerOptions {
  // 0: the model has no batch dimension; each request runs alone.
  int max_batch_size = 0;
  // Warm batch sizes (BatchBuckets); a batch runs in the smallest >= its rows.
  std::vector<int> buckets = {0};
  bool dynamic_batching = false;
  // A batch waits for this long after its oldest request for more rows, while
  // fewer than `preferred_batch` are queued (0: never wait).
  absl::Duration max_queue_delay = absl::ZeroDuration();
  int preferred_batch = 0;  // 0: max_batch_size
  int64_t max_queue_size = 1024;
  int64_t max_queue_bytes = int64_t{1} << 30;
  // Priority levels (1 is the highest); requests with 0 get default_priority.
  int priority_levels = 1;
  int default_priority = 1;
  std::string model_name;  // for messages
};

class Scheduler {
 public:
  // One backend object per instance (instance_group count).
  Scheduler(SchedulerOptions options, std::vector<std::unique_ptr<ModelBackend>> instances,
            ModelStats* stats);
  ~Scheduler();

  // Queues `job` and returns when it is done (its status is returned and also
  // left in job->status). Thread-safe.
  absl::Status Infer(InferJob* job);

  // Runs `job` on every instance right away, outside the queue (warm-up).
  absl::Status RunDirect(InferJob* job, int bucket);

  // Measured execution time per bucket (aligned with options().buckets), so
  // a batch runs in the fastest bucket that holds it (BestBucket). Call
  // before the first Infer.
  void SetBucketCosts(std::vector<int64_t> cost_ns) { bucket_cost_ns_ = std::move(cost_ns); }

  // New requests get UNAVAILABLE from now on; returns once every accepted
  // request has finished.
  void Close();

  int64_t queue_depth() const;
  int64_t in_flight() const;
  const SchedulerOptions& options() const { return options_; }
  ModelBackend& instance(int i) { return *instances_[i]; }
  int num_instances() const { return static_cast<int>(instances_.size()); }

 private:
  absl::Status Admit(InferJob* job);
  void RemoveQueued(InferJob* job);
  InferJob* FrontJob() const;
  void WaitForBatch(InferJob* self, std::unique_lock<std::mutex>& lock);
  // Pops the next batch (dropping expired/cancelled jobs) and its bucket.
  std::vector<InferJob*> TakeBatch(int* bucket);
  void Finish(InferJob* job, absl::Status status);

  const SchedulerOptions options_;
  std::vector<int64_t> bucket_cost_ns_;
  std::vector<std::unique_ptr<ModelBackend>> instances_;
  ModelStats* stats_;

  // std::mutex, not absl::Mutex: Debian's abseil is not built with
  // ThreadSanitizer annotations, so --config=tsan could not see it.
  // The private helpers above run with mu_ held.
  mutable std::mutex mu_;
  // ---- guarded by mu_ ----
  std::vector<std::deque<InferJob*>> queues_;  // by priority
  std::vector<int> idle_;                      // idle instance ids
  int64_t queued_ = 0;
  int64_t queued_rows_ = 0;
  int64_t queued_bytes_ = 0;
  int64_t in_flight_ = 0;
  bool closed_ = false;
  InferJob* filling_ = nullptr;  // executor waiting for rows
  std::condition_variable drained_;
};

}  // namespace uop::server

#endif  // UOP_SERVER_SCHEDULER_H_
