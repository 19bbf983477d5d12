#include "runtime/profiler/trace_decoder.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "runtime/profiler/perfetto_trace.pb.h"

namespace uop::profiler {

namespace pb = ::uop::profiler::perfetto;

bool DecodedSlice::HasFlow(uint64_t id) const {
  return std::find(flows.begin(), flows.end(), id) != flows.end();
}

std::vector<const DecodedSlice*> DecodedTrace::SlicesNamed(absl::string_view name) const {
  std::vector<const DecodedSlice*> out;
  for (const DecodedSlice& s : slices)
    if (s.name == name) out.push_back(&s);
  return out;
}

std::vector<const DecodedSlice*> DecodedTrace::SlicesOnTrack(uint64_t uuid) const {
  std::vector<const DecodedSlice*> out;
  for (const DecodedSlice& s : slices)
    if (s.track == uuid) out.push_back(&s);
  return out;
}

const DecodedTrack* DecodedTrace::TrackNamed(absl::string_view name) const {
  for (const auto& [uuid, t] : tracks)
    if (t.name == name) return &t;
  return nullptr;
}

bool DecodedTrace::IsUnder(uint64_t uuid, uint64_t ancestor) const {
  for (int hops = 0; uuid != 0 && hops < 64; ++hops) {
    if (uuid == ancestor) return true;
    auto it = tracks.find(uuid);
    if (it == tracks.end()) return false;
    uuid = it->second.parent;
  }
  return false;
}

std::vector<const DecodedSlice*> DecodedTrace::Linked(const DecodedSlice& slice) const {
  std::vector<const DecodedSlice*> out;
  for (const DecodedSlice& s : slices) {
    if (&s == &slice) continue;
    for (uint64_t f : slice.flows)
      if (s.HasFlow(f)) {
        out.push_back(&s);
        break;
      }
  }
  return out;
}

namespace {

std::string ArgText(const pb::DebugAnnotation& a) {
  switch (a.value_case()) {
    case pb::DebugAnnotation::kBoolValue:
      return a.bool_value() ? "true" : "false";
    case pb::DebugAnnotation::kUintValue:
      return absl::StrCat(a.uint_value());
    case pb::DebugAnnotation::kIntValue:
      return absl::StrCat(a.int_value());
    case pb::DebugAnnotation::kDoubleValue:
      return absl::StrCat(a.double_value());
    case pb::DebugAnnotation::kStringValue:
      return a.string_value();
    default:
      return "";
  }
}

}  // namespace

absl::StatusOr<DecodedTrace> DecodePerfetto(absl::string_view bytes) {
  pb::Trace trace;
  if (!trace.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return absl::DataLossError("not a parseable perfetto.protos.Trace");
  DecodedTrace out;
  absl::flat_hash_map<uint64_t, std::string> event_names, arg_names;
  bool state_cleared = false;
  struct TrackState {
    int64_t last_ts = INT64_MIN;
    std::vector<size_t> open;  // indices into out.slices
  };
  absl::flat_hash_map<uint64_t, TrackState> state;
  std::vector<uint64_t> pending_parents;

  for (int i = 0; i < trace.packet_size(); ++i) {
    const pb::TracePacket& p = trace.packet(i);
    auto fail = [&](absl::string_view what) {
      return absl::FailedPreconditionError(absl::StrCat("packet ", i, ": ", what));
    };
    if (p.has_clock_snapshot()) {
      for (const auto& c : p.clock_snapshot().clocks()) {
        if (c.clock_id() == pb::ClockSnapshot::Clock::MONOTONIC)
          out.clock_monotonic = c.timestamp();
        if (c.clock_id() == pb::ClockSnapshot::Clock::BOOTTIME) out.clock_boottime = c.timestamp();
      }
      continue;
    }
    if (p.sequence_flags() & pb::TracePacket::SEQ_INCREMENTAL_STATE_CLEARED) {
      event_names.clear();
      arg_names.clear();
      state_cleared = true;
    }
    if ((p.sequence_flags() & pb::TracePacket::SEQ_NEEDS_INCREMENTAL_STATE) && !state_cleared)
      return fail("needs incremental state before any packet cleared it");
    if (p.has_interned_data()) {
      if (!state_cleared) return fail("interned data before the state was cleared");
      for (const auto& n : p.interned_data().event_names()) event_names[n.iid()] = n.name();
      for (const auto& n : p.interned_data().debug_annotation_names())
        arg_names[n.iid()] = n.name();
    }
    if (p.has_track_descriptor()) {
      const pb::TrackDescriptor& d = p.track_descriptor();
      if (d.uuid() == 0) return fail("track descriptor with uuid 0");
      if (out.tracks.count(d.uuid())) return fail(absl::StrCat("duplicate track uuid ", d.uuid()));
      DecodedTrack t;
      t.uuid = d.uuid();
      t.parent = d.parent_uuid();
      t.name = d.name();
      t.is_process = d.has_process();
      t.is_thread = d.has_thread();
      if (t.is_thread) {
        t.tid = d.thread().tid();
        if (t.name.empty()) t.name = d.thread().thread_name();
      }
      if (t.is_process && t.name.empty()) t.name = d.process().process_name();
      t.is_counter = d.has_counter();
      t.counter_unit = d.counter().unit();
      if (t.parent != 0) pending_parents.push_back(t.parent);
      out.tracks[t.uuid] = t;
      continue;
    }
    if (!p.has_track_event()) continue;
    const pb::TrackEvent& e = p.track_event();
    if (!p.has_timestamp()) return fail("track event without timestamp");
    if (p.timestamp_clock_id() != pb::ClockSnapshot::Clock::MONOTONIC)
      return fail(absl::StrCat("track event on clock ", p.timestamp_clock_id(), ", not MONOTONIC"));
    auto track = out.tracks.find(e.track_uuid());
    if (track == out.tracks.end())
      return fail(absl::StrCat("event on track ", e.track_uuid(), " before its descriptor"));
    const int64_t ts = static_cast<int64_t>(p.timestamp());
    TrackState& ts_state = state[e.track_uuid()];
    if (ts < ts_state.last_ts)
      return fail(absl::StrCat("timestamp ", ts, " goes back on track '", track->second.name,
                               "' (last ", ts_state.last_ts, ")"));
    ts_state.last_ts = ts;
    const bool counter_track = track->second.is_counter;
    switch (e.type()) {
      case pb::TrackEvent::TYPE_COUNTER: {
        if (!counter_track) return fail("counter event on a non-counter track");
        DecodedCounter c;
        c.track = e.track_uuid();
        c.ts = ts;
        c.value = e.has_double_counter_value() ? e.double_counter_value()
                                               : static_cast<double>(e.counter_value());
        out.counters.push_back(c);
        break;
      }
      case pb::TrackEvent::TYPE_SLICE_BEGIN:
      case pb::TrackEvent::TYPE_INSTANT: {
        if (counter_track) return fail("slice on a counter track");
        DecodedSlice s;
        s.track = e.track_uuid();
        s.begin = s.end = ts;
        s.instant = e.type() == pb::TrackEvent::TYPE_INSTANT;
        s.depth = static_cast<int>(ts_state.open.size());
        if (e.has_name_iid()) {
          auto n = event_names.find(e.name_iid());
          if (n == event_names.end()) return fail(absl::StrCat("unknown name_iid ", e.name_iid()));
          s.name = n->second;
        }
        s.flows.assign(e.flow_ids().begin(), e.flow_ids().end());
        for (const pb::DebugAnnotation& a : e.debug_annotations()) {
          auto n = arg_names.find(a.name_iid());
          if (n == arg_names.end())
            return fail(absl::StrCat("unknown debug annotation name_iid ", a.name_iid()));
          s.args[n->second] = ArgText(a);
        }
        out.slices.push_back(std::move(s));
        if (e.type() == pb::TrackEvent::TYPE_SLICE_BEGIN)
          ts_state.open.push_back(out.slices.size() - 1);
        break;
      }
      case pb::TrackEvent::TYPE_SLICE_END: {
        if (ts_state.open.empty()) return fail("SLICE_END without an open slice");
        out.slices[ts_state.open.back()].end = ts;
        ts_state.open.pop_back();
        break;
      }
      default:
        return fail(absl::StrCat("track event of type ", e.type()));
    }
  }
  for (const auto& [uuid, st] : state) {
    if (!st.open.empty())
      return absl::FailedPreconditionError(absl::StrCat("slice '", out.slices[st.open.back()].name,
                                                        "' on track ", uuid, " is never closed"));
  }
  for (uint64_t parent : pending_parents)
    if (!out.tracks.count(parent))
      return absl::FailedPreconditionError(absl::StrCat("parent track ", parent, " is missing"));
  if (out.clock_monotonic == 0 || out.clock_boottime == 0)
    return absl::FailedPreconditionError("no clock snapshot pairing MONOTONIC with BOOTTIME");
  return out;
}

}  // namespace uop::profiler
