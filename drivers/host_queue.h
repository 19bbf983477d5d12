// HostQueue: a Queue whose commands run in order on one host thread.
//
// Exec calls Program::Run, Copy uses the allocator's CopyBetween (or memmove
// between host-visible buffers), Wait blocks this queue's thread on the
// signal (bounded by the command's or the queue's timeout), SignalValue sets
// the signal. The CPU and null devices use it as their queue; it also serves
// any backend whose work the host drives.
//
//   HostQueue q("CPU:0/compute", QueueOptions{});
//   RETURN_IF_ERROR(q.Submit(cmds));
//   RETURN_IF_ERROR(q.Wait(absl::Seconds(5)));
#ifndef UOP_DRIVERS_HOST_QUEUE_H_
#define UOP_DRIVERS_HOST_QUEUE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "drivers/host_signal.h"
#include "drivers/queue.h"

namespace uop {

class HostQueue final : public Queue {
 public:
  // `name` is the full queue name, e.g. "CPU:0/compute"; `device` the device's.
  HostQueue(std::string device, std::string name, const QueueOptions& options);
  // Finishes the work already submitted (every wait in it is bounded), then
  // stops the thread.
  ~HostQueue() override;

  const std::string& name() const override { return name_; }
  absl::Status Submit(std::shared_ptr<const CommandBuffer> commands) override;
  absl::Status Wait(absl::Duration timeout) override;

 private:
  void Loop();
  absl::Status Execute(const CommandBuffer& cb);

  const std::string name_;
  const QueueOptions options_;
  // Counts completed (or skipped after a failure) command buffers.
  HostSignal done_;

  std::mutex mu_;
  std::condition_variable work_;  // pending_ gained an entry, or stop_
  // Guarded by mu_:
  std::deque<std::shared_ptr<const CommandBuffer>> pending_;
  uint64_t submitted_ = 0;
  absl::Status error_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_HOST_QUEUE_H_
