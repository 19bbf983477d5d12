#include "server/health_service.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

namespace uop::server {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class HealthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&health_);
    server_ = builder.BuildAndStart();
    stub_ = grpc::health::v1::Health::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override {
    health_.Shutdown();
    server_->Shutdown();
  }
  HealthCheckResponse::ServingStatus Check(const std::string& service, grpc::StatusCode* code) {
    grpc::ClientContext ctx;
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    *code = stub_->Check(&ctx, request, &response).error_code();
    return response.status();
  }
  HealthService health_{{"inference.GRPCInferenceService"}};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
};

TEST_F(HealthServiceTest, CheckFollowsServingAndKnowsItsServices) {
  grpc::StatusCode code;
  EXPECT_EQ(Check("", &code), HealthCheckResponse::NOT_SERVING);
  health_.SetServing(true);
  EXPECT_EQ(Check("", &code), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check("inference.GRPCInferenceService", &code), HealthCheckResponse::SERVING);
  EXPECT_EQ(code, grpc::StatusCode::OK);
  Check("no.Such", &code);
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
  health_.Shutdown();
  health_.SetServing(true);  // no way back after shutdown
  EXPECT_EQ(Check("", &code), HealthCheckResponse::NOT_SERVING);
}

TEST_F(HealthServiceTest, WatchSendsTheStatusThenChangesAndEndsOnShutdown) {
  health_.SetServing(true);
  grpc::ClientContext ctx;
  auto reader = stub_->Watch(&ctx, HealthCheckRequest());
  HealthCheckResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.status(), HealthCheckResponse::SERVING);
  health_.SetServing(false);
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.status(), HealthCheckResponse::NOT_SERVING);
  health_.SetServing(true);
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.status(), HealthCheckResponse::SERVING);
  health_.Shutdown();
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(reader->Read(&r));
  EXPECT_TRUE(reader->Finish().ok());
}

TEST_F(HealthServiceTest, WatchOfAnUnknownServiceSaysSoAndACancelEndsIt) {
  grpc::ClientContext ctx;
  HealthCheckRequest request;
  request.set_service("no.Such");
  auto reader = stub_->Watch(&ctx, request);
  HealthCheckResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  ctx.TryCancel();
  EXPECT_FALSE(reader->Read(&r));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace uop::server
