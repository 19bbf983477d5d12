#include "server/metrics.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace uop::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ServerMetrics, ExportsBuildInfoAndProcessMetrics) {
  ServerMetrics metrics;
  std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("uop_build_info{version=\"0.1.0\"} 1"));
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_open_fds", "process_start_time_seconds"}) {
    EXPECT_THAT(text, HasSubstr(std::string("\n") + name + " ")) << name;
  }
}

TEST(ServerMetrics, CountsRequestsPerMethodAndCode) {
  ServerMetrics metrics;
  const char* live = "inference.GRPCInferenceService/ServerLive";
  metrics.CountRequest(live, "OK");
  metrics.CountRequest(live, "OK");
  metrics.CountRequest("inference.GRPCInferenceService/ModelInfer", "UNIMPLEMENTED");
  std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE uop_grpc_requests_total counter"));
  // prometheus-cpp sorts labels by name.
  EXPECT_THAT(text, HasSubstr("uop_grpc_requests_total{code=\"OK\",method=\"" + std::string(live) +
                              "\"} 2"));
  EXPECT_THAT(text, HasSubstr("uop_grpc_requests_total{code=\"UNIMPLEMENTED\",method=\"inference."
                              "GRPCInferenceService/ModelInfer\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr("code=\"UNIMPLEMENTED\",method=\"" + std::string(live))));
}

// A plain HTTP/1.0 GET, so the test needs no HTTP client library.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "<connect failed>";
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) response.append(buf, n);
  close(fd);
  return response;
}

TEST(MetricsEndpoint, ServesMetricsOnAPickedPort) {
  ServerMetrics metrics;
  metrics.CountRequest("inference.GRPCInferenceService/ServerReady", "OK");
  auto endpoint = MetricsEndpoint::Start("127.0.0.1", 0, metrics);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  ASSERT_GT((*endpoint)->port(), 0);
  std::string response = HttpGet((*endpoint)->port(), "/metrics");
  EXPECT_THAT(response, HasSubstr("200 OK"));
  EXPECT_THAT(response, HasSubstr("uop_build_info{version=\"0.1.0\"} 1"));
  EXPECT_THAT(response, HasSubstr("process_resident_memory_bytes "));
  EXPECT_THAT(response, HasSubstr("method=\"inference.GRPCInferenceService/ServerReady\"} 1"));
}

TEST(MetricsEndpoint, StopsQuickly) {
  ServerMetrics metrics;
  auto endpoint = MetricsEndpoint::Start("127.0.0.1", 0, metrics);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  auto start = std::chrono::steady_clock::now();
  endpoint->reset();
  // civetweb alone would take its 2 s poll timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

TEST(MetricsEndpoint, PortInUseIsUnavailableNamingTheAddress) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);

  ServerMetrics metrics;
  auto endpoint = MetricsEndpoint::Start("127.0.0.1", port, metrics);
  close(fd);
  ASSERT_FALSE(endpoint.ok());
  EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(endpoint.status().message(),
              HasSubstr("cannot listen for metrics on 127.0.0.1:" + std::to_string(port)));
}

}  // namespace
}  // namespace uop::server
