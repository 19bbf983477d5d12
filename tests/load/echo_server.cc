// echo_server: the floor uopd is measured against. A bare C++ gRPC server of
// inference.GRPCInferenceService whose ModelInfer sends the request's
// tensors straight back (same payload both ways, no model, no queue).
//
//   echo_server [--port=0]     prints "echo_server: listening PORT", runs until killed
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "proto/grpc_service.grpc.pb.h"

namespace {

class Echo final : public inference::GRPCInferenceService::Service {
  grpc::Status ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse* response) override {
    response->set_live(true);
    return grpc::Status::OK;
  }
  grpc::Status ModelInfer(grpc::ServerContext*, const inference::ModelInferRequest* request,
                          inference::ModelInferResponse* response) override {
    response->set_model_name(request->model_name());
    response->set_id(request->id());
    for (const auto& in : request->inputs()) {
      auto* out = response->add_outputs();
      out->set_name(in.name());
      out->set_datatype(in.datatype());
      *out->mutable_shape() = in.shape();
    }
    *response->mutable_raw_output_contents() = request->raw_input_contents();
    return grpc::Status::OK;
  }
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--port=", 0) != 0 || !absl::SimpleAtoi(arg.substr(7), &port)) {
      std::fprintf(stderr, "echo_server: bad argument '%s' (only --port=N)\n", arg.c_str());
      return 2;
    }
  }
  Echo service;
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                           &bound);
  builder.SetMaxReceiveMessageSize(-1);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound == 0) {
    std::fprintf(stderr, "echo_server: cannot listen on port %d\n", port);
    return 1;
  }
  std::printf("echo_server: listening %d\n", bound);
  std::fflush(stdout);
  server->Wait();
  return 0;
}
