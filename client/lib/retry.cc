#include "client/lib/retry.h"

#include <algorithm>
#include <cmath>

#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"

namespace uop::client {

absl::Duration BackoffBefore(const RetryPolicy& policy, int attempt, double unit_random) {
  const int retries_before = std::max(0, attempt - 2);
  absl::Duration base = policy.initial_backoff * std::pow(policy.multiplier, retries_before);
  base = std::min(base, policy.max_backoff);
  const double scale = 1.0 + policy.jitter * (2.0 * unit_random - 1.0);
  return std::max(absl::ZeroDuration(), base * scale);
}

bool ShouldRetry(const RetryPolicy& policy, absl::StatusCode code, int attempt, absl::Time now,
                 absl::Duration backoff, absl::Time deadline) {
  return code == absl::StatusCode::kUnavailable && attempt < policy.max_attempts &&
         now + backoff < deadline;
}

double UnitRandom() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock lock(&mu);
  return absl::Uniform(*gen, 0.0, 1.0);
}

}  // namespace uop::client
