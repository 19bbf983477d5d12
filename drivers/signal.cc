#include "drivers/signal.h"

#include "absl/strings/str_cat.h"

namespace uop {

void Signal::set_expected_signaler(absl::string_view queue) {
  std::lock_guard<std::mutex> lock(mu_);
  if (signaler_ != queue) signaler_ = std::string(queue);
}

std::string Signal::expected_signaler() const {
  std::lock_guard<std::mutex> lock(mu_);
  return signaler_;
}

absl::Status Signal::TimeoutError(uint64_t expected, uint64_t seen, absl::Duration timeout,
                                  absl::string_view waiter) const {
  std::string signaler = expected_signaler();
  return absl::DeadlineExceededError(
      absl::StrCat(device_, ": ", waiter, " timed out after ", absl::FormatDuration(timeout),
                   " waiting for signal '", name_, "' to reach ", expected, " (seen ", seen, "; ",
                   signaler.empty() ? std::string("no queue has work that signals it")
                                    : absl::StrCat("expected from queue '", signaler, "'"),
                   ")"));
}

absl::Status ValidateWaitTimeout(absl::Duration timeout, absl::string_view what) {
  if (timeout == absl::InfiniteDuration() || timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": wait timeout must be finite and >= 0, got ", absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

}  // namespace uop
