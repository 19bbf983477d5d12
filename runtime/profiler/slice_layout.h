// Slice layout: turns a snapshot's complete spans into begin/end markers that
// nest properly on every track, as Perfetto and Chrome JSON require.
//
// Spans on one track normally nest (a thread's call tree) or follow one
// another (an in-order device queue). When they overlap without nesting —
// two threads launching on the same device at once, BEAM timing beside a
// realize — the later one moves to an extra lane of that track, shown as a
// sibling track "<name> (2)". Instants go where they fit like zero-length
// spans; counters pass through.
//
//   SliceLayout layout = LayoutSlices(snapshot);
//   for (const Marker& m : layout.markers) { ... m.type, m.lane, snapshot.events[m.event] ... }
#ifndef UOP_RUNTIME_PROFILER_SLICE_LAYOUT_H_
#define UOP_RUNTIME_PROFILER_SLICE_LAYOUT_H_

#include <cstdint>
#include <vector>

#include "runtime/profiler/trace_snapshot.h"

namespace uop::profiler {

struct Marker {
  enum Type : uint8_t { kBegin, kEnd, kInstant, kCounter };
  int64_t ts;
  uint32_t event;  // index into TraceSnapshot::events
  uint16_t lane;   // 0: the event's own track; n: its n-th extra lane
  Type type;
};

struct SliceLayout {
  // Sorted by ts; on every (track, lane) a valid begin/end nesting. Equal
  // timestamps keep the order that nesting needs (an end before a begin that
  // starts when it ends; a parent's begin before its child's).
  std::vector<Marker> markers;
  // Lanes used per TrackId (0 for tracks without events).
  std::vector<uint16_t> lanes;
};

SliceLayout LayoutSlices(const TraceSnapshot& snapshot);

}  // namespace uop::profiler

#endif  // UOP_RUNTIME_PROFILER_SLICE_LAYOUT_H_
