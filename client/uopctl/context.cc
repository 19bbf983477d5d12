// What every uopctl command shares: global flags, connecting, errors.
#include "absl/strings/str_cat.h"
#include "client/uopctl/cli.h"
#include "client/uopctl/commands.h"

namespace uop::uopctl {

void Context::AddGlobalFlags(client::FlagSet& f) {
  f.String("url", 'u', &globals.url, "HOST:PORT", "server");
  f.Double("timeout", 0, &globals.timeout_s, "deadline of each call in seconds (0: default)");
  f.Int("retries", 0, &globals.retries, "retries of calls answered UNAVAILABLE");
}

absl::Duration Context::Timeout(absl::Duration default_timeout) const {
  return globals.timeout_s > 0 ? absl::Seconds(globals.timeout_s) : default_timeout;
}

absl::StatusOr<std::unique_ptr<client::InferenceClient>> Context::Connect(
    absl::Duration default_timeout) const {
  if (globals.retries < 0) return absl::InvalidArgumentError("flag --retries must be >= 0");
  client::ClientOptions o;
  o.timeout = Timeout(default_timeout);
  o.retry.max_attempts = static_cast<int>(globals.retries) + 1;
  return client::InferenceClient::Connect(globals.url, o);
}

int Context::Fail(const absl::Status& status) const {
  err << "uopctl: " << status.message() << " (" << absl::StatusCodeToString(status.code()) << ")\n";
  return ExitCodeFor(status);
}

int Context::Usage(const absl::Status& status) const { return Usage(status.message()); }

int Context::Usage(absl::string_view message) const {
  err << "uopctl: " << message << "\n";
  return kExitUsage;
}

bool ParseFlags(Context& ctx, client::FlagSet& f, const std::vector<std::string>& args,
                std::vector<std::string>* positional, int* code) {
  ctx.AddGlobalFlags(f);
  absl::StatusOr<std::vector<std::string>> pos = f.Parse(args);
  if (!pos.ok()) {
    *code = ctx.Usage(pos.status());
    return false;
  }
  if (f.help_requested()) {
    ctx.out << f.Help();
    *code = kExitOk;
    return false;
  }
  *positional = std::move(*pos);
  return true;
}

}  // namespace uop::uopctl
