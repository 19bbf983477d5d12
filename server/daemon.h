// uopd's running parts, assembled: the model repository and its schedulers,
// the gRPC server (inference, grpc.health.v1, reflection, request counter),
// the KServe v2 HTTP/REST server and the /metrics endpoint.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Daemon> daemon, Daemon::Start(options));
//   std::puts(daemon->ListeningLine().c_str());
//   daemon->LoadModels();   // READY once every model is compiled and warm
//   ... wait for SIGTERM ...
//   daemon->Drain();
#ifndef UOP_SERVER_DAEMON_H_
#define UOP_SERVER_DAEMON_H_

#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/engine/engine.h"
#include "server/backend.h"
#include "server/device_metrics.h"
#include "server/health_service.h"
#include "server/http_api.h"
#include "server/http_server.h"
#include "server/inference_service.h"
#include "server/metrics.h"
#include "server/model_manager.h"
#include "server/options.h"
#include "server/serving_core.h"
#include "server/shm_registry.h"
#include "server/tensor_service.h"
#include "server/web_view.h"

namespace uop::server {

class Daemon {
 public:
  // Binds every listener. Unavailable, naming the address and the reason, when
  // a port is taken; nothing is left listening on failure. Live from here on,
  // not ready until LoadModels has loaded what the control mode asks for.
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const ServerOptions& options);

  ~Daemon();

  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_ != nullptr ? http_->port() : 0; }
  int metrics_port() const { return metrics_->port(); }

  // "uopd: listening grpc=ADDR:PORT http=ADDR:PORT metrics=ADDR:PORT" with
  // the real ports; tests parse it.
  std::string ListeningLine() const;

  // Loads the startup models (printing one line per model), then starts
  // polling in poll mode. Failures are reported and leave ServerReady false.
  absl::Status LoadModels();

  // Health turns NOT_SERVING and ServerReady false, new RPCs are refused, and
  // in-flight ones get --exit-timeout-secs to finish before they are cancelled.
  // Returns when the gRPC and HTTP servers have stopped and every model queue
  // is empty.
  void Drain();

 private:
  explicit Daemon(const ServerOptions& options);

  ServerOptions options_;
  // Declared before the servers so they outlive them: handlers use them until
  // the servers are gone.
  ServerMetrics metrics_registry_;
  std::shared_ptr<Engine> engine_;
  std::shared_ptr<DeviceCollector> devices_;
  BackendRegistry backends_;
  ShmRegistry shm_;
  std::unique_ptr<ModelManager> models_;
  std::unique_ptr<ServingCore> core_;
  std::unique_ptr<InferenceService> service_;
  std::unique_ptr<TensorService> tensors_;
  HealthService health_{{std::string(inference::GRPCInferenceService::service_full_name())}};
  std::unique_ptr<HttpApi> http_api_;
  std::unique_ptr<WebView> web_view_;
  std::unique_ptr<MetricsEndpoint> metrics_;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<HttpServer> http_;
  int grpc_port_ = 0;
  bool drained_ = false;
};

}  // namespace uop::server

#endif  // UOP_SERVER_DAEMON_H_
