#include "client/lib/client.h"

#include <unistd.h>

#include <cstring>
#include <future>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/lib/shared_memory.h"
#include "client/testing/fake_inference_server.h"
#include "gtest/gtest.h"

namespace uop::client {
namespace {

using testing::FakeInferenceServer;

ClientOptions FastRetries() {
  ClientOptions o;
  o.timeout = absl::Seconds(10);
  o.retry.initial_backoff = absl::Milliseconds(5);
  o.retry.max_backoff = absl::Milliseconds(20);
  return o;
}

std::vector<InferInput> AddInputs(std::vector<float> a, std::vector<float> b) {
  return {*InferInput::FromVector<float>("A", {4}, a), *InferInput::FromVector<float>("B", {4}, b)};
}

TEST(InferenceClient, InfersSynchronously) {
  FakeInferenceServer server;
  auto client = *InferenceClient::Connect(server.target(), FastRetries());
  EXPECT_TRUE(*client->ServerLive());
  EXPECT_TRUE(*client->ServerReady());
  absl::StatusOr<InferResult> r = client->Infer({.model_name = "add", .request_id = "7"},
                                                AddInputs({1, 2, 3, 4}, {10, 20, 30, 40}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), "7");
  EXPECT_EQ(*r->As<float>("C"), (std::vector<float>{11, 22, 33, 44}));
}

TEST(InferenceClient, ServerErrorsKeepTheirCodeAndNameTheRpc) {
  FakeInferenceServer server;
  auto client = *InferenceClient::Connect(server.target(), FastRetries());
  auto inputs = AddInputs({1, 2, 3, 4}, {1, 2, 3, 4});
  absl::Status st = client->Infer({.model_name = "nope"}, inputs).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "ModelInfer: unknown model 'nope'");
  st = client->Infer({.model_name = "add_sub"}, inputs).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("unknown input 'A'"), std::string::npos) << st;
  EXPECT_EQ(server.Calls("ModelInfer"), 2);  // no retries for these codes
}

TEST(InferenceClient, RetriesUnavailableWithBackoff) {
  FakeInferenceServer server;
  auto client = *InferenceClient::Connect(server.target(), FastRetries());
  server.FailNextCalls(2);
  absl::StatusOr<bool> live = client->ServerLive();
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(server.Calls("ServerLive"), 3);

  server.FailNextCalls(100);
  absl::Status st = client->ServerLive().status();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("after 4 attempts"), std::string::npos) << st;
  EXPECT_EQ(server.Calls("ServerLive"), 3 + 4);
}

TEST(InferenceClient, DeadlineBoundsTheCall) {
  FakeInferenceServer server;
  server.set_slow_delay(absl::Seconds(5));
  auto client = *InferenceClient::Connect(server.target(), FastRetries());
  InferInput x = *InferInput::FromVector<float>("X", {2}, {1, 2});
  const absl::Time start = absl::Now();
  absl::Status st =
      client->Infer({.model_name = "slow"}, {x}, {}, {.timeout = absl::Milliseconds(200)}).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(InferenceClient, UnreachableServerIsUnavailable) {
  ClientOptions o = FastRetries();
  o.timeout = absl::Seconds(2);
  // Port 1 on loopback: nothing listens there.
  auto client = *InferenceClient::Connect("127.0.0.1:1", o);
  absl::Status st = client->ServerLive().status();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_FALSE(InferenceClient::Connect("http://localhost:8000").ok());
}

TEST(InferenceClient, AsyncInferDeliversEveryResultAndRetries) {
  FakeInferenceServer server;
  auto client = *InferenceClient::Connect(server.target(), FastRetries());
  server.FailNextCalls(1);
  constexpr int kCalls = 16;
  std::vector<std::promise<absl::StatusOr<InferResult>>> done(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    const float f = static_cast<float>(i);
    client->AsyncInfer(
        [&done, i](absl::StatusOr<InferResult> r) { done[i].set_value(std::move(r)); },
        {.model_name = "add"}, AddInputs({f, f, f, f}, {1, 1, 1, 1}));
  }
  for (int i = 0; i < kCalls; ++i) {
    absl::StatusOr<InferResult> r = done[i].get_future().get();
    ASSERT_TRUE(r.ok()) << i << ": " << r.status();
    const float want = static_cast<float>(i) + 1;
    EXPECT_EQ(*r->As<float>("C"), (std::vector<float>{want, want, want, want}));
  }
  EXPECT_EQ(server.Calls("ModelInfer"), kCalls + 1);

  std::promise<absl::StatusOr<InferResult>> late;
  server.set_slow_delay(absl::Seconds(5));
  client->AsyncInfer([&](absl::StatusOr<InferResult> r) { late.set_value(std::move(r)); },
                     {.model_name = "slow"}, {*InferInput::FromVector<float>("X", {1}, {1})}, {},
                     {.timeout = absl::Milliseconds(100)});
  EXPECT_EQ(late.get_future().get().status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(InferenceClient, StreamsResponsesInOrderAndReportsPerRequestErrors) {
  FakeInferenceServer server;
  auto client = *InferenceClient::Connect(server.target(), FastRetries());
  absl::Mutex mu;
  std::vector<absl::StatusOr<InferResult>> got;
  auto stream = client->OpenStream([&](absl::StatusOr<InferResult> r) {
    absl::MutexLock lock(&mu);
    got.push_back(std::move(r));
  });
  ASSERT_TRUE(stream.ok()) << stream.status();
  for (int i = 0; i < 5; ++i) {
    const float f = static_cast<float>(i);
    ASSERT_TRUE((*stream)
                    ->Write({.model_name = i == 2 ? "nope" : "add", .request_id = absl::StrCat(i)},
                            AddInputs({f, 0, 0, 0}, {0, 0, 0, f}))
                    .ok());
  }
  ASSERT_TRUE((*stream)->Finish().ok());
  EXPECT_EQ((*stream)->Write({.model_name = "add"}, AddInputs({1, 1, 1, 1}, {1, 1, 1, 1})).code(),
            absl::StatusCode::kFailedPrecondition);
  absl::MutexLock lock(&mu);
  ASSERT_EQ(got.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    if (i == 2) {
      EXPECT_FALSE(got[i].ok());
      EXPECT_NE(got[i].status().message().find("unknown model 'nope'"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(got[i].ok()) << got[i].status();
    EXPECT_EQ(got[i]->id(), absl::StrCat(i));
    const float f = static_cast<float>(i);
    EXPECT_EQ(*got[i]->As<float>("C"), (std::vector<float>{f, 0, 0, f}));
  }
}

TEST(InferenceClient, SharedMemoryInputsAndOutputs) {
  FakeInferenceServer server;
  auto client = *InferenceClient::Connect(server.target(), FastRetries());
  const std::string key = absl::StrCat("/uop_client_test_", getpid());
  auto region = SharedMemoryRegion::Create(key, 64);
  ASSERT_TRUE(region.ok()) << region.status();
  float* f = static_cast<float*>((*region)->data());
  for (int i = 0; i < 8; ++i) f[i] = static_cast<float>(i);  // A = 0..3, B = 4..7
  ASSERT_TRUE(client->RegisterSystemSharedMemory("io", key, 64).ok());
  auto status = client->SystemSharedMemoryStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->regions().at("io").key(), key);
  std::vector<InferInput> in = {
      *InferInput::FromSharedMemory("A", Datatype::kFp32, {4}, {"io", 0, 16}),
      *InferInput::FromSharedMemory("B", Datatype::kFp32, {4}, {"io", 16, 16})};
  absl::StatusOr<InferResult> r =
      client->Infer({.model_name = "add"}, in, {{"C", SharedMemoryRef{"io", 32, 16}}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r->Output("C"))->shared_memory.has_value());
  EXPECT_EQ(f[8], 4.0f);
  EXPECT_EQ(f[11], 10.0f);
  // The same over a stream: the response is matched to its request by id.
  f[8] = 0;
  absl::Mutex mu;
  std::vector<absl::StatusOr<InferResult>> streamed;
  auto stream = *client->OpenStream([&](absl::StatusOr<InferResult> res) {
    absl::MutexLock lock(&mu);
    streamed.push_back(std::move(res));
  });
  EXPECT_EQ(stream->Write({.model_name = "add"}, in, {{"C", SharedMemoryRef{"io", 32, 16}}}).code(),
            absl::StatusCode::kInvalidArgument);  // no request id
  ASSERT_TRUE(stream
                  ->Write({.model_name = "add", .request_id = "s1"}, in,
                          {{"C", SharedMemoryRef{"io", 32, 16}}})
                  .ok());
  ASSERT_TRUE(stream->Finish().ok());
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(streamed.size(), 1u);
    ASSERT_TRUE(streamed[0].ok()) << streamed[0].status();
    const OutputTensor* c = *streamed[0]->Output("C");
    ASSERT_TRUE(c->shared_memory.has_value());
    EXPECT_EQ(c->shared_memory->offset, 32u);
  }
  EXPECT_EQ(f[8], 4.0f);
  ASSERT_TRUE(client->UnregisterSystemSharedMemory("io").ok());
  EXPECT_EQ(client->SystemSharedMemoryStatus("io").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(client->Infer({.model_name = "add"}, in).ok());  // region gone
}

TEST(InferenceClient, RepositoryStatisticsAndTraceSettings) {
  FakeInferenceServer server;
  auto client = *InferenceClient::Connect(server.target(), FastRetries());
  auto index = client->RepositoryIndex();
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->models_size(), 4);
  EXPECT_EQ(client->RepositoryIndex(/*ready_only=*/true)->models_size(), 3);
  ASSERT_TRUE(client->UnloadModel("add").ok());
  EXPECT_FALSE(*client->ModelReady("add"));
  EXPECT_EQ(client->ModelMetadata("add").status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(client->LoadModel("add").ok());
  EXPECT_TRUE(*client->ModelReady("add"));
  absl::Status broken = client->LoadModel("broken");
  EXPECT_EQ(broken.code(), absl::StatusCode::kInternal);
  EXPECT_NE(broken.message().find("unsupported operator"), std::string::npos);
  EXPECT_EQ(client->LoadModel("missing").code(), absl::StatusCode::kNotFound);

  auto meta = client->ModelMetadata("add");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->inputs(0).name(), "A");
  auto config = client->ModelConfig("add");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->output(0).name(), "C");

  ASSERT_TRUE(client->Infer({.model_name = "add"}, AddInputs({1, 1, 1, 1}, {1, 1, 1, 1})).ok());
  auto stats = client->ModelStatistics("add");
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->model_stats_size(), 1);
  EXPECT_EQ(stats->model_stats(0).inference_stats().success().count(), 1u);

  auto trace = client->TraceSetting({{"trace_level", {"TIMESTAMPS"}}});
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(trace->settings().at("trace_level").value(0), "TIMESTAMPS");
}

}  // namespace
}  // namespace uop::client
