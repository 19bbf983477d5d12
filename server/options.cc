#include "server/options.h"

#include <arpa/inet.h>

#include <algorithm>
#include <functional>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "runtime/base/status_macros.h"
#include "server/config_file.h"

namespace uop::server {
namespace {

// One row per option; flags, config keys and --help all come from this table,
// so adding an option touches one place. `set` gets the raw text and returns a
// message without the option name (the caller adds "--name: " or "file:line: name: ").
struct OptionSpec {
  absl::string_view name;
  absl::string_view value_name;
  absl::string_view help;
  std::function<absl::Status(absl::string_view, ServerOptions&)> set;
};

absl::StatusOr<int> ParseUnsigned(absl::string_view text, int max, absl::string_view what) {
  int value = 0;
  // Digits only: SimpleAtoi would also take "+80" or " 80".
  bool digits = !text.empty() && text.size() <= 9 &&
                std::all_of(text.begin(), text.end(), absl::ascii_isdigit);
  if (!digits || !absl::SimpleAtoi(text, &value) || value > max) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not ", what));
  }
  return value;
}

std::function<absl::Status(absl::string_view, ServerOptions&)> PortSetter(
    int ServerOptions::*field) {
  return [field](absl::string_view text, ServerOptions& o) -> absl::Status {
    ASSIGN_OR_RETURN(o.*field, ParseUnsigned(text, 65535, "a port number (0-65535)"));
    return absl::OkStatus();
  };
}

absl::Status SetAddress(absl::string_view text, ServerOptions& o) {
  std::string s(text);
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) != 1 && inet_pton(AF_INET6, s.c_str(), buf) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not an IPv4 or IPv6 address (e.g. 0.0.0.0, 127.0.0.1, ::)"));
  }
  o.address = s;
  return absl::OkStatus();
}

absl::Status SetModelRepository(absl::string_view text, ServerOptions& o) {
  if (text.empty()) return absl::InvalidArgumentError("the path is empty");
  o.model_repository = std::string(text);
  return absl::OkStatus();
}

absl::Status SetExitTimeout(absl::string_view text, ServerOptions& o) {
  ASSIGN_OR_RETURN(o.exit_timeout_secs, ParseUnsigned(text, 3600, "a number of seconds (0-3600)"));
  return absl::OkStatus();
}

absl::Status SetControlMode(absl::string_view text, ServerOptions& o) {
  if (text != "none" && text != "explicit" && text != "poll") {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a model control mode (none, explicit or poll)"));
  }
  o.model_control_mode = std::string(text);
  return absl::OkStatus();
}

absl::Status AddLoadModel(absl::string_view text, ServerOptions& o) {
  for (absl::string_view name : absl::StrSplit(text, ',')) {
    name = absl::StripAsciiWhitespace(name);
    if (name.empty()) return absl::InvalidArgumentError("empty model name");
    o.load_models.emplace_back(name);
  }
  return absl::OkStatus();
}

std::function<absl::Status(absl::string_view, ServerOptions&)> IntSetter(int ServerOptions::*field,
                                                                         int min, int max) {
  return [=](absl::string_view text, ServerOptions& o) -> absl::Status {
    ASSIGN_OR_RETURN(int v,
                     ParseUnsigned(text, max, absl::StrCat("a number in [", min, ", ", max, "]")));
    if (v < min) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "' is not a number in [", min, ", ", max, "]"));
    }
    o.*field = v;
    return absl::OkStatus();
  };
}

std::function<absl::Status(absl::string_view, ServerOptions&)> MiBSetter(
    int64_t ServerOptions::*field) {
  return [=](absl::string_view text, ServerOptions& o) -> absl::Status {
    ASSIGN_OR_RETURN(int v, ParseUnsigned(text, 1 << 20, "a size in MiB (1-1048576)"));
    if (v < 1) return absl::InvalidArgumentError("the size must be at least 1 MiB");
    o.*field = int64_t{v} << 20;
    return absl::OkStatus();
  };
}

const std::vector<OptionSpec>& Specs() {
  static const auto* specs = new std::vector<OptionSpec>{
      {"address", "IP", "address every listener binds to (default 0.0.0.0)", SetAddress},
      {"grpc-port", "PORT", "KServe v2 gRPC port (default 8001; 0 picks a free port)",
       PortSetter(&ServerOptions::grpc_port)},
      {"http-port", "PORT", "KServe v2 HTTP/REST port (default 8000; 0 picks a free port)",
       PortSetter(&ServerOptions::http_port)},
      {"metrics-port", "PORT", "Prometheus /metrics port (default 8002; 0 picks a free port)",
       PortSetter(&ServerOptions::metrics_port)},
      {"model-repository", "DIR",
       "model repository in Triton layout <DIR>/<model>/config.pbtxt (required)",
       SetModelRepository},
      {"exit-timeout-secs", "N",
       "on SIGTERM/SIGINT, seconds in-flight RPCs get to finish (default 30)", SetExitTimeout},
      {"model-control-mode", "MODE",
       "none: load every model at start, no changes (default); explicit: load\n"
       "      --load-model ones, then what RepositoryModelLoad/Unload ask; poll: like\n"
       "      none, and rescan the repository every --repository-poll-secs",
       SetControlMode},
      {"load-model", "NAME",
       "with explicit mode, a model to load at start (repeatable, comma lists, '*' = all)",
       AddLoadModel},
      {"repository-poll-secs", "N", "poll mode: seconds between repository scans (default 15)",
       IntSetter(&ServerOptions::repository_poll_secs, 1, 86400)},
      {"kernel-cache-dir", "DIR",
       "compiled-kernel cache, so a restart reaches READY fast (default\n"
       "      ~/.cache/uop/kernels; '-' disables it)",
       [](absl::string_view text, ServerOptions& o) {
         if (text.empty()) return absl::InvalidArgumentError("the path is empty");
         o.kernel_cache_dir = std::string(text);
         return absl::OkStatus();
       }},
      {"max-request-mib", "N",
       "largest request (gRPC message, HTTP body, tensor data) in MiB (default 256)",
       MiBSetter(&ServerOptions::max_request_bytes)},
      {"max-model-mib", "N",
       "largest model submitted through RepositoryModelLoad in MiB (default 1024)",
       MiBSetter(&ServerOptions::max_model_bytes)},
      {"max-queue-size", "N",
       "requests one model version may queue before RESOURCE_EXHAUSTED (default 1024)",
       IntSetter(&ServerOptions::max_queue_size, 1, 1 << 20)},
      {"http-threads", "N", "HTTP worker threads (default 8)",
       IntSetter(&ServerOptions::http_threads, 1, 256)},
      {"gpu-backend", "NAME",
       "device backend of KIND_GPU instances: CUDA (default), NV, AM (AMD through\n"
       "      KFD), AM_PCI (AMD with no kernel driver bound), QCOM (Adreno through\n"
       "      KGSL), or NULL, AM_EMU, AM_PCI_EMU, QCOM_EMU (tests; the emulated ones\n"
       "      need UOP_ENABLE_EMULATED=1)",
       [](absl::string_view text, ServerOptions& o) {
         if (text.empty()) return absl::InvalidArgumentError("the backend name is empty");
         o.gpu_backend = absl::AsciiStrToUpper(text);
         return absl::OkStatus();
       }},
      {"gpu-memory-budget-mib", "N",
       "each GPU's memory for model instances in MiB; a model that does not fit\n"
       "      fails to load (default 0: the GPU's total memory)",
       MiBSetter(&ServerOptions::gpu_memory_budget_bytes)},
      {"gpu-health-probe-secs", "N",
       "seconds between probes of a GPU taken out of rotation (default 5)",
       IntSetter(&ServerOptions::gpu_health_probe_secs, 1, 3600)},
  };
  return *specs;
}

const OptionSpec* FindSpec(absl::string_view name) {
  for (const OptionSpec& spec : Specs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

struct Flag {
  std::string name;  // without the leading dashes
  std::string value;
};

absl::Status WithPrefix(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

absl::Status ApplyConfigFile(const std::string& path, ServerOptions& options) {
  ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  ASSIGN_OR_RETURN(std::vector<ConfigEntry> entries, ParseConfigText(text, path));
  for (const ConfigEntry& entry : entries) {
    std::string where = absl::StrCat(path, ":", entry.line, ": ");
    const OptionSpec* spec = FindSpec(entry.key);
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, "unknown key '", entry.key,
                                                     "' (keys are the flag names, see --help)"));
    }
    RETURN_IF_ERROR(
        WithPrefix(spec->set(entry.value, options), absl::StrCat(where, entry.key, ": ")));
  }
  options.config_file = path;
  return absl::OkStatus();
}

// Ports that clash would make the second listener fail at start-up with a less
// obvious message; 0 means "pick one", so zeros never clash.
absl::Status CheckDistinctPorts(const ServerOptions& o) {
  const std::pair<absl::string_view, int> ports[] = {{"--grpc-port", o.grpc_port},
                                                     {"--http-port", o.http_port},
                                                     {"--metrics-port", o.metrics_port}};
  for (size_t i = 0; i < std::size(ports); ++i) {
    for (size_t j = i + 1; j < std::size(ports); ++j) {
      if (ports[i].second != 0 && ports[i].second == ports[j].second) {
        return absl::InvalidArgumentError(
            absl::StrCat(ports[i].first, " and ", ports[j].first, " are both ", ports[i].second));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine result;
  std::vector<Flag> flags;
  std::string config_path;
  bool have_config = false;
  // --help and --version win over everything else, even a bad flag before them.
  for (const std::string& arg : args) {
    if (arg == "-h" || arg == "--help") {
      result.command = Command::kHelp;
      return result;
    }
    if (arg == "--version") {
      result.command = Command::kVersion;
      return result;
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unexpected argument '", arg, "' (flags look like --name=value; see --help)"));
    }
    absl::string_view body = arg.substr(2);
    Flag flag;
    size_t eq = body.find('=');
    bool inline_value = eq != absl::string_view::npos;
    flag.name = std::string(body.substr(0, eq));
    if (flag.name == "help" || flag.name == "version") {
      return absl::InvalidArgumentError(absl::StrCat("--", flag.name, " takes no value"));
    }
    if (flag.name != "config" && FindSpec(flag.name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '--", flag.name, "' (see --help)"));
    }
    if (inline_value) {
      flag.value = std::string(body.substr(eq + 1));
    } else if (i + 1 < args.size()) {
      flag.value = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", flag.name, " needs a value"));
    }
    if (flag.name == "config") {
      if (have_config) return absl::InvalidArgumentError("--config given more than once");
      if (flag.value.empty()) return absl::InvalidArgumentError("--config: the path is empty");
      have_config = true;
      config_path = flag.value;
      continue;
    }
    flags.push_back(std::move(flag));
  }

  // File first, then flags, so a flag overrides the same key in the file.
  if (have_config) RETURN_IF_ERROR(ApplyConfigFile(config_path, result.options));
  for (const Flag& flag : flags) {
    RETURN_IF_ERROR(WithPrefix(FindSpec(flag.name)->set(flag.value, result.options),
                               absl::StrCat("--", flag.name, ": ")));
  }
  if (result.options.model_repository.empty()) {
    return absl::InvalidArgumentError(
        "--model-repository is required (a folder laid out as <dir>/<model>/config.pbtxt)");
  }
  RETURN_IF_ERROR(CheckDistinctPorts(result.options));
  return result;
}

std::string HostPort(absl::string_view address, int port) {
  if (address.find(':') != absl::string_view::npos) return absl::StrCat("[", address, "]:", port);
  return absl::StrCat(address, ":", port);
}

std::string HelpText() {
  std::string text =
      "Usage: uopd --model-repository=DIR [flags]\n"
      "\n"
      "uopd serves the KServe v2 / Triton inference protocol over gRPC, with\n"
      "grpc.health.v1 health, server reflection and Prometheus metrics.\n"
      "\n"
      "Flags (--name=VALUE or --name VALUE):\n";
  for (const OptionSpec& spec : Specs()) {
    absl::StrAppend(&text, "  --", spec.name, "=", spec.value_name, "\n      ", spec.help, "\n");
  }
  absl::StrAppend(&text,
                  "  --config=FILE\n"
                  "      read options from FILE: one 'key = value' per line, keys are the flag\n"
                  "      names without '--' (e.g. grpc-port = 8001), '#' starts a comment line;\n"
                  "      flags on the command line override the file\n"
                  "  --help      print this text and exit\n"
                  "  --version   print the version and exit\n"
                  "\n"
                  "On start uopd prints one line with the ports it really listens on:\n"
                  "  uopd: listening grpc=ADDR:PORT http=ADDR:PORT metrics=ADDR:PORT\n"
                  "SIGTERM or SIGINT: health turns NOT_SERVING, in-flight RPCs get\n"
                  "--exit-timeout-secs to finish, then uopd exits 0.\n"
                  "\n"
                  "Exit status: 0 after a clean shutdown, 2 for a bad flag or config file,\n"
                  "1 when the server cannot start (port in use, missing model repository).\n");
  return text;
}

}  // namespace uop::server
