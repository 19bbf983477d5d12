#include "client/lib/retry.h"

#include "gtest/gtest.h"

namespace uop::client {
namespace {

TEST(Retry, BackoffDoublesUpToTheCapWithBoundedJitter) {
  RetryPolicy p;
  p.initial_backoff = absl::Milliseconds(50);
  p.max_backoff = absl::Milliseconds(300);
  p.jitter = 0.2;
  EXPECT_EQ(BackoffBefore(p, 2, 0.5), absl::Milliseconds(50));
  EXPECT_EQ(BackoffBefore(p, 3, 0.5), absl::Milliseconds(100));
  EXPECT_EQ(BackoffBefore(p, 4, 0.5), absl::Milliseconds(200));
  EXPECT_EQ(BackoffBefore(p, 5, 0.5), absl::Milliseconds(300));
  EXPECT_EQ(BackoffBefore(p, 9, 0.5), absl::Milliseconds(300));
  EXPECT_EQ(BackoffBefore(p, 2, 0.0), absl::Milliseconds(40));
  EXPECT_EQ(BackoffBefore(p, 2, 1.0), absl::Milliseconds(60));
  for (int i = 0; i < 100; ++i) {
    const double u = UnitRandom();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(Retry, OnlyUnavailableWithinAttemptsAndDeadline) {
  RetryPolicy p;
  p.max_attempts = 3;
  const absl::Time now = absl::FromUnixSeconds(1000);
  const absl::Time deadline = now + absl::Seconds(1);
  const absl::Duration wait = absl::Milliseconds(100);
  EXPECT_TRUE(ShouldRetry(p, absl::StatusCode::kUnavailable, 1, now, wait, deadline));
  EXPECT_TRUE(ShouldRetry(p, absl::StatusCode::kUnavailable, 2, now, wait, deadline));
  EXPECT_FALSE(ShouldRetry(p, absl::StatusCode::kUnavailable, 3, now, wait, deadline));
  for (absl::StatusCode c :
       {absl::StatusCode::kInvalidArgument, absl::StatusCode::kDeadlineExceeded,
        absl::StatusCode::kInternal, absl::StatusCode::kNotFound,
        absl::StatusCode::kResourceExhausted, absl::StatusCode::kUnknown}) {
    EXPECT_FALSE(ShouldRetry(p, c, 1, now, wait, deadline)) << absl::StatusCodeToString(c);
  }
  // A wait that would end past the deadline is not taken.
  EXPECT_FALSE(ShouldRetry(p, absl::StatusCode::kUnavailable, 1, now, absl::Seconds(2), deadline));
}

}  // namespace
}  // namespace uop::client
