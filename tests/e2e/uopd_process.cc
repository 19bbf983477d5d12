#include "tests/e2e/uopd_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace uop::e2e {

UopdProcess UopdProcess::Start(const std::string& binary, const std::vector<std::string>& args,
                               absl::Duration timeout) {
  std::vector<std::string> argv = {binary, "--address=127.0.0.1", "--grpc-port=0", "--http-port=0",
                                   "--metrics-port=0"};
  argv.insert(argv.end(), args.begin(), args.end());
  UopdProcess u;
  u.process = std::make_unique<Subprocess>(argv);
  u.listening_line = u.process->WaitForStdoutLine("uopd: listening", timeout);
  static const std::regex kLine(
      R"(^uopd: listening grpc=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+) metrics=127\.0\.0\.1:(\d+)$)");
  std::smatch m;
  if (std::regex_match(u.listening_line, m, kLine)) {
    u.grpc_port = std::stoi(m[1]);
    u.http_port = std::stoi(m[2]);
    u.metrics_port = std::stoi(m[3]);
  }
  return u;
}

bool UopdProcess::WaitReady(absl::Duration timeout) {
  return process->WaitForStdoutLine("uopd: ready", timeout) == "uopd: ready";
}

std::string UopdProcess::GrpcTarget() const { return absl::StrCat("127.0.0.1:", grpc_port); }

std::string UopdProcess::Output() const {
  return absl::StrCat("stdout:\n", process->Stdout(), "stderr:\n", process->Stderr());
}

HttpResult Http(int port, const std::string& method, const std::string& path,
                const std::string& body, const std::vector<std::string>& headers) {
  HttpResult result;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return result;
  }
  std::string request = absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                                     "Connection: close\r\nContent-Length: ", body.size(), "\r\n");
  for (const std::string& h : headers) absl::StrAppend(&request, h, "\r\n");
  absl::StrAppend(&request, "\r\n", body);
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = write(fd, request.data() + sent, request.size() - sent);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) response.append(buf, n);
  close(fd);
  size_t end = response.find("\r\n\r\n");
  if (response.size() < 12 || end == std::string::npos) return result;
  absl::SimpleAtoi(response.substr(9, 3), &result.status);
  result.headers = response.substr(0, end);
  result.body = response.substr(end + 4);
  return result;
}

}  // namespace uop::e2e
