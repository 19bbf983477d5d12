#include "runtime/profiler/chrome_json_writer.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/json.h"
#include "runtime/profiler/slice_layout.h"

namespace uop::profiler {

namespace {

// Device groups become pseudo-processes numbered after the real pid range.
constexpr int64_t kGroupPidBase = int64_t{1} << 32;

// Microseconds with nanosecond decimals, exact for any int64.
std::string Micros(int64_t ns) {
  const char* sign = ns < 0 ? "-" : "";
  const uint64_t a = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  return absl::StrFormat("%s%d.%03d", sign, a / 1000, a % 1000);
}

class JsonWriter {
 public:
  explicit JsonWriter(const TraceSnapshot& s) : s_(s) {}

  std::string Run() {
    const SliceLayout layout = LayoutSlices(s_);
    out_ = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";
    Metadata("process_name", s_.pid, 0, s_.process_name);
    for (TrackId t = 1; t < layout.lanes.size(); ++t)
      for (uint16_t lane = 0; lane < layout.lanes[t]; ++lane) DescribeTrack(t, lane);
    // Flow steps: per flow id, the spans carrying it in time order.
    absl::flat_hash_map<uint64_t, std::vector<const Marker*>> flows;
    for (const Marker& m : layout.markers) {
      if (m.type == Marker::kBegin)
        s_.events[m.event].ForEachFlow([&](uint64_t f) { flows[f].push_back(&m); });
    }
    for (const Marker& m : layout.markers) WriteEvent(m);
    std::vector<uint64_t> ids;
    for (const auto& [id, steps] : flows) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (uint64_t id : ids) WriteFlow(id, flows[id]);
    absl::StrAppend(&out_, "],\"metadata\":{\"dropped_events\":", s_.dropped_events, "}}\n");
    return std::move(out_);
  }

 private:
  struct Place {
    int64_t pid;
    int64_t tid;
  };

  Place PlaceOf(TrackId track, uint16_t lane) const {
    const TrackInfo& info = s_.tracks[track];
    if (info.kind == TrackKind::kThread)
      return {s_.pid, lane == 0 ? info.tid : -static_cast<int64_t>(track) * 4096 - lane};
    const TrackId group = info.kind == TrackKind::kGroup ? track : info.parent;
    return {kGroupPidBase + group, static_cast<int64_t>(track) * 4096 + lane};
  }

  void Comma() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }

  void Metadata(const char* what, int64_t pid, int64_t tid, absl::string_view name) {
    Comma();
    absl::StrAppend(&out_, "{\"ph\":\"M\",\"name\":\"", what, "\",\"pid\":", pid, ",\"tid\":", tid,
                    ",\"args\":{\"name\":");
    AppendJsonQuoted(name, &out_);
    out_.append("}}");
  }

  void DescribeTrack(TrackId track, uint16_t lane) {
    const TrackInfo& info = s_.tracks[track];
    const Place place = PlaceOf(track, lane);
    if (info.kind != TrackKind::kThread) {
      const TrackId group = info.kind == TrackKind::kGroup ? track : info.parent;
      if (group < s_.tracks.size() && described_groups_.insert({group, true}).second)
        Metadata("process_name", place.pid, 0, s_.tracks[group].name);
    }
    if (info.kind == TrackKind::kCounter) return;  // counters are named per event
    const std::string name = lane == 0 ? info.name : absl::StrCat(info.name, " (", lane + 1, ")");
    Metadata("thread_name", place.pid, place.tid, name);
  }

  void WriteArgs(const Event& e) {
    out_.append(",\"args\":{");
    bool first = true;
    for (int i = 0; i < e.num_args; ++i) {
      if (e.arg_types[i] == ArgType::kFlow) continue;
      if (!first) out_.push_back(',');
      first = false;
      AppendJsonQuoted(s_.name(e.arg_keys[i]), &out_);
      out_.push_back(':');
      const int64_t v = e.arg_values[i];
      switch (e.arg_types[i]) {
        case ArgType::kInt:
          absl::StrAppend(&out_, v);
          break;
        case ArgType::kUint:
          absl::StrAppend(&out_, static_cast<uint64_t>(v));
          break;
        case ArgType::kDouble:
          absl::StrAppendFormat(&out_, "%.17g", std::bit_cast<double>(v));
          break;
        case ArgType::kBool:
          out_.append(v != 0 ? "true" : "false");
          break;
        case ArgType::kString:
          AppendJsonQuoted(s_.name(static_cast<NameId>(v)), &out_);
          break;
        case ArgType::kNone:
        case ArgType::kFlow:
          out_.append("null");
          break;
      }
    }
    out_.push_back('}');
  }

  void WriteEvent(const Marker& m) {
    if (m.type == Marker::kEnd) return;
    const Event& e = s_.events[m.event];
    const Place place = PlaceOf(e.track, m.lane);
    Comma();
    if (m.type == Marker::kCounter) {
      out_.append("{\"ph\":\"C\",\"name\":");
      AppendJsonQuoted(s_.tracks[e.track].name, &out_);
      absl::StrAppend(&out_, ",\"pid\":", place.pid, ",\"ts\":", Micros(e.ts),
                      ",\"args\":{\"value\":");
      if (e.double_counter()) {
        absl::StrAppendFormat(&out_, "%.17g", std::bit_cast<double>(e.value));
      } else {
        absl::StrAppend(&out_, e.value);
      }
      out_.append("}}");
      return;
    }
    out_.append(m.type == Marker::kBegin ? "{\"ph\":\"X\",\"name\":"
                                         : "{\"ph\":\"i\",\"s\":\"t\",\"name\":");
    AppendJsonQuoted(s_.name(e.name), &out_);
    absl::StrAppend(&out_, ",\"pid\":", place.pid, ",\"tid\":", place.tid,
                    ",\"ts\":", Micros(e.ts));
    if (m.type == Marker::kBegin) absl::StrAppend(&out_, ",\"dur\":", Micros(e.value));
    WriteArgs(e);
    out_.push_back('}');
  }

  void WriteFlow(uint64_t id, const std::vector<const Marker*>& steps) {
    if (steps.size() < 2) return;
    for (size_t i = 0; i < steps.size(); ++i) {
      const Event& e = s_.events[steps[i]->event];
      const Place place = PlaceOf(e.track, steps[i]->lane);
      const char* ph = i == 0 ? "s" : i + 1 == steps.size() ? "f" : "t";
      Comma();
      absl::StrAppend(&out_, "{\"ph\":\"", ph, "\",\"cat\":\"flow\",\"name\":\"flow\",\"id\":", id,
                      ",\"pid\":", place.pid, ",\"tid\":", place.tid, ",\"ts\":", Micros(e.ts),
                      i + 1 == steps.size() ? ",\"bp\":\"e\"}" : "}");
    }
  }

  const TraceSnapshot& s_;
  std::string out_;
  bool first_ = true;
  absl::flat_hash_map<TrackId, bool> described_groups_;
};

}  // namespace

std::string ToChromeJson(const TraceSnapshot& snapshot) { return JsonWriter(snapshot).Run(); }

}  // namespace uop::profiler
