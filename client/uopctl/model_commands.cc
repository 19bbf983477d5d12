// uopctl config, metadata: what a model is.
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/lib/datatype.h"
#include "client/uopctl/cli.h"
#include "client/uopctl/commands.h"

namespace uop::uopctl {

int ConfigCommand(Context& ctx, const std::vector<std::string>& args) {
  std::string version;
  bool json = false;
  client::FlagSet f("uopctl config MODEL [--json]",
                    "Prints the configuration a model was loaded with, as config.pbtxt text\n"
                    "(Triton's ModelConfig) or JSON.");
  f.String("model-version", 0, &version, "V", "a version (default: the server's choice)");
  f.Bool("json", 0, &json, "print JSON");
  std::vector<std::string> pos;
  int code;
  if (!ParseFlags(ctx, f, args, &pos, &code)) return code;
  if (pos.size() != 1) return ctx.Usage("config takes one model name");
  auto client = ctx.Connect(absl::Seconds(30));
  if (!client.ok()) return ctx.Usage(client.status());
  absl::StatusOr<inference::ModelConfig> config = (*client)->ModelConfig(pos[0], version);
  if (!config.ok()) return ctx.Fail(config.status());
  std::string text;
  if (json) {
    google::protobuf::util::JsonPrintOptions o;
    o.add_whitespace = true;
    o.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(*config, &text, o).ok()) {
      return ctx.Fail(absl::InternalError("cannot print the configuration as JSON"));
    }
  } else {
    google::protobuf::TextFormat::PrintToString(*config, &text);
  }
  ctx.out << text;
  if (!text.empty() && text.back() != '\n') ctx.out << "\n";
  return kExitOk;
}

int MetadataCommand(Context& ctx, const std::vector<std::string>& args) {
  std::string version;
  client::FlagSet f("uopctl metadata MODEL", "Prints a model's inputs and outputs.");
  f.String("model-version", 0, &version, "V", "a version (default: the server's choice)");
  std::vector<std::string> pos;
  int code;
  if (!ParseFlags(ctx, f, args, &pos, &code)) return code;
  if (pos.size() != 1) return ctx.Usage("metadata takes one model name");
  auto client = ctx.Connect(absl::Seconds(30));
  if (!client.ok()) return ctx.Usage(client.status());
  absl::StatusOr<inference::ModelMetadataResponse> m = (*client)->ModelMetadata(pos[0], version);
  if (!m.ok()) return ctx.Fail(m.status());
  ctx.out << absl::StrFormat("model     %s (versions %s, platform %s)\n", m->name(),
                             absl::StrJoin(m->versions(), ", "), m->platform());
  auto line = [&](const char* kind, const auto& t) {
    std::vector<int64_t> shape(t.shape().begin(), t.shape().end());
    ctx.out << absl::StrFormat("%-9s %s %s%s\n", kind, t.name(), t.datatype(),
                               client::ShapeString(shape));
  };
  for (const auto& t : m->inputs()) line("input", t);
  for (const auto& t : m->outputs()) line("output", t);
  return kExitOk;
}

}  // namespace uop::uopctl
