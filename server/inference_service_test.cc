#include "server/inference_service.h"

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>

#include "server/server_info.h"

namespace uop::server {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class InferenceServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
    stub_ = inference::GRPCInferenceService::NewStub(channel_);
  }
  void TearDown() override { server_->Shutdown(); }

  InferenceService service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

TEST_F(InferenceServiceTest, ServerLiveIsTrue) {
  grpc::ClientContext ctx;
  inference::ServerLiveResponse response;
  grpc::Status status = stub_->ServerLive(&ctx, {}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.live());
}

TEST_F(InferenceServiceTest, ServerReadyFollowsSetReady) {
  for (bool ready : {false, true, false}) {
    service_.SetReady(ready);
    grpc::ClientContext ctx;
    inference::ServerReadyResponse response;
    ASSERT_TRUE(stub_->ServerReady(&ctx, {}, &response).ok());
    EXPECT_EQ(response.ready(), ready);
  }
}

TEST_F(InferenceServiceTest, ServerMetadataSaysNameVersionAndExtensions) {
  grpc::ClientContext ctx;
  inference::ServerMetadataResponse response;
  ASSERT_TRUE(stub_->ServerMetadata(&ctx, {}, &response).ok());
  EXPECT_EQ(response.name(), "uop");
  EXPECT_EQ(response.version(), kServerVersion);
  EXPECT_EQ(response.extensions_size(), static_cast<int>(kServerExtensions.size()));
}

// Walks the service descriptor, so an RPC added to the proto without a
// handler here still gets checked (it would answer with an empty message).
TEST_F(InferenceServiceTest, EveryUnservedUnaryRpcIsUnimplementedAndNamesItself) {
  const auto* service =
      inference::ServerLiveRequest::descriptor()->file()->FindServiceByName("GRPCInferenceService");
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(service->method_count(), 20);
  grpc::GenericStub generic(channel_);
  int checked = 0;
  for (int i = 0; i < service->method_count(); ++i) {
    const auto* method = service->method(i);
    const std::string& name = method->name();
    if (name == "ServerLive" || name == "ServerReady" || name == "ServerMetadata") continue;
    if (method->client_streaming() || method->server_streaming()) continue;
    grpc::ClientContext ctx;
    // Zero bytes are a valid encoding of every proto3 message (all defaults).
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1), response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&ctx, "/inference.GRPCInferenceService/" + name, grpc::StubOptions(),
                      &request, &response, [&done](grpc::Status s) { done.set_value(s); });
    grpc::Status status = done.get_future().get();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << name;
    EXPECT_THAT(status.error_message(), StartsWith(name + " is not implemented yet in uopd"));
    ++checked;
  }
  EXPECT_EQ(checked, 16);
}

TEST_F(InferenceServiceTest, ModelStreamInferIsUnimplemented) {
  grpc::ClientContext ctx;
  auto stream = stub_->ModelStreamInfer(&ctx);
  inference::ModelInferRequest request;
  request.set_model_name("add");
  stream->Write(request);
  stream->WritesDone();
  inference::ModelStreamInferResponse response;
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(status.error_message(), HasSubstr("ModelStreamInfer is not implemented yet"));
}

}  // namespace
}  // namespace uop::server
