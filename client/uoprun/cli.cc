#include "client/uoprun/cli.h"

#include "absl/strings/str_format.h"
#include "client/uoprun/commands.h"
#include "client/uoprun/runner.h"

namespace uop::uoprun {

static_assert(kExitWatchdog == kWatchdogExitCode);

namespace {

constexpr char kHelp[] = R"(usage: uoprun COMMAND [flags]

Compiles models ahead of time and runs them in a fixed-rate loop.

commands:
  compile MODEL.onnx -o MODEL.uop   compile a model into an artifact for one device
  run MODEL.uop --hz 20 ...         run an artifact at a fixed rate and print statistics
  info MODEL.uop                    describe an artifact
  help                              print this help

`uoprun COMMAND --help` describes each command's flags.

exit codes:
  0 success; 1 failure; 2 usage error; 3 --check found a difference;
  4 --watchdog-abort fired; 5 the artifact is corrupted, of another version,
  or built for another device or compiler (recompile it)
)";

}  // namespace

int Fail(std::ostream& err, const absl::Status& status, int exit_code) {
  err << "uoprun: " << status.message() << "\n";
  return exit_code;
}

int ArtifactExitCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:     // corrupted, truncated, another version
    case absl::StatusCode::kFailedPrecondition:  // another device or compiler
      return kExitBadArtifact;
    default:
      return kExitFailure;
  }
}

int RunUoprun(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << "uoprun: usage: uoprun COMMAND [flags] with COMMAND compile, run or info (see --help)\n";
    return kExitUsage;
  }
  if (args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    out << kHelp;
    return kExitOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "compile") return CompileCommand(rest, out, err);
  if (args[0] == "run") return RunCommand(rest, out, err);
  if (args[0] == "info") return InfoCommand(rest, out, err);
  err << "uoprun: unknown command '" << args[0] << "' (commands: compile, run, info; see --help)\n";
  return kExitUsage;
}

}  // namespace uop::uoprun
