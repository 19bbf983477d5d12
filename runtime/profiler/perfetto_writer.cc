#include "runtime/profiler/perfetto_writer.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/profiler/proto_writer.h"
#include "runtime/profiler/slice_layout.h"

namespace uop::profiler {

namespace {

// Field numbers of the official Perfetto protos (perfetto_trace.proto keeps
// the same numbers; the decoder test parses our output with it).
namespace trace {
constexpr uint32_t kPacket = 1;
}
namespace packet {
constexpr uint32_t kClockSnapshot = 6;
constexpr uint32_t kTimestamp = 8;
constexpr uint32_t kTrustedPacketSequenceId = 10;
constexpr uint32_t kTrackEvent = 11;
constexpr uint32_t kInternedData = 12;
constexpr uint32_t kSequenceFlags = 13;
constexpr uint32_t kTimestampClockId = 58;
constexpr uint32_t kTrackDescriptor = 60;
constexpr uint32_t kFirstPacketOnSequence = 87;
constexpr uint64_t kSeqIncrementalStateCleared = 1;
constexpr uint64_t kSeqNeedsIncrementalState = 2;
}  // namespace packet
namespace clock_snapshot {
constexpr uint32_t kClocks = 1;
constexpr uint32_t kClockId = 1;
constexpr uint32_t kTimestamp = 2;
constexpr uint64_t kMonotonic = 3;
constexpr uint64_t kBoottime = 6;
}  // namespace clock_snapshot
namespace interned {
constexpr uint32_t kEventNames = 2;
constexpr uint32_t kDebugAnnotationNames = 3;
constexpr uint32_t kIid = 1;
constexpr uint32_t kName = 2;
}  // namespace interned
namespace track_descriptor {
constexpr uint32_t kUuid = 1;
constexpr uint32_t kName = 2;
constexpr uint32_t kProcess = 3;
constexpr uint32_t kThread = 4;
constexpr uint32_t kParentUuid = 5;
constexpr uint32_t kCounter = 8;
}  // namespace track_descriptor
namespace process_descriptor {
constexpr uint32_t kPid = 1;
constexpr uint32_t kProcessName = 6;
}  // namespace process_descriptor
namespace thread_descriptor {
constexpr uint32_t kPid = 1;
constexpr uint32_t kTid = 2;
constexpr uint32_t kThreadName = 5;
}  // namespace thread_descriptor
namespace counter_descriptor {
constexpr uint32_t kUnit = 3;
constexpr uint64_t kUnitTimeNs = 1;
constexpr uint64_t kUnitCount = 2;
constexpr uint64_t kUnitSizeBytes = 3;
}  // namespace counter_descriptor
namespace track_event {
constexpr uint32_t kDebugAnnotations = 4;
constexpr uint32_t kType = 9;
constexpr uint32_t kNameIid = 10;
constexpr uint32_t kTrackUuid = 11;
constexpr uint32_t kCounterValue = 30;
constexpr uint32_t kDoubleCounterValue = 44;
constexpr uint32_t kFlowIds = 47;
constexpr uint64_t kTypeSliceBegin = 1;
constexpr uint64_t kTypeSliceEnd = 2;
constexpr uint64_t kTypeInstant = 3;
constexpr uint64_t kTypeCounter = 4;
}  // namespace track_event
namespace debug_annotation {
constexpr uint32_t kNameIid = 1;
constexpr uint32_t kBoolValue = 2;
constexpr uint32_t kUintValue = 3;
constexpr uint32_t kIntValue = 4;
constexpr uint32_t kDoubleValue = 5;
constexpr uint32_t kStringValue = 6;
}  // namespace debug_annotation

constexpr uint32_t kSequenceId = 1;
// Interned names per packet: keeps every packet small.
constexpr size_t kNamesPerPacket = 512;

class Writer {
 public:
  explicit Writer(const TraceSnapshot& s) : s_(s), w_(&out_) {}

  std::string Run() {
    const SliceLayout layout = LayoutSlices(s_);
    WriteClockSnapshot();
    WriteInternedNames(layout);
    WriteTracks(layout);
    for (const Marker& m : layout.markers) WriteEvent(m);
    return std::move(out_);
  }

 private:
  size_t BeginPacket() {
    const size_t p = w_.BeginNested(trace::kPacket);
    w_.Varint(packet::kTrustedPacketSequenceId, kSequenceId);
    return p;
  }

  void WriteClockSnapshot() {
    const size_t p = w_.BeginNested(trace::kPacket);
    const size_t cs = w_.BeginNested(packet::kClockSnapshot);
    for (auto [id, ts] : {std::pair<uint64_t, int64_t>{clock_snapshot::kMonotonic, s_.monotonic_ns},
                          {clock_snapshot::kBoottime, s_.boottime_ns}}) {
      const size_t c = w_.BeginNested(clock_snapshot::kClocks);
      w_.Varint(clock_snapshot::kClockId, id);
      w_.Varint(clock_snapshot::kTimestamp, static_cast<uint64_t>(ts));
      w_.EndNested(c);
    }
    w_.EndNested(cs);
    w_.EndNested(p);
  }

  void WriteInternedNames(const SliceLayout& layout) {
    std::vector<bool> event_name(s_.names.size()), arg_name(s_.names.size());
    for (const Marker& m : layout.markers) {
      const Event& e = s_.events[m.event];
      if (m.type == Marker::kBegin || m.type == Marker::kInstant) {
        if (e.name < event_name.size()) event_name[e.name] = true;
        for (int i = 0; i < e.num_args; ++i)
          if (e.arg_types[i] != ArgType::kFlow && e.arg_keys[i] < arg_name.size())
            arg_name[e.arg_keys[i]] = true;
      }
    }
    // The first packet clears the sequence's incremental state, even when
    // there is nothing to intern.
    bool first = true;
    size_t in_packet = 0;
    size_t p = 0, interned = 0;
    auto flush = [&] {
      w_.EndNested(interned);
      w_.EndNested(p);
      in_packet = 0;
    };
    auto begin = [&] {
      p = BeginPacket();
      if (first) {
        w_.Varint(packet::kSequenceFlags, packet::kSeqIncrementalStateCleared);
        w_.Bool(packet::kFirstPacketOnSequence, true);
        first = false;
      } else {
        w_.Varint(packet::kSequenceFlags, packet::kSeqNeedsIncrementalState);
      }
      interned = w_.BeginNested(packet::kInternedData);
    };
    begin();
    for (int kind = 0; kind < 2; ++kind) {
      const std::vector<bool>& used = kind == 0 ? event_name : arg_name;
      const uint32_t field = kind == 0 ? interned::kEventNames : interned::kDebugAnnotationNames;
      for (NameId id = 1; id < used.size(); ++id) {
        if (!used[id]) continue;
        if (in_packet == kNamesPerPacket) flush(), begin();
        const size_t n = w_.BeginNested(field);
        w_.Varint(interned::kIid, id);
        w_.String(interned::kName, s_.names[id]);
        w_.EndNested(n);
        ++in_packet;
      }
    }
    flush();
  }

  uint64_t Uuid(TrackId track, uint16_t lane) const {
    return PerfettoTrackUuid(s_.pid, track, lane);
  }

  // Emits the descriptor of `track` (and its parent group) once.
  void WriteTrack(TrackId track, uint16_t lane) {
    const TrackInfo* info = s_.track(track);
    if (info == nullptr) return;
    if (info->parent != 0 && !written_group_[info->parent]) WriteTrack(info->parent, 0);
    if (lane == 0) {
      if (written_group_[track]) return;
      written_group_[track] = true;
    }
    const size_t p = BeginPacket();
    const size_t td = w_.BeginNested(packet::kTrackDescriptor);
    w_.Varint(track_descriptor::kUuid, Uuid(track, lane));
    const std::string name = lane == 0 ? info->name : absl::StrCat(info->name, " (", lane + 1, ")");
    if (info->kind == TrackKind::kThread) {
      w_.Varint(track_descriptor::kParentUuid, PerfettoProcessUuid(s_.pid));
      if (lane == 0) {
        const size_t t = w_.BeginNested(track_descriptor::kThread);
        w_.Int(thread_descriptor::kPid, s_.pid);
        w_.Int(thread_descriptor::kTid, info->tid);
        w_.String(thread_descriptor::kThreadName, info->name);
        w_.EndNested(t);
      } else {
        w_.String(track_descriptor::kName, name);
      }
    } else {
      w_.String(track_descriptor::kName, name);
      if (info->parent != 0) w_.Varint(track_descriptor::kParentUuid, Uuid(info->parent, 0));
      if (info->kind == TrackKind::kCounter) {
        const size_t c = w_.BeginNested(track_descriptor::kCounter);
        w_.Varint(counter_descriptor::kUnit,
                  info->unit == CounterUnit::kBytes    ? counter_descriptor::kUnitSizeBytes
                  : info->unit == CounterUnit::kTimeNs ? counter_descriptor::kUnitTimeNs
                                                       : counter_descriptor::kUnitCount);
        w_.EndNested(c);
      }
    }
    w_.EndNested(td);
    w_.EndNested(p);
  }

  void WriteTracks(const SliceLayout& layout) {
    written_group_.assign(s_.tracks.size(), false);
    const size_t p = BeginPacket();
    const size_t td = w_.BeginNested(packet::kTrackDescriptor);
    w_.Varint(track_descriptor::kUuid, PerfettoProcessUuid(s_.pid));
    const size_t pd = w_.BeginNested(track_descriptor::kProcess);
    w_.Int(process_descriptor::kPid, s_.pid);
    w_.String(process_descriptor::kProcessName, s_.process_name);
    w_.EndNested(pd);
    w_.EndNested(td);
    w_.EndNested(p);
    for (TrackId t = 1; t < layout.lanes.size(); ++t)
      for (uint16_t lane = 0; lane < layout.lanes[t]; ++lane) WriteTrack(t, lane);
  }

  void WriteEvent(const Marker& m) {
    const Event& e = s_.events[m.event];
    const size_t p = BeginPacket();
    w_.Varint(packet::kTimestamp, static_cast<uint64_t>(m.ts));
    w_.Varint(packet::kTimestampClockId, clock_snapshot::kMonotonic);
    w_.Varint(packet::kSequenceFlags, packet::kSeqNeedsIncrementalState);
    const size_t te = w_.BeginNested(packet::kTrackEvent);
    w_.Varint(track_event::kTrackUuid, Uuid(e.track, m.lane));
    switch (m.type) {
      case Marker::kEnd:
        w_.Varint(track_event::kType, track_event::kTypeSliceEnd);
        break;
      case Marker::kCounter:
        w_.Varint(track_event::kType, track_event::kTypeCounter);
        if (e.double_counter()) {
          w_.Double(track_event::kDoubleCounterValue, std::bit_cast<double>(e.value));
        } else {
          w_.Int(track_event::kCounterValue, e.value);
        }
        break;
      case Marker::kBegin:
      case Marker::kInstant:
        w_.Varint(track_event::kType, m.type == Marker::kBegin ? track_event::kTypeSliceBegin
                                                               : track_event::kTypeInstant);
        if (e.name != 0) w_.Varint(track_event::kNameIid, e.name);
        e.ForEachFlow([&](uint64_t f) { w_.Fixed64(track_event::kFlowIds, f); });
        WriteArgs(e);
        break;
    }
    w_.EndNested(te);
    w_.EndNested(p);
  }

  void WriteArgs(const Event& e) {
    for (int i = 0; i < e.num_args; ++i) {
      if (e.arg_types[i] == ArgType::kFlow) continue;
      const size_t a = w_.BeginNested(track_event::kDebugAnnotations);
      w_.Varint(debug_annotation::kNameIid, e.arg_keys[i]);
      const int64_t v = e.arg_values[i];
      switch (e.arg_types[i]) {
        case ArgType::kInt:
          w_.Int(debug_annotation::kIntValue, v);
          break;
        case ArgType::kUint:
          w_.Varint(debug_annotation::kUintValue, static_cast<uint64_t>(v));
          break;
        case ArgType::kDouble:
          w_.Double(debug_annotation::kDoubleValue, std::bit_cast<double>(v));
          break;
        case ArgType::kBool:
          w_.Bool(debug_annotation::kBoolValue, v != 0);
          break;
        case ArgType::kString:
          w_.String(debug_annotation::kStringValue, s_.name(static_cast<NameId>(v)));
          break;
        case ArgType::kNone:
        case ArgType::kFlow:
          break;
      }
      w_.EndNested(a);
    }
  }

  const TraceSnapshot& s_;
  std::string out_;
  ProtoWriter w_;
  std::vector<bool> written_group_;
};

}  // namespace

uint64_t PerfettoProcessUuid(int64_t pid) { return static_cast<uint64_t>(pid) << 40; }

uint64_t PerfettoTrackUuid(int64_t pid, TrackId track, uint16_t lane) {
  // pid | lane | track: unique within one process's trace for < 2^28 tracks
  // and < 2^12 lanes (the layout caps lanes at 4096).
  return PerfettoProcessUuid(pid) | (uint64_t{lane} << 28) | (track & 0xfffffff);
}

std::string ToPerfetto(const TraceSnapshot& snapshot) { return Writer(snapshot).Run(); }

}  // namespace uop::profiler
