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

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
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

  // One method's label and, per status code, its series (resolved on first
  // use), so a call does no descriptor lookup, label building or family
  // lookup: those cost about a microsecond per call.
  struct MethodCounters {
    std::string label;
    std::array<std::atomic<prometheus::Counter*>, 17> by_code{};  // grpc::StatusCode 0..16
  };

 private:
  // The entry of `grpc_method`; every method not in the linked protos shares
  // the "unknown" entry, so clients cannot grow the map.
  MethodCounters* CountersFor(const char* grpc_method);

  ServerMetrics* metrics_;  // not owned; outlives the server
  std::mutex mu_;           // guards methods_ (entries are never removed)
  std::map<std::string, std::unique_ptr<MethodCounters>, std::less<>> methods_;
  MethodCounters unknown_{"unknown", {}};
};

}  // namespace uop::server

#endif  // UOP_SERVER_REQUEST_COUNTER_H_
