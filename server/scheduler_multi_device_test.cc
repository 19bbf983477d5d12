// The scheduler with instances on several devices (multi-GPU): balancing by
// least outstanding work, a failing device taken out of rotation with its
// requests retried elsewhere, and the probe that brings it back. TestBackend
// with set_fail is the fault-injecting device (an INTERNAL error per run).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "absl/time/clock.h"
#include "server/scheduler.h"
#include "server/test_backend.h"

namespace uop::server {
namespace {

using ::testing::HasSubstr;

// Instances on devices "GPU:0".."GPU:<n-1>", `per_device` each, in device order.
struct MultiDevice {
  MultiDevice(int devices, int per_device, SchedulerOptions options = {})
      : stats("m", "1", nullptr) {
    std::vector<std::unique_ptr<ModelBackend>> backends;
    options.devices.clear();
    for (int d = 0; d < devices; ++d) {
      options.devices.push_back(absl::StrCat("GPU:", d));
      for (int i = 0; i < per_device; ++i) {
        auto b = std::make_unique<TestBackend>(TestBackend::BatchedAddSpec());
        backend.push_back(b.get());
        options.instance_device.push_back(d);
        backends.push_back(std::move(b));
      }
    }
    options.model_name = "m";
    if (options.max_batch_size == 0) {
      options.max_batch_size = 8;
      options.buckets = {1, 2, 4, 8};
    }
    scheduler = std::make_unique<Scheduler>(options, std::move(backends), &stats);
  }
  ModelStats stats;
  std::vector<TestBackend*> backend;
  std::unique_ptr<Scheduler> scheduler;
};

struct Request {
  std::string data;
  InferJob job;
  explicit Request(float value) {
    std::vector<float> v(4, value);
    data.assign(reinterpret_cast<const char*>(v.data()), v.size() * 4);
    job.batch = 1;
    job.inputs = {{"A", inference::TYPE_FP32, {1, 4}, data},
                  {"B", inference::TYPE_FP32, {1, 4}, data}};
  }
  float first_output() const {
    float f = 0;
    std::memcpy(&f, job.outputs.at(0).data.data(), 4);
    return f;
  }
};

// `clients` threads, `each` requests apiece; returns the statuses.
std::vector<absl::Status> Load(Scheduler& s, int clients, int each) {
  std::vector<absl::Status> out(clients * each);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < each; ++i) {
        Request r(static_cast<float>(c));
        absl::Status st = s.Infer(&r.job);
        if (st.ok() && r.first_output() != 2.0f * c) st = absl::InternalError("wrong result");
        out[c * each + i] = st;
      }
    });
  }
  for (auto& t : threads) t.join();
  return out;
}

TEST(SchedulerMultiDevice, EveryDeviceTakesAShareOfTheLoad) {
  MultiDevice m(/*devices=*/3, /*per_device=*/1);
  for (TestBackend* b : m.backend) b->set_delay(absl::Milliseconds(2));
  for (const absl::Status& st : Load(*m.scheduler, 12, 10)) EXPECT_TRUE(st.ok()) << st;
  std::vector<DeviceLoad> loads = m.scheduler->devices();
  ASSERT_EQ(loads.size(), 3u);
  int64_t rows = 0;
  for (const DeviceLoad& d : loads) {
    EXPECT_GT(d.executions, 0) << d.device;
    EXPECT_TRUE(d.healthy);
    EXPECT_EQ(d.outstanding_rows, 0);
    EXPECT_GT(d.busy_ns, 0);
    rows += d.rows;
  }
  EXPECT_EQ(rows, 120);
  EXPECT_EQ(loads[1].device, "GPU:1");
  EXPECT_EQ(loads[1].instances, 1);
}

TEST(SchedulerMultiDevice, LeastOutstandingWorkPicksTheIdleDevice) {
  // GPU:0 has two instances, GPU:1 one. With one long request running on
  // GPU:0, the next one goes to GPU:1 although GPU:0 has an idle instance.
  SchedulerOptions o;
  o.max_batch_size = 8;
  o.buckets = {1, 2, 4, 8};
  std::vector<std::unique_ptr<ModelBackend>> backends;
  std::vector<TestBackend*> b;
  for (int i = 0; i < 3; ++i) {
    auto t = std::make_unique<TestBackend>(TestBackend::BatchedAddSpec());
    t->set_delay(absl::Milliseconds(200));
    b.push_back(t.get());
    backends.push_back(std::move(t));
  }
  o.devices = {"GPU:0", "GPU:1"};
  o.instance_device = {0, 0, 1};
  o.model_name = "m";
  ModelStats stats("m", "1", nullptr);
  Scheduler s(o, std::move(backends), &stats);
  Request first(1), second(2);
  std::thread t1([&] { EXPECT_TRUE(s.Infer(&first.job).ok()); });
  while (s.devices()[0].outstanding_rows + s.devices()[1].outstanding_rows == 0) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const int busy_device = s.devices()[0].outstanding_rows > 0 ? 0 : 1;
  std::thread t2([&] { EXPECT_TRUE(s.Infer(&second.job).ok()); });
  t1.join();
  t2.join();
  std::vector<DeviceLoad> loads = s.devices();
  EXPECT_EQ(loads[0].executions, 1);
  EXPECT_EQ(loads[1].executions, 1);
  // Ties (both idle at the start) went to the first device.
  EXPECT_EQ(busy_device, 0);
  EXPECT_EQ(b[1]->runs(), 0);
}

TEST(SchedulerMultiDevice, FailedDeviceIsTakenOutAndItsRequestsRetriedElsewhere) {
  MultiDevice m(2, 1);
  m.backend[0]->set_fail(true);
  for (TestBackend* b : m.backend) b->set_delay(absl::Milliseconds(1));
  for (const absl::Status& st : Load(*m.scheduler, 8, 5)) EXPECT_TRUE(st.ok()) << st;
  std::vector<DeviceLoad> loads = m.scheduler->devices();
  EXPECT_FALSE(loads[0].healthy);
  EXPECT_EQ(loads[0].failures, 1);  // out of rotation after its first fault
  EXPECT_THAT(loads[0].last_error, HasSubstr("test backend failure"));
  EXPECT_EQ(loads[0].executions, 0);
  EXPECT_EQ(loads[1].rows, 40);  // nothing lost
  EXPECT_EQ(m.backend[0]->runs(), 1);
}

TEST(SchedulerMultiDevice, RetriesAreBounded) {
  SchedulerOptions o;
  o.max_retries = 0;
  MultiDevice m(2, 1, o);
  m.backend[0]->set_fail(true);
  Request r(1);
  absl::Status st = m.scheduler->Infer(&r.job);  // ties go to GPU:0, which fails
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(st.message(), HasSubstr("execution failed on GPU:0"));
  EXPECT_THAT(st.message(), HasSubstr("after 0 retries"));
  Request again(1);
  EXPECT_TRUE(m.scheduler->Infer(&again.job).ok());  // GPU:1 serves
}

TEST(SchedulerMultiDevice, NoHealthyDeviceLeftNamesTheFailedOnes) {
  MultiDevice m(2, 1);
  m.backend[0]->set_fail(true);
  m.backend[1]->set_fail(true);
  Request r(1);
  absl::Status st = m.scheduler->Infer(&r.job);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(st.message(), HasSubstr("no healthy instance left"));
  EXPECT_THAT(st.message(), HasSubstr("GPU:0 (test backend failure)"));
  EXPECT_THAT(st.message(), HasSubstr("GPU:1 (test backend failure)"));
  Request later(1);
  st = m.scheduler->Infer(&later.job);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(st.message(), HasSubstr("no healthy instance; failed devices: GPU:0"));
}

TEST(SchedulerMultiDevice, QueuedRequestsAreAnsweredWhenTheLastDeviceFails) {
  MultiDevice m(2, 1);
  for (TestBackend* b : m.backend) {
    b->set_fail(true);
    b->set_delay(absl::Milliseconds(20));
  }
  for (const absl::Status& st : Load(*m.scheduler, 6, 2)) {
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  }
  EXPECT_EQ(m.scheduler->queue_depth(), 0);
  EXPECT_EQ(m.scheduler->in_flight(), 0);
}

TEST(SchedulerMultiDevice, ProbeBringsARecoveredDeviceBack) {
  MultiDevice m(2, 1);
  m.backend[0]->set_fail(true);
  int probes = 0;
  m.scheduler->SetProbe([&](ModelBackend& instance) {
    ++probes;
    Request r(1);
    std::vector<OutputTensor> out;
    return instance.Run(r.job.inputs, &out);
  });
  Request r(1);
  ASSERT_TRUE(m.scheduler->Infer(&r.job).ok());
  EXPECT_FALSE(m.scheduler->devices()[0].healthy);
  EXPECT_EQ(m.scheduler->ProbeUnhealthy(), 0);  // still failing
  EXPECT_FALSE(m.scheduler->devices()[0].healthy);
  m.backend[0]->set_fail(false);
  EXPECT_EQ(m.scheduler->ProbeUnhealthy(), 1);
  EXPECT_EQ(probes, 2);
  EXPECT_TRUE(m.scheduler->devices()[0].healthy);
  Request again(1);
  ASSERT_TRUE(m.scheduler->Infer(&again.job).ok());
  EXPECT_EQ(m.scheduler->devices()[0].executions, 1);  // GPU:0 serves again
}

TEST(SchedulerMultiDevice, ProberThreadRevivesOnItsOwn) {
  SchedulerOptions o;
  o.probe_interval = absl::Milliseconds(5);
  MultiDevice m(2, 1, o);
  m.scheduler->SetProbe([](ModelBackend& instance) {
    Request r(1);
    std::vector<OutputTensor> out;
    return instance.Run(r.job.inputs, &out);
  });
  m.backend[0]->set_fail(true);
  Request r(1);
  ASSERT_TRUE(m.scheduler->Infer(&r.job).ok());
  m.backend[0]->set_fail(false);
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (!m.scheduler->devices()[0].healthy && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_TRUE(m.scheduler->devices()[0].healthy);
}

TEST(SchedulerMultiDevice, RequestErrorsDoNotFailTheDevice) {
  MultiDevice m(2, 1);
  Request r(1);
  r.job.inputs.clear();  // TestBackend: InvalidArgument "no inputs"
  r.job.batch = 0;
  EXPECT_FALSE(m.scheduler->Infer(&r.job).ok());
  for (const DeviceLoad& d : m.scheduler->devices()) EXPECT_TRUE(d.healthy);
}

TEST(SchedulerMultiDevice, OneDeviceKeepsReturningTheBackendError) {
  MultiDevice m(1, 2);
  m.backend[0]->set_fail(true);
  m.backend[1]->set_fail(true);
  Request r(1);
  absl::Status st = m.scheduler->Infer(&r.job);
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(m.scheduler->devices()[0].healthy);
}

TEST(IsDeviceFault, ClassifiesCodes) {
  EXPECT_TRUE(IsDeviceFault(absl::InternalError("x")));
  EXPECT_TRUE(IsDeviceFault(absl::DeadlineExceededError("device wait timed out")));
  EXPECT_TRUE(IsDeviceFault(absl::UnavailableError("x")));
  EXPECT_FALSE(IsDeviceFault(absl::InvalidArgumentError("x")));
  EXPECT_FALSE(IsDeviceFault(absl::OkStatus()));
}

}  // namespace
}  // namespace uop::server
