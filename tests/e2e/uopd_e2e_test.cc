// End-to-end: the real uopd binary (a data dependency) as a child process.
//
// Every server binds 127.0.0.1 with port 0 and the test reads the ports from
// uopd's "listening" line, so tests run in parallel and in Bazel's sandbox.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/grpc_service.grpc.pb.h"
#include "proto/health.grpc.pb.h"
#include "tests/e2e/reflection.grpc.pb.h"
#include "tests/e2e/subprocess.h"

namespace uop::e2e {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using HealthResponse = grpc::health::v1::HealthCheckResponse;

// Runfiles paths; `bazel test` runs us in the workspace's runfiles root.
constexpr char kUopd[] = "server/uopd";
constexpr char kModels[] = "examples/models";
constexpr char kPythonClient[] = "tests/e2e/kserve_client.py";
// Generous: sanitizer builds start slower.
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kExitTimeout = absl::Seconds(30);

// uopd started with test-friendly flags plus `extra`; ports parsed from its
// listening line.
struct Uopd {
  std::unique_ptr<Subprocess> process;
  std::string listening_line;
  int grpc_port = 0;
  int http_port = 0;
  int metrics_port = 0;

  std::string GrpcTarget() const { return absl::StrCat("127.0.0.1:", grpc_port); }
};

std::vector<std::string> BaseArgs() {
  return {kUopd,
          "--address=127.0.0.1",
          "--grpc-port=0",
          "--metrics-port=0",
          "--http-port=0",
          absl::StrCat("--model-repository=", kModels),
          "--exit-timeout-secs=10"};
}

Uopd StartUopd(std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = BaseArgs();
  argv.insert(argv.end(), extra.begin(), extra.end());
  Uopd u;
  u.process = std::make_unique<Subprocess>(argv);
  u.listening_line = u.process->WaitForStdoutLine("uopd: listening", kStartTimeout);
  std::smatch m;
  static const std::regex kLine(
      R"(^uopd: listening grpc=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+) metrics=127\.0\.0\.1:(\d+)$)");
  if (std::regex_match(u.listening_line, m, kLine)) {
    u.grpc_port = std::stoi(m[1]);
    u.http_port = std::stoi(m[2]);
    u.metrics_port = std::stoi(m[3]);
  }
  return u;
}

#define ASSERT_STARTED(u)                                                                    \
  ASSERT_GT((u).grpc_port, 0) << "listening line: '" << (u).listening_line << "'\nstdout:\n" \
                              << (u).process->Stdout() << "stderr:\n"                        \
                              << (u).process->Stderr()

std::unique_ptr<inference::GRPCInferenceService::Stub> InferenceStub(const Uopd& u) {
  return inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel(u.GrpcTarget(), grpc::InsecureChannelCredentials()));
}

void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

// A listening TCP socket on 127.0.0.1 with a kernel-chosen port, held open to
// make that port "in use".
class HeldPort {
 public:
  HeldPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 1);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~HeldPort() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) response.append(buf, n);
    }
  }
  close(fd);
  return response;
}

// The value of the sample line `name_and_labels value` in a Prometheus text
// body, or -1 when absent.
double Sample(const std::string& body, const std::string& name_and_labels) {
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    if (absl::ConsumePrefix(&line, name_and_labels) && absl::ConsumePrefix(&line, " ")) {
      double value;
      if (absl::SimpleAtod(line, &value)) return value;
    }
  }
  return -1;
}

// A failed start must say what went wrong in exactly one stderr line.
void ExpectOneErrorLine(const RunResult& r, const std::string& fragment) {
  EXPECT_THAT(r.err, StartsWith("uopd: "));
  EXPECT_THAT(r.err, HasSubstr(fragment));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "stderr:\n" << r.err;
  EXPECT_EQ(r.err.back(), '\n');
}

// ---- serving ---------------------------------------------------------------

TEST(Uopd, AnswersServerLiveReadyAndMetadataThroughTheCppStub) {
  Uopd u = StartUopd();
  ASSERT_STARTED(u);
  // Live at once; ready only when every model is compiled and warm.
  ASSERT_EQ(u.process->WaitForStdoutLine("uopd: ready", absl::Seconds(120)), "uopd: ready")
      << u.process->Stdout();
  auto stub = InferenceStub(u);
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    inference::ServerLiveResponse r;
    ASSERT_TRUE(stub->ServerLive(&ctx, {}, &r).ok());
    EXPECT_TRUE(r.live());
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    inference::ServerReadyResponse r;
    ASSERT_TRUE(stub->ServerReady(&ctx, {}, &r).ok());
    EXPECT_TRUE(r.ready());
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    inference::ServerMetadataResponse r;
    ASSERT_TRUE(stub->ServerMetadata(&ctx, {}, &r).ok());
    EXPECT_EQ(r.name(), "uop");
    EXPECT_EQ(r.version(), "0.1.0");
  }
  EXPECT_THAT(u.process->Stdout(),
              HasSubstr("4 model folder(s) [add, image_mean, mlp, ppocr_v4_det]"));
  EXPECT_EQ(u.process->Stderr(), "");
}

TEST(Uopd, UnsupportedRpcIsUnimplementedWithAClearMessage) {
  Uopd u = StartUopd();
  ASSERT_STARTED(u);
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  inference::CudaSharedMemoryRegisterResponse response;
  grpc::Status status = InferenceStub(u)->CudaSharedMemoryRegister(&ctx, {}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(status.error_message(), StartsWith("CudaSharedMemoryRegister is not supported"));
}

TEST(Uopd, HealthCheckIsServing) {
  Uopd u = StartUopd();
  ASSERT_STARTED(u);
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(u.GrpcTarget(), grpc::InsecureChannelCredentials()));
  for (const char* service : {"", "inference.GRPCInferenceService"}) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    HealthResponse response;
    ASSERT_TRUE(health->Check(&ctx, request, &response).ok()) << service;
    EXPECT_EQ(response.status(), HealthResponse::SERVING) << service;
  }
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("no.such.Service");
  HealthResponse response;
  EXPECT_EQ(health->Check(&ctx, request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(Uopd, ReflectionListsAndDescribesTheServices) {
  Uopd u = StartUopd();
  ASSERT_STARTED(u);
  namespace refl = grpc::reflection::v1alpha;
  auto stub = refl::ServerReflection::NewStub(
      grpc::CreateChannel(u.GrpcTarget(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  auto stream = stub->ServerReflectionInfo(&ctx);

  refl::ServerReflectionRequest list;
  list.set_list_services("");
  ASSERT_TRUE(stream->Write(list));
  refl::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> services;
  for (const auto& s : response.list_services_response().service()) services.push_back(s.name());
  EXPECT_THAT(services, Contains("inference.GRPCInferenceService"));
  EXPECT_THAT(services, Contains("grpc.health.v1.Health"));
  EXPECT_THAT(services, Contains("grpc.reflection.v1alpha.ServerReflection"));

  // Describing a symbol returns its file, so grpcurl can call without .proto files.
  for (const char* symbol : {"inference.GRPCInferenceService", "grpc.health.v1.Health"}) {
    refl::ServerReflectionRequest describe;
    describe.set_file_containing_symbol(symbol);
    ASSERT_TRUE(stream->Write(describe));
    ASSERT_TRUE(stream->Read(&response));
    ASSERT_TRUE(response.has_file_descriptor_response())
        << symbol << ": " << response.error_response().error_message();
    // The answer holds the symbol's file and its imports (gRPC 1.51 also
    // repeats files sent earlier on the stream); find the symbol's own file.
    bool found = false;
    for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(bytes));
      for (const auto& service : file.service()) {
        found |= absl::StrCat(file.package(), ".", service.name()) == symbol;
      }
    }
    EXPECT_TRUE(found) << symbol;
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(Uopd, PythonGrpcioClientWithStubsGeneratedAtTestTime) {
  Uopd u = StartUopd();
  ASSERT_STARTED(u);
  ASSERT_EQ(u.process->WaitForStdoutLine("uopd: ready", absl::Seconds(120)), "uopd: ready");
  RunResult r = RunToExit({"/usr/bin/python3", kPythonClient, "--target", u.GrpcTarget(),
                           "--proto-root", ".", "--expect-version", "0.1.0"},
                          absl::Seconds(120));
  EXPECT_EQ(r.exit_status, 0) << "stdout:\n" << r.out << "stderr:\n" << r.err;
  EXPECT_THAT(r.out, HasSubstr("kserve_client: all checks passed"));
}

TEST(Uopd, MetricsExportProcessMetricsAndCountRequests) {
  Uopd u = StartUopd();
  ASSERT_STARTED(u);
  auto stub = InferenceStub(u);
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    inference::ServerLiveResponse r;
    ASSERT_TRUE(stub->ServerLive(&ctx, {}, &r).ok());
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    inference::ModelConfigResponse r;
    EXPECT_FALSE(stub->ModelConfig(&ctx, {}, &r).ok());  // no model named: NOT_FOUND
  }
  std::string response = HttpGet(u.metrics_port, "/metrics");
  ASSERT_THAT(response, StartsWith("HTTP/1.1 200 OK")) << response;
  EXPECT_EQ(Sample(response,
                   "uop_grpc_requests_total{code=\"OK\",method=\"inference."
                   "GRPCInferenceService/ServerLive\"}"),
            3);
  EXPECT_EQ(Sample(response,
                   "uop_grpc_requests_total{code=\"NOT_FOUND\",method=\"inference."
                   "GRPCInferenceService/ModelConfig\"}"),
            1);
  EXPECT_EQ(Sample(response, "uop_build_info{version=\"0.1.0\"}"), 1);
  EXPECT_GE(Sample(response, "process_cpu_seconds_total"), 0);
  EXPECT_GT(Sample(response, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GE(Sample(response, "process_open_fds"), 5);  // std streams + listeners
  const double start = Sample(response, "process_start_time_seconds");
  const double now = absl::ToUnixSeconds(absl::Now());
  EXPECT_GT(start, now - 600);
  EXPECT_LE(start, now + 1);
}

// ---- shutdown --------------------------------------------------------------

// NOTE: gRPC keeps an idle client connection open for about 5 s after its
// GOAWAY, which holds Shutdown until then or the --exit-timeout-secs
// deadline; the short deadline keeps this test fast.
TEST(Uopd, SigtermTurnsHealthNotServingThenExitsZero) {
  Uopd u = StartUopd({"--exit-timeout-secs=1"});
  ASSERT_STARTED(u);
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(u.GrpcTarget(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  auto watch = health->Watch(&ctx, grpc::health::v1::HealthCheckRequest());
  HealthResponse status;
  ASSERT_TRUE(watch->Read(&status));
  EXPECT_EQ(status.status(), HealthResponse::SERVING);

  u.process->Signal(SIGTERM);
  ASSERT_TRUE(watch->Read(&status));
  EXPECT_EQ(status.status(), HealthResponse::NOT_SERVING);
  ctx.TryCancel();  // a still-open Watch would hold the drain until its deadline
  watch->Finish();

  EXPECT_EQ(u.process->WaitForExit(kExitTimeout), 0);
  EXPECT_THAT(u.process->Stdout(),
              AllOf(HasSubstr("uopd: SIGTERM received, draining"), HasSubstr("uopd: stopped\n")));
  EXPECT_EQ(u.process->Stderr(), "");
}

TEST(Uopd, SigintExitsZeroAndFreesThePorts) {
  Uopd u = StartUopd();
  ASSERT_STARTED(u);
  u.process->Signal(SIGINT);
  EXPECT_EQ(u.process->WaitForExit(kExitTimeout), 0);
  EXPECT_THAT(u.process->Stdout(), HasSubstr("uopd: SIGINT received"));
  // The same ports can be taken again right away.
  Uopd again = StartUopd(
      {absl::StrCat("--grpc-port=", u.grpc_port), absl::StrCat("--metrics-port=", u.metrics_port)});
  ASSERT_STARTED(again);
  EXPECT_EQ(again.grpc_port, u.grpc_port);
}

// ---- bad input: one stderr line, exit 2 for usage, 1 for runtime -----------

TEST(UopdErrors, GrpcPortInUse) {
  HeldPort held;
  std::vector<std::string> argv = BaseArgs();
  argv.push_back(absl::StrCat("--grpc-port=", held.port()));
  RunResult r = RunToExit(argv, kExitTimeout);
  EXPECT_EQ(r.exit_status, 1);
  ExpectOneErrorLine(r, absl::StrCat("cannot listen for gRPC on 127.0.0.1:", held.port(),
                                     ": Address already in use"));
}

// gRPC would share a port between two servers through SO_REUSEPORT; uopd
// turns that off, so a second daemon on the same port fails instead.
TEST(UopdErrors, SecondUopdOnTheSameGrpcPort) {
  Uopd first = StartUopd();
  ASSERT_STARTED(first);
  std::vector<std::string> argv = BaseArgs();
  argv.push_back(absl::StrCat("--grpc-port=", first.grpc_port));
  RunResult r = RunToExit(argv, kExitTimeout);
  EXPECT_EQ(r.exit_status, 1);
  ExpectOneErrorLine(r, "Address already in use");
}

TEST(UopdErrors, MetricsPortInUse) {
  HeldPort held;
  std::vector<std::string> argv = BaseArgs();
  argv.push_back(absl::StrCat("--metrics-port=", held.port()));
  RunResult r = RunToExit(argv, kExitTimeout);
  EXPECT_EQ(r.exit_status, 1);
  ExpectOneErrorLine(r, absl::StrCat("cannot listen for metrics on 127.0.0.1:", held.port()));
}

TEST(UopdErrors, UnknownFlag) {
  std::vector<std::string> argv = BaseArgs();
  argv.push_back("--grpc_port=1");
  RunResult r = RunToExit(argv, kExitTimeout);
  EXPECT_EQ(r.exit_status, 2);
  ExpectOneErrorLine(r, "unknown flag '--grpc_port'");
}

TEST(UopdErrors, MalformedValue) {
  std::vector<std::string> argv = BaseArgs();
  argv.push_back("--metrics-port=80a");
  RunResult r = RunToExit(argv, kExitTimeout);
  EXPECT_EQ(r.exit_status, 2);
  ExpectOneErrorLine(r, "--metrics-port: '80a' is not a port number (0-65535)");
}

TEST(UopdErrors, ValueWithANewlineStillGivesOneLine) {
  RunResult r = RunToExit({kUopd, "--address=1.2.3.4\nbad"}, kExitTimeout);
  EXPECT_EQ(r.exit_status, 2);
  ExpectOneErrorLine(r, "is not an IPv4 or IPv6 address");
}

TEST(UopdErrors, UnreadableConfigFile) {
  RunResult r = RunToExit({kUopd, "--config=/nonexistent/uopd.conf"}, kExitTimeout);
  EXPECT_EQ(r.exit_status, 2);
  ExpectOneErrorLine(r, "cannot read config file '/nonexistent/uopd.conf': No such file");
}

TEST(UopdErrors, MalformedConfigFile) {
  std::string path = absl::StrCat(testing::TempDir(), "/malformed.conf");
  std::ofstream(path) << "grpc-port = 0\ngrpc-port 8001\n";
  RunResult r = RunToExit({kUopd, "--config", path}, kExitTimeout);
  EXPECT_EQ(r.exit_status, 2);
  ExpectOneErrorLine(r, path + ":2: expected 'key = value', got 'grpc-port 8001'");
}

TEST(UopdErrors, MissingModelRepository) {
  std::vector<std::string> argv = BaseArgs();
  argv.push_back("--model-repository=/nonexistent/models");
  RunResult r = RunToExit(argv, kExitTimeout);
  EXPECT_EQ(r.exit_status, 1);
  ExpectOneErrorLine(r, "model repository '/nonexistent/models' does not exist");
}

// ---- configuration ---------------------------------------------------------

TEST(UopdConfig, ConfigFileIsReadAndFlagsOverrideIt) {
  HeldPort held;  // the file's metrics port is taken: only the flag's 0 can work
  std::string path = absl::StrCat(testing::TempDir(), "/uopd.conf");
  std::ofstream(path) << "# test config\n"
                      << "address = 127.0.0.1\n"
                      << "grpc-port = 0\n"
                      << "http-port = 0\n"
                      << "metrics-port = " << held.port() << "\n"
                      << "model-repository = " << kModels << "\n";
  Subprocess p({kUopd, "--config", path, "--metrics-port=0"});
  std::string line = p.WaitForStdoutLine("uopd: listening", kStartTimeout);
  EXPECT_THAT(line, StartsWith("uopd: listening grpc=127.0.0.1:")) << p.Stderr();
  EXPECT_THAT(line, Not(HasSubstr(absl::StrCat(":", held.port()))));
}

TEST(UopdCli, HelpAndVersionExitZero) {
  RunResult help = RunToExit({kUopd, "--help"}, kExitTimeout);
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_THAT(help.out, HasSubstr("--model-repository"));
  EXPECT_EQ(help.err, "");
  RunResult version = RunToExit({kUopd, "--version"}, kExitTimeout);
  EXPECT_EQ(version.exit_status, 0);
  EXPECT_EQ(version.out, "uopd 0.1.0\n");
}

}  // namespace
}  // namespace uop::e2e
