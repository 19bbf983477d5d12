#include "server/model_stats.h"

#include "absl/time/clock.h"

namespace uop::server {
namespace {

void Add(inference::StatisticDuration* d, uint64_t count, int64_t ns) {
  d->set_count(d->count() + count);
  d->set_ns(d->ns() + static_cast<uint64_t>(ns > 0 ? ns : 0));
}

}  // namespace

ModelStats::ModelStats(std::string name, std::string version, std::shared_ptr<ModelMetrics> metrics)
    : name_(std::move(name)), version_(std::move(version)), metrics_(std::move(metrics)) {}

void ModelStats::RecordExecution(int64_t rows, int bucket, const JobTimes& times) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++execution_count_;
    inference::InferBatchStatistics& b = batches_[bucket];
    b.set_batch_size(bucket);
    Add(b.mutable_compute_input(), 1, times.compute_input_ns);
    Add(b.mutable_compute_infer(), 1, times.compute_infer_ns);
    Add(b.mutable_compute_output(), 1, times.compute_output_ns);
  }
  if (metrics_) metrics_->OnExecution(rows, times);
  if (busy_hook_) busy_hook_(times.compute_infer_ns);
}

void ModelStats::RecordRequest(const InferJob& job, const absl::Status& status,
                               int64_t request_ns) {
  const uint64_t count = job.batch > 0 ? static_cast<uint64_t>(job.batch) : 1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (status.ok()) {
      Add(infer_.mutable_success(), 1, request_ns);
      Add(infer_.mutable_queue(), 1, job.times.queue_ns);
      Add(infer_.mutable_compute_input(), 1, job.times.compute_input_ns);
      Add(infer_.mutable_compute_infer(), 1, job.times.compute_infer_ns);
      Add(infer_.mutable_compute_output(), 1, job.times.compute_output_ns);
      inference_count_ += count;
      last_inference_ms_ = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
    } else {
      Add(infer_.mutable_fail(), 1, request_ns);
    }
  }
  if (metrics_) metrics_->OnRequest(status.ok(), count, request_ns, job.times);
}

void ModelStats::SetQueueDepth(int64_t depth) {
  if (metrics_) metrics_->SetPending(depth);
}

void ModelStats::Fill(inference::ModelStatistics* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out->set_name(name_);
  out->set_version(version_);
  out->set_last_inference(last_inference_ms_);
  out->set_inference_count(inference_count_);
  out->set_execution_count(execution_count_);
  *out->mutable_inference_stats() = infer_;
  for (const auto& [bucket, stats] : batches_) *out->add_batch_stats() = stats;
}

}  // namespace uop::server
