// Running several requests as one batched execution of a model.
//
//   if (CanJoin(*jobs[0], *next)) jobs.push_back(next);
//   RunBatch(backend, jobs, /*bucket=*/8);   // each job gets its own rows back
//
// Requests join when their inputs agree in everything but the batch
// dimension (dim 0). Inputs are concatenated along dim 0 and zero-padded up
// to `bucket`, the warm batch size the model was compiled for; every output
// must then have `bucket` rows, which are split back per request. A single
// request that fills its bucket runs on its own buffers, with no copies, and
// its outputs go straight into its shared memory where it has some
// (InferJob::output_destinations); split rows are copied there too.
// BYTES tensors never join or pad (their rows have no fixed size).
#ifndef UOP_SERVER_BATCHING_H_
#define UOP_SERVER_BATCHING_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "server/backend.h"
#include "server/infer_job.h"

namespace uop::server {

// True when `b` may run in the same execution as `a` (both batch).
bool CanJoin(const InferJob& a, const InferJob& b);

// Runs `jobs` (joinable, batching models: job->batch > 0) as one execution of
// `bucket` rows; bucket 0 runs the single job as it is (no batch dimension).
// Sets each job's outputs and times; returns the execution's status (every
// job gets the same error on failure).
absl::Status RunBatch(ModelBackend& backend, absl::Span<InferJob* const> jobs, int bucket);

// The smallest bucket >= rows, or -1 when rows exceeds the largest.
int BucketFor(const std::vector<int>& buckets, int64_t rows);

// The bucket >= rows whose measured execution time (`cost_ns`, aligned with
// `buckets`; 0 = not measured) is lowest: compiled kernels are not monotonic
// in the batch size (a 2-row matmul can be slower than an 8-row one), so
// padding further is sometimes faster. Falls back to BucketFor without costs.
int BestBucket(const std::vector<int>& buckets, const std::vector<int64_t>& cost_ns, int64_t rows);

}  // namespace uop::server

#endif  // UOP_SERVER_BATCHING_H_
