// grpc.health.v1.Health, implemented as a plain synchronous service.
//
// gRPC's built-in health service (EnableDefaultHealthCheckService) is a
// callback service; registering it switches the whole server onto gRPC's
// callback threading, which more than doubled ModelInfer's latency and
// halved its throughput on loopback (bench/serve_bench.py). This one costs
// nothing on the inference path.
//
//   HealthService health;
//   builder.RegisterService(&health);
//   health.SetServing(true);            // "" and every named service
//   health.Shutdown();                  // NOT_SERVING; Watch streams end
//
// Check answers SERVING / NOT_SERVING for "" and the named services, and
// NOT_FOUND for other names (as gRPC's does). Watch sends the current status
// and then every change, until the client cancels or Shutdown().
#ifndef UOP_SERVER_HEALTH_SERVICE_H_
#define UOP_SERVER_HEALTH_SERVICE_H_

#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

#include "proto/health.grpc.pb.h"

namespace uop::server {

class HealthService final : public grpc::health::v1::Health::Service {
 public:
  // `services`: names answered besides "" (e.g. "inference.GRPCInferenceService").
  explicit HealthService(std::set<std::string> services) : services_(std::move(services)) {}

  void SetServing(bool serving);
  // NOT_SERVING for good; every Watch returns.
  void Shutdown();

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

 private:
  const std::set<std::string> services_;
  std::mutex mu_;  // std::mutex: visible to ThreadSanitizer (Debian's abseil is not)
  bool serving_ = false;
  bool shutdown_ = false;
  uint64_t generation_ = 0;  // bumped on every change
  std::condition_variable changed_;
};

}  // namespace uop::server

#endif  // UOP_SERVER_HEALTH_SERVICE_H_
