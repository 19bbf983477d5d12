// The profiler's one event model, shared by every device and every exporter.
//
// An Event is a fixed-size, trivially copyable record (128 bytes) so a
// thread can append it to its ring buffer with plain word stores and no
// allocation. It names its track and its name by small integer ids
// (profiler.h interns the strings), carries up to two flow ids inline
// (request, compile) and up to six typed arguments.
//
// Spans are recorded once, when they end, with their begin time and
// duration ("complete" events): a span whose begin was overwritten in the
// ring cannot lose its end, and the exporters lay spans out into properly
// nested lanes per track (slice_layout.h). Every timestamp is nanoseconds of
// the host clock (clock.h); device timestamps are converted before recording.
//
//   Event e = Event::Span(track, name, begin_ns, end_ns);
//   e.AddFlow(request_flow);
//   e.AddArg(kArgBytes, ArgType::kUint, 4096);
#ifndef UOP_RUNTIME_PROFILER_EVENT_H_
#define UOP_RUNTIME_PROFILER_EVENT_H_

#include <bit>
#include <cstdint>
#include <type_traits>

namespace uop::profiler {

// Interned string id (profiler.h Name()); 0 is "no name".
using NameId = uint32_t;
// Registered track id (profiler.h *Track()); 0 is "no track".
using TrackId = uint32_t;

enum class EventKind : uint8_t {
  kSpan = 1,     // [ts, ts + value) on `track`
  kInstant = 2,  // at ts on `track`
  kCounter = 3,  // counter track takes `value` at ts (int64, or double with kDoubleCounter)
};

enum class ArgType : uint8_t {
  kNone = 0,
  kInt = 1,     // int64
  kUint = 2,    // uint64 (bit pattern in the int64 slot)
  kDouble = 3,  // double (bit pattern)
  kBool = 4,
  kString = 5,  // an interned NameId
  kFlow = 6,    // one more flow id (batches link many requests); no key
};

inline constexpr int kMaxInlineFlows = 2;
inline constexpr int kMaxArgs = 6;

struct Event {
  int64_t ts = 0;     // host clock, ns
  int64_t value = 0;  // span: duration ns; counter: the value (bits of a double if flagged)
  uint64_t flows[kMaxInlineFlows] = {0, 0};  // 0 = unused
  TrackId track = 0;
  NameId name = 0;
  EventKind kind = EventKind::kInstant;
  uint8_t num_args = 0;
  ArgType arg_types[kMaxArgs] = {};
  NameId arg_keys[kMaxArgs] = {};
  int64_t arg_values[kMaxArgs] = {};
  uint64_t flags = 0;  // kFlagDoubleCounter

  static constexpr uint64_t kFlagDoubleCounter = 1;  // value holds the bits of a double
  bool double_counter() const { return (flags & kFlagDoubleCounter) != 0; }

  static Event Span(TrackId track, NameId name, int64_t begin_ns, int64_t end_ns) {
    Event e;
    e.kind = EventKind::kSpan;
    e.track = track;
    e.name = name;
    e.ts = begin_ns;
    e.value = end_ns > begin_ns ? end_ns - begin_ns : 0;
    return e;
  }
  static Event Instant(TrackId track, NameId name, int64_t ts) {
    Event e;
    e.kind = EventKind::kInstant;
    e.track = track;
    e.name = name;
    e.ts = ts;
    return e;
  }
  static Event Counter(TrackId track, int64_t ts, int64_t value) {
    Event e;
    e.kind = EventKind::kCounter;
    e.track = track;
    e.ts = ts;
    e.value = value;
    return e;
  }
  static Event DoubleCounter(TrackId track, int64_t ts, double value) {
    Event e = Counter(track, ts, std::bit_cast<int64_t>(value));
    e.flags |= kFlagDoubleCounter;
    return e;
  }

  int64_t end() const { return kind == EventKind::kSpan ? ts + value : ts; }

  // Adds a flow: inline while there is room, then as a kFlow argument.
  // Returns false when the event is full (the flow is dropped). 0 is ignored.
  bool AddFlow(uint64_t id) {
    if (id == 0) return true;
    for (uint64_t& f : flows) {
      if (f == id) return true;
      if (f == 0) {
        f = id;
        return true;
      }
    }
    return AddArg(0, ArgType::kFlow, static_cast<int64_t>(id));
  }
  // Returns false when all kMaxArgs slots are used.
  bool AddArg(NameId key, ArgType type, int64_t bits) {
    if (num_args >= kMaxArgs) return false;
    arg_types[num_args] = type;
    arg_keys[num_args] = key;
    arg_values[num_args] = bits;
    ++num_args;
    return true;
  }
  bool AddInt(NameId key, int64_t v) { return AddArg(key, ArgType::kInt, v); }
  bool AddUint(NameId key, uint64_t v) {
    return AddArg(key, ArgType::kUint, static_cast<int64_t>(v));
  }
  bool AddDouble(NameId key, double v) {
    return AddArg(key, ArgType::kDouble, std::bit_cast<int64_t>(v));
  }
  bool AddBool(NameId key, bool v) { return AddArg(key, ArgType::kBool, v ? 1 : 0); }
  bool AddString(NameId key, NameId value) { return AddArg(key, ArgType::kString, value); }

  // Calls fn(flow_id) for every flow of the event (inline and kFlow args).
  template <typename Fn>
  void ForEachFlow(Fn&& fn) const {
    for (uint64_t f : flows)
      if (f != 0) fn(f);
    for (int i = 0; i < num_args; ++i)
      if (arg_types[i] == ArgType::kFlow) fn(static_cast<uint64_t>(arg_values[i]));
  }
};

static_assert(std::is_trivially_copyable_v<Event>);
static_assert(sizeof(Event) == 128, "Event is copied word by word into the rings");
static_assert(alignof(Event) == 8);

}  // namespace uop::profiler

#endif  // UOP_RUNTIME_PROFILER_EVENT_H_
