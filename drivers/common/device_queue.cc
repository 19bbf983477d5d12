#include "drivers/common/device_queue.h"

#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {

DeviceQueue::DeviceQueue(std::string device, std::string name, const QueueOptions& options,
                         std::unique_ptr<QueueEngine> engine)
    : device_(std::move(device)),
      name_(std::move(name)),
      options_(options),
      engine_(std::move(engine)),
      done_(device_, name_ + "/done", 0) {
  done_.set_expected_signaler(name_);
  worker_ = std::thread([this] { WorkerLoop(); });
  watcher_ = std::thread([this] { WatcherLoop(); });
}

DeviceQueue::~DeviceQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  worker_.join();
  uint64_t target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    target = submitted_;
  }
  // Bounded: a device that never finishes cannot hang the destructor.
  (void)done_.Wait(target, options_.wait_timeout, absl::StrCat("destroying queue '", name_, "'"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    watcher_stop_ = true;
  }
  watch_cv_.notify_all();
  watcher_.join();
}

bool DeviceQueue::WaitsSatisfied(const CommandBuffer& cb) const {
  for (const Command& c : cb.commands()) {
    if (const auto* w = std::get_if<WaitCommand>(&c)) {
      if (w->signal->value() < w->value) return false;
    }
  }
  return true;
}

absl::Status DeviceQueue::Submit(std::shared_ptr<const CommandBuffer> commands) {
  if (commands == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("queue '", name_, "': null command buffer"));
  }
  RETURN_IF_ERROR(commands->Validate(name_));
  for (const Command& c : commands->commands()) {
    if (const auto* s = std::get_if<SignalCommand>(&c)) s->signal->set_expected_signaler(name_);
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (!error_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue '", name_, "' failed earlier: ", error_.message()));
  }
  if (stop_) return absl::FailedPreconditionError(absl::StrCat("queue '", name_, "' is stopping"));
  const uint64_t id = ++submitted_;
  if (pending_.empty() && !executing_ && WaitsSatisfied(*commands)) {
    // The fast path: nothing to wait for, nobody ahead of us.
    executing_ = true;
    ++stats_.inline_submits;
    lock.unlock();
    Execute(*commands, id);
    lock.lock();
    executing_ = false;
    if (!pending_.empty()) work_cv_.notify_all();
    return absl::OkStatus();
  }
  pending_.emplace_back(std::move(commands), id);
  lock.unlock();
  work_cv_.notify_all();
  return absl::OkStatus();
}

absl::Status DeviceQueue::Wait(absl::Duration timeout) {
  RETURN_IF_ERROR(ValidateWaitTimeout(timeout, absl::StrCat("queue '", name_, "'")));
  uint64_t target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    target = submitted_;
  }
  RETURN_IF_ERROR(done_.Wait(target, timeout, absl::StrCat("host waiting on queue '", name_, "'")));
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

DeviceQueueStats DeviceQueue::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void DeviceQueue::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [this] {
      return (!pending_.empty() && !executing_) || (stop_ && pending_.empty() && !executing_);
    });
    if (pending_.empty()) return;  // stopping and drained
    auto [cb, id] = std::move(pending_.front());
    pending_.pop_front();
    executing_ = true;
    ++stats_.worker_submits;
    lock.unlock();
    Execute(*cb, id);
    cb.reset();
    lock.lock();
    executing_ = false;
  }
}

void DeviceQueue::Execute(const CommandBuffer& cb, uint64_t id) {
  bool failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    failed = !error_.ok();
  }
  if (!failed) {
    absl::Status st = ExecuteCommands(cb);
    if (!st.ok()) Fail(st);
  }
  AfterInFlight(nullptr, 0, id);
}

absl::Status DeviceQueue::ExecuteCommands(const CommandBuffer& cb) {
  const std::string waiter = absl::StrCat("queue '", name_, "'");
  for (const Command& c : cb.commands()) {
    if (const auto* e = std::get_if<ExecCommand>(&c)) {
      RETURN_IF_ERROR(engine_->AddExec(*e));
    } else if (const auto* cp = std::get_if<CopyCommand>(&c)) {
      RETURN_IF_ERROR(engine_->AddCopy(*cp));
    } else if (const auto* w = std::get_if<WaitCommand>(&c)) {
      if (w->signal->value() >= w->value) continue;
      // Start what was recorded before the wait, then block on the host.
      RETURN_IF_ERROR(FlushBatch());
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.host_waits;
      }
      RETURN_IF_ERROR(
          w->signal->Wait(w->value, w->timeout.value_or(options_.wait_timeout), waiter));
    } else if (const auto* s = std::get_if<SignalCommand>(&c)) {
      RETURN_IF_ERROR(FlushBatch());
      AfterInFlight(s->signal, s->value, 0);
    }
  }
  return FlushBatch();
}

absl::Status DeviceQueue::FlushBatch() {
  if (!engine_->HasWork()) return absl::OkStatus();
  ASSIGN_OR_RETURN(uint64_t fence, engine_->Flush());
  std::lock_guard<std::mutex> lock(mu_);
  last_fence_ = fence;
  ++stats_.flushes;
  return absl::OkStatus();
}

void DeviceQueue::AfterInFlight(Signal* signal, uint64_t value, uint64_t done) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool device_failed = device_failed_;
  if (!device_failed && last_fence_ > completed_fence_) {
    if (expected_.empty() || expected_.back().fence != last_fence_) {
      expected_.push_back(Expectation{last_fence_, {}, 0});
    }
    Expectation& e = expected_.back();
    if (signal != nullptr) e.sets.emplace_back(signal, value);
    if (done > e.done) e.done = done;
    lock.unlock();
    watch_cv_.notify_all();
    return;
  }
  lock.unlock();
  // Nothing of this queue is in flight (or the device is gone: the signals
  // of lost work are never set, but waiters on the queue wake).
  if (signal != nullptr && !device_failed) (void)signal->Set(value);
  if (done > done_.value()) (void)done_.Set(done);
}

void DeviceQueue::Fail(const absl::Status& st) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.ok()) error_ = st;
}

void DeviceQueue::WatcherLoop() {
  for (;;) {
    uint64_t target;
    {
      std::unique_lock<std::mutex> lock(mu_);
      watch_cv_.wait(lock, [this] { return watcher_stop_ || !expected_.empty(); });
      if (watcher_stop_) return;
      target = expected_.front().fence;
    }
    absl::StatusOr<uint64_t> completed = engine_->CompletedFence();
    if (completed.ok() && *completed < target) {
      absl::Status st = engine_->WaitFence(target, kWatchSlice);
      completed = st.ok() ? engine_->CompletedFence() : absl::StatusOr<uint64_t>(st);
    }
    std::vector<Expectation> ready;
    uint64_t publish_all = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!completed.ok()) {
        // A device fault: nothing in flight will complete.
        if (error_.ok()) {
          error_ =
              absl::Status(completed.status().code(),
                           absl::StrCat("queue '", name_, "': ", completed.status().message()));
        }
        device_failed_ = true;
        expected_.clear();
        publish_all = submitted_;
      } else {
        if (*completed > completed_fence_) completed_fence_ = *completed;
        while (!expected_.empty() && expected_.front().fence <= completed_fence_) {
          ready.push_back(std::move(expected_.front()));
          expected_.pop_front();
        }
      }
    }
    for (const Expectation& e : ready) {
      for (const auto& [signal, value] : e.sets) (void)signal->Set(value);
      if (e.done > done_.value()) (void)done_.Set(e.done);
    }
    if (publish_all > done_.value()) (void)done_.Set(publish_all);
  }
}

}  // namespace uop
