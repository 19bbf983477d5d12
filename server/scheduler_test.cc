#include "server/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "server/test_backend.h"

namespace uop::server {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Gt;
using ::testing::HasSubstr;

struct Fixture {
  explicit Fixture(SchedulerOptions options, TestSpec spec = TestBackend::BatchedAddSpec(),
                   int instances = 1)
      : stats("m", "1", nullptr) {
    std::vector<std::unique_ptr<ModelBackend>> backends;
    for (int i = 0; i < instances; ++i) {
      auto b = std::make_unique<TestBackend>(spec);
      backend.push_back(b.get());
      backends.push_back(std::move(b));
    }
    options.model_name = "m";
    scheduler = std::make_unique<Scheduler>(options, std::move(backends), &stats);
  }
  int total_runs() const {
    int n = 0;
    for (TestBackend* b : backend) n += b->runs();
    return n;
  }
  ModelStats stats;
  std::vector<TestBackend*> backend;
  std::unique_ptr<Scheduler> scheduler;
};

SchedulerOptions Batching(int max, absl::Duration delay = absl::ZeroDuration(), int preferred = 0) {
  SchedulerOptions o;
  o.max_batch_size = max;
  o.buckets = {1, 2, 4, 8, 16};
  o.dynamic_batching = true;
  o.max_queue_delay = delay;
  o.preferred_batch = preferred;
  return o;
}

// One row of [4] floats, all `value`.
struct Request {
  std::string data;
  InferJob job;
  explicit Request(float value, int64_t batch = 1) {
    std::vector<float> v(4 * batch, value);
    data.assign(reinterpret_cast<const char*>(v.data()), v.size() * 4);
    job.batch = batch;
    job.inputs = {{"A", inference::TYPE_FP32, {batch, 4}, data},
                  {"B", inference::TYPE_FP32, {batch, 4}, data}};
  }
  float first_output() const {
    float f = 0;
    std::memcpy(&f, job.outputs.at(0).data.data(), 4);
    return f;
  }
};

TEST(Scheduler, AloneARequestRunsRightAwayOnTheCallersThread) {
  Fixture f(Batching(8));
  Request r(1.5f);
  ASSERT_TRUE(f.scheduler->Infer(&r.job).ok());
  EXPECT_EQ(r.first_output(), 3.0f);
  EXPECT_THAT(f.backend[0]->batch_sizes(), ElementsAre(1));
  EXPECT_EQ(r.job.times.executed_batch, 1);
}

TEST(Scheduler, ConcurrentRequestsAreBatchedAndEachGetsItsOwnRows) {
  Fixture f(Batching(16));
  f.backend[0]->set_delay(absl::Milliseconds(20));
  constexpr int kThreads = 16;
  std::vector<std::unique_ptr<Request>> requests;
  for (int i = 0; i < kThreads; ++i) requests.push_back(std::make_unique<Request>(i));
  std::vector<std::thread> threads;
  std::vector<absl::Status> status(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { status[i] = f.scheduler->Infer(&requests[i]->job); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(status[i].ok()) << status[i];
    EXPECT_EQ(requests[i]->first_output(), 2.0f * i) << i;  // nobody got another's rows
  }
  EXPECT_LT(f.backend[0]->runs(), kThreads);
  EXPECT_THAT(f.backend[0]->batch_sizes(), Each(Gt(0)));
}

TEST(Scheduler, MaxQueueDelayWaitsForThePreferredBatch) {
  Fixture f(Batching(8, absl::Seconds(5), /*preferred=*/4));
  std::vector<std::unique_ptr<Request>> requests;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) requests.push_back(std::make_unique<Request>(i));
  const absl::Time start = absl::Now();
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { ASSERT_TRUE(f.scheduler->Infer(&requests[i]->job).ok()); });
  }
  for (auto& t : threads) t.join();
  EXPECT_THAT(f.backend[0]->batch_sizes(), ElementsAre(4));  // one execution of all four
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));          // it did not wait out the delay
}

TEST(Scheduler, MaxQueueDelayRunsAPartialBatchWhenItExpires) {
  Fixture f(Batching(8, absl::Milliseconds(30), /*preferred=*/8));
  Request r(1);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(f.scheduler->Infer(&r.job).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(29));
  EXPECT_THAT(f.backend[0]->batch_sizes(), ElementsAre(1));
}

TEST(Scheduler, ExpiredRequestsAreNeverComputed) {
  Fixture f(Batching(1));
  f.backend[0]->set_delay(absl::Milliseconds(200));
  Request slow(1), late(2);
  std::thread first([&] { ASSERT_TRUE(f.scheduler->Infer(&slow.job).ok()); });
  while (f.backend[0]->runs() == 0) absl::SleepFor(absl::Milliseconds(1));
  late.job.deadline = absl::Now() + absl::Milliseconds(20);
  absl::Status s = f.scheduler->Infer(&late.job);
  first.join();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("deadline passed while it was queued"));
  EXPECT_EQ(f.backend[0]->runs(), 1);
  Request already(3);
  already.job.deadline = absl::Now() - absl::Seconds(1);
  EXPECT_EQ(f.scheduler->Infer(&already.job).code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(f.backend[0]->runs(), 1);
}

TEST(Scheduler, CancelledRequestsAreDroppedBeforeTheyRun) {
  Fixture f(Batching(1));
  f.backend[0]->set_delay(absl::Milliseconds(100));
  Request slow(1), cancelled(2);
  std::thread first([&] { ASSERT_TRUE(f.scheduler->Infer(&slow.job).ok()); });
  while (f.backend[0]->runs() == 0) absl::SleepFor(absl::Milliseconds(1));
  cancelled.job.is_cancelled = [] { return true; };
  EXPECT_EQ(f.scheduler->Infer(&cancelled.job).code(), absl::StatusCode::kCancelled);
  first.join();
  EXPECT_EQ(f.backend[0]->runs(), 1);
}

TEST(Scheduler, AFullQueueIsResourceExhausted) {
  SchedulerOptions o = Batching(1);
  o.max_queue_size = 2;
  Fixture f(o);
  f.backend[0]->set_delay(absl::Milliseconds(300));
  std::vector<std::unique_ptr<Request>> requests;
  for (int i = 0; i < 4; ++i) requests.push_back(std::make_unique<Request>(i));
  std::vector<std::thread> threads;
  threads.emplace_back([&] { (void)f.scheduler->Infer(&requests[0]->job); });
  while (f.backend[0]->runs() == 0) absl::SleepFor(absl::Milliseconds(1));
  for (int i = 1; i <= 2; ++i) {
    threads.emplace_back([&, i] { (void)f.scheduler->Infer(&requests[i]->job); });
  }
  while (f.scheduler->queue_depth() < 2) absl::SleepFor(absl::Milliseconds(1));
  absl::Status s = f.scheduler->Infer(&requests[3]->job);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("the queue is full (2 requests waiting)"));
  for (auto& t : threads) t.join();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(requests[i]->job.status.ok()) << i;
}

TEST(Scheduler, HigherPriorityRunsFirst) {
  SchedulerOptions o = Batching(1);
  o.priority_levels = 2;
  o.default_priority = 2;
  Fixture f(o);
  f.backend[0]->set_delay(absl::Milliseconds(50));
  Request busy(0), low(1), high(2);
  high.job.priority = 1;
  std::vector<std::thread> threads;
  threads.emplace_back([&] { (void)f.scheduler->Infer(&busy.job); });
  while (f.backend[0]->runs() == 0) absl::SleepFor(absl::Milliseconds(1));
  threads.emplace_back([&] { (void)f.scheduler->Infer(&low.job); });
  while (f.scheduler->queue_depth() < 1) absl::SleepFor(absl::Milliseconds(1));
  threads.emplace_back([&] { (void)f.scheduler->Infer(&high.job); });
  while (f.scheduler->queue_depth() < 2) absl::SleepFor(absl::Milliseconds(1));
  for (auto& t : threads) t.join();
  ASSERT_TRUE(high.job.status.ok());
  ASSERT_TRUE(low.job.status.ok());
  // Both waited; the high-priority one waited less.
  EXPECT_LT(high.job.times.queue_ns, low.job.times.queue_ns);
}

TEST(Scheduler, InstancesRunInParallel) {
  SchedulerOptions o;
  o.max_batch_size = 0;
  o.buckets = {0};
  Fixture f(o, TestBackend::AddSpec(), /*instances=*/2);
  for (TestBackend* b : f.backend) b->set_delay(absl::Milliseconds(50));
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<Request>> requests;
  for (int i = 0; i < 4; ++i) {
    requests.push_back(std::make_unique<Request>(i));
    requests.back()->job.batch = 0;
    for (auto& in : requests.back()->job.inputs) in.shape = {4};
  }
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { ASSERT_TRUE(f.scheduler->Infer(&requests[i]->job).ok()); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.backend[0]->runs() + f.backend[1]->runs(), 4);
  EXPECT_GT(f.backend[0]->runs(), 0);
  EXPECT_GT(f.backend[1]->runs(), 0);
}

TEST(Scheduler, CloseWaitsForInFlightThenRefuses) {
  Fixture f(Batching(1));
  f.backend[0]->set_delay(absl::Milliseconds(100));
  Request r(1);
  std::thread t([&] { (void)f.scheduler->Infer(&r.job); });
  while (f.backend[0]->runs() == 0) absl::SleepFor(absl::Milliseconds(1));
  f.scheduler->Close();
  EXPECT_TRUE(r.job.state == InferJob::State::kDone);
  EXPECT_TRUE(r.job.status.ok());
  t.join();
  Request after(2);
  absl::Status s = f.scheduler->Infer(&after.job);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("being unloaded"));
}

TEST(Scheduler, BatchLargerThanMaxIsInvalid) {
  Fixture f(Batching(2));
  Request r(1, /*batch=*/3);
  EXPECT_EQ(f.scheduler->Infer(&r.job).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.total_runs(), 0);
}

TEST(Scheduler, ABackendFailureIsReturnedAndTheSchedulerGoesOn) {
  Fixture f(Batching(4));
  f.backend[0]->set_fail(true);
  Request bad(1);
  EXPECT_EQ(f.scheduler->Infer(&bad.job).code(), absl::StatusCode::kInternal);
  f.backend[0]->set_fail(false);
  Request good(1);
  EXPECT_TRUE(f.scheduler->Infer(&good.job).ok());
}

}  // namespace
}  // namespace uop::server
