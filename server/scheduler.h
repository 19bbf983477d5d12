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
//
// Several devices (multi-GPU): each instance runs on one device
// (SchedulerOptions::devices / instance_device). Work is bound to a device
// late: the model's queue holds requests no instance has taken yet, and an
// idle instance takes a batch only when its device is the healthy one with
// the least outstanding work (rows running on it), so a slow or busy GPU
// gets less and batches are formed per instance at the moment it is free.
// With two or more devices, an execution that fails with a device fault (IsDeviceFault:
// UNAVAILABLE, DEADLINE_EXCEEDED from a device wait, INTERNAL, ABORTED, DATA_LOSS, UNKNOWN) takes
// every instance of that device out of rotation and puts its requests back at the front of the
// queue for a healthy instance, at most max_retries times each; with no healthy device left they
// fail UNAVAILABLE naming the failed devices. ProbeUnhealthy (and a prober thread when
// probe_interval > 0) runs the probe on a failed device's idle instances
// and returns the device to rotation when every one of them succeeds.
#ifndef UOP_SERVER_SCHEDULER_H_
#define UOP_SERVER_SCHEDULER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
  // Devices the instances run on ("CPU", "CUDA:1") and, per instance, the
  // index into `devices` (empty: every instance on devices[0]).
  std::vector<std::string> devices = {"CPU"};
  std::vector<int> instance_device;
  // Times one request is put back in the queue after a device fault.
  int max_retries = 2;
  // How often the prober thread probes failed devices (0: no thread; call
  // ProbeUnhealthy yourself).
  absl::Duration probe_interval = absl::ZeroDuration();
};

// One device's share of a scheduler, for metrics and tests.
struct DeviceLoad {
  std::string device;
  int instances = 0;
  bool healthy = true;
  int64_t outstanding_rows = 0;  // rows of executions running on it now
  int64_t executions = 0;
  int64_t rows = 0;        // rows executed (padding excluded)
  int64_t busy_ns = 0;     // time its instances spent executing
  int64_t failures = 0;    // executions that failed with a device fault
  std::string last_error;  // the last device fault, "" when none
};

// True for the status codes an execution returns when its device (not the
// request) failed: UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, ABORTED,
// DATA_LOSS, UNKNOWN.
bool IsDeviceFault(const absl::Status& status);

// Runs one instance once (a warm-up sized execution) to see if its device works.
using InstanceProbe = std::function<absl::Status(ModelBackend& instance)>;

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

  // Installs the probe ProbeUnhealthy runs (before the first Infer).
  void SetProbe(InstanceProbe probe) { probe_ = std::move(probe); }

  // Probes every failed device whose instances are all idle; a device whose
  // instances all pass is back in rotation. Returns how many came back.
  int ProbeUnhealthy();

  // Per device, in options().devices order.
  std::vector<DeviceLoad> devices() const;

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
  // The idle instance of the healthy device with the least outstanding
  // rows, or -1.
  int PickInstance() const;
  // A device fault on `device`: out of rotation; `batch` is re-queued or failed.
  void OnDeviceFault(int device, const absl::Status& status, const std::vector<InferJob*>& batch);
  void Requeue(InferJob* job);
  bool AnyHealthy() const;
  std::string FailedDevices() const;
  void ProberLoop();

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
  std::vector<bool> busy_;                     // by instance
  std::vector<int> device_of_;                 // by instance
  std::vector<DeviceLoad> loads_;              // by device
  int64_t queued_ = 0;
  int64_t queued_rows_ = 0;
  int64_t queued_bytes_ = 0;
  int64_t in_flight_ = 0;
  bool closed_ = false;
  InferJob* filling_ = nullptr;  // executor waiting for rows
  std::condition_variable drained_;
  std::condition_variable prober_cv_;
  InstanceProbe probe_;
  std::thread prober_;
};

}  // namespace uop::server

#endif  // UOP_SERVER_SCHEDULER_H_
