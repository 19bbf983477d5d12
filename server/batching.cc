#include "server/batching.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/data_type.h"

namespace uop::server {
namespace {

int64_t NowNs() { return absl::GetCurrentTimeNanos(); }

bool SameTrailingDims(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  return a.size() == b.size() && !a.empty() && std::equal(a.begin() + 1, a.end(), b.begin() + 1);
}

void SetTimes(absl::Span<InferJob* const> jobs, int64_t t0, int64_t t1, int64_t t2, int64_t t3,
              int bucket) {
  for (InferJob* job : jobs) {
    job->times.compute_input_ns = t1 - t0;
    job->times.compute_infer_ns = t2 - t1;
    job->times.compute_output_ns = t3 - t2;
    job->times.executed_batch = bucket;
  }
}

const OutputDestination* FindDestination(const InferJob& job, const std::string& name) {
  for (const OutputDestination& d : job.output_destinations)
    if (d.name == name) return &d;
  return nullptr;
}

}  // namespace

bool CanJoin(const InferJob& a, const InferJob& b) {
  if (a.batch <= 0 || b.batch <= 0 || a.inputs.size() != b.inputs.size()) return false;
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const InputTensor& x = a.inputs[i];
    const InputTensor& y = b.inputs[i];
    if (x.dtype == inference::TYPE_STRING || x.dtype != y.dtype || x.name != y.name) return false;
    if (!SameTrailingDims(x.shape, y.shape)) return false;
  }
  return true;
}

int BucketFor(const std::vector<int>& buckets, int64_t rows) {
  for (int b : buckets) {
    if (b >= rows) return b;
  }
  return -1;
}

int BestBucket(const std::vector<int>& buckets, const std::vector<int64_t>& cost_ns, int64_t rows) {
  int best = -1;
  int64_t best_cost = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i] < rows) continue;
    const int64_t cost = i < cost_ns.size() ? cost_ns[i] : 0;
    if (cost <= 0) return best >= 0 ? best : buckets[i];  // unmeasured: take the smallest fit
    if (best < 0 || cost < best_cost) {
      best = buckets[i];
      best_cost = cost;
    }
  }
  return best;
}

absl::Status RunBatch(ModelBackend& backend, absl::Span<InferJob* const> jobs, int bucket) {
  if (jobs.empty()) return absl::OkStatus();
  const int64_t t0 = NowNs();
  int64_t rows = 0;
  for (InferJob* job : jobs) rows += job->batch;
  bool has_strings = false;
  for (const InputTensor& in : jobs[0]->inputs) has_strings |= in.dtype == inference::TYPE_STRING;

  // One request filling its bucket (or a model without batching): no copies.
  if (jobs.size() == 1 && (bucket == 0 || rows == bucket || has_strings)) {
    InferJob* job = jobs[0];
    const int64_t t1 = NowNs();
    absl::Status status = backend.RunInto(job->inputs, job->output_destinations, &job->outputs);
    const int64_t t2 = NowNs();
    SetTimes(jobs, t0, t1, t2, t2, bucket == 0 || has_strings ? static_cast<int>(rows) : bucket);
    return status;
  }

  // Gather: concatenate along dim 0, zero-pad to `bucket` rows.
  const std::vector<InputTensor>& first = jobs[0]->inputs;
  std::vector<std::string> storage(first.size());
  std::vector<InputTensor> batched(first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    const int64_t row_bytes =
        rows > 0 ? static_cast<int64_t>(first[i].data.size()) / std::max<int64_t>(jobs[0]->batch, 1)
                 : 0;
    std::string& buf = storage[i];
    buf.resize(static_cast<size_t>(row_bytes * bucket));
    size_t pos = 0;
    for (InferJob* job : jobs) {
      const absl::string_view data = job->inputs[i].data;
      std::memcpy(buf.data() + pos, data.data(), data.size());
      pos += data.size();
    }
    std::memset(buf.data() + pos, 0, buf.size() - pos);
    batched[i].name = first[i].name;
    batched[i].dtype = first[i].dtype;
    batched[i].shape = first[i].shape;
    batched[i].shape[0] = bucket;
    batched[i].data = buf;
  }
  const int64_t t1 = NowNs();
  std::vector<OutputTensor> outputs;
  absl::Status status = backend.Run(batched, &outputs);
  const int64_t t2 = NowNs();
  if (!status.ok()) {
    SetTimes(jobs, t0, t1, t2, t2, bucket);
    return status;
  }

  // Scatter: each job gets its rows of every output.
  for (const OutputTensor& out : outputs) {
    if (out.shape.empty() || out.shape[0] != bucket || out.dtype == inference::TYPE_STRING) {
      status = absl::InternalError(absl::StrCat(
          "output '", out.name, "' has shape ", ShapeString(out.shape), " for a batch of ", bucket,
          " rows; a batching model's outputs must have the batch as dim 0"));
      SetTimes(jobs, t0, t1, t2, NowNs(), bucket);
      return status;
    }
  }
  for (InferJob* job : jobs) job->outputs.resize(outputs.size());
  for (size_t o = 0; o < outputs.size(); ++o) {
    const OutputTensor& out = outputs[o];
    const size_t row_bytes = out.data.size() / static_cast<size_t>(bucket);
    size_t pos = 0;
    for (InferJob* job : jobs) {
      OutputTensor& mine = job->outputs[o];
      mine.name = out.name;
      mine.dtype = out.dtype;
      mine.shape = out.shape;
      mine.shape[0] = job->batch;
      const size_t n = row_bytes * static_cast<size_t>(job->batch);
      // Straight into the job's shared memory when it has some for this
      // output (and the rows fit; otherwise the front end reports it).
      const OutputDestination* dest = FindDestination(*job, out.name);
      if (dest && n <= dest->bytes.size()) {
        std::memcpy(dest->bytes.data(), out.data.data() + pos, n);
        mine.data.clear();
        mine.in_destination = static_cast<int64_t>(n);
      } else {
        mine.data.assign(out.data.data() + pos, n);
        mine.in_destination = -1;
      }
      pos += n;
    }
  }
  SetTimes(jobs, t0, t1, t2, NowNs(), bucket);
  return absl::OkStatus();
}

}  // namespace uop::server
