#include "server/request_counter.h"

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <vector>

#include "proto/grpc_service.grpc.pb.h"

namespace uop::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MethodLabel, KnownMethodsKeepTheirNameWithoutTheSlash) {
  EXPECT_EQ(MethodLabel("/inference.GRPCInferenceService/ServerLive"),
            "inference.GRPCInferenceService/ServerLive");
  EXPECT_EQ(MethodLabel("/inference.GRPCInferenceService/ModelStreamInfer"),
            "inference.GRPCInferenceService/ModelStreamInfer");
}

TEST(MethodLabel, AnythingElseIsUnknown) {
  EXPECT_EQ(MethodLabel(nullptr), "unknown");
  EXPECT_EQ(MethodLabel(""), "unknown");
  EXPECT_EQ(MethodLabel("/"), "unknown");
  EXPECT_EQ(MethodLabel("no-slash"), "unknown");
  EXPECT_EQ(MethodLabel("/inference.GRPCInferenceService"), "unknown");
  EXPECT_EQ(MethodLabel("/inference.GRPCInferenceService/Bogus"), "unknown");
  EXPECT_EQ(MethodLabel("/evil.Service/x{y=\"z\"}"), "unknown");
}

// Answers ServerLive; every other RPC keeps the generated UNIMPLEMENTED.
class LiveOnlyService final : public inference::GRPCInferenceService::Service {
  grpc::Status ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse* response) override {
    response->set_live(true);
    return grpc::Status::OK;
  }
};

TEST(RequestCounter, CountsEveryFinishedRpcByMethodAndCode) {
  ServerMetrics metrics;
  LiveOnlyService service;
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<RequestCounterFactory>(&metrics));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto channel = server->InProcessChannel(grpc::ChannelArguments());
  auto stub = inference::GRPCInferenceService::NewStub(channel);

  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    inference::ServerLiveResponse response;
    ASSERT_TRUE(stub->ServerLive(&ctx, {}, &response).ok());
  }
  {
    grpc::ClientContext ctx;
    inference::ModelInferResponse response;
    EXPECT_EQ(stub->ModelInfer(&ctx, {}, &response).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
  {
    grpc::GenericStub generic(channel);
    grpc::ClientContext ctx;
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1), response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&ctx, "/inference.GRPCInferenceService/Bogus", grpc::StubOptions(), &request,
                      &response, [&done](grpc::Status s) { done.set_value(s); });
    EXPECT_EQ(done.get_future().get().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
  server->Shutdown();

  std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("uop_grpc_requests_total{code=\"OK\",method=\"inference."
                              "GRPCInferenceService/ServerLive\"} 3"));
  EXPECT_THAT(text, HasSubstr("uop_grpc_requests_total{code=\"UNIMPLEMENTED\",method=\"inference."
                              "GRPCInferenceService/ModelInfer\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr("Bogus")));
  EXPECT_THAT(text,
              HasSubstr("uop_grpc_requests_total{code=\"UNIMPLEMENTED\",method=\"unknown\"} 1"));
}

}  // namespace
}  // namespace uop::server
