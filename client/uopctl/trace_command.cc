// uopctl trace: uopd's flight recorder as a Perfetto (or Chrome JSON) trace,
// through uop's profiler extension (proto/profiler.proto).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/lib/grpc_status.h"
#include "client/lib/npy.h"
#include "client/uopctl/cli.h"
#include "client/uopctl/commands.h"
#include "proto/profiler.grpc.pb.h"

namespace uop::uopctl {
namespace {

namespace pb = ::uop::profiler::v1;

// A server without the extension answers UNIMPLEMENTED with no message; say which.
absl::Status Explain(absl::Status st) {
  if (st.code() != absl::StatusCode::kUnimplemented) return st;
  return absl::UnimplementedError(absl::StrCat(
      st.message(), ": the server does not serve uop's profiler extension (uop.profiler.v1)"));
}

void SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

}  // namespace

int TraceCommand(Context& ctx, const std::vector<std::string>& args) {
  double seconds = 10;
  std::string output, format = "perfetto", record;
  client::FlagSet f("uopctl trace [--seconds N] [-o FILE] [--format perfetto|json]",
                    "Fetches the last N seconds of uopd's flight recorder as a trace file:\n"
                    "Perfetto (open it in ui.perfetto.dev) or Chrome JSON (chrome://tracing).\n"
                    "With --record on|off, turns recording on or off instead.");
  f.Double("seconds", 0, &seconds, "window ending now (0: everything recorded)");
  f.String("output", 'o', &output, "FILE",
           "file to write (default uopd.perfetto-trace or uopd-trace.json)");
  f.String("format", 0, &format, "perfetto|json", "trace format");
  f.String("record", 0, &record, "on|off", "turn the flight recorder on or off");
  std::vector<std::string> pos;
  int code;
  if (!ParseFlags(ctx, f, args, &pos, &code)) return code;
  if (!pos.empty()) return ctx.Usage("trace takes no arguments");
  if (format != "perfetto" && format != "json") {
    return ctx.Usage(absl::StrCat("flag --format: '", format, "' is not perfetto or json"));
  }
  if (!record.empty() && record != "on" && record != "off") {
    return ctx.Usage(absl::StrCat("flag --record: '", record, "' is not on or off"));
  }
  auto client = ctx.Connect(absl::Seconds(60));
  if (!client.ok()) return ctx.Usage(client.status());
  auto stub = pb::Profiler::NewStub((*client)->channel());
  const absl::Duration timeout = ctx.Timeout(absl::Seconds(60));

  if (!record.empty()) {
    grpc::ClientContext c;
    SetDeadline(c, timeout);
    pb::SetRecordingRequest req;
    req.set_enabled(record == "on");
    pb::RecordingState state;
    absl::Status st =
        Explain(client::FromGrpcStatus("SetRecording", stub->SetRecording(&c, req, &state)));
    if (!st.ok()) return ctx.Fail(st);
    ctx.out << absl::StrFormat("recording %s (%d events per thread)\n",
                               state.enabled() ? "on" : "off", state.events_per_thread());
    return kExitOk;
  }

  if (output.empty()) output = format == "json" ? "uopd-trace.json" : "uopd.perfetto-trace";
  grpc::ClientContext c;
  SetDeadline(c, timeout);
  pb::GetTraceRequest req;
  req.set_seconds(seconds);
  req.set_format(format == "json" ? pb::TRACE_FORMAT_CHROME_JSON : pb::TRACE_FORMAT_PERFETTO);
  auto reader = stub->GetTrace(&c, req);
  std::string data;
  pb::TraceChunk chunk, first;
  bool got_first = false;
  while (reader->Read(&chunk)) {
    if (!got_first) first = chunk, got_first = true;
    data += chunk.data();
  }
  absl::Status st = Explain(client::FromGrpcStatus("GetTrace", reader->Finish()));
  if (!st.ok()) return ctx.Fail(st);
  if (got_first && first.total_bytes() != 0 && first.total_bytes() != data.size()) {
    return ctx.Fail(absl::DataLossError(absl::StrFormat(
        "GetTrace: received %d bytes, the server announced %d", data.size(), first.total_bytes())));
  }
  if (absl::Status w = client::WriteWholeFile(output, data); !w.ok()) {
    ctx.err << "uopctl: " << w.message() << "\n";
    return kExitServerError;
  }
  ctx.out << absl::StrFormat("wrote %s: %d bytes, %d events (%d dropped)%s\n", output, data.size(),
                             first.event_count(), first.dropped_events(),
                             format == "json" ? "; open it in chrome://tracing or ui.perfetto.dev"
                                              : "; open it in ui.perfetto.dev");
  return kExitOk;
}

}  // namespace uop::uopctl
