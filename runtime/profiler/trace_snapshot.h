// TraceSnapshot: a self-contained copy of recorded events with the name and
// track tables they refer to — what the exporters (perfetto_writer.h,
// chrome_json_writer.h) turn into files, independent of the live recorder.
//
//   TraceSnapshot s = profiler::Snapshot();
//   for (const Event& e : s.events) printf("%s\n", s.name(e.name).c_str());
#ifndef UOP_RUNTIME_PROFILER_TRACE_SNAPSHOT_H_
#define UOP_RUNTIME_PROFILER_TRACE_SNAPSHOT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/profiler/event.h"

namespace uop::profiler {

enum class TrackKind : uint8_t {
  kThread,   // a host thread: spans of the code it runs
  kGroup,    // a top-level group, one per device ("CPU:0", "CUDA:0") or subsystem ("uopd")
  kQueue,    // a child of a group: one device queue ("compute", "copy") or lane of work
  kCounter,  // a child of a group with values over time ("memory in use")
};

enum class CounterUnit : uint8_t { kCount, kBytes, kTimeNs };

struct TrackInfo {
  TrackKind kind = TrackKind::kGroup;
  std::string name;
  TrackId parent = 0;  // kQueue / kCounter: their group
  int64_t tid = 0;     // kThread
  CounterUnit unit = CounterUnit::kCount;
};

struct TraceSnapshot {
  std::vector<Event> events;       // sorted by ts; equal ts keep recording order per thread
  std::vector<std::string> names;  // by NameId; names[0] == ""
  std::vector<TrackInfo> tracks;   // by TrackId; tracks[0] unused
  int64_t pid = 0;
  std::string process_name;
  // Read together at snapshot time: aligns our CLOCK_MONOTONIC timestamps
  // with CLOCK_BOOTTIME, Perfetto's default trace clock.
  int64_t monotonic_ns = 0;
  int64_t boottime_ns = 0;
  // Events the bounded rings overwrote before this snapshot.
  uint64_t dropped_events = 0;

  const std::string& name(NameId id) const {
    static const std::string kUnknown = "?";
    return id < names.size() ? names[id] : kUnknown;
  }
  const TrackInfo* track(TrackId id) const {
    return id > 0 && id < tracks.size() ? &tracks[id] : nullptr;
  }
};

}  // namespace uop::profiler

#endif  // UOP_RUNTIME_PROFILER_TRACE_SNAPSHOT_H_
