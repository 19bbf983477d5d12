#include "server/web_view.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "drivers/device_registry.h"
#include "runtime/base/json.h"
#include "runtime/base/status_macros.h"
#include "runtime/profiler/profiler.h"
#include "runtime/profiler/trace_file.h"
#include "server/http_api.h"
#include "server/kernel_inspector.h"
#include "server/proto_json.h"
#include "server/server_info.h"
#include "server/web/web_assets.h"

namespace uop::server {
namespace {

constexpr absl::string_view kPrefix = "/ui";
// How far back a trace or the recent list may reach (the rings hold less
// anyway; this bounds the copy).
constexpr double kMaxSeconds = 600;
// The window of kernel launch statistics in /ui/api/kernels.
constexpr double kMeasureSeconds = 10;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// `text` as seconds in (0, kMaxSeconds]; `fallback` when empty.
absl::StatusOr<double> ParseSeconds(absl::string_view text, double fallback) {
  if (text.empty()) return fallback;
  double seconds = 0;
  if (!absl::SimpleAtod(text, &seconds) || !(seconds > 0) || seconds > kMaxSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("seconds='", text, "' must be a number in (0, ", kMaxSeconds, "]"));
  }
  return seconds;
}

int64_t SinceNs(double seconds) { return profiler::NowNs() - static_cast<int64_t>(seconds * 1e9); }

void WriteDims(JsonWriter& w, const std::array<int64_t, 3>& dims) {
  w.BeginArray();
  for (int64_t d : dims) w.Int(d);
  w.EndArray();
}

// Launch statistics of one kernel, from the flight recorder.
struct Measured {
  int64_t count = 0;
  int64_t total_ns = 0;
  int64_t max_ns = 0;
};

// Kernel launches by the trace id of the compile that produced them: a
// launch carries that id as one of its flows (profiler.h).
std::map<uint64_t, Measured> MeasureKernels(const profiler::TraceSnapshot& snap,
                                            const std::map<uint64_t, bool>& kernel_ids) {
  std::map<uint64_t, Measured> out;
  for (const profiler::Event& e : snap.events) {
    if (e.kind != profiler::EventKind::kSpan) continue;
    const profiler::TrackInfo* track = snap.track(e.track);
    if (track == nullptr || track->kind != profiler::TrackKind::kQueue) continue;
    for (uint64_t flow : e.flows) {
      if (flow == 0 || !kernel_ids.count(flow)) continue;
      Measured& m = out[flow];
      ++m.count;
      m.total_ns += e.value;
      m.max_ns = std::max(m.max_ns, e.value);
      break;
    }
  }
  return out;
}

}  // namespace

std::string QueryParam(absl::string_view query, absl::string_view key) {
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (PercentDecode(kv.first) == key) return PercentDecode(kv.second);
  }
  return "";
}

bool WebView::Handle(const HttpRequest& request, HttpResponse* response) {
  absl::string_view path = request.path;
  if (path != kPrefix && !absl::StartsWith(path, absl::StrCat(kPrefix, "/"))) return false;
  response->status = 200;
  response->content_type = "application/json";
  // The page and its data change under the operator's eyes.
  response->headers.push_back({"Cache-Control", "no-store"});
  absl::Status status = Route(request, response);
  if (!status.ok()) {
    response->status = HttpStatusFor(status);
    response->content_type = "application/json";
    response->headers.clear();
    response->body.clear();
    JsonWriter w(&response->body);
    w.BeginObject();
    w.Key("error");
    w.String(status.message());
    w.EndObject();
  }
  return true;
}

absl::Status WebView::Route(const HttpRequest& request, HttpResponse* response) {
  absl::string_view rest = absl::string_view(request.path).substr(kPrefix.size());
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (rest.empty() || rest == "/") rest = "/index.html";
  if (!absl::StartsWith(rest, "/api/")) {
    const WebAsset* asset = FindWebAsset(rest.substr(1));
    if (asset == nullptr) {
      return absl::NotFoundError(absl::StrCat("no page ", request.path, " (try /ui)"));
    }
    if (!get) return absl::InvalidArgumentError(absl::StrCat(request.path, " takes GET"));
    response->content_type = std::string(asset->content_type);
    response->body = std::string(asset->body);
    return absl::OkStatus();
  }
  const absl::string_view api = rest.substr(5);
  if (api == "recording") {
    if (request.method != "POST") {
      return absl::InvalidArgumentError("/ui/api/recording takes POST ?on=1 or ?on=0");
    }
    const std::string on = QueryParam(request.query, "on");
    if (on == "1") {
      profiler::Start();
    } else if (on == "0") {
      profiler::Stop();
    } else {
      return absl::InvalidArgumentError(absl::StrCat("on='", on, "' must be 1 or 0"));
    }
    Summary(&response->body);
    return absl::OkStatus();
  }
  if (!get) return absl::InvalidArgumentError(absl::StrCat(request.path, " takes GET"));
  if (api == "summary") {
    Summary(&response->body);
    return absl::OkStatus();
  }
  if (api == "models") return Models(&response->body);
  if (api == "devices") {
    Devices(&response->body);
    return absl::OkStatus();
  }
  if (api == "kernels") {
    Kernels(&response->body);
    return absl::OkStatus();
  }
  if (api == "kernel") return Kernel(QueryParam(request.query, "id"), &response->body);
  if (api == "recent") return Recent(QueryParam(request.query, "seconds"), &response->body);
  if (api == "trace") return Trace(request, response);
  return absl::NotFoundError(
      absl::StrCat("no endpoint ", request.path, " (see server/web_view.h)"));
}

void WebView::Summary(std::string* out) const {
  JsonWriter w(out);
  w.BeginObject();
  w.Key("name");
  w.String(kServerName);
  w.Key("version");
  w.String(kServerVersion);
  w.Key("ready");
  w.Bool(s_.core->ServerReady());
  w.Key("recording");
  w.Bool(profiler::Enabled());
  if (s_.engine) {
    const EngineStats st = s_.engine->stats();
    w.Key("engine");
    w.BeginObject();
    w.Key("realizes");
    w.Uint(st.realizes);
    w.Key("kernels_run");
    w.Uint(st.kernels_run);
    w.Key("copies");
    w.Uint(st.copies);
    w.Key("compiled");
    w.Uint(st.compiler.compiled);
    w.Key("memory_hits");
    w.Uint(st.compiler.memory_hits);
    w.Key("disk_hits");
    w.Uint(st.compiler.disk_hits);
    w.EndObject();
  }
  w.EndObject();
}

absl::Status WebView::Models(std::string* out) const {
  ASSIGN_OR_RETURN(std::vector<ModelIndexEntry> index, s_.core->models().Index(false));
  inference::ModelStatisticsResponse stats;
  RETURN_IF_ERROR(s_.core->Statistics("", "", &stats));
  std::map<std::pair<std::string, std::string>, const inference::ModelStatistics*> by_version;
  for (const auto& m : stats.model_stats()) by_version[{m.name(), m.version()}] = &m;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<ModelVersion>> ready;
  for (auto& v : s_.core->models().Ready()) ready[{v->name, v->version_string}] = v;

  JsonWriter w(out);
  w.BeginArray();
  for (const ModelIndexEntry& e : index) {
    w.BeginObject();
    w.Key("name");
    w.String(e.name);
    w.Key("version");
    w.String(e.version);
    w.Key("state");
    w.String(e.state.empty() ? "NOT LOADED" : e.state);
    w.Key("reason");
    w.String(e.reason);
    auto r = ready.find({e.name, e.version});
    if (r != ready.end()) {
      w.Key("load_seconds");
      w.Double(r->second->load_seconds);
      w.Key("config");
      WriteProtoJson(r->second->config, w);
    }
    auto s = by_version.find({e.name, e.version});
    if (s != by_version.end()) {
      w.Key("stats");
      WriteProtoJson(*s->second, w);
    }
    w.EndObject();
  }
  w.EndArray();
  return absl::OkStatus();
}

void WebView::Devices(std::string* out) const {
  JsonWriter w(out);
  w.BeginArray();
  for (const std::string& name : s_.devices) {
    absl::StatusOr<Device*> device = DeviceRegistry::Global().Get(name);
    w.BeginObject();
    w.Key("name");
    w.String(name);
    if (!device.ok()) {
      w.Key("error");
      w.String(device.status().message());
      w.EndObject();
      continue;
    }
    const DeviceInfo& info = (*device)->info();
    const MemoryInfo m = (*device)->memory_info();
    w.Key("description");
    w.String(info.description);
    w.Key("language");
    w.String(info.language);
    w.Key("compute_units");
    w.Int(info.compute_units);
    w.Key("memory");
    w.BeginObject();
    w.Key("in_use");
    w.Uint(m.bytes_in_use);
    w.Key("peak");
    w.Uint(m.peak_bytes_in_use);
    w.Key("cached");
    w.Uint(m.cached_bytes);
    w.Key("total");
    w.Uint(m.total_bytes);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
}

void WebView::Kernels(std::string* out) const {
  std::vector<std::shared_ptr<CompiledKernel>> kernels;
  if (s_.engine) kernels = s_.engine->compiler().Kernels();
  std::sort(kernels.begin(), kernels.end(),
            [](const auto& a, const auto& b) { return a->trace_id < b->trace_id; });
  std::map<uint64_t, Measured> measured;
  if (profiler::Enabled()) {
    std::map<uint64_t, bool> ids;
    for (const auto& k : kernels) ids[k->trace_id] = true;
    // The last seconds only: the page asks every 2 s, and copying whole
    // rings each time would cost more than it shows.
    measured = MeasureKernels(profiler::SnapshotTrace(SinceNs(kMeasureSeconds)), ids);
  }
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& k : kernels) {
    w.BeginObject();
    w.Key("id");
    w.Uint(k->trace_id);
    w.Key("name");
    w.String(k->spec.name);
    w.Key("device");
    w.String(k->device != nullptr ? k->device->name() : "");
    w.Key("language");
    w.String(k->spec.language);
    w.Key("global");
    WriteDims(w, k->spec.global_size);
    w.Key("local");
    WriteDims(w, k->spec.local_size);
    w.Key("opts");
    if (k->requested_opts) {
      w.BeginArray();
      for (const Opt& o : *k->requested_opts) w.String(o.ToString());
      w.EndArray();
    } else {
      w.String("heuristics");
    }
    w.Key("buffers");
    w.Int(static_cast<int64_t>(k->spec.buffers.size()));
    w.Key("ops");
    w.Int(k->spec.ops);
    w.Key("bytes");
    w.Int(k->spec.bytes);
    w.Key("disk_cache_hit");
    w.Bool(k->disk_cache_hit);
    w.Key("render_ms");
    w.Double(k->render_seconds * 1e3);
    w.Key("compile_ms");
    w.Double(k->compile_seconds * 1e3);
    auto m = measured.find(k->trace_id);
    if (m != measured.end()) {
      w.Key("launches");
      w.Int(m->second.count);
      w.Key("mean_us");
      w.Double(static_cast<double>(m->second.total_ns) / m->second.count / 1e3);
      w.Key("max_us");
      w.Double(static_cast<double>(m->second.max_ns) / 1e3);
    }
    w.EndObject();
  }
  w.EndArray();
}

absl::Status WebView::Kernel(absl::string_view id, std::string* out) const {
  uint64_t want = 0;
  if (!absl::SimpleAtoi(id, &want)) {
    return absl::InvalidArgumentError(absl::StrCat("id='", id, "' must be a kernel id"));
  }
  std::vector<std::shared_ptr<CompiledKernel>> kernels;
  if (s_.engine) kernels = s_.engine->compiler().Kernels();
  for (const auto& k : kernels) {
    if (k->trace_id != want) continue;
    JsonWriter w(out);
    w.BeginObject();
    w.Key("id");
    w.Uint(k->trace_id);
    w.Key("name");
    w.String(k->spec.name);
    w.Key("language");
    w.String(k->spec.language);
    w.Key("source");
    w.String(k->spec.source);
    w.Key("buffers");
    w.BeginArray();
    for (const ProgramBuffer& b : k->spec.buffers) {
      w.BeginObject();
      w.Key("slot");
      w.Int(b.slot);
      w.Key("dtype");
      w.String(b.dtype.ToString());
      w.Key("size");
      w.Int(b.size);
      w.Key("output");
      w.Bool(b.is_output);
      w.EndObject();
    }
    w.EndArray();
    w.Key("vars");
    w.BeginArray();
    for (const std::string& v : k->spec.vars) w.String(v);
    w.EndArray();
    // The pipeline replayed step by step; a failure is shown, not fatal.
    absl::StatusOr<std::vector<PipelineStep>> steps = absl::FailedPreconditionError("no device");
    if (k->device != nullptr) {
      absl::StatusOr<const Renderer*> renderer = s_.engine->compiler().RendererFor(*k->device);
      steps = renderer.ok() ? InspectKernel(k->ast, **renderer, k->requested_opts)
                            : absl::StatusOr<std::vector<PipelineStep>>(renderer.status());
    }
    if (steps.ok()) {
      w.Key("steps");
      w.BeginArray();
      for (const PipelineStep& step : *steps) {
        w.BeginObject();
        w.Key("name");
        w.String(step.name);
        w.Key("nodes");
        w.Int(step.nodes);
        w.Key("changed");
        w.Bool(step.changed);
        w.Key("text");
        w.String(step.text);
        w.EndObject();
      }
      w.EndArray();
    } else {
      w.Key("steps_error");
      w.String(steps.status().message());
    }
    w.EndObject();
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no compiled kernel with id ", id));
}

absl::Status WebView::Recent(absl::string_view seconds_text, std::string* out) const {
  ASSIGN_OR_RETURN(double seconds, ParseSeconds(seconds_text, 10));
  constexpr size_t kMaxSpans = 200;
  profiler::TraceSnapshot snap;
  if (profiler::Enabled()) snap = profiler::SnapshotTrace(SinceNs(seconds));
  // The newest spans on device and subsystem tracks (requests, batches,
  // kernel launches, copies); host-thread spans are in the full trace.
  std::vector<const profiler::Event*> spans;
  for (auto it = snap.events.rbegin(); it != snap.events.rend() && spans.size() < kMaxSpans; ++it) {
    const profiler::TrackInfo* track = snap.track(it->track);
    if (it->kind == profiler::EventKind::kSpan && track != nullptr &&
        track->kind == profiler::TrackKind::kQueue) {
      spans.push_back(&*it);
    }
  }
  const int64_t now = profiler::NowNs();
  JsonWriter w(out);
  w.BeginObject();
  w.Key("recording");
  w.Bool(profiler::Enabled());
  w.Key("dropped_events");
  w.Uint(snap.dropped_events);
  w.Key("spans");
  w.BeginArray();
  for (const profiler::Event* e : spans) {
    const profiler::TrackInfo* track = snap.track(e->track);
    const profiler::TrackInfo* group = snap.track(track->parent);
    w.BeginObject();
    w.Key("name");
    w.String(snap.name(e->name));
    w.Key("track");
    w.String(group != nullptr ? absl::StrCat(group->name, " / ", track->name) : track->name);
    w.Key("ago_ms");
    w.Double(static_cast<double>(now - e->ts) / 1e6);
    w.Key("duration_us");
    w.Double(static_cast<double>(e->value) / 1e3);
    w.Key("flows");
    w.BeginArray();
    for (uint64_t f : e->flows) {
      if (f != 0) w.Uint(f);
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return absl::OkStatus();
}

absl::Status WebView::Trace(const HttpRequest& request, HttpResponse* response) const {
  ASSIGN_OR_RETURN(double seconds, ParseSeconds(QueryParam(request.query, "seconds"), 10));
  const std::string format = QueryParam(request.query, "format");
  if (!format.empty() && format != "json" && format != "perfetto") {
    return absl::InvalidArgumentError(
        absl::StrCat("format='", format, "' must be json or perfetto"));
  }
  const bool perfetto = format == "perfetto";
  profiler::TraceSnapshot snap = profiler::SnapshotTrace(SinceNs(seconds));
  response->body = profiler::SerializeTrace(
      snap, perfetto ? profiler::TraceFormat::kPerfetto : profiler::TraceFormat::kChromeJson);
  response->content_type = perfetto ? "application/octet-stream" : "application/json";
  if (QueryParam(request.query, "download") == "1") {
    response->headers.push_back(
        {"Content-Disposition",
         absl::StrCat("attachment; filename=\"uopd-", static_cast<int64_t>(seconds), "s",
                      perfetto ? ".perfetto-trace" : ".json", "\"")});
  }
  return absl::OkStatus();
}

}  // namespace uop::server
