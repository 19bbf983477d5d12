#include "server/grpc_log.h"

#include <grpc/support/log.h>

#include <cstdio>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace uop::server {
namespace {

struct LogState {
  absl::Mutex mu;
  bool released ABSL_GUARDED_BY(mu) = false;
  std::string held_errors ABSL_GUARDED_BY(mu);
};

// Never destroyed: gRPC may log from its threads during exit.
LogState& State() {
  static auto* state = new LogState;
  return *state;
}

void Log(gpr_log_func_args* args) {
  std::string message = OneLine(args->message == nullptr ? "" : args->message);
  LogState& s = State();
  absl::MutexLock lock(&s.mu);
  if (!s.released) {
    if (args->severity == GPR_LOG_SEVERITY_ERROR) {
      absl::StrAppend(&s.held_errors, s.held_errors.empty() ? "" : "; ", message);
    }
    return;
  }
  std::fprintf(stderr, "uopd: grpc: %s %s:%d: %s\n", gpr_log_severity_string(args->severity),
               args->file, args->line, message.c_str());
}

}  // namespace

void InstallGrpcLog() {
  // Reads GRPC_VERBOSITY; until this runs (grpc_init does it too) gRPC drops
  // even its errors.
  gpr_log_verbosity_init();
  gpr_set_log_function(Log);
}

std::string HeldGrpcErrors() {
  LogState& s = State();
  absl::MutexLock lock(&s.mu);
  return s.held_errors;
}

void ReleaseGrpcLog() {
  LogState& s = State();
  absl::MutexLock lock(&s.mu);
  s.released = true;
  s.held_errors.clear();
}

std::string OneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return text;
}

}  // namespace uop::server
