// The uoprun command line: `compile`, `run` and `info`, callable in-process
// (tests) and from main.cc.
//
//   uoprun compile model.onnx -o model.uop --device cpu --shape x=1,3,320,320
//   uoprun run model.uop --hz 20 --input x=shm:/camera0 --iterations 1000
//   uoprun info model.uop
//
// Exit codes (a script may rely on them):
//   0  success
//   1  failure: the model did not compile, a step failed, a file could not be read or written
//   2  usage error: unknown flag or command, malformed value, missing input
//   3  `run --check`: an output differs from its reference
//   4  `run --watchdog-abort`: a step overran the watchdog limit
//   5  the artifact cannot be used here: corrupted, truncated, another format
//      version, or built for another device or compiler (recompile it)
#ifndef UOP_CLIENT_UOPRUN_CLI_H_
#define UOP_CLIENT_UOPRUN_CLI_H_

#include <ostream>
#include <string>
#include <vector>

namespace uop::uoprun {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,
  kExitUsage = 2,
  kExitCheckFailed = 3,
  kExitWatchdog = 4,  // == kWatchdogExitCode
  kExitBadArtifact = 5,
};

// `args` are the arguments after the program name. Results go to `out`,
// warnings and the one-line error to `err` ("uoprun: <what went wrong>").
int RunUoprun(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace uop::uoprun

#endif  // UOP_CLIENT_UOPRUN_CLI_H_
