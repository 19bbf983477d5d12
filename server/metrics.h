// uopd's Prometheus metrics and the /metrics endpoint that serves them.
//
//   ServerMetrics metrics;                       // registry + process metrics
//   metrics.CountRequest("inference.GRPCInferenceService/ServerLive", "OK");
//   ASSIGN_OR_RETURN(auto endpoint, MetricsEndpoint::Start("0.0.0.0", 8002, metrics));
//   endpoint->port();                            // the real port when 8002 was 0
//
// Names follow Prometheus conventions (uop_<noun>_<unit>, counters end in
// _total); Triton-compatible nv_inference_* families come with model serving.
#ifndef UOP_SERVER_METRICS_H_
#define UOP_SERVER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/process_metrics.h"

namespace uop::server {

class ServerMetrics {
 public:
  ServerMetrics();

  // Thread-safe. `method` is a full gRPC method without the leading '/',
  // `code` a canonical code name (GrpcCodeName).
  void CountRequest(absl::string_view method, absl::string_view code);

  // Every family in the Prometheus text format, as /metrics serves it.
  std::string Render() const;

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  const std::shared_ptr<ProcessCollector>& process() const { return process_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ProcessCollector> process_;
  prometheus::Family<prometheus::Counter>* requests_;  // owned by registry_
};

// The HTTP listener for /metrics (prometheus-cpp's pull Exposer, civetweb).
class MetricsEndpoint {
 public:
  // Binds `address`:`port` (port 0: any free port). Fails with Unavailable,
  // naming the address, when the port is taken or the address is unusable.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& address,
                                                                int port,
                                                                const ServerMetrics& metrics);

  int port() const { return port_; }

  // Stops the listener; returns in milliseconds (see WakeListener in the .cc).
  ~MetricsEndpoint();

 private:
  MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer, std::string address, int port)
      : exposer_(std::move(exposer)), address_(std::move(address)), port_(port) {}

  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string address_;
  int port_;
};

}  // namespace uop::server

#endif  // UOP_SERVER_METRICS_H_
