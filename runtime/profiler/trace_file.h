// Writing traces to files, with errors a daemon can report and survive.
//
// The format follows the extension: ".json" writes Chrome JSON
// (chrome_json_writer.h), anything else Perfetto protobuf (perfetto_writer.h;
// ".perfetto-trace" by convention).
//
//   RETURN_IF_ERROR(WriteTraceFile("/tmp/run.perfetto-trace", profiler::SnapshotTrace()));
//
// Errors name the path and the system's reason: ResourceExhausted for a full
// disk or quota, NotFound for a missing directory, PermissionDenied, and
// Internal for other I/O failures. A partly written regular file is removed,
// so a failed dump never leaves a truncated trace behind.
#ifndef UOP_RUNTIME_PROFILER_TRACE_FILE_H_
#define UOP_RUNTIME_PROFILER_TRACE_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "runtime/profiler/trace_snapshot.h"

namespace uop::profiler {

enum class TraceFormat { kPerfetto, kChromeJson };

TraceFormat FormatForPath(absl::string_view path);

// The trace in memory, e.g. for an RPC that streams it.
std::string SerializeTrace(const TraceSnapshot& snapshot, TraceFormat format);

// Serializes `snapshot` in the format of `path` and writes it.
absl::Status WriteTraceFile(const std::string& path, const TraceSnapshot& snapshot);

// Writes `bytes` to `path` (created or truncated), fsyncing regular files.
absl::Status WriteFileBytes(const std::string& path, absl::string_view bytes);

}  // namespace uop::profiler

#endif  // UOP_RUNTIME_PROFILER_TRACE_FILE_H_
