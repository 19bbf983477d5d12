// uopd's running parts, assembled: the /metrics endpoint, the gRPC server with
// the inference service, grpc.health.v1 health, server reflection and the
// request counter.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Daemon> daemon, Daemon::Start(options));
//   std::puts(daemon->ListeningLine().c_str());
//   ... wait for SIGTERM ...
//   daemon->Drain();
#ifndef UOP_SERVER_DAEMON_H_
#define UOP_SERVER_DAEMON_H_

#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/inference_service.h"
#include "server/metrics.h"
#include "server/options.h"

namespace uop::server {

class Daemon {
 public:
  // Binds every listener. Unavailable, naming the address and the reason, when
  // a port is taken; nothing is left listening on failure.
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const ServerOptions& options);

  ~Daemon();

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_->port(); }

  // "uopd: listening grpc=ADDR:PORT http=off metrics=ADDR:PORT" with the real
  // ports; tests parse it.
  std::string ListeningLine() const;

  // Health turns NOT_SERVING and ServerReady false, new RPCs are refused, and
  // in-flight ones get --exit-timeout-secs to finish before they are cancelled.
  // Returns when the gRPC server has stopped.
  void Drain();

 private:
  explicit Daemon(const ServerOptions& options) : options_(options) {}

  ServerOptions options_;
  // Declared before grpc_ so they outlive it: handlers and the request
  // counter use them until the server is gone.
  ServerMetrics metrics_registry_;
  InferenceService service_;
  std::unique_ptr<MetricsEndpoint> metrics_;
  std::unique_ptr<grpc::Server> grpc_;
  int grpc_port_ = 0;
  bool drained_ = false;
};

}  // namespace uop::server

#endif  // UOP_SERVER_DAEMON_H_
