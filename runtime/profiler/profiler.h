// The universal profiler: one event model for every device, recorded into
// per-thread bounded rings (a flight recorder), exported as Perfetto protobuf
// or Chrome JSON (trace_file.h).
//
// Ways in:
// * `UOP_PROFILE=out.perfetto-trace` (or `out.json`) for any program linking
//   the library: recording starts before main and the file is written at
//   exit, or earlier with WriteProfileNow(). UOP_PROFILE_EVENTS sets the
//   per-thread ring size (default 1M events, 128 MiB at most per thread).
// * A daemon keeps the flight recorder on (Start()) and takes SnapshotTrace()s
//   of the last seconds on demand (an RPC, a deadline miss): DumpRecent(), or
//   SerializeTrace(SnapshotTrace(since), format) (trace_file.h) in memory.
//
// What is recorded (docs/profiler.md has the full list): host spans on
// thread tracks (realize, schedule, compile, JIT), kernel launches and copies
// on the device's queue tracks, memory in use as a counter per device, and
// flows by ID: each request (or library call) carries a flow id linking
// request → batch → schedule → kernels → response, and each kernel launch
// carries the flow id of the compile that produced it.
//
// Hooks cost one relaxed atomic load when profiling is off:
//
//   profiler::Span span("schedule");                 // thread track, ends in ~Span
//   profiler::RequestSpan req("realize");            // + a request flow if none is active
//   profiler::FlowScope compile(kernel->trace_id);    // later events carry this flow
//   profiler::KernelSpan k("CPU:0", name, {n, 1, 1}, {1, 1, 1});   // driver side
//   profiler::RecordMemory("CPU:0", MemoryOp::kAlloc, bytes, bytes_in_use);
//
// A backend with its own clock (GPUs) records device-timed work with
// RecordDeviceSpan and a ClockSync (clock.h), capturing the flows with
// CurrentFlows() when it enqueues and recording when the timestamps arrive.
//
// Server-side (uopd) usage:
//
//   uint64_t req = profiler::NewFlowId();                    // on arrival
//   profiler::RecordCounter(profiler::CounterTrack("uopd", "queue depth"), depth);
//   { profiler::BatchSpan batch({req, other_req});           // batcher thread
//     engine->Realize(...); }                                // kernels link to the batch
//   profiler::RecordSpan(profiler::QueueTrack("uopd", "requests"),
//                        profiler::Name("request"), arrival_ns, profiler::NowNs(), {req});
//   // uop.profiler.v1.Profiler/GetTrace (proto/profiler.proto):
//   TraceSnapshot snap = profiler::SnapshotTrace(profiler::NowNs() - seconds * 1e9);
//   std::string bytes = profiler::SerializeTrace(snap, profiler::TraceFormat::kPerfetto);
//   // on a deadline miss, from a background thread:
//   absl::Status st = profiler::DumpRecent("/var/lib/uopd/miss.perfetto-trace", absl::Seconds(5));
//
// Thread safety: everything here may be called from any thread. Recording
// never blocks on other recording threads; names and tracks are interned
// through a per-thread cache (a global lock only the first time a thread
// meets a string).
#ifndef UOP_RUNTIME_PROFILER_PROFILER_H_
#define UOP_RUNTIME_PROFILER_PROFILER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "runtime/profiler/clock.h"
#include "runtime/profiler/event.h"
#include "runtime/profiler/trace_snapshot.h"

namespace uop::profiler {

enum class MemoryOp : uint8_t { kAlloc, kFree, kAllocFailed };

namespace internal {
extern std::atomic<bool> g_enabled;
void RecordKernelCacheHit(absl::string_view kernel, uint64_t kernel_flow);
void RecordMemory(absl::string_view device, MemoryOp op, uint64_t bytes, uint64_t bytes_in_use);
}  // namespace internal

// The check every hook makes first.
inline bool Enabled() { return internal::g_enabled.load(std::memory_order_relaxed); }

// ---------------------------------------------------------------------------
// Recorder control
// ---------------------------------------------------------------------------

struct RecorderOptions {
  // Ring size of each thread that records (events of 128 bytes; memory is
  // taken in 128 KiB chunks as the ring fills). Applies to threads that
  // record for the first time after Start; rings are reused across threads.
  size_t events_per_thread = size_t{1} << 16;
};

// Starts recording (idempotent). Events recorded earlier stay unless Clear().
void Start(const RecorderOptions& options = {});
// Stops recording; what was recorded stays available to Snapshot().
void Stop();
// Forgets everything recorded so far (later snapshots start after now).
void Clear();
// The options of the last Start (the ring size new recording threads get).
RecorderOptions CurrentRecorderOptions();

// A copy of the events recorded since `since_ns` (host clock; 0: all that the
// rings still hold), with the names and tracks they use. Safe while other
// threads record; they are never blocked.
TraceSnapshot SnapshotTrace(int64_t since_ns = 0);
// The last `window` (absl::InfiniteDuration(): everything) as Perfetto bytes.
std::string SnapshotPerfetto(absl::Duration window);
// Writes the last `window` to `path` (format by extension, trace_file.h).
// Errors name the path and the cause (full disk: ResourceExhausted); the
// recorder keeps running either way. It blocks for the copy, the encoding
// and the write (docs/profiler.md has figures): a server calls it off the
// request path (e.g. on a deadline miss, from a background thread).
absl::Status DumpRecent(const std::string& path, absl::Duration window);

// UOP_PROFILE's path, empty when unset.
const std::string& ProfilePath();
// Writes everything recorded to UOP_PROFILE's path now (it is written again,
// with everything, at exit). FailedPrecondition when UOP_PROFILE is unset.
absl::Status WriteProfileNow();

// ---------------------------------------------------------------------------
// Names and tracks
// ---------------------------------------------------------------------------

// Interns `s`; the id is stable for the life of the process. Ids of the
// builtin names below are fixed.
NameId Name(absl::string_view s);

// Builtin names: argument keys and event names the hooks use, interned at
// fixed ids so hot paths need no lookup.
enum BuiltinName : NameId {
  kArgBytes = 1,
  kArgGlobalX,
  kArgGlobalY,
  kArgGlobalZ,
  kArgLocalX,
  kArgLocalY,
  kArgLocalZ,
  kArgKernel,
  kArgCache,
  kArgDevice,
  kArgLaunches,
  kArgRequests,
  kArgBytesInUse,
  kArgDroppedFlows,
  kNameAlloc,
  kNameFree,
  kNameAllocFailed,
  kNameKernelCacheHit,
  kNameCompileFailed,
  kNameBatch,
  kNameBatchRequests,
  kValueMiss,
  kValueDiskHit,
  kNumBuiltinNames,
};

// The calling thread's track (registered on first use, named after the
// thread's name at that time; SetThreadName renames it).
TrackId ThreadTrack();
void SetThreadName(absl::string_view name);
// A top-level group: one per device ("CPU:0") or subsystem ("uopd").
TrackId DeviceTrack(absl::string_view device);
// A queue of a device ("compute", "copy"): where its kernels and copies go.
TrackId QueueTrack(absl::string_view device, absl::string_view queue);
// A counter of a device ("memory in use", "queue depth").
TrackId CounterTrack(absl::string_view device, absl::string_view counter,
                     CounterUnit unit = CounterUnit::kCount);

// ---------------------------------------------------------------------------
// Flows: IDs that link events across threads and tracks
// ---------------------------------------------------------------------------

// A fresh, process-unique, nonzero id. Cheap (one atomic add), so callers
// may assign ids whether or not profiling is on (compiled kernels do).
uint64_t NewFlowId();

// While alive, events this thread records through the RAII helpers below
// carry `id` (the innermost two scopes are attached). id 0 is a no-op.
class FlowScope {
 public:
  explicit FlowScope(uint64_t id) {
    if (id != 0 && Enabled()) Push(id);
  }
  ~FlowScope() {
    if (pushed_) Pop();
  }
  FlowScope(const FlowScope&) = delete;
  FlowScope& operator=(const FlowScope&) = delete;

 private:
  void Push(uint64_t id);
  void Pop();
  bool pushed_ = false;
};

// The innermost flow of this thread, 0 if none.
uint64_t CurrentFlow();
// The innermost two flows (what a span recorded now would carry); a backend
// that records later (device timestamps) captures these at enqueue time.
std::array<uint64_t, kMaxInlineFlows> CurrentFlows();

// ---------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------

// Appends `event` to this thread's ring (no-op when disabled). The event's
// fields are taken as they are: nothing is added.
void Record(const Event& event);

// A span [begin_ns, end_ns) on `track` with the given flows (0s ignored).
void RecordSpan(TrackId track, NameId name, int64_t begin_ns, int64_t end_ns,
                std::initializer_list<uint64_t> flows = {});
void RecordInstant(TrackId track, NameId name, std::initializer_list<uint64_t> flows = {});
void RecordCounter(TrackId counter_track, int64_t value);
void RecordCounter(TrackId counter_track, double value);

// Device-timed span: converts both ends with `sync` (clock.h), then records
// like RecordSpan. `flows` are what CurrentFlows() returned at enqueue.
void RecordDeviceSpan(TrackId queue_track, NameId name, int64_t device_begin, int64_t device_end,
                      const ClockSync& sync, const std::array<uint64_t, kMaxInlineFlows>& flows);

// RAII span; records when destroyed or at End(). By default on the calling
// thread's track, carrying the current flows. Arguments beyond kMaxArgs are
// dropped.
class Span {
 public:
  explicit Span(const char* name) : Span(TrackId{0}, name) {}
  Span(TrackId track, const char* name) {
    if (Enabled()) Begin(track, Name(name));
  }
  Span(TrackId track, NameId name) {
    if (Enabled()) Begin(track, name);
  }
  ~Span() {
    if (event_) End();
  }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  bool active() const { return event_.has_value(); }
  void End();
  void Rename(NameId name) {
    if (event_) event_->name = name;
  }
  Span& Int(NameId key, int64_t v) {
    if (event_) event_->AddInt(key, v);
    return *this;
  }
  Span& Uint(NameId key, uint64_t v) {
    if (event_) event_->AddUint(key, v);
    return *this;
  }
  Span& Bool(NameId key, bool v) {
    if (event_) event_->AddBool(key, v);
    return *this;
  }
  Span& Str(NameId key, NameId value) {
    if (event_) event_->AddString(key, value);
    return *this;
  }
  Span& Flow(uint64_t id) {
    if (event_) event_->AddFlow(id);
    return *this;
  }

 protected:
  Span() = default;
  void Begin(TrackId track, NameId name);
  std::optional<Event> event_;
};

// A span that belongs to a request: if this thread has no active flow, it
// starts a new one (a library call outside any server request is its own
// request), so everything under it — schedule, compiles, kernels, copies —
// links to it.
class RequestSpan : public Span {
 public:
  explicit RequestSpan(const char* name) {
    if (Enabled()) BeginRequest(name);
  }
  uint64_t flow() const { return flow_; }

 private:
  void BeginRequest(const char* name);
  uint64_t flow_ = 0;
  std::optional<FlowScope> scope_;
};

// A batch of requests (uopd's batcher): a span linked to each request's flow
// and a new batch flow that work under it (kernels) carries.
class BatchSpan : public Span {
 public:
  explicit BatchSpan(std::initializer_list<uint64_t> request_flows)
      : BatchSpan(request_flows.begin(), request_flows.size()) {}
  BatchSpan(const uint64_t* request_flows, size_t count) {
    if (Enabled()) BeginBatch(request_flows, count);
  }
  uint64_t flow() const { return flow_; }

 private:
  void BeginBatch(const uint64_t* request_flows, size_t count);
  uint64_t flow_ = 0;
  std::optional<FlowScope> scope_;
};

// A kernel launch on `device`'s "compute" queue, with its launch dims and
// the current flows (request, compile). For backends that run synchronously
// on the host clock (CPU); GPU backends use RecordDeviceSpan.
class KernelSpan : public Span {
 public:
  KernelSpan(absl::string_view device, absl::string_view kernel,
             const std::array<int64_t, 3>& global, const std::array<int64_t, 3>& local) {
    if (Enabled()) BeginKernel(device, kernel, global, local);
  }

 private:
  void BeginKernel(absl::string_view device, absl::string_view kernel,
                   const std::array<int64_t, 3>& global, const std::array<int64_t, 3>& local);
};

// A copy on `device`'s "copy" queue ("copy in", "copy out", "copy between")
// with its byte count.
class CopySpan : public Span {
 public:
  CopySpan(absl::string_view device, const char* what, uint64_t bytes) {
    if (Enabled()) BeginCopy(device, what, bytes);
  }

 private:
  void BeginCopy(absl::string_view device, const char* what, uint64_t bytes);
};

// A compile: call Done() with the kernel's name, the flow id its launches
// will carry and whether the disk cache had it; destroyed without Done() it
// records a "compile failed" span.
class CompileSpan : public Span {
 public:
  CompileSpan() {
    if (Enabled()) Begin(0, kNameCompileFailed);
  }
  void Done(absl::string_view kernel, uint64_t kernel_flow, bool disk_hit);
};

// An in-memory compile-cache hit: an instant linked to the compile (flow)
// and the current request.
inline void RecordKernelCacheHit(absl::string_view kernel, uint64_t kernel_flow) {
  if (Enabled()) internal::RecordKernelCacheHit(kernel, kernel_flow);
}

// Memory of `device` changed: an instant ("alloc"/"free", with the bytes) on
// the calling thread's track and the new total on the device's
// "memory in use" counter. Call it where the allocator updates its count,
// under the same lock, so the counter is exactly the allocator's number.
inline void RecordMemory(absl::string_view device, MemoryOp op, uint64_t bytes,
                         uint64_t bytes_in_use) {
  if (Enabled()) internal::RecordMemory(device, op, bytes, bytes_in_use);
}

}  // namespace uop::profiler

#endif  // UOP_RUNTIME_PROFILER_PROFILER_H_
