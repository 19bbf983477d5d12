#include "drivers/host_signal.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {

HostSignal::HostSignal(std::string device, std::string name, uint64_t initial)
    : Signal(std::move(device), std::move(name)), value_(initial) {}

absl::Status HostSignal::Set(uint64_t value) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t current = value_.load(std::memory_order_relaxed);
    if (value < current) {
      return absl::InvalidArgumentError(absl::StrCat(device(), ": signal '", name(),
                                                     "' is monotonic: cannot set ", value,
                                                     " below its current value ", current));
    }
    value_.store(value, std::memory_order_release);
    wake = waiters_ > 0 && value != current;
  }
  if (wake) cv_.notify_all();
  return absl::OkStatus();
}

absl::Status HostSignal::Wait(uint64_t value, absl::Duration timeout, absl::string_view waiter) {
  if (value_.load(std::memory_order_acquire) >= value) return absl::OkStatus();
  RETURN_IF_ERROR(ValidateWaitTimeout(timeout, absl::StrCat(device(), ": signal '", name(), "'")));
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  std::unique_lock<std::mutex> lock(mu_);
  ++waiters_;
  const bool reached = cv_.wait_until(
      lock, deadline, [&] { return value_.load(std::memory_order_relaxed) >= value; });
  --waiters_;
  if (reached) return absl::OkStatus();
  return TimeoutError(value, value_.load(std::memory_order_relaxed), timeout, waiter);
}

}  // namespace uop
