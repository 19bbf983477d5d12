#include "server/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/infer_job.h"
#include "server/options.h"
#include "server/server_info.h"

namespace uop::server {

ServerMetrics::ServerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      process_(std::make_shared<ProcessCollector>()) {
  // Constant 1 whose labels say what is running; join on it in queries.
  prometheus::BuildGauge()
      .Name("uop_build_info")
      .Help("Build information about uopd; the value is always 1.")
      .Register(*registry_)
      .Add({{"version", std::string(kServerVersion)}})
      .Set(1);
  families_ = std::make_shared<Families>(*registry_);
  requests_ = &prometheus::BuildCounter()
                   .Name("uop_grpc_requests_total")
                   .Help("gRPC requests finished, by full method name and status code.")
                   .Register(*registry_);
}

namespace {

// Latency buckets from 50 us to 10 s.
const prometheus::Histogram::BucketBoundaries& SecondsBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3,
      50e-3, 100e-3, 250e-3, 500e-3, 1,    2.5,    5,    10};
  return *b;
}

}  // namespace

struct ServerMetrics::Families {
  explicit Families(prometheus::Registry& r)
      : success(Counter(r, "nv_inference_request_success",
                        "Number of successful inference requests, all batch sizes")),
        failure(Counter(r, "nv_inference_request_failure",
                        "Number of failed inference requests, all batch sizes")),
        count(Counter(r, "nv_inference_count",
                      "Number of inferences performed (a batch of n counts n)")),
        exec(Counter(r, "nv_inference_exec_count",
                     "Number of model executions performed (a batch counts 1)")),
        request_us(Counter(r, "nv_inference_request_duration_us",
                           "Cumulative inference request duration in microseconds")),
        queue_us(Counter(r, "nv_inference_queue_duration_us",
                         "Cumulative inference queuing duration in microseconds")),
        input_us(Counter(r, "nv_inference_compute_input_duration_us",
                         "Cumulative compute input duration in microseconds")),
        infer_us(Counter(r, "nv_inference_compute_infer_duration_us",
                         "Cumulative compute inference duration in microseconds")),
        output_us(Counter(r, "nv_inference_compute_output_duration_us",
                          "Cumulative inference compute output duration in microseconds")),
        pending(prometheus::BuildGauge()
                    .Name("nv_inference_pending_request_count")
                    .Help("Instantaneous number of pending requests awaiting execution")
                    .Register(r)),
        request_s(Histogram(r, "uop_inference_request_duration_seconds",
                            "Time from receiving an inference request to its response")),
        queue_s(Histogram(r, "uop_inference_queue_duration_seconds",
                          "Time inference requests waited in the model queue")),
        compute_s(Histogram(r, "uop_inference_compute_duration_seconds",
                            "Time of one model execution (input gather, run, output split)")),
        batch(prometheus::BuildHistogram()
                  .Name("uop_inference_batch_size")
                  .Help("Rows of real requests per model execution")
                  .Register(r)),
        load_s(prometheus::BuildGauge()
                   .Name("uop_model_load_duration_seconds")
                   .Help("Time the last load of a model version took: import, compile, warm-up")
                   .Register(r)) {}

  static prometheus::Family<prometheus::Counter>& Counter(prometheus::Registry& r, const char* name,
                                                          const char* help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r);
  }
  static prometheus::Family<prometheus::Histogram>& Histogram(prometheus::Registry& r,
                                                              const char* name, const char* help) {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
  }

  prometheus::Family<prometheus::Counter>& success;
  prometheus::Family<prometheus::Counter>& failure;
  prometheus::Family<prometheus::Counter>& count;
  prometheus::Family<prometheus::Counter>& exec;
  prometheus::Family<prometheus::Counter>& request_us;
  prometheus::Family<prometheus::Counter>& queue_us;
  prometheus::Family<prometheus::Counter>& input_us;
  prometheus::Family<prometheus::Counter>& infer_us;
  prometheus::Family<prometheus::Counter>& output_us;
  prometheus::Family<prometheus::Gauge>& pending;
  prometheus::Family<prometheus::Histogram>& request_s;
  prometheus::Family<prometheus::Histogram>& queue_s;
  prometheus::Family<prometheus::Histogram>& compute_s;
  prometheus::Family<prometheus::Histogram>& batch;
  prometheus::Family<prometheus::Gauge>& load_s;
  std::mutex mu;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<ModelMetrics>> models;
};

std::shared_ptr<ModelMetrics> ServerMetrics::ForModel(const std::string& name,
                                                      const std::string& version) {
  Families& f = *families_;
  std::lock_guard<std::mutex> lock(f.mu);
  auto& slot = f.models[{name, version}];
  if (slot) return slot;
  const prometheus::Labels labels = {{"model", name}, {"version", version}};
  static const auto* kBatchBuckets =
      new prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256};
  slot = std::make_shared<ModelMetrics>(ModelMetrics::Series{
      &f.success.Add(labels),
      &f.failure.Add(labels),
      &f.count.Add(labels),
      &f.exec.Add(labels),
      &f.request_us.Add(labels),
      &f.queue_us.Add(labels),
      &f.input_us.Add(labels),
      &f.infer_us.Add(labels),
      &f.output_us.Add(labels),
      &f.pending.Add(labels),
      &f.request_s.Add(labels, SecondsBuckets()),
      &f.queue_s.Add(labels, SecondsBuckets()),
      &f.compute_s.Add(labels, SecondsBuckets()),
      &f.batch.Add(labels, *kBatchBuckets),
      &f.load_s.Add(labels),
  });
  return slot;
}

void ServerMetrics::AddCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
  extra_.push_back(std::move(collectable));
}

void ModelMetrics::OnRequest(bool ok, uint64_t count, int64_t request_ns, const JobTimes& t) {
  if (!ok) {
    s_.failure->Increment();
    return;
  }
  s_.success->Increment();
  s_.inference_count->Increment(static_cast<double>(count));
  s_.request_us->Increment(static_cast<double>(request_ns) / 1e3);
  s_.queue_us->Increment(static_cast<double>(t.queue_ns) / 1e3);
  s_.compute_input_us->Increment(static_cast<double>(t.compute_input_ns) / 1e3);
  s_.compute_infer_us->Increment(static_cast<double>(t.compute_infer_ns) / 1e3);
  s_.compute_output_us->Increment(static_cast<double>(t.compute_output_ns) / 1e3);
  s_.request_seconds->Observe(static_cast<double>(request_ns) / 1e9);
  s_.queue_seconds->Observe(static_cast<double>(t.queue_ns) / 1e9);
}

void ModelMetrics::OnExecution(int64_t rows, const JobTimes& t) {
  s_.exec_count->Increment();
  s_.batch_size->Observe(static_cast<double>(rows));
  s_.compute_seconds->Observe(
      static_cast<double>(t.compute_input_ns + t.compute_infer_ns + t.compute_output_ns) / 1e9);
}

void ServerMetrics::CountRequest(absl::string_view method, absl::string_view code) {
  RequestSeries(method, code).Increment();
}

prometheus::Counter& ServerMetrics::RequestSeries(absl::string_view method,
                                                  absl::string_view code) {
  return requests_->Add({{"method", std::string(method)}, {"code", std::string(code)}});
}

std::string ServerMetrics::Render() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (auto& family : process_->Collect()) families.push_back(std::move(family));
  for (const auto& extra : extra_) {
    for (auto& family : extra->Collect()) families.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(families);
}

namespace {

// Opens and closes one TCP connection to the listener at `address`:`port`
// (a wildcard address is reached through loopback). Errors do not matter.
void WakeListener(const std::string& address, int port) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    if (v4->sin_addr.s_addr == htonl(INADDR_ANY)) v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(*v4);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    if (std::memcmp(&v6->sin6_addr, &in6addr_any, sizeof(in6addr_any)) == 0) {
      v6->sin6_addr = in6addr_loopback;
    }
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(*v6);
  } else {
    return;
  }
  int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)connect(fd, reinterpret_cast<sockaddr*>(&storage), length);
  close(fd);
}

}  // namespace

MetricsEndpoint::~MetricsEndpoint() {
  // NOTE: civetweb's listener thread polls with a 2 s timeout and notices the
  // stop request only when poll returns, so a plain shutdown takes 2 s. Poking
  // the port until the Exposer is gone makes poll return at once.
  std::atomic<bool> stopped{false};
  std::thread waker([this, &stopped] {
    while (!stopped.load()) {
      WakeListener(address_, port_);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  exposer_.reset();
  stopped.store(true);
  waker.join();
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, int port, const ServerMetrics& metrics) {
  const std::string bind = HostPort(address, port);
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // One thread is plenty for a scrape every few seconds.
    exposer = std::make_unique<prometheus::Exposer>(bind, /*num_threads=*/1);
  } catch (const std::exception&) {
    // civetweb only says it could not bind; the usual reason is a taken port.
    return absl::UnavailableError(
        absl::StrCat("cannot listen for metrics on ", bind, " (port in use or address not local)"));
  }
  std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(absl::StrCat("metrics listener on ", bind, " has no port"));
  }
  exposer->RegisterCollectable(metrics.registry());
  exposer->RegisterCollectable(metrics.process());
  for (const auto& collectable : metrics.extra()) exposer->RegisterCollectable(collectable);
  return std::unique_ptr<MetricsEndpoint>(
      new MetricsEndpoint(std::move(exposer), address, ports[0]));
}

}  // namespace uop::server
