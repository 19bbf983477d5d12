// Queue: an in-order stream of device work (HCQ's compute/copy queue).
//
// Submit hands over a CommandBuffer and returns at once; the work runs in
// submission order. Wait blocks (bounded) until everything submitted so far
// has finished. A command that fails at execution time (a wait that timed
// out, a copy the allocator refused) fails the queue: later work is skipped,
// later Submits return FailedPrecondition, and Wait returns the first error.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Queue> q, device->CreateQueue("compute"));
//   RETURN_IF_ERROR(q->Submit(cmds));
//   RETURN_IF_ERROR(q->Wait(absl::Seconds(5)));
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_QUEUE_H_
#define UOP_DRIVERS_QUEUE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "drivers/command_buffer.h"

namespace uop {

struct QueueOptions {
  // Default bound of WaitCommands recorded without their own timeout.
  absl::Duration wait_timeout = absl::Seconds(30);
};

class Queue {
 public:
  virtual ~Queue() = default;

  // "CPU:0/compute": the device and the queue's own name.
  virtual const std::string& name() const = 0;

  // Validates and enqueues. InvalidArgument for a bad recording (the queue is
  // unaffected), FailedPrecondition once the queue has failed.
  virtual absl::Status Submit(std::shared_ptr<const CommandBuffer> commands) = 0;

  // Waits until all work submitted before the call has completed, at most
  // `timeout` (finite). Returns the queue's first execution error if any,
  // DeadlineExceeded (naming queue and progress) on timeout.
  virtual absl::Status Wait(absl::Duration timeout) = 0;
};

}  // namespace uop

#endif  // UOP_DRIVERS_QUEUE_H_
