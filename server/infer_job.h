// InferJob: one inference request on its way through the scheduler, in the
// server's own terms (no protobuf). The gRPC and HTTP front ends fill the
// inputs, the scheduler runs it (maybe batched with others), the front end
// turns outputs back into a response.
//
//   InferJob job;
//   job.inputs = {...};        // config input order, shapes include the batch dim
//   job.batch = 1;             // rows in dim 0 when the model batches, else 0
//   job.deadline = absl::Now() + absl::Milliseconds(50);
//   RETURN_IF_ERROR(scheduler.Infer(&job));  // job.outputs filled
#ifndef UOP_SERVER_INFER_JOB_H_
#define UOP_SERVER_INFER_JOB_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/backend.h"

namespace uop::server {

// Where the time of one request went, in nanoseconds (Triton's statistics).
struct JobTimes {
  int64_t queue_ns = 0;           // enqueued -> its batch started
  int64_t compute_input_ns = 0;   // gathering the batch's inputs
  int64_t compute_infer_ns = 0;   // the backend run
  int64_t compute_output_ns = 0;  // splitting the outputs
  int executed_batch = 0;         // rows of the execution it was part of (bucket)
};

struct InferJob {
  // ---- set by the front end ----
  std::vector<InputTensor> inputs;
  int64_t batch = 0;
  absl::Time deadline = absl::InfiniteFuture();
  // 0: the model's default level; 1 is the highest priority.
  uint32_t priority = 0;
  // Polled before the job is run; true drops it as CANCELLED.
  std::function<bool()> is_cancelled;
  // Outputs the front end wants written straight into its buffers (shared
  // memory); the buffers must stay valid until the job is done.
  std::vector<OutputDestination> output_destinations;

  // ---- set by the scheduler ----
  absl::Status status;
  std::vector<OutputTensor> outputs;
  JobTimes times;

  // ---- scheduler bookkeeping ----
  enum class State { kNew, kQueued, kRunning, kDone };
  State state = State::kNew;
  std::condition_variable cv;  // the scheduler's mutex guards the state
  absl::Time enqueued;
  int64_t bytes = 0;
  int level = 1;    // the priority queue it waits in (1 is the highest)
  int retries = 0;  // re-queues after a device fault (SchedulerOptions::max_retries)

  // Total input bytes.
  int64_t InputBytes() const {
    int64_t n = 0;
    for (const InputTensor& in : inputs) n += static_cast<int64_t>(in.data.size());
    return n;
  }
};

}  // namespace uop::server

#endif  // UOP_SERVER_INFER_JOB_H_
