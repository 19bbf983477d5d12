// A gRPC server interceptor that counts every finished RPC in
// uop_grpc_requests_total{method,code}, for all services (inference, health,
// reflection) without touching any handler.
//
//   std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> f;
//   f.push_back(std::make_unique<RequestCounterFactory>(&metrics));
//   builder.experimental().SetInterceptorCreators(std::move(f));
#ifndef UOP_SERVER_REQUEST_COUNTER_H_
#define UOP_SERVER_REQUEST_COUNTER_H_

#include <grpcpp/support/server_interceptor.h>

#include <string>

#include "server/metrics.h"

namespace uop::server {

// "/pkg.Service/Method" -> "pkg.Service/Method" when the method exists in the
// linked protos, else "unknown": clients choose method names freely, and each
// distinct label value is a new time series.
std::string MethodLabel(const char* grpc_method);

class RequestCounterFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RequestCounterFactory(ServerMetrics* metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  ServerMetrics* metrics_;  // not owned; outlives the server
};

}  // namespace uop::server

#endif  // UOP_SERVER_REQUEST_COUNTER_H_
