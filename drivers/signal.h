// Signal: a monotonic 64-bit timeline value shared between queues and host.
//
// The HCQ synchronization primitive: a queue sets a signal to N when its work
// up to a point is done; the host or another queue waits for value >= N.
// Every wait is bounded: a timeout is always given (finite, >= 0), and a
// wait that times out returns DeadlineExceeded naming the device, the waiter,
// the signal, the value waited for, the value seen and the queue expected to
// signal it. Implementations wake waiters promptly (condition variable,
// interrupt, eventfd); none sleeps in a polling loop.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Signal> done, device->CreateSignal("done"));
//   cmds->Exec(...).SignalValue(done.get(), 1);
//   RETURN_IF_ERROR(queue->Submit(cmds));
//   RETURN_IF_ERROR(done->Wait(1, absl::Seconds(5)));
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_SIGNAL_H_
#define UOP_DRIVERS_SIGNAL_H_

#include <cstdint>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace uop {

class Signal {
 public:
  Signal(std::string device, std::string name)
      : device_(std::move(device)), name_(std::move(name)) {}
  virtual ~Signal() = default;
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

  const std::string& device() const { return device_; }
  const std::string& name() const { return name_; }

  // The current value.
  virtual uint64_t value() const = 0;

  // Sets the value from the host and wakes waiters it satisfies. Values only
  // grow: a value below the current one is InvalidArgument (nothing changes);
  // an equal value is a no-op.
  virtual absl::Status Set(uint64_t value) = 0;

  // Blocks until value() >= `value` or `timeout` passes. timeout must be
  // finite and >= 0 (0 polls once), else InvalidArgument. `waiter` names who
  // waits ("host", "queue 'CPU:0/copy'") for the error message.
  virtual absl::Status Wait(uint64_t value, absl::Duration timeout,
                            absl::string_view waiter = "host") = 0;

  // The queue that most recently took work signaling this signal (set by
  // Queue::Submit), for error messages; empty when none.
  void set_expected_signaler(absl::string_view queue);
  std::string expected_signaler() const;

 protected:
  // The DeadlineExceeded error every implementation returns on timeout.
  absl::Status TimeoutError(uint64_t expected, uint64_t seen, absl::Duration timeout,
                            absl::string_view waiter) const;

 private:
  const std::string device_;
  const std::string name_;
  mutable std::mutex mu_;
  std::string signaler_;  // guarded by mu_
};

// InvalidArgument unless timeout is finite and >= 0 (waits are always bounded).
absl::Status ValidateWaitTimeout(absl::Duration timeout, absl::string_view what);

}  // namespace uop

#endif  // UOP_DRIVERS_SIGNAL_H_
