#include "server/health_service.h"

#include "absl/time/time.h"

namespace uop::server {

using grpc::health::v1::HealthCheckResponse;

void HealthService::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (shutdown_ || serving_ == serving) return;
  serving_ = serving;
  ++generation_;
  changed_.SignalAll();
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  serving_ = false;
  shutdown_ = true;
  ++generation_;
  changed_.SignalAll();
}

grpc::Status HealthService::Check(grpc::ServerContext*,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  HealthCheckResponse* response) {
  if (!request->service().empty() && !services_.count(request->service())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "unknown service '" + request->service() + "'");
  }
  absl::MutexLock lock(&mu_);
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
      absl::MutexLock lock(&mu_);
      // Wake on a change, and every 100 ms to notice a cancelled client.
      while (generation_ == sent && !context->IsCancelled()) {
        changed_.WaitWithTimeout(&mu_, absl::Milliseconds(100));
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
