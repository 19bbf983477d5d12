// uopd's Prometheus metrics and the /metrics endpoint that serves them.
//
//   ServerMetrics metrics;                       // registry + process metrics
//   metrics.CountRequest("inference.GRPCInferenceService/ServerLive", "OK");
//   ASSIGN_OR_RETURN(auto endpoint, MetricsEndpoint::Start("0.0.0.0", 8002, metrics));
//   endpoint->port();                            // the real port when 8002 was 0
//
// Names follow Prometheus conventions (uop_<noun>_<unit>, counters end in
// _total, durations in seconds as histograms), plus the nv_inference_* families
// Triton dashboards use (model and version labels, durations in microseconds):
//
//   std::shared_ptr<ModelMetrics> m = metrics.ForModel("add", "1");
//   m->OnRequest(/*ok=*/true, /*count=*/1, request_ns, job.times);
#ifndef UOP_SERVER_METRICS_H_
#define UOP_SERVER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/process_metrics.h"

namespace uop::server {

struct JobTimes;

// The series of one model version, resolved once at load so the request path
// never looks up labels. Thread-safe.
class ModelMetrics {
 public:
  struct Series {
    prometheus::Counter* success;
    prometheus::Counter* failure;
    prometheus::Counter* inference_count;
    prometheus::Counter* exec_count;
    prometheus::Counter* request_us;
    prometheus::Counter* queue_us;
    prometheus::Counter* compute_input_us;
    prometheus::Counter* compute_infer_us;
    prometheus::Counter* compute_output_us;
    prometheus::Gauge* pending;
    prometheus::Histogram* request_seconds;
    prometheus::Histogram* queue_seconds;
    prometheus::Histogram* compute_seconds;
    prometheus::Histogram* batch_size;
    prometheus::Gauge* load_seconds;
  };
  explicit ModelMetrics(Series series) : s_(series) {}

  void OnRequest(bool ok, uint64_t count, int64_t request_ns, const JobTimes& times);
  void OnExecution(int64_t rows, const JobTimes& times);
  void SetPending(int64_t n) { s_.pending->Set(static_cast<double>(n)); }
  void SetLoadSeconds(double seconds) { s_.load_seconds->Set(seconds); }

 private:
  Series s_;
};

class ServerMetrics {
 public:
  ServerMetrics();

  // Thread-safe. `method` is a full gRPC method without the leading '/',
  // `code` a canonical code name (GrpcCodeName).
  void CountRequest(absl::string_view method, absl::string_view code);
  // The series CountRequest increments, for callers that keep it (stable for
  // the life of this object).
  prometheus::Counter& RequestSeries(absl::string_view method, absl::string_view code);

  // The series of model `name` version `version` (created on first use).
  std::shared_ptr<ModelMetrics> ForModel(const std::string& name, const std::string& version);

  // Extra collectables (device and compiler metrics) served with the rest.
  void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable);

  // Every family in the Prometheus text format, as /metrics serves it.
  std::string Render() const;

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  const std::shared_ptr<ProcessCollector>& process() const { return process_; }
  const std::vector<std::shared_ptr<prometheus::Collectable>>& extra() const { return extra_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ProcessCollector> process_;
  prometheus::Family<prometheus::Counter>* requests_;  // owned by registry_
  struct Families;
  std::shared_ptr<Families> families_;
  std::vector<std::shared_ptr<prometheus::Collectable>> extra_;
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
