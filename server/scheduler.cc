#include "server/scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/batching.h"

namespace uop::server {

Scheduler::Scheduler(SchedulerOptions options, std::vector<std::unique_ptr<ModelBackend>> instances,
                     ModelStats* stats)
    : options_(std::move(options)), instances_(std::move(instances)), stats_(stats) {
  queues_.resize(std::max(options_.priority_levels, 1));
  for (int i = static_cast<int>(instances_.size()) - 1; i >= 0; --i) idle_.push_back(i);
}

Scheduler::~Scheduler() { Close(); }

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
    if (!idle_.empty() && queued_ > 0) {
      const int instance = idle_.back();
      idle_.pop_back();
      WaitForBatch(job, lock);
      int bucket = 0;
      std::vector<InferJob*> batch = TakeBatch(&bucket);
      if (batch.empty()) {
        idle_.push_back(instance);
        continue;
      }
      const absl::Time start = absl::Now();
      int64_t rows = 0;
      for (InferJob* j : batch) {
        j->state = InferJob::State::kRunning;
        j->times.queue_ns = absl::ToInt64Nanoseconds(start - j->enqueued);
        rows += std::max<int64_t>(j->batch, 1);
      }
      stats_->SetQueueDepth(queued_);
      lock.unlock();
      absl::Status status = RunBatch(*instances_[instance], batch, bucket);
      stats_->RecordExecution(rows, bucket, batch[0]->times);
      lock.lock();
      idle_.push_back(instance);
      for (InferJob* j : batch) Finish(j, status);
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
  if (queued_ > 0 && !idle_.empty()) FrontJob()->cv.notify_one();
  stats_->SetQueueDepth(queued_);
  if (--in_flight_ == 0) drained_.notify_all();
  return job->status;
}

absl::Status Scheduler::RunDirect(InferJob* job, int bucket) {
  for (auto& instance : instances_) {
    InferJob* jobs[] = {job};
    absl::Status status = RunBatch(*instance, jobs, bucket);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

void Scheduler::Close() {
  std::unique_lock<std::mutex> lock(mu_);
  closed_ = true;
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
