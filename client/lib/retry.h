// Retries with exponential backoff, for UNAVAILABLE only: the one gRPC code
// that says "the request was not processed, try again" (server starting,
// model still loading, connection refused). Every other code is an answer
// and is returned as is. Retries never extend the caller's deadline: a
// retry whose backoff would end past the deadline is not attempted.
//
//   RetryPolicy p;                        // 4 attempts, 50 ms doubling to 2 s, +-20%
//   absl::Duration wait = BackoffBefore(p, 2, /*unit_random=*/0.5);  // 100 ms
#ifndef UOP_CLIENT_LIB_RETRY_H_
#define UOP_CLIENT_LIB_RETRY_H_

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace uop::client {

struct RetryPolicy {
  int max_attempts = 4;  // 1: no retries
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
  double multiplier = 2.0;
  double jitter = 0.2;  // each wait is scaled by a random factor in [1 - jitter, 1 + jitter]
};

// The wait before attempt `attempt` (2 is the first retry); `unit_random` in
// [0, 1) picks the jitter (0.5: none).
absl::Duration BackoffBefore(const RetryPolicy& policy, int attempt, double unit_random);

// Whether to try again after attempt `attempt` failed with `code`, given the
// wait before the next one and the call's deadline.
bool ShouldRetry(const RetryPolicy& policy, absl::StatusCode code, int attempt, absl::Time now,
                 absl::Duration backoff, absl::Time deadline);

// A uniform random number in [0, 1) for BackoffBefore (thread-safe).
double UnitRandom();

}  // namespace uop::client

#endif  // UOP_CLIENT_LIB_RETRY_H_
