#include "server/daemon.h"

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "server/grpc_log.h"
#include "server/request_counter.h"

namespace uop::server {
namespace {

// gRPC reports a failed bind only through its log; turn the held messages
// into a short reason.
std::string BindFailureReason() {
  std::string log = HeldGrpcErrors();
  for (int err : {EADDRINUSE, EADDRNOTAVAIL, EACCES}) {
    if (absl::StrContains(log, std::strerror(err))) return std::strerror(err);
  }
  return log.empty() ? "gRPC gave no reason" : log;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const ServerOptions& options) {
  std::unique_ptr<Daemon> d(new Daemon(options));
  ASSIGN_OR_RETURN(d->metrics_, MetricsEndpoint::Start(options.address, options.metrics_port,
                                                       d->metrics_registry_));

  // Both are process-wide switches read by the next ServerBuilder.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  const std::string grpc_address = HostPort(options.address, options.grpc_port);
  builder.AddListeningPort(grpc_address, grpc::InsecureServerCredentials(), &d->grpc_port_);
  // gRPC sets SO_REUSEPORT by default, which lets a second uopd bind the same
  // port and silently split the traffic. A taken port must be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&d->service_);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counters;
  counters.push_back(std::make_unique<RequestCounterFactory>(&d->metrics_registry_));
  builder.experimental().SetInterceptorCreators(std::move(counters));
  d->grpc_ = builder.BuildAndStart();
  if (d->grpc_ == nullptr || d->grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", grpc_address, ": ", BindFailureReason()));
  }

  // The whole server ("") is SERVING by default; name the service too, for
  // clients that check it by name.
  d->grpc_->GetHealthCheckService()->SetServingStatus(
      inference::GRPCInferenceService::service_full_name(), true);
  d->service_.SetReady(true);
  return d;
}

Daemon::~Daemon() {
  if (grpc_ != nullptr && !drained_) {
    grpc_->Shutdown(std::chrono::system_clock::now());
    grpc_->Wait();
  }
}

std::string Daemon::ListeningLine() const {
  return absl::StrCat("uopd: listening grpc=", HostPort(options_.address, grpc_port_),
                      " http=off metrics=", HostPort(options_.address, metrics_port()));
}

void Daemon::Drain() {
  service_.SetReady(false);
  // Before Shutdown, so Watch streams and load balancers see NOT_SERVING.
  grpc_->GetHealthCheckService()->SetServingStatus(false);
  grpc_->Shutdown(std::chrono::system_clock::now() +
                  std::chrono::seconds(options_.exit_timeout_secs));
  grpc_->Wait();
  drained_ = true;
}

}  // namespace uop::server
