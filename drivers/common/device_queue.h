// DeviceQueue: a Queue (drivers/queue.h) on a GPU engine that completes work
// in order and reports progress as a monotonically increasing fence (a KGSL
// context timestamp, an AQL completion count, an NV semaphore).
//
// The driver implements QueueEngine: it appends launches and copies to a
// batch of hardware packets, submits the batch (Flush → the fence the batch
// completes at), reads the completed fence, and blocks in the kernel until
// the fence advances (an interrupt-driven wait ioctl, bounded). DeviceQueue
// does the rest, the same way for every driver:
//
// * Submit returns at once. A command buffer whose Waits are already
//   satisfied and that finds the queue idle is encoded and submitted on the
//   caller's thread (the launch fast path); otherwise a worker thread takes it
//   in order.
// * WaitCommand: work recorded before it is flushed first, then the queue
//   waits on the host, bounded by the command's or the queue's timeout; a
//   timeout fails the queue with the signal's DeadlineExceeded.
// * SignalValue: the batch is flushed and the signal is set when the
//   device's fence reaches it (by the watcher thread, below), or at once when
//   nothing of this queue is still in flight.
// * The watcher thread waits for the oldest fence still expected, in the
//   kernel (interrupt-driven, in slices of at most kWatchSlice so it can
//   notice stop requests), sets every signal whose fence was reached and
//   advances the queue's done count. Host waits are condition-variable waits
//   on HostSignals: event-driven and exactly bounded, never a sleep loop.
// * A device fault (WaitFence or CompletedFence failing) fails the queue:
//   pending signals are not set, Wait returns the fault at once (it does not
//   run into its timeout), later Submits return FailedPrecondition.
//
//   DeviceQueue q("QCOM:0", "QCOM:0/compute", options, std::move(engine));
//   RETURN_IF_ERROR(q.Submit(cmds));
//   RETURN_IF_ERROR(q.Wait(absl::Seconds(5)));
//
// Thread safety: every method may be called from any thread. The engine is
// called by one thread at a time for AddExec/AddCopy/Flush (the executor) and
// by the watcher thread for CompletedFence/WaitFence, concurrently.
#ifndef UOP_DRIVERS_COMMON_DEVICE_QUEUE_H_
#define UOP_DRIVERS_COMMON_DEVICE_QUEUE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/host_signal.h"
#include "drivers/queue.h"

namespace uop {

class QueueEngine {
 public:
  virtual ~QueueEngine() = default;
  // Append to the batch being built. Errors (bad arguments the driver finds)
  // fail the queue.
  virtual absl::Status AddExec(const ExecCommand& c) = 0;
  virtual absl::Status AddCopy(const CopyCommand& c) = 0;
  // True when the batch holds work.
  virtual bool HasWork() const = 0;
  // Submits the batch (non-empty) and returns the fence value that says it
  // completed. Fences increase with every Flush.
  virtual absl::StatusOr<uint64_t> Flush() = 0;
  // The fence the device has completed so far.
  virtual absl::StatusOr<uint64_t> CompletedFence() = 0;
  // Returns when the completed fence may have reached `fence` or after about
  // `timeout` (the caller reads CompletedFence again). Errors only for device
  // faults.
  virtual absl::Status WaitFence(uint64_t fence, absl::Duration timeout) = 0;
};

struct DeviceQueueStats {
  uint64_t inline_submits = 0;  // command buffers encoded on the caller's thread
  uint64_t worker_submits = 0;  // ... on the worker thread
  uint64_t flushes = 0;         // engine batches submitted
  uint64_t host_waits = 0;      // WaitCommands that had to block
};

class DeviceQueue final : public Queue {
 public:
  // Longest single kernel wait of the watcher thread.
  static constexpr absl::Duration kWatchSlice = absl::Milliseconds(100);

  DeviceQueue(std::string device, std::string name, const QueueOptions& options,
              std::unique_ptr<QueueEngine> engine);
  // Finishes submitted work (every wait in it is bounded), waits up to the
  // queue's wait timeout for the device to complete it, then stops.
  ~DeviceQueue() override;

  const std::string& name() const override { return name_; }
  absl::Status Submit(std::shared_ptr<const CommandBuffer> commands) override;
  absl::Status Wait(absl::Duration timeout) override;

  DeviceQueueStats stats() const;
  QueueEngine& engine() { return *engine_; }

 private:
  struct Expectation {
    uint64_t fence;
    absl::InlinedVector<std::pair<Signal*, uint64_t>, 2> sets;
    uint64_t done = 0;  // the done count to publish (0: none)
  };

  void WorkerLoop();
  void WatcherLoop();
  // Runs one command buffer (the executor: one thread at a time). `id` is
  // its submission number.
  void Execute(const CommandBuffer& cb, uint64_t id);
  absl::Status ExecuteCommands(const CommandBuffer& cb);
  absl::Status FlushBatch();
  // Sets `signal` to `value` (or publishes `done`) once this queue's work so
  // far has completed.
  void AfterInFlight(Signal* signal, uint64_t value, uint64_t done);
  void Fail(const absl::Status& st);
  bool WaitsSatisfied(const CommandBuffer& cb) const;

  const std::string device_;
  const std::string name_;
  const QueueOptions options_;
  const std::unique_ptr<QueueEngine> engine_;
  HostSignal done_;  // command buffers completed (or skipped after a failure)

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // pending_ gained an entry, executor freed, or stop_
  std::condition_variable watch_cv_;  // expected_ gained an entry, or stop_
  // Guarded by mu_:
  std::deque<std::pair<std::shared_ptr<const CommandBuffer>, uint64_t>> pending_;
  bool executing_ = false;  // an executor holds the engine's batch
  uint64_t submitted_ = 0;
  std::deque<Expectation> expected_;
  uint64_t last_fence_ = 0;       // the fence of the last flush
  uint64_t completed_fence_ = 0;  // the last fence the watcher saw completed
  absl::Status error_;
  bool device_failed_ = false;  // the watcher saw a fault: nothing completes any more
  bool stop_ = false;           // no more Submits; the worker drains and exits
  bool watcher_stop_ = false;   // the watcher exits (set after the drain, bounded)
  DeviceQueueStats stats_;

  std::thread worker_;
  std::thread watcher_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_DEVICE_QUEUE_H_
