#include "drivers/host_queue.h"

#include <cstring>
#include <variant>

#include "absl/strings/str_cat.h"
#include "drivers/allocator.h"
#include "runtime/base/status_macros.h"

namespace uop {

HostQueue::HostQueue(std::string device, std::string name, const QueueOptions& options)
    : name_(std::move(name)), options_(options), done_(std::move(device), name_ + "/done", 0) {
  done_.set_expected_signaler(name_);
  thread_ = std::thread([this] { Loop(); });
}

HostQueue::~HostQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_one();
  thread_.join();
}

absl::Status HostQueue::Submit(std::shared_ptr<const CommandBuffer> commands) {
  if (commands == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("queue '", name_, "': null command buffer"));
  }
  RETURN_IF_ERROR(commands->Validate(name_));
  std::unique_lock<std::mutex> lock(mu_);
  if (!error_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue '", name_, "' failed earlier: ", error_.message()));
  }
  if (stop_) return absl::FailedPreconditionError(absl::StrCat("queue '", name_, "' is stopping"));
  for (const Command& c : commands->commands()) {
    if (const auto* s = std::get_if<SignalCommand>(&c)) s->signal->set_expected_signaler(name_);
  }
  pending_.push_back(std::move(commands));
  ++submitted_;
  lock.unlock();
  work_.notify_one();
  return absl::OkStatus();
}

absl::Status HostQueue::Wait(absl::Duration timeout) {
  uint64_t target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    target = submitted_;
  }
  RETURN_IF_ERROR(done_.Wait(target, timeout, absl::StrCat("host waiting on queue '", name_, "'")));
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void HostQueue::Loop() {
  for (;;) {
    std::shared_ptr<const CommandBuffer> cb;
    bool failed;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [this] { return !pending_.empty() || stop_; });
      if (pending_.empty()) return;  // stop_ and drained
      cb = std::move(pending_.front());
      pending_.pop_front();
      failed = !error_.ok();
    }
    if (!failed) {
      absl::Status st = Execute(*cb);
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        if (error_.ok()) error_ = st;
      }
    }
    // The only writer of done_, so it never goes backwards.
    (void)done_.Set(done_.value() + 1);
  }
}

absl::Status HostQueue::Execute(const CommandBuffer& cb) {
  const std::string waiter = absl::StrCat("queue '", name_, "'");
  for (const Command& c : cb.commands()) {
    if (const auto* e = std::get_if<ExecCommand>(&c)) {
      RETURN_IF_ERROR(e->program->Run(e->bufs, e->vars, e->global, e->local));
    } else if (const auto* cp = std::get_if<CopyCommand>(&c)) {
      if (cp->bytes == 0) continue;
      if (cp->dst->host_ptr() != nullptr && cp->src->host_ptr() != nullptr) {
        std::memmove(static_cast<uint8_t*>(cp->dst->host_ptr()) + cp->dst_offset,
                     static_cast<const uint8_t*>(cp->src->host_ptr()) + cp->src_offset, cp->bytes);
      } else {
        RETURN_IF_ERROR(cp->dst->owner()->CopyBetween(*cp->dst, cp->dst_offset, *cp->src,
                                                      cp->src_offset, cp->bytes));
      }
    } else if (const auto* w = std::get_if<WaitCommand>(&c)) {
      RETURN_IF_ERROR(
          w->signal->Wait(w->value, w->timeout.value_or(options_.wait_timeout), waiter));
    } else if (const auto* s = std::get_if<SignalCommand>(&c)) {
      RETURN_IF_ERROR(s->signal->Set(s->value));
    }
  }
  return absl::OkStatus();
}

}  // namespace uop
