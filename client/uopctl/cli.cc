#include "client/uopctl/cli.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/uopctl/commands.h"

namespace uop::uopctl {
namespace {

constexpr char kHelp[] = R"(usage: uopctl [-u HOST:PORT] COMMAND [flags]

The command-line client of uopd (and any KServe v2 / Triton gRPC server).

commands:
  status [-m MODEL] [--wait S]     is the server (and a model) live and ready
  models [--ready]                 the model repository with each model's state
  load MODEL                       load or reload a model, showing progress while it compiles
  unload MODEL                     unload a model
  config MODEL                     a model's configuration (config.pbtxt text, or --json)
  metadata MODEL                   a model's inputs and outputs
  infer MODEL -i NAME=SPEC ...     run one inference; print outputs or write them as .npy
  perf MODEL [--concurrency-range 1:8:2]
                                   throughput and latency percentiles, client vs server time
  trace [--seconds N] [-o FILE]    fetch a Perfetto trace of the last N seconds
  help                             print this help

global flags (before or after the command):
  -u, --url=HOST:PORT   server (default $UOPCTL_URL, else localhost:8001)
  --timeout=SECONDS     deadline of each call (default: 30 s; load/unload 600 s)
  --retries=N           retries of a call the server answers UNAVAILABLE (default 3)

`uopctl COMMAND --help` describes each command.

exit codes:
  0 success; 1 the server returned an error; 2 usage error; 3 server unreachable;
  4 deadline exceeded; 5 not found; 6 not ready; 7 not implemented by the server
)";

struct Command {
  const char* name;
  int (*run)(Context&, const std::vector<std::string>&);
};

constexpr Command kCommands[] = {
    {"status", StatusCommand}, {"models", ModelsCommand}, {"load", LoadCommand},
    {"unload", UnloadCommand}, {"config", ConfigCommand}, {"metadata", MetadataCommand},
    {"infer", InferCommand},   {"perf", PerfCommand},     {"trace", TraceCommand},
};

// Global flags that take a value, so the value is not mistaken for the command.
bool TakesValue(const std::string& a) {
  return a == "-u" || a == "--url" || a == "--timeout" || a == "--retries";
}

}  // namespace

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kUnavailable:
      return kExitUnreachable;
    case absl::StatusCode::kDeadlineExceeded:
      return kExitDeadline;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kUnimplemented:
      return kExitUnimplemented;
    default:
      return kExitServerError;
  }
}

int RunUopctl(const std::vector<std::string>& args, const std::string& env_url, std::ostream& out,
              std::ostream& err) {
  Context ctx{Globals{}, out, err};
  if (!env_url.empty()) ctx.globals.url = env_url;
  // The command is the first argument that is neither a flag nor a global flag's value.
  size_t cmd = 0;
  while (cmd < args.size() && !args[cmd].empty() && args[cmd][0] == '-') {
    if (args[cmd] == "-h" || args[cmd] == "--help") {
      out << kHelp;
      return kExitOk;
    }
    cmd += TakesValue(args[cmd]) ? 2 : 1;
  }
  if (cmd >= args.size()) {
    return ctx.Usage(
        "no command (commands: status, models, load, unload, config, metadata, "
        "infer, perf, trace; see --help)");
  }
  if (args[cmd] == "help") {
    out << kHelp;
    return kExitOk;
  }
  std::vector<std::string> rest(args.begin(), args.begin() + cmd);
  rest.insert(rest.end(), args.begin() + cmd + 1, args.end());
  for (const Command& c : kCommands) {
    if (args[cmd] == c.name) return c.run(ctx, rest);
  }
  return ctx.Usage(absl::StrCat("unknown command '", args[cmd], "' (see --help)"));
}

}  // namespace uop::uopctl
