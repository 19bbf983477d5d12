// uopd's command line and config file, parsed into ServerOptions.
//
// Flags use Triton's names where the two overlap (--grpc-port, --http-port,
// --metrics-port, --model-repository, --exit-timeout-secs,
// --model-control-mode, --load-model, --repository-poll-secs). `--config FILE`
// reads `key = value` lines (config_file.h) whose keys are the same names
// without dashes; flags given on the command line override the file.
//
//   absl::StatusOr<CommandLine> cl = ParseCommandLine({"--grpc-port=0", ...});
//
// Every error is one line naming the flag or file:line and the bad value; the
// caller prints it and exits with status 2 (usage error).
#ifndef UOP_SERVER_OPTIONS_H_
#define UOP_SERVER_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop::server {

struct ServerOptions {
  std::string address = "0.0.0.0";  // IP literal every listener binds to
  int grpc_port = 8001;             // 0: the kernel picks a free port
  int http_port = 8000;             // KServe v2 HTTP/REST
  int metrics_port = 8002;
  std::string model_repository;             // required
  int exit_timeout_secs = 30;               // how long in-flight RPCs may finish on shutdown
  std::string config_file;                  // the file the options came from, if any
  std::string model_control_mode = "none";  // none | explicit | poll (Triton's)
  std::vector<std::string> load_models;     // --load-model (repeatable; "*" = all)
  int repository_poll_secs = 15;
  // Compiled kernels persist here so a restart reaches READY fast; "" is the
  // engine's default (~/.cache/uop/kernels), "-" disables the disk cache.
  std::string kernel_cache_dir;
  int64_t max_request_bytes = int64_t{256} << 20;  // gRPC/HTTP message and tensor data
  int64_t max_model_bytes = int64_t{1} << 30;      // models submitted over the API
  int max_queue_size = 1024;                       // per model version
  int http_threads = 8;
  // Multi-GPU (docs/multi_gpu.md): the device backend KIND_GPU instances
  // use, each GPU's memory budget for model instances (0: the GPU's total
  // memory) and how often a GPU taken out of rotation is probed.
  std::string gpu_backend = "CUDA";
  int64_t gpu_memory_budget_bytes = 0;
  int gpu_health_probe_secs = 5;
};

enum class Command { kServe, kHelp, kVersion };

struct CommandLine {
  Command command = Command::kServe;
  ServerOptions options;
};

// `args` are the arguments after the program name.
absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

// "host:port" for gRPC and civetweb; IPv6 literals get brackets ("[::]:8001").
std::string HostPort(absl::string_view address, int port);

// The --help text: usage, every flag with its default, config file format,
// exit codes.
std::string HelpText();

}  // namespace uop::server

#endif  // UOP_SERVER_OPTIONS_H_
