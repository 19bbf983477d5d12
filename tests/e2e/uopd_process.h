// The real uopd binary as a child process for end-to-end tests, load tests
// and benchmarks: started on 127.0.0.1 with kernel-chosen ports, which are
// read back from its "listening" line.
//
//   UopdProcess u = UopdProcess::Start("server/uopd", {"--model-repository=examples/models"});
//   if (!u.started()) ... u.Output() says why;
//   u.WaitReady(absl::Seconds(60));            // "uopd: ready" printed
//   Http(u.http_port, "GET", "/v2/health/ready").status == 200
#ifndef UOP_TESTS_E2E_UOPD_PROCESS_H_
#define UOP_TESTS_E2E_UOPD_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/e2e/subprocess.h"

namespace uop::e2e {

struct UopdProcess {
  std::unique_ptr<Subprocess> process;
  std::string listening_line;
  int grpc_port = 0;
  int http_port = 0;
  int metrics_port = 0;

  // Adds --address=127.0.0.1 and port 0 for every listener before `args`.
  static UopdProcess Start(const std::string& binary, const std::vector<std::string>& args,
                           absl::Duration timeout = absl::Seconds(30));
  bool started() const { return grpc_port > 0; }
  // True once uopd printed "uopd: ready" (false on "not ready" or timeout).
  bool WaitReady(absl::Duration timeout);
  std::string GrpcTarget() const;
  std::string Output() const;  // stdout and stderr, for failure messages
};

struct HttpResult {
  int status = 0;  // 0: no answer
  std::string headers;
  std::string body;
};

// One HTTP/1.1 request on a fresh connection to 127.0.0.1:`port`.
HttpResult Http(int port, const std::string& method, const std::string& path,
                const std::string& body = "", const std::vector<std::string>& headers = {});

}  // namespace uop::e2e

#endif  // UOP_TESTS_E2E_UOPD_PROCESS_H_
