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
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
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
  requests_ = &prometheus::BuildCounter()
                   .Name("uop_grpc_requests_total")
                   .Help("gRPC requests finished, by full method name and status code.")
                   .Register(*registry_);
}

void ServerMetrics::CountRequest(absl::string_view method, absl::string_view code) {
  requests_->Add({{"method", std::string(method)}, {"code", std::string(code)}}).Increment();
}

std::string ServerMetrics::Render() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (auto& family : process_->Collect()) families.push_back(std::move(family));
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
  return std::unique_ptr<MetricsEndpoint>(
      new MetricsEndpoint(std::move(exposer), address, ports[0]));
}

}  // namespace uop::server
