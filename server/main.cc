// uopd: the uop inference daemon. See HelpText() in options.cc for usage.
//
// Output contract (tests and scripts rely on it): informational lines go to
// stdout, flushed; a failure prints exactly one line "uopd: <what went wrong>"
// to stderr and exits 2 for a usage error (flags, config file) or 1 when the
// server cannot start. SIGTERM/SIGINT drain and exit 0.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "server/daemon.h"
#include "server/grpc_log.h"
#include "server/model_repository.h"
#include "server/options.h"
#include "server/server_info.h"

namespace uop::server {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitRuntime = 1;

int Fail(const absl::Status& status, int exit_code) {
  std::fprintf(stderr, "uopd: %s\n", OneLine(std::string(status.message())).c_str());
  return exit_code;
}

void Say(const std::string& line) {
  std::fprintf(stdout, "%s\n", OneLine(line).c_str());
  std::fflush(stdout);  // stdout is a pipe under tests and systemd
}

int Run(int argc, char** argv) {
  absl::StatusOr<CommandLine> command_line =
      ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  if (!command_line.ok()) return Fail(command_line.status(), kExitUsage);
  switch (command_line->command) {
    case Command::kHelp:
      std::fputs(HelpText().c_str(), stdout);
      return 0;
    case Command::kVersion:
      std::printf("uopd %.*s\n", static_cast<int>(kServerVersion.size()), kServerVersion.data());
      return 0;
    case Command::kServe:
      break;
  }
  const ServerOptions& options = command_line->options;

  // Blocked here, before gRPC and civetweb start their threads (which inherit
  // the mask), so the signals reach only the sigwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client hanging up must not kill the daemon
  // Debian's abseil runs absl::Mutex deadlock detection (a lock-order graph
  // updated on every lock), which gRPC pays on every call: a few percent of
  // uopd's CPU per request in a profile. uopd's own code uses std::mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  InstallGrpcLog();

  absl::StatusOr<std::vector<std::string>> models = ListModelFolders(options.model_repository);
  if (!models.ok()) return Fail(models.status(), kExitRuntime);
  Say("uopd: model repository " + options.model_repository + ": " + std::to_string(models->size()) +
      " model folder(s) [" + absl::StrJoin(*models, ", ") + "], control mode " +
      options.model_control_mode);

  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(options);
  if (!daemon.ok()) return Fail(daemon.status(), kExitRuntime);
  ReleaseGrpcLog();
  Say((*daemon)->ListeningLine());

  // Live now; ready once the models are loaded. Loading runs beside the
  // signal wait so SIGTERM drains at once even during a long compile.
  Daemon* d = daemon->get();
  std::thread loader([d] {
    absl::Status status = d->LoadModels();
    Say(status.ok() ? std::string("uopd: ready")
                    : "uopd: not ready: " + std::string(status.message()));
  });

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  Say(std::string("uopd: ") + (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") +
      " received, draining (up to " + std::to_string(options.exit_timeout_secs) + "s)");
  (*daemon)->Drain();
  loader.join();
  daemon->reset();
  Say("uopd: stopped");
  return 0;
}

}  // namespace
}  // namespace uop::server

int main(int argc, char** argv) { return uop::server::Run(argc, argv); }
