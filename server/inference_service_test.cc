#include "server/inference_service.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "server/server_info.h"
#include "server/test_backend.h"

namespace uop::server {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Floats(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

// uopd's gRPC service over an in-process channel, serving a repository with
// "add" (C = A + B, FP32 [4]) and "badd" (batching, max 8) on test backends.
class InferenceServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = fs::path(testing::TempDir()) / "service_repo";
    fs::remove_all(repo_);
    for (const char* m : {"add", "badd"}) {
      fs::create_directories(repo_ / m / "1");
      std::ofstream(repo_ / m / "1" / "model.onnx") << "x";
    }
    std::ofstream(repo_ / "add" / "config.pbtxt") << "backend: \"add\"";
    std::ofstream(repo_ / "badd" / "config.pbtxt")
        << "backend: \"badd\" max_batch_size: 8 dynamic_batching {}";
    backends_.Register("add", TestLoader(TestBackend::AddSpec(), &add_));
    backends_.Register("badd", TestLoader(TestBackend::BatchedAddSpec()));
    ModelManagerOptions o;
    o.repository = repo_.string();
    o.mode = ControlMode::kExplicit;
    o.startup_models = {"*"};
    models_ = std::make_unique<ModelManager>(o, &backends_, nullptr);
    ASSERT_TRUE(models_->LoadStartupModels().ok());
    core_ = std::make_unique<ServingCore>(models_.get(), &shm_, InferLimits());
    core_->SetAccepting(true);
    service_ = std::make_unique<InferenceService>(core_.get());
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = inference::GRPCInferenceService::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override {
    server_->Shutdown();
    models_->Stop();
  }

  static inference::ModelInferRequest AddRequest(float a, float b) {
    inference::ModelInferRequest r;
    r.set_model_name("add");
    for (const char* name : {"A", "B"}) {
      auto* in = r.add_inputs();
      in->set_name(name);
      in->set_datatype("FP32");
      in->add_shape(4);
    }
    r.add_raw_input_contents(Floats({a, a, a, a}));
    r.add_raw_input_contents(Floats({b, b, b, b}));
    return r;
  }

  fs::path repo_;
  BackendRegistry backends_;
  TestBackend* add_ = nullptr;
  ShmRegistry shm_;
  std::unique_ptr<ModelManager> models_;
  std::unique_ptr<ServingCore> core_;
  std::unique_ptr<InferenceService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

TEST_F(InferenceServiceTest, ServerLiveReadyMetadata) {
  grpc::ClientContext c1, c2, c3;
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(&c1, {}, &live).ok());
  EXPECT_TRUE(live.live());
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(&c2, {}, &ready).ok());
  EXPECT_TRUE(ready.ready());
  inference::ServerMetadataResponse meta;
  ASSERT_TRUE(stub_->ServerMetadata(&c3, {}, &meta).ok());
  EXPECT_EQ(meta.name(), "uop");
  EXPECT_EQ(meta.version(), kServerVersion);
  EXPECT_EQ(meta.extensions_size(), static_cast<int>(kServerExtensions.size()));
  core_->SetDraining();
  grpc::ClientContext c4;
  ASSERT_TRUE(stub_->ServerReady(&c4, {}, &ready).ok());
  EXPECT_FALSE(ready.ready());
}

TEST_F(InferenceServiceTest, ModelInferComputesAndEchoesTheId) {
  grpc::ClientContext ctx;
  inference::ModelInferRequest r = AddRequest(1, 2);
  r.set_id("42");
  inference::ModelInferResponse response;
  grpc::Status s = stub_->ModelInfer(&ctx, r, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.id(), "42");
  EXPECT_EQ(response.model_name(), "add");
  EXPECT_EQ(response.model_version(), "1");
  EXPECT_EQ(response.raw_output_contents(0), Floats({3, 3, 3, 3}));
}

TEST_F(InferenceServiceTest, ErrorsCarryTheRightCodes) {
  {
    grpc::ClientContext ctx;
    inference::ModelInferRequest r = AddRequest(1, 2);
    r.set_model_name("nope");
    inference::ModelInferResponse response;
    grpc::Status s = stub_->ModelInfer(&ctx, r, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), "unknown model 'nope'");
  }
  {
    grpc::ClientContext ctx;
    inference::ModelInferRequest r = AddRequest(1, 2);
    r.mutable_inputs(0)->set_shape(0, 5);
    inference::ModelInferResponse response;
    grpc::Status s = stub_->ModelInfer(&ctx, r, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("input 'A': shape [5] given"));
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(30));
    add_->set_delay(absl::Milliseconds(100));
    inference::ModelInferResponse response;
    grpc::Status s = stub_->ModelInfer(&ctx, AddRequest(1, 2), &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    add_->set_delay(absl::ZeroDuration());
  }
}

TEST_F(InferenceServiceTest, StreamInferAnswersInOrderAndReportsErrorsInBand) {
  grpc::ClientContext ctx;
  auto stream = stub_->ModelStreamInfer(&ctx);
  // Write, read, write...: the in-process transport does not buffer a reply
  // the client has not read yet (the e2e test pipelines over TCP).
  inference::ModelStreamInferResponse out;
  ASSERT_TRUE(stream->Write(AddRequest(1, 1)));
  ASSERT_TRUE(stream->Read(&out));
  EXPECT_EQ(out.error_message(), "");
  EXPECT_EQ(out.infer_response().raw_output_contents(0), Floats({2, 2, 2, 2}));
  inference::ModelInferRequest bad = AddRequest(1, 1);
  bad.set_model_name("nope");
  bad.set_id("bad");
  ASSERT_TRUE(stream->Write(bad));
  ASSERT_TRUE(stream->Read(&out));
  EXPECT_EQ(out.error_message(), "unknown model 'nope'");
  EXPECT_EQ(out.infer_response().id(), "bad");
  ASSERT_TRUE(stream->Write(AddRequest(2, 2)));
  ASSERT_TRUE(stream->Read(&out));
  EXPECT_EQ(out.infer_response().raw_output_contents(0), Floats({4, 4, 4, 4}));
  stream->WritesDone();
  EXPECT_FALSE(stream->Read(&out));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(InferenceServiceTest, ModelReadyMetadataConfigStatistics) {
  {
    grpc::ClientContext ctx;
    inference::ModelReadyRequest r;
    r.set_name("add");
    inference::ModelReadyResponse response;
    ASSERT_TRUE(stub_->ModelReady(&ctx, r, &response).ok());
    EXPECT_TRUE(response.ready());
  }
  {
    grpc::ClientContext ctx;
    inference::ModelMetadataRequest r;
    r.set_name("badd");
    inference::ModelMetadataResponse response;
    ASSERT_TRUE(stub_->ModelMetadata(&ctx, r, &response).ok());
    EXPECT_THAT(response.versions(), ElementsAre("1"));
    ASSERT_EQ(response.inputs_size(), 2);
    EXPECT_THAT(response.inputs(0).shape(), ElementsAre(-1, 4));  // batch dim first
    EXPECT_EQ(response.inputs(0).datatype(), "FP32");
  }
  {
    grpc::ClientContext ctx;
    inference::ModelConfigRequest r;
    r.set_name("badd");
    inference::ModelConfigResponse response;
    ASSERT_TRUE(stub_->ModelConfig(&ctx, r, &response).ok());
    EXPECT_EQ(response.config().max_batch_size(), 8);
    EXPECT_EQ(response.config().input(0).name(), "A");
  }
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    inference::ModelInferResponse response;
    ASSERT_TRUE(stub_->ModelInfer(&ctx, AddRequest(1, 1), &response).ok());
  }
  {
    grpc::ClientContext ctx;
    inference::ModelStatisticsRequest r;
    r.set_name("add");
    inference::ModelStatisticsResponse response;
    ASSERT_TRUE(stub_->ModelStatistics(&ctx, r, &response).ok());
    ASSERT_EQ(response.model_stats_size(), 1);
    const auto& st = response.model_stats(0);
    EXPECT_EQ(st.inference_count(), 3u);
    EXPECT_EQ(st.execution_count(), 3u);  // warm-up runs are not counted
    EXPECT_EQ(st.inference_stats().success().count(), 3u);
    EXPECT_GT(st.inference_stats().success().ns(), 0u);
    EXPECT_GT(st.last_inference(), 0u);
  }
  {
    grpc::ClientContext ctx;
    inference::ModelStatisticsRequest r;
    inference::ModelStatisticsResponse response;
    ASSERT_TRUE(stub_->ModelStatistics(&ctx, r, &response).ok());
    EXPECT_EQ(response.model_stats_size(), 2);
  }
}

TEST_F(InferenceServiceTest, RepositoryIndexLoadUnload) {
  auto index = [&] {
    grpc::ClientContext ctx;
    inference::RepositoryIndexResponse response;
    EXPECT_TRUE(stub_->RepositoryIndex(&ctx, {}, &response).ok());
    return response;
  };
  EXPECT_EQ(index().models_size(), 2);
  {
    grpc::ClientContext ctx;
    inference::RepositoryModelUnloadRequest r;
    r.set_model_name("add");
    inference::RepositoryModelUnloadResponse response;
    ASSERT_TRUE(stub_->RepositoryModelUnload(&ctx, r, &response).ok());
  }
  EXPECT_EQ(index().models(0).state(), "UNAVAILABLE");
  {
    grpc::ClientContext ctx;
    inference::ModelReadyRequest r;
    r.set_name("add");
    inference::ModelReadyResponse response;
    ASSERT_TRUE(stub_->ModelReady(&ctx, r, &response).ok());
    EXPECT_FALSE(response.ready());
  }
  {
    grpc::ClientContext ctx;
    inference::RepositoryModelLoadRequest r;
    r.set_model_name("fresh");
    (*r.mutable_parameters())["config"].set_string_param(R"({"backend": "add"})");
    (*r.mutable_parameters())["file:1/model.onnx"].set_bytes_param("bytes");
    inference::RepositoryModelLoadResponse response;
    grpc::Status s = stub_->RepositoryModelLoad(&ctx, r, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_TRUE(fs::exists(repo_ / "fresh" / "1" / "model.onnx"));
  {
    grpc::ClientContext ctx;
    inference::RepositoryModelLoadRequest r;
    r.set_model_name("broken");
    (*r.mutable_parameters())["config"].set_string_param("{}");
    (*r.mutable_parameters())["file:1/model.onnx"].set_bytes_param("not a model");
    inference::RepositoryModelLoadResponse response;
    grpc::Status s = stub_->RepositoryModelLoad(&ctx, r, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("does not import"));
    EXPECT_FALSE(fs::exists(repo_ / "broken"));
  }
  {
    grpc::ClientContext ctx;
    inference::RepositoryModelLoadRequest r;
    r.set_model_name("x");
    (*r.mutable_parameters())["bogus"].set_string_param("1");
    inference::RepositoryModelLoadResponse response;
    EXPECT_THAT(stub_->RepositoryModelLoad(&ctx, r, &response).error_message(),
                HasSubstr("unknown load parameter 'bogus'"));
  }
}

TEST_F(InferenceServiceTest, SharedMemoryRpcsAndCudaIsUnimplemented) {
  {
    grpc::ClientContext ctx;
    inference::SystemSharedMemoryRegisterRequest r;
    r.set_name("r");
    r.set_key("/uop_no_such_region");
    r.set_byte_size(16);
    inference::SystemSharedMemoryRegisterResponse response;
    grpc::Status s = stub_->SystemSharedMemoryRegister(&ctx, r, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("cannot open shm key"));
  }
  {
    grpc::ClientContext ctx;
    inference::SystemSharedMemoryStatusResponse response;
    ASSERT_TRUE(stub_->SystemSharedMemoryStatus(&ctx, {}, &response).ok());
    EXPECT_TRUE(response.regions().empty());
  }
  {
    grpc::ClientContext ctx;
    inference::SystemSharedMemoryUnregisterRequest r;
    r.set_name("r");
    inference::SystemSharedMemoryUnregisterResponse response;
    EXPECT_EQ(stub_->SystemSharedMemoryUnregister(&ctx, r, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;
    inference::CudaSharedMemoryRegisterResponse response;
    grpc::Status s = stub_->CudaSharedMemoryRegister(&ctx, {}, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_THAT(s.error_message(), StartsWith("CudaSharedMemoryRegister is not supported by uopd"));
  }
}

TEST_F(InferenceServiceTest, ConcurrentClientsOnABatchingModelEachGetTheirOwnAnswer) {
  constexpr int kThreads = 8, kEach = 20;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        inference::ModelInferRequest r = AddRequest(t, i);
        r.set_model_name("badd");
        for (auto& in : *r.mutable_inputs()) {
          in.clear_shape();
          in.add_shape(1);
          in.add_shape(4);
        }
        grpc::ClientContext ctx;
        inference::ModelInferResponse response;
        grpc::Status s = stub_->ModelInfer(&ctx, r, &response);
        if (!s.ok() || response.raw_output_contents(0) !=
                           Floats({float(t + i), float(t + i), float(t + i), float(t + i)})) {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(CancelCheckAfterTest, AsksOnlyOnceTheCallIsOldEnough) {
  int asked = 0;
  auto ask = [&asked] {
    ++asked;
    return true;
  };
  // Just received: not cancelled, and gRPC is not asked (the costly poll).
  EXPECT_FALSE(CancelCheckAfter(absl::Now(), absl::Seconds(10), ask)());
  EXPECT_EQ(asked, 0);
  // Waited longer than the minimum age: gRPC's answer counts.
  EXPECT_TRUE(CancelCheckAfter(absl::Now() - absl::Milliseconds(5), absl::Milliseconds(1), ask)());
  EXPECT_EQ(asked, 1);
  EXPECT_FALSE(CancelCheckAfter(absl::Now() - absl::Milliseconds(5), absl::Milliseconds(1),
                                [] { return false; })());
}

TEST_F(InferenceServiceTest, ACallCancelledWhileQueuedIsNeverComputed) {
  std::shared_ptr<ModelVersion> model = core_->models().Get("add", "").value();
  Scheduler* scheduler = model->scheduler.get();
  const int runs_before = add_->runs();
  add_->set_delay(absl::Milliseconds(300));
  grpc::Status first;
  std::thread running([&] {
    grpc::ClientContext ctx;
    inference::ModelInferResponse response;
    first = stub_->ModelInfer(&ctx, AddRequest(1, 2), &response);
  });
  // The first call holds the only instance; the second waits in the queue.
  for (int i = 0; i < 200 && scheduler->in_flight() < 1; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  grpc::ClientContext cancelled_ctx;
  grpc::Status second;
  std::thread queued([&] {
    inference::ModelInferResponse response;
    second = stub_->ModelInfer(&cancelled_ctx, AddRequest(3, 4), &response);
  });
  for (int i = 0; i < 200 && scheduler->queue_depth() < 1; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(scheduler->queue_depth(), 1);
  cancelled_ctx.TryCancel();
  queued.join();
  running.join();
  ASSERT_TRUE(first.ok()) << first.error_message();
  EXPECT_EQ(second.error_code(), grpc::StatusCode::CANCELLED);
  // The server sees the cancel when the instance frees up and drops the call.
  for (int i = 0; i < 200 && scheduler->in_flight() > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(scheduler->in_flight(), 0);
  EXPECT_EQ(add_->runs() - runs_before, 1);
}

}  // namespace
}  // namespace uop::server
