// uopctl models, load, unload: the model repository.
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/lib/npy.h"
#include "client/uopctl/cli.h"
#include "client/uopctl/commands.h"
#include "runtime/base/json.h"

namespace uop::uopctl {
namespace {

const inference::RepositoryIndexResponse::ModelIndex* FindModel(
    const inference::RepositoryIndexResponse& index, const std::string& model) {
  const inference::RepositoryIndexResponse::ModelIndex* found = nullptr;
  int64_t found_version = -1;
  for (const auto& m : index.models()) {
    if (m.name() != model) continue;
    // The highest version wins when several are listed.
    int64_t v = 0;
    if (!absl::SimpleAtoi(m.version(), &v)) v = 0;
    if (!found || v > found_version) found = &m, found_version = v;
  }
  return found;
}

// Runs `change` (a load or unload) on a thread and, while it runs, prints
// every change of the model's state and reason as the repository reports it.
absl::Status WithProgress(Context& ctx, client::InferenceClient& c, const std::string& model,
                          bool progress, const std::function<absl::Status()>& change) {
  absl::Status result;
  absl::Notification done;
  std::thread worker([&] {
    result = change();
    done.Notify();
  });
  const absl::Time start = absl::Now();
  std::string last;
  while (!done.WaitForNotificationWithTimeout(absl::Milliseconds(200))) {
    if (!progress) continue;
    absl::StatusOr<inference::RepositoryIndexResponse> index = c.RepositoryIndex();
    if (!index.ok()) continue;  // progress is best effort; the result decides
    const auto* m = FindModel(*index, model);
    if (!m) continue;
    std::string line = absl::StrCat(m->state(), m->reason().empty() ? "" : " ", m->reason());
    if (line == last) continue;
    last = line;
    ctx.out << absl::StrFormat("%s: %s (%.1f s)\n", model, line,
                               absl::ToDoubleSeconds(absl::Now() - start));
    ctx.out.flush();
  }
  worker.join();
  return result;
}

}  // namespace

int ModelsCommand(Context& ctx, const std::vector<std::string>& args) {
  bool ready = false, json = false;
  client::FlagSet f("uopctl models [--ready] [--json]",
                    "Lists the model repository: each model's version, state (READY, LOADING,\n"
                    "UNAVAILABLE, UNLOADING) and the reason for it.");
  f.Bool("ready", 0, &ready, "only models that are ready");
  f.Bool("json", 0, &json, "print JSON");
  std::vector<std::string> pos;
  int code;
  if (!ParseFlags(ctx, f, args, &pos, &code)) return code;
  if (!pos.empty()) return ctx.Usage("models takes no arguments");
  auto client = ctx.Connect(absl::Seconds(30));
  if (!client.ok()) return ctx.Usage(client.status());
  absl::StatusOr<inference::RepositoryIndexResponse> index = (*client)->RepositoryIndex(ready);
  if (!index.ok()) return ctx.Fail(index.status());
  if (json) {
    ctx.out << "[";
    for (int i = 0; i < index->models_size(); ++i) {
      const auto& m = index->models(i);
      ctx.out << (i ? ",\n " : "") << "{\"name\": " << JsonQuote(m.name())
              << ", \"version\": " << JsonQuote(m.version())
              << ", \"state\": " << JsonQuote(m.state())
              << ", \"reason\": " << JsonQuote(m.reason()) << "}";
    }
    ctx.out << "]\n";
    return kExitOk;
  }
  size_t width = 5;
  for (const auto& m : index->models()) width = std::max(width, m.name().size());
  ctx.out << absl::StrFormat("%-*s  %-7s  %-11s  %s\n", width, "MODEL", "VERSION", "STATE",
                             "REASON");
  for (const auto& m : index->models()) {
    ctx.out << absl::StrFormat("%-*s  %-7s  %-11s  %s\n", width, m.name(),
                               m.version().empty() ? "-" : m.version(),
                               m.state().empty() ? "-" : m.state(), m.reason());
  }
  return kExitOk;
}

int LoadCommand(Context& ctx, const std::vector<std::string>& args) {
  std::string config;
  bool quiet = false;
  client::FlagSet f("uopctl load MODEL [--config JSON|FILE.json]",
                    "Loads (or reloads) a model and waits until the server is done, printing\n"
                    "its state while it imports and compiles. Exit status 0 when the model is\n"
                    "READY, 6 when the load ended otherwise.");
  f.String("config", 'c', &config, "JSON|FILE.json",
           "configuration to load with instead of config.pbtxt (Triton's JSON form)");
  f.Bool("quiet", 'q', &quiet, "no progress lines");
  std::vector<std::string> pos;
  int code;
  if (!ParseFlags(ctx, f, args, &pos, &code)) return code;
  if (pos.size() != 1) return ctx.Usage("load takes one model name");
  const std::string& model = pos[0];
  if (absl::EndsWith(config, ".json")) {
    absl::StatusOr<std::string> text = client::ReadWholeFile(config);
    if (!text.ok()) return ctx.Usage(text.status());
    config = *text;
  }
  if (!config.empty()) {
    if (absl::StatusOr<JsonValue> v = ParseJson(config); !v.ok()) {
      return ctx.Usage(absl::StrCat("flag --config: ", v.status().message()));
    }
  }
  auto client = ctx.Connect(absl::Seconds(600));
  if (!client.ok()) return ctx.Usage(client.status());
  const absl::Time start = absl::Now();
  absl::Status st = WithProgress(ctx, **client, model, !quiet,
                                 [&] { return (*client)->LoadModel(model, config); });
  if (!st.ok()) return ctx.Fail(st);
  absl::StatusOr<inference::RepositoryIndexResponse> index = (*client)->RepositoryIndex();
  if (!index.ok()) return ctx.Fail(index.status());
  const auto* m = FindModel(*index, model);
  const std::string state = m ? m->state() : "not listed";
  ctx.out << absl::StrFormat("%s: %s%s in %.2f s\n", model, state,
                             m && !m->version().empty() ? " (version " + m->version() + ")" : "",
                             absl::ToDoubleSeconds(absl::Now() - start));
  if (state != "READY") {
    ctx.err << "uopctl: " << model << " is " << state
            << (m && !m->reason().empty() ? ": " + m->reason() : "") << "\n";
    return kExitNotReady;
  }
  return kExitOk;
}

int UnloadCommand(Context& ctx, const std::vector<std::string>& args) {
  bool dependents = false, quiet = false;
  client::FlagSet f("uopctl unload MODEL",
                    "Unloads a model; returns when the server has finished its requests.");
  f.Bool("unload-dependents", 0, &dependents, "also unload models that depend on it");
  f.Bool("quiet", 'q', &quiet, "no progress lines");
  std::vector<std::string> pos;
  int code;
  if (!ParseFlags(ctx, f, args, &pos, &code)) return code;
  if (pos.size() != 1) return ctx.Usage("unload takes one model name");
  auto client = ctx.Connect(absl::Seconds(600));
  if (!client.ok()) return ctx.Usage(client.status());
  const absl::Time start = absl::Now();
  absl::Status st = WithProgress(ctx, **client, pos[0], !quiet,
                                 [&] { return (*client)->UnloadModel(pos[0], dependents); });
  if (!st.ok()) return ctx.Fail(st);
  ctx.out << absl::StrFormat("%s: unloaded in %.2f s\n", pos[0],
                             absl::ToDoubleSeconds(absl::Now() - start));
  return kExitOk;
}

}  // namespace uop::uopctl
