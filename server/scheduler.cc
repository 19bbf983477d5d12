#include "server/scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "runtime/profiler/clock.h"
#include "runtime/profiler/profiler.h"
#include "server/batching.h"

namespace uop::server {

bool IsDeviceFault(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

Scheduler::Scheduler(SchedulerOptions options, std::vector<std::unique_ptr<ModelBackend>> instances,
                     ModelStats* stats)
    : options_(std::move(options)), instances_(std::move(instances)), stats_(stats) {
  queues_.resize(std::max(options_.priority_levels, 1));
  std::vector<std::string> names = options_.devices;
  if (names.empty()) names = {"CPU"};
  loads_.resize(names.size());
  for (size_t d = 0; d < names.size(); ++d) loads_[d].device = names[d];
  busy_.assign(instances_.size(), false);
  device_of_.assign(instances_.size(), 0);
  for (size_t i = 0; i < instances_.size(); ++i) {
    int d = i < options_.instance_device.size() ? options_.instance_device[i] : 0;
    if (d < 0 || d >= static_cast<int>(loads_.size())) d = 0;  // model_manager checks placement
    device_of_[i] = d;
    ++loads_[d].instances;
  }
  if (options_.probe_interval > absl::ZeroDuration()) {
    prober_ = std::thread([this] { ProberLoop(); });
  }
}

Scheduler::~Scheduler() {
  Close();
  if (prober_.joinable()) prober_.join();
}

absl::Status Scheduler::Admit(InferJob* job) {
  const std::string& model = options_.model_name;
  if (closed_) {
    return absl::UnavailableError(
        absl::StrCat("model '", model, "' is being unloaded and takes no new requests"));
  }
  if (options_.max_batch_size > 0 && job->batch > options_.max_batch_size) {
    return absl::InvalidArgumentError(absl::StrCat("model '", model, "': batch size ", job->batch,
                                                   " exceeds max_batch_size ",
                                                   options_.max_batch_size));
  }
  const absl::Time now = absl::Now();
  if (job->deadline <= now) {
    return absl::DeadlineExceededError(
        absl::StrCat("model '", model, "': the request's deadline passed before it was queued"));
  }
  if (!AnyHealthy()) {
    return absl::UnavailableError(absl::StrCat(
        "model '", model, "': no healthy instance; failed devices: ", FailedDevices()));
  }
  if (queued_ >= options_.max_queue_size) {
    return absl::ResourceExhaustedError(absl::StrCat("model '", model, "': the queue is full (",
                                                     queued_, " requests waiting); retry later"));
  }
  job->bytes = job->InputBytes();
  if (queued_ > 0 && queued_bytes_ + job->bytes > options_.max_queue_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "model '", model, "': queued requests hold ", queued_bytes_, " bytes and this one ",
        job->bytes, "; the limit is ", options_.max_queue_bytes, " bytes; retry later"));
  }
  int level = job->priority == 0 ? options_.default_priority : static_cast<int>(job->priority);
  level = std::clamp(level, 1, static_cast<int>(queues_.size()));
  job->level = level;
  queues_[level - 1].push_back(job);
  job->state = InferJob::State::kQueued;
  job->enqueued = now;
  ++queued_;
  queued_rows_ += std::max<int64_t>(job->batch, 1);
  queued_bytes_ += job->bytes;
  return absl::OkStatus();
}

void Scheduler::RemoveQueued(InferJob* job) {
  for (auto& queue : queues_) {
    auto it = std::find(queue.begin(), queue.end(), job);
    if (it == queue.end()) continue;
    queue.erase(it);
    --queued_;
    queued_rows_ -= std::max<int64_t>(job->batch, 1);
    queued_bytes_ -= job->bytes;
    return;
  }
}

InferJob* Scheduler::FrontJob() const {
  for (const auto& queue : queues_) {
    if (!queue.empty()) return queue.front();
  }
  return nullptr;
}

void Scheduler::Finish(InferJob* job, absl::Status status) {
  job->status = std::move(status);
  job->state = InferJob::State::kDone;
  job->cv.notify_one();
}

void Scheduler::WaitForBatch(InferJob* self, std::unique_lock<std::mutex>& lock) {
  if (!options_.dynamic_batching || options_.max_queue_delay <= absl::ZeroDuration()) return;
  const int64_t target =
      options_.preferred_batch > 0 ? options_.preferred_batch : options_.max_batch_size;
  InferJob* oldest = FrontJob();
  if (oldest == nullptr) return;
  const absl::Time until = oldest->enqueued + options_.max_queue_delay;
  filling_ = self;
  while (queued_rows_ < target && !closed_ && absl::Now() < until) {
    self->cv.wait_until(lock, absl::ToChronoTime(until));
  }
  filling_ = nullptr;
}

std::vector<InferJob*> Scheduler::TakeBatch(int* bucket) {
  std::vector<InferJob*> batch;
  int64_t rows = 0;
  const absl::Time now = absl::Now();
  bool full = false;
  for (auto& queue : queues_) {
    for (auto it = queue.begin(); it != queue.end() && !full;) {
      InferJob* job = *it;
      const bool expired = job->deadline <= now;
      const bool cancelled = !expired && job->is_cancelled && job->is_cancelled();
      if (expired || cancelled) {
        it = queue.erase(it);
        --queued_;
        queued_rows_ -= std::max<int64_t>(job->batch, 1);
        queued_bytes_ -= job->bytes;
        Finish(job, expired ? absl::DeadlineExceededError(absl::StrCat(
                                  "model '", options_.model_name,
                                  "': the request's deadline passed while it was queued"))
                            : absl::CancelledError("the client cancelled the request"));
        continue;
      }
      const bool joins =
          batch.empty() || (options_.max_batch_size > 0 && CanJoin(*batch[0], *job) &&
                            rows + job->batch <= options_.max_batch_size);
      if (!joins) {
        full = true;
        break;
      }
      batch.push_back(job);
      rows += std::max<int64_t>(job->batch, 1);
      it = queue.erase(it);
      --queued_;
      queued_rows_ -= std::max<int64_t>(job->batch, 1);
      queued_bytes_ -= job->bytes;
      if (options_.max_batch_size == 0 || rows >= options_.max_batch_size) full = true;
    }
    if (full) break;
  }
  if (options_.max_batch_size == 0) {
    *bucket = 0;
  } else {
    *bucket = BestBucket(options_.buckets, bucket_cost_ns_, rows);
    if (*bucket < 0) *bucket = static_cast<int>(rows);
  }
  return batch;
}

absl::Status Scheduler::Infer(InferJob* job) {
  std::unique_lock<std::mutex> lock(mu_);
  job->status = Admit(job);
  if (!job->status.ok()) {
    job->state = InferJob::State::kDone;
    return job->status;
  }
  ++in_flight_;
  stats_->SetQueueDepth(queued_);
  if (filling_ != nullptr) filling_->cv.notify_one();
  while (job->state != InferJob::State::kDone) {
    const int instance = queued_ > 0 ? PickInstance() : -1;
    if (instance >= 0) {
      busy_[instance] = true;
      WaitForBatch(job, lock);
      int bucket = 0;
      std::vector<InferJob*> batch = TakeBatch(&bucket);
      if (batch.empty()) {
        busy_[instance] = false;
        continue;
      }
      const int device = device_of_[instance];
      DeviceLoad& load = loads_[device];
      const absl::Time start = absl::Now();
      int64_t rows = 0;
      for (InferJob* j : batch) {
        j->state = InferJob::State::kRunning;
        j->times.queue_ns = absl::ToInt64Nanoseconds(start - j->enqueued);
        rows += std::max<int64_t>(j->batch, 1);
      }
      load.outstanding_rows += rows;
      stats_->SetQueueDepth(queued_);
      const bool profiling = profiler::Enabled();
      if (profiling) {
        profiler::RecordCounter(profiler::CounterTrack(load.device, "uopd outstanding rows"),
                                load.outstanding_rows);
      }
      lock.unlock();
      const int64_t begin_ns = profiling ? profiler::NowNs() : 0;
      absl::Status status = RunBatch(*instances_[instance], batch, bucket);
      if (profiling) {
        profiler::RecordSpan(profiler::QueueTrack(load.device, "uopd executions"),
                             profiler::Name(options_.model_name), begin_ns, profiler::NowNs());
      }
      const int64_t ns = absl::ToInt64Nanoseconds(absl::Now() - start);
      // One device has nowhere to move work to: its errors go to the caller
      // as before. With several, a device fault moves the batch elsewhere.
      const bool fault = loads_.size() > 1 && !status.ok() && IsDeviceFault(status);
      if (!fault) stats_->RecordExecution(rows, bucket, batch[0]->times);
      lock.lock();
      busy_[instance] = false;
      load.outstanding_rows -= rows;
      load.busy_ns += ns;
      if (fault) {
        OnDeviceFault(device, status, batch);
      } else {
        ++load.executions;
        load.rows += rows;
        for (InferJob* j : batch) Finish(j, status);
      }
      continue;
    }
    if (job->state == InferJob::State::kQueued && job->deadline != absl::InfiniteFuture()) {
      job->cv.wait_until(lock, absl::ToChronoTime(job->deadline));
      if (job->state == InferJob::State::kQueued && absl::Now() >= job->deadline) {
        RemoveQueued(job);
        Finish(job, absl::DeadlineExceededError(
                        absl::StrCat("model '", options_.model_name,
                                     "': the request's deadline passed while it was queued")));
      }
    } else {
      job->cv.wait(lock);
    }
  }
  // Hand an idle instance to the next waiting request's thread.
  if (queued_ > 0 && PickInstance() >= 0) FrontJob()->cv.notify_one();
  stats_->SetQueueDepth(queued_);
  if (--in_flight_ == 0) drained_.notify_all();
  return job->status;
}

absl::Status Scheduler::RunDirect(InferJob* job, int bucket) {
  for (size_t i = 0; i < instances_.size(); ++i) {
    InferJob* jobs[] = {job};
    absl::Status status = RunBatch(*instances_[i], jobs, bucket);
    if (!status.ok()) {
      if (loads_.size() < 2) return status;
      return absl::Status(status.code(),
                          absl::StrCat("instance ", i, " on ", loads_[device_of_[i]].device, ": ",
                                       status.message()));
    }
  }
  return absl::OkStatus();
}

int Scheduler::PickInstance() const {
  int best = -1;
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (busy_[i]) continue;
    const DeviceLoad& load = loads_[device_of_[i]];
    if (!load.healthy) continue;
    if (best < 0) {
      best = static_cast<int>(i);
      continue;
    }
    const DeviceLoad& b = loads_[device_of_[best]];
    // Least outstanding work; on a tie the device that has done less, so
    // equal devices share the load instead of the first one taking it all.
    if (load.outstanding_rows < b.outstanding_rows ||
        (load.outstanding_rows == b.outstanding_rows && load.rows < b.rows)) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

bool Scheduler::AnyHealthy() const {
  if (instances_.empty()) return true;  // nothing to fail (tests build schedulers bare)
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (loads_[device_of_[i]].healthy) return true;
  }
  return false;
}

std::string Scheduler::FailedDevices() const {
  std::vector<std::string> failed;
  for (const DeviceLoad& load : loads_) {
    if (!load.healthy) failed.push_back(absl::StrCat(load.device, " (", load.last_error, ")"));
  }
  return failed.empty() ? "none" : absl::StrJoin(failed, ", ");
}

void Scheduler::Requeue(InferJob* job) {
  const int level = std::clamp(job->level, 1, static_cast<int>(queues_.size()));
  queues_[level - 1].push_front(job);  // it waited longest: first again
  job->state = InferJob::State::kQueued;
  ++queued_;
  queued_rows_ += std::max<int64_t>(job->batch, 1);
  queued_bytes_ += job->bytes;
}

void Scheduler::OnDeviceFault(int device, const absl::Status& status,
                              const std::vector<InferJob*>& batch) {
  DeviceLoad& load = loads_[device];
  ++load.failures;
  load.last_error = std::string(status.message());
  load.healthy = false;
  const bool any = AnyHealthy();
  for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
    InferJob* j = *it;
    if (any && j->retries < options_.max_retries) {
      ++j->retries;
      Requeue(j);
      continue;
    }
    Finish(j, absl::UnavailableError(absl::StrCat(
                  "model '", options_.model_name, "': execution failed on ", load.device, ": ",
                  status.message(),
                  any ? absl::StrCat(" (after ", j->retries, " retries on other devices)")
                      : absl::StrCat("; no healthy instance left (failed devices: ",
                                     FailedDevices(), ")"))));
  }
  if (!any) {
    // Nothing can run what is queued: answer it now instead of at its deadline.
    for (auto& queue : queues_) {
      for (InferJob* j : queue) {
        Finish(j, absl::UnavailableError(absl::StrCat("model '", options_.model_name,
                                                      "': no healthy instance left (failed "
                                                      "devices: ",
                                                      FailedDevices(), ")")));
      }
      queue.clear();
    }
    queued_ = queued_rows_ = queued_bytes_ = 0;
  } else if (queued_ > 0 && PickInstance() >= 0) {
    FrontJob()->cv.notify_one();
  }
  stats_->SetQueueDepth(queued_);
}

int Scheduler::ProbeUnhealthy() {
  int revived = 0;
  for (size_t d = 0; d < loads_.size(); ++d) {
    std::vector<int> mine;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (loads_[d].healthy || closed_ || !probe_) continue;
      bool idle = true;
      for (size_t i = 0; i < instances_.size(); ++i) {
        if (device_of_[i] != static_cast<int>(d)) continue;
        idle &= !busy_[i];
        mine.push_back(static_cast<int>(i));
      }
      if (!idle || mine.empty()) continue;
      for (int i : mine) busy_[i] = true;  // nobody picks them while probed
    }
    absl::Status status = absl::OkStatus();
    for (int i : mine) {
      status = probe_(*instances_[i]);
      if (!status.ok()) break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (int i : mine) busy_[i] = false;
    if (status.ok()) {
      loads_[d].healthy = true;
      ++revived;
    } else {
      loads_[d].last_error = std::string(status.message());
    }
  }
  return revived;
}

void Scheduler::ProberLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!closed_) {
    prober_cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.probe_interval));
    if (closed_) break;
    bool any_failed = false;
    for (const DeviceLoad& load : loads_) any_failed |= !load.healthy;
    if (!any_failed) continue;
    lock.unlock();
    ProbeUnhealthy();
    lock.lock();
  }
}

std::vector<DeviceLoad> Scheduler::devices() const {
  std::lock_guard<std::mutex> lock(mu_);
  return loads_;
}

void Scheduler::Close() {
  std::unique_lock<std::mutex> lock(mu_);
  closed_ = true;
  prober_cv_.notify_all();
  if (filling_ != nullptr) filling_->cv.notify_one();
  drained_.wait(lock, [this] { return in_flight_ == 0; });
}

int64_t Scheduler::queue_depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_;
}

int64_t Scheduler::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

}  // namespace uop::server
