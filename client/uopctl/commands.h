// The uopctl commands behind cli.h, and what they share: the global flags,
// the connection, and error reporting.
#ifndef UOP_CLIENT_UOPCTL_COMMANDS_H_
#define UOP_CLIENT_UOPCTL_COMMANDS_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/lib/client.h"
#include "client/lib/flags.h"

namespace uop::uopctl {

struct Globals {
  std::string url = "localhost:8001";
  double timeout_s = 0;  // 0: the command's default
  int64_t retries = 3;
};

// What every command gets.
struct Context {
  Globals globals;
  std::ostream& out;
  std::ostream& err;

  // Adds -u/--url, --timeout and --retries to a command's flags.
  void AddGlobalFlags(client::FlagSet& f);
  // A client for the global url; `default_timeout` unless --timeout was given.
  absl::StatusOr<std::unique_ptr<client::InferenceClient>> Connect(
      absl::Duration default_timeout) const;
  absl::Duration Timeout(absl::Duration default_timeout) const;
  // Prints the error on one line and returns its exit code.
  int Fail(const absl::Status& status) const;
  // Prints a usage error on one line and returns 2.
  int Usage(const absl::Status& status) const;
  int Usage(absl::string_view message) const;
};

// Parses a command's flags; nullopt-like: returns false after printing help
// (exit 0) or a usage error (*code set).
bool ParseFlags(Context& ctx, client::FlagSet& f, const std::vector<std::string>& args,
                std::vector<std::string>* positional, int* code);

int StatusCommand(Context& ctx, const std::vector<std::string>& args);
int ModelsCommand(Context& ctx, const std::vector<std::string>& args);
int LoadCommand(Context& ctx, const std::vector<std::string>& args);
int UnloadCommand(Context& ctx, const std::vector<std::string>& args);
int ConfigCommand(Context& ctx, const std::vector<std::string>& args);
int MetadataCommand(Context& ctx, const std::vector<std::string>& args);
int InferCommand(Context& ctx, const std::vector<std::string>& args);
int PerfCommand(Context& ctx, const std::vector<std::string>& args);
int TraceCommand(Context& ctx, const std::vector<std::string>& args);

}  // namespace uop::uopctl

#endif  // UOP_CLIENT_UOPCTL_COMMANDS_H_
