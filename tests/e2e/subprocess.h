// A child process for end-to-end tests: started with posix_spawn (safe in a
// process that already runs gRPC threads), stdout and stderr captured in files
// so a chatty child can never block on a full pipe.
//
//   Subprocess p({"server/uopd", "--grpc-port=0"});
//   std::string line = p.WaitForStdoutLine("uopd: listening", absl::Seconds(20));
//   p.Signal(SIGTERM);
//   int code = p.WaitForExit(absl::Seconds(20));   // exit status, or -1
#ifndef UOP_TESTS_E2E_SUBPROCESS_H_
#define UOP_TESTS_E2E_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace uop::e2e {

class Subprocess {
 public:
  explicit Subprocess(const std::vector<std::string>& argv);
  ~Subprocess();  // SIGKILLs a child that is still running

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  bool started() const { return pid_ > 0; }

  // The first stdout line starting with `prefix`, or "" when the child exits
  // or `timeout` passes first.
  std::string WaitForStdoutLine(const std::string& prefix, absl::Duration timeout);

  void Signal(int signal_number);

  // The exit status; -1 after a timeout (the child is then killed) or when
  // the child died from a signal.
  int WaitForExit(absl::Duration timeout);

  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_status_ = -1;
  std::string stdout_path_;
  std::string stderr_path_;
  bool Reap(bool block);
};

// Runs argv to completion (killed after `timeout`): exit status and output.
struct RunResult {
  int exit_status;
  std::string out;
  std::string err;
};
RunResult RunToExit(const std::vector<std::string>& argv, absl::Duration timeout);

}  // namespace uop::e2e

#endif  // UOP_TESTS_E2E_SUBPROCESS_H_
