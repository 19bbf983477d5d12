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
#include "drivers/device_registry.h"
#include "runtime/base/status_macros.h"
#include "server/device_placement.h"
#include "server/gpu_metrics.h"
#include "server/grpc_log.h"
#include "server/model_state_metrics.h"
#include "server/onnx_backend.h"
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

Daemon::Daemon(const ServerOptions& options) : options_(options) {}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const ServerOptions& options) {
  std::unique_ptr<Daemon> d(new Daemon(options));
  EngineOptions engine_options;
  engine_options.cache_dir = options.kernel_cache_dir;
  d->engine_ = Engine::Install(engine_options);
  d->devices_ = std::make_shared<DeviceCollector>(d->engine_, std::vector<std::string>{"CPU:0"});
  d->metrics_registry_.AddCollectable(d->devices_);
  RegisterOnnxBackend(d->backends_);

  ModelManagerOptions mo;
  mo.repository = options.model_repository;
  mo.mode = options.model_control_mode == "explicit" ? ControlMode::kExplicit
            : options.model_control_mode == "poll"   ? ControlMode::kPoll
                                                     : ControlMode::kNone;
  mo.startup_models = options.load_models;
  mo.poll_secs = options.repository_poll_secs;
  mo.max_model_bytes = options.max_model_bytes;
  mo.max_queue_size = options.max_queue_size;
  mo.verbose = true;
  mo.device_busy = [devices = d->devices_](int64_t ns) { devices->AddBusy(0, ns); };
  mo.gpus = DiscoverGpus(options.gpu_backend, -1);
  for (int g = 0; g < mo.gpus.count; ++g) {
    absl::StatusOr<Device*> gpu = DeviceRegistry::Global().Get(mo.gpus.Name(g));
    if (!gpu.ok()) return gpu.status();
    mo.gpus.total_bytes[g] = static_cast<int64_t>((*gpu)->info().total_memory);
  }
  mo.gpu_memory_budget_bytes = options.gpu_memory_budget_bytes;
  mo.health_probe_interval = absl::Seconds(options.gpu_health_probe_secs);
  const GpuSet gpus = mo.gpus;
  d->models_ = std::make_unique<ModelManager>(std::move(mo), &d->backends_, &d->metrics_registry_);
  d->metrics_registry_.AddCollectable(
      std::make_shared<GpuCollector>(gpus, &d->models_->gpu_memory(), [models = d->models_.get()] {
        std::vector<DeviceLoad> loads;
        for (const auto& v : models->Ready()) {
          std::vector<DeviceLoad> l = v->scheduler->devices();
          loads.insert(loads.end(), l.begin(), l.end());
        }
        return loads;
      }));
  InferLimits limits;
  limits.max_request_bytes = options.max_request_bytes;
  d->core_ = std::make_unique<ServingCore>(d->models_.get(), &d->shm_, limits);
  d->service_ = std::make_unique<InferenceService>(d->core_.get());
  TensorServiceOptions tensor_options;
  tensor_options.max_program_bytes = options.max_model_bytes;
  d->tensors_ = std::make_unique<TensorService>(&d->backends_, &d->shm_, limits, tensor_options);
  d->http_api_ = std::make_unique<HttpApi>(d->core_.get());
  // /ui on the HTTP port; uop_model_ready on /metrics.
  d->web_view_ = std::make_unique<WebView>(
      WebViewSources{d->core_.get(), d->engine_, std::vector<std::string>{"CPU:0"}});
  d->metrics_registry_.AddCollectable(std::make_shared<ModelStateCollector>(d->models_.get()));

  ASSIGN_OR_RETURN(d->metrics_, MetricsEndpoint::Start(options.address, options.metrics_port,
                                                       d->metrics_registry_));

  // A process-wide switch read by the next ServerBuilder. (gRPC's built-in
  // health service stays off: see health_service.h.)
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  const std::string grpc_address = HostPort(options.address, options.grpc_port);
  builder.AddListeningPort(grpc_address, grpc::InsecureServerCredentials(), &d->grpc_port_);
  // gRPC sets SO_REUSEPORT by default, which lets a second uopd bind the same
  // port and silently split the traffic. A taken port must be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<int64_t>(options.max_request_bytes, INT32_MAX)));
  builder.SetMaxSendMessageSize(INT32_MAX);
  builder.RegisterService(d->service_.get());
  builder.RegisterService(&d->health_);
  builder.RegisterService(d->tensors_.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counters;
  counters.push_back(std::make_unique<RequestCounterFactory>(&d->metrics_registry_));
  builder.experimental().SetInterceptorCreators(std::move(counters));
  d->grpc_ = builder.BuildAndStart();
  if (d->grpc_ == nullptr || d->grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", grpc_address, ": ", BindFailureReason()));
  }

  HttpServerOptions http_options;
  http_options.threads = options.http_threads;
  http_options.max_body_bytes = options.max_request_bytes;
  HttpApi* api = d->http_api_.get();
  WebView* ui = d->web_view_.get();
  ASSIGN_OR_RETURN(d->http_,
                   HttpServer::Start(options.address, options.http_port, http_options,
                                     [api, ui](const HttpRequest& req, HttpResponse* res) {
                                       if (!ui->Handle(req, res)) api->Handle(req, res);
                                     }));

  // SERVING as a whole ("") and by the inference service's name.
  d->health_.SetServing(true);
  d->core_->SetAccepting(true);
  return d;
}

absl::Status Daemon::LoadModels() {
  absl::Status status = models_->LoadStartupModels();
  models_->StartPolling();
  return status;
}

Daemon::~Daemon() {
  health_.Shutdown();
  if (grpc_ != nullptr && !drained_) {
    grpc_->Shutdown(std::chrono::system_clock::now());
    grpc_->Wait();
  }
  http_.reset();
  if (models_ != nullptr) models_->Stop();
}

std::string Daemon::ListeningLine() const {
  return absl::StrCat("uopd: listening grpc=", HostPort(options_.address, grpc_port_),
                      " http=", HostPort(options_.address, http_port()),
                      " metrics=", HostPort(options_.address, metrics_port()));
}

void Daemon::Drain() {
  core_->SetDraining();
  // Before Shutdown, so Watch streams and load balancers see NOT_SERVING; the
  // streams end so they do not hold the drain.
  health_.Shutdown();
  if (http_ != nullptr) http_->Stop();
  grpc_->Shutdown(std::chrono::system_clock::now() +
                  std::chrono::seconds(options_.exit_timeout_secs));
  grpc_->Wait();
  http_.reset();  // waits for requests being handled
  models_->Stop();
  drained_ = true;
}

}  // namespace uop::server
