#include "drivers/host_signal.h"

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {

HostSignal::HostSignal(std::string device, std::string name, uint64_t initial)
    : Signal(std::move(device), std::move(name)), value_(initial) {}

absl::Status HostSignal::Set(uint64_t value) {
  absl::MutexLock lock(&mu_);
  const uint64_t current = value_.load(std::memory_order_relaxed);
  if (value < current) {
    return absl::InvalidArgumentError(absl::StrCat(device(), ": signal '", name(),
                                                   "' is monotonic: cannot set ", value,
                                                   " below its current value ", current));
  }
  // Waiters' conditions are re-evaluated when the lock is released.
  value_.store(value, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status HostSignal::Wait(uint64_t value, absl::Duration timeout, absl::string_view waiter) {
  if (value_.load(std::memory_order_acquire) >= value) return absl::OkStatus();
  RETURN_IF_ERROR(ValidateWaitTimeout(timeout, absl::StrCat(device(), ": signal '", name(), "'")));
  struct Reached {
    const std::atomic<uint64_t>* v;
    uint64_t target;
    bool operator()() const { return v->load(std::memory_order_relaxed) >= target; }
  } reached{&value_, value};
  absl::MutexLock lock(&mu_);
  if (mu_.AwaitWithTimeout(absl::Condition(&reached), timeout)) return absl::OkStatus();
  return TimeoutError(value, value_.load(std::memory_order_relaxed), timeout, waiter);
}

}  // namespace uop
