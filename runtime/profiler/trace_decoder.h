// DecodePerfetto: parses a Perfetto trace with the classes generated from
// perfetto_trace.proto (official field numbers) — independently of the
// hand-written encoder — checks the rules a Perfetto reader relies on, and
// returns a flat view tests can query. Tests only.
//
// Checked (an error names the packet and the rule):
// * the sequence starts with SEQ_INCREMENTAL_STATE_CLEARED before any packet
//   that needs interned state; every name_iid resolves;
// * the clock snapshot pairs MONOTONIC with BOOTTIME; events use MONOTONIC;
// * every event's track has a descriptor, emitted before the event; parents
//   exist; track uuids are unique;
// * per track, timestamps never decrease; SLICE_END closes an open slice;
//   every slice is closed; counters only on counter tracks, slices and
//   instants never on them.
//
//   ASSERT_OK_AND_ASSIGN(DecodedTrace t, DecodePerfetto(bytes));
//   for (const DecodedSlice& s : t.SlicesNamed("realize")) ...
#ifndef UOP_RUNTIME_PROFILER_TRACE_DECODER_H_
#define UOP_RUNTIME_PROFILER_TRACE_DECODER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop::profiler {

struct DecodedTrack {
  uint64_t uuid = 0;
  uint64_t parent = 0;
  std::string name;  // thread tracks: the thread name
  bool is_process = false;
  bool is_thread = false;
  bool is_counter = false;
  int counter_unit = 0;  // CounterDescriptor.Unit
  int tid = 0;
};

struct DecodedSlice {
  uint64_t track = 0;
  std::string name;
  int64_t begin = 0;
  int64_t end = 0;  // == begin for instants
  bool instant = false;
  int depth = 0;  // nesting depth on its track (0: top level)
  std::vector<uint64_t> flows;
  std::map<std::string, std::string> args;  // values printed as text
  bool HasFlow(uint64_t id) const;
};

struct DecodedCounter {
  uint64_t track = 0;
  int64_t ts = 0;
  double value = 0;
};

struct DecodedTrace {
  std::map<uint64_t, DecodedTrack> tracks;
  std::vector<DecodedSlice> slices;  // spans and instants, in begin order
  std::vector<DecodedCounter> counters;
  int64_t clock_monotonic = 0;
  int64_t clock_boottime = 0;

  std::vector<const DecodedSlice*> SlicesNamed(absl::string_view name) const;
  std::vector<const DecodedSlice*> SlicesOnTrack(uint64_t uuid) const;
  // Tracks by name (the first found), nullptr if none.
  const DecodedTrack* TrackNamed(absl::string_view name) const;
  // True if `uuid` is `ancestor` or below it.
  bool IsUnder(uint64_t uuid, uint64_t ancestor) const;
  // Every slice sharing a flow with `slice`.
  std::vector<const DecodedSlice*> Linked(const DecodedSlice& slice) const;
};

absl::StatusOr<DecodedTrace> DecodePerfetto(absl::string_view bytes);

}  // namespace uop::profiler

#endif  // UOP_RUNTIME_PROFILER_TRACE_DECODER_H_
