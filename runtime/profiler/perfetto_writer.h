// ToPerfetto: a snapshot as a Perfetto trace (a serialized perfetto.protos.Trace)
// that opens in ui.perfetto.dev and trace_processor.
//
// Layout of the output (field numbers: perfetto_trace.proto, which mirrors
// the official protos/perfetto/trace/... definitions):
//  1. a ClockSnapshot pairing CLOCK_MONOTONIC (our timestamps) with
//     CLOCK_BOOTTIME (Perfetto's default trace clock);
//  2. one packet that starts our packet sequence (incremental state cleared)
//     and interns every event name and argument name used;
//  3. TrackDescriptors: the process; one per thread; one per device group
//     ("CPU:0") with its queues ("compute", "copy") and counters
//     ("memory in use") as children; extra lanes for overlapping spans;
//  4. TrackEvents in time order: SLICE_BEGIN/SLICE_END pairs for spans,
//     INSTANT, COUNTER; each with timestamp_clock_id MONOTONIC, the interned
//     name, its flow ids (request, compile, batch) and debug annotations.
//
//   std::string bytes = ToPerfetto(profiler::SnapshotTrace());
#ifndef UOP_RUNTIME_PROFILER_PERFETTO_WRITER_H_
#define UOP_RUNTIME_PROFILER_PERFETTO_WRITER_H_

#include <cstdint>
#include <string>

#include "runtime/profiler/trace_snapshot.h"

namespace uop::profiler {

std::string ToPerfetto(const TraceSnapshot& snapshot);

// The TrackDescriptor uuid of `track`'s lane (0: the track itself) in a
// trace of process `pid`, and of the process track. Exposed for tests.
uint64_t PerfettoTrackUuid(int64_t pid, TrackId track, uint16_t lane);
uint64_t PerfettoProcessUuid(int64_t pid);

}  // namespace uop::profiler

#endif  // UOP_RUNTIME_PROFILER_PERFETTO_WRITER_H_
