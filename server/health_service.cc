#include "server/health_service.h"

#include <chrono>

namespace uop::server {

using grpc::health::v1::HealthCheckResponse;

void HealthService::SetServing(bool serving) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_ || serving_ == serving) return;
  serving_ = serving;
  ++generation_;
  changed_.notify_all();
}

void HealthService::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  serving_ = false;
  shutdown_ = true;
  ++generation_;
  changed_.notify_all();
}

grpc::Status HealthService::Check(grpc::ServerContext*,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  HealthCheckResponse* response) {
  if (!request->service().empty() && !services_.count(request->service())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "unknown service '" + request->service() + "'");
  }
  std::lock_guard<std::mutex> lock(mu_);
  response->set_status(serving_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(grpc::ServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::ServerWriter<HealthCheckResponse>* writer) {
  const bool known = request->service().empty() || services_.count(request->service()) > 0;
  uint64_t sent = UINT64_MAX;  // the generation last sent; none yet
  while (true) {
    HealthCheckResponse response;
    bool last = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Wake on a change, and every 100 ms to notice a cancelled client.
      while (generation_ == sent && !context->IsCancelled()) {
        changed_.wait_for(lock, std::chrono::milliseconds(100));
      }
      if (context->IsCancelled()) return grpc::Status::CANCELLED;
      sent = generation_;
      response.set_status(!known     ? HealthCheckResponse::SERVICE_UNKNOWN
                          : serving_ ? HealthCheckResponse::SERVING
                                     : HealthCheckResponse::NOT_SERVING);
      last = shutdown_;
    }
    if (!writer->Write(response) || last) return grpc::Status::OK;
  }
}

}  // namespace uop::server
