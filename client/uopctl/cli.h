// The uopctl command line, callable in-process (tests) and from main.cc.
//
//   uopctl [-u HOST:PORT] COMMAND [flags]
//   uopctl status --wait 30
//   uopctl infer add -i A=[1,2,3,4] -i B=b.npy -o C=c.npy
//   uopctl perf add --concurrency-range 1:8:2 -i A=random -i B=random
//
// Exit codes (scripts may rely on them):
//   0  success
//   1  the server answered with an error (invalid input, internal error, ...)
//      or a local file could not be written
//   2  usage error: unknown flag or command, malformed value, unreadable input file
//   3  the server could not be reached (UNAVAILABLE after retries)
//   4  the deadline passed (DEADLINE_EXCEEDED)
//   5  not found: no such model, version or shared-memory region
//   6  not ready: `status` found the server or model not ready, or a load ended
//      with the model not READY
//   7  the server does not implement this (UNIMPLEMENTED)
#ifndef UOP_CLIENT_UOPCTL_CLI_H_
#define UOP_CLIENT_UOPCTL_CLI_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace uop::uopctl {

enum ExitCode : int {
  kExitOk = 0,
  kExitServerError = 1,
  kExitUsage = 2,
  kExitUnreachable = 3,
  kExitDeadline = 4,
  kExitNotFound = 5,
  kExitNotReady = 6,
  kExitUnimplemented = 7,
};

// The exit code for an error a call returned.
int ExitCodeFor(const absl::Status& status);

// `args` are the arguments after the program name; `env_url` is $UOPCTL_URL
// (the default server when -u is not given). Output goes to `out`, errors as
// one line "uopctl: <what went wrong> (<CODE>)" to `err`.
int RunUopctl(const std::vector<std::string>& args, const std::string& env_url, std::ostream& out,
              std::ostream& err);

}  // namespace uop::uopctl

#endif  // UOP_CLIENT_UOPCTL_CLI_H_
