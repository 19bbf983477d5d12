// uopctl perf: throughput and latency at a sweep of concurrency levels.
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/lib/npy.h"
#include "client/uopctl/cli.h"
#include "client/uopctl/commands.h"
#include "client/uopctl/model_inputs.h"
#include "client/uopctl/perf.h"
#include "client/uopctl/shm_session.h"

namespace uop::uopctl {

int PerfCommand(Context& ctx, const std::vector<std::string>& args) {
  std::string model_flag, version, range = "1", input_data = "random", shm = "none", csv;
  std::vector<std::string> inputs, shapes;
  int64_t window_ms = 5000, warmup_ms = 500;
  client::FlagSet f(
      "uopctl perf MODEL [--concurrency-range START:END:STEP] [flags]",
      "Measures a model like Triton's perf_analyzer: for each concurrency level that many\n"
      "clients send requests back to back; after a warm-up, one measurement window gives\n"
      "the throughput, client latency (avg, p50, p90, p99) and the server's own time per\n"
      "request (from ModelStatistics), so client time splits into server time and overhead.");
  f.String("model-name", 'm', &model_flag, "NAME", "the model (or give it as the argument)");
  f.String("model-version", 0, &version, "V", "a version (default: the server's choice)");
  f.String("concurrency-range", 0, &range, "START:END:STEP", "concurrency levels");
  f.Int("measurement-interval", 'p', &window_ms, "measurement window per level, ms");
  f.Int("warmup", 0, &warmup_ms, "requests before each window, ms");
  f.String("input-data", 0, &input_data, "zeros|random", "data for inputs not given with -i");
  f.Repeated("input", 'i', &inputs, "NAME=SPEC", "data for one input (as in infer)");
  f.Repeated("shape", 's', &shapes, "NAME=D0,D1,..", "shape of an input with dynamic dims");
  f.String("shared-memory", 0, &shm, "none|system", "send inputs through shared memory");
  f.String("filename", 'f', &csv, "FILE.csv", "also write the results as CSV");
  std::vector<std::string> pos;
  int code;
  if (!ParseFlags(ctx, f, args, &pos, &code)) return code;
  if (!model_flag.empty()) pos.insert(pos.begin(), model_flag);
  if (pos.size() != 1) return ctx.Usage("perf takes one model name");
  if (input_data != "zeros" && input_data != "random") {
    return ctx.Usage(absl::StrCat("flag --input-data: '", input_data, "' is not zeros or random"));
  }
  if (shm != "none" && shm != "system") {
    return ctx.Usage(absl::StrCat("flag --shared-memory: '", shm, "' is not none or system"));
  }
  if (window_ms <= 0 || warmup_ms < 0) {
    return ctx.Usage("flag --measurement-interval must be > 0 and --warmup >= 0");
  }
  absl::StatusOr<std::vector<int>> levels = ParseConcurrencyRange(range);
  if (!levels.ok()) return ctx.Usage(levels.status());
  const std::string& model = pos[0];
  auto client = ctx.Connect(absl::Seconds(30));
  if (!client.ok()) return ctx.Usage(client.status());
  absl::StatusOr<inference::ModelMetadataResponse> meta = (*client)->ModelMetadata(model, version);
  if (!meta.ok()) return ctx.Fail(meta.status());
  absl::StatusOr<std::vector<client::NpyArray>> tensors =
      ResolveInputs(*meta, inputs, shapes, input_data);
  if (!tensors.ok()) return ctx.Usage(tensors.status());

  std::vector<client::InferInput> request;
  std::unique_ptr<ShmSession> session;
  if (shm == "system") {
    size_t total = 0;
    for (const client::NpyArray& t : *tensors) total += ShmSession::Aligned(t.data.size());
    absl::StatusOr<std::unique_ptr<ShmSession>> s = ShmSession::Create(**client, total);
    if (!s.ok()) return ctx.Fail(s.status());
    session = std::move(*s);
    absl::StatusOr<std::vector<client::InferInput>> in =
        session->PutInputs(InputNames(*meta), *tensors);
    if (!in.ok()) return ctx.Fail(in.status());
    request = std::move(*in);
  } else {
    absl::StatusOr<std::vector<client::InferInput>> in = ToInferInputs(*meta, *tensors);
    if (!in.ok()) return ctx.Usage(in.status());
    request = std::move(*in);
  }

  ctx.out << absl::StrFormat(
      "*** Measurement Settings ***\n  model %s, concurrency %s, window %d ms, warm-up %d ms, "
      "inputs %s%s\n\n",
      model, absl::StrJoin(*levels, ","), window_ms, warmup_ms,
      inputs.empty() ? input_data : "from -i", shm == "system" ? " in shared memory" : "");
  ctx.out.flush();
  const client::InferOptions opts{.model_name = model, .model_version = version};
  InferFn infer = [&] { return (*client)->Infer(opts, request).status(); };
  StatsFn stats = [&]() -> absl::StatusOr<inference::ModelStatistics> {
    absl::StatusOr<inference::ModelStatisticsResponse> r =
        (*client)->ModelStatistics(model, version);
    if (!r.ok()) return r.status();
    if (r->model_stats().empty()) return absl::NotFoundError("no statistics for the model");
    return r->model_stats(0);
  };
  PerfOptions o{.concurrency = *levels,
                .window = absl::Milliseconds(window_ms),
                .warmup = absl::Milliseconds(warmup_ms)};
  absl::StatusOr<std::vector<PerfPoint>> points = MeasurePerf(o, infer, stats);
  if (!points.ok()) return ctx.Fail(points.status());
  for (const PerfPoint& p : *points) {
    ctx.out << absl::StrFormat("Concurrency: %d, throughput: %.1f infer/sec, latency %.0f usec\n",
                               p.concurrency, p.throughput, p.avg_us);
  }
  ctx.out << "\n" << FormatPerfTable(*points);
  if (!csv.empty()) {
    if (absl::Status st = client::WriteWholeFile(csv, PerfCsv(*points)); !st.ok()) {
      ctx.err << "uopctl: " << st.message() << "\n";
      return kExitServerError;
    }
  }
  return kExitOk;
}

}  // namespace uop::uopctl
