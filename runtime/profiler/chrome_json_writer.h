// ToChromeJson: a snapshot in the Chrome trace-event JSON format, the
// fallback for viewers without Perfetto protobuf support (chrome://tracing,
// speedscope, scripts).
//
// Mapping: host threads keep the process id and their thread ids; every
// device group ("CPU:0") becomes its own pseudo-process whose threads are its
// queues and lanes, named through "M" metadata events. Spans are "X" events,
// instants "i", counters "C" (one series per counter name). Flows become
// "s"/"t"/"f" events bound to the spans carrying the flow id (JSON flows
// cannot start or end at an instant, so instants keep only their args).
// Timestamps are microseconds with nanosecond decimals.
//
//   std::string json = ToChromeJson(profiler::SnapshotTrace());
#ifndef UOP_RUNTIME_PROFILER_CHROME_JSON_WRITER_H_
#define UOP_RUNTIME_PROFILER_CHROME_JSON_WRITER_H_

#include <string>

#include "runtime/profiler/trace_snapshot.h"

namespace uop::profiler {

std::string ToChromeJson(const TraceSnapshot& snapshot);

}  // namespace uop::profiler

#endif  // UOP_RUNTIME_PROFILER_CHROME_JSON_WRITER_H_
