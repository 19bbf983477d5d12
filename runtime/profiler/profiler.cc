#include "runtime/profiler/profiler.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "runtime/profiler/event_ring.h"
#include "runtime/profiler/perfetto_writer.h"
#include "runtime/profiler/trace_file.h"

namespace uop::profiler {

namespace internal {
std::atomic<bool> g_enabled{false};
}  // namespace internal

namespace {

constexpr const char* kBuiltinNames[] = {
    "",        "bytes",          "global.x",     "global.y",         "global.z",
    "local.x", "local.y",        "local.z",      "kernel",           "cache",
    "device",  "launches",       "requests",     "bytes_in_use",     "dropped_flows",
    "alloc",   "free",           "alloc failed", "kernel cache hit", "compile failed",
    "batch",   "batch requests", "miss",         "disk hit",
};
static_assert(std::size(kBuiltinNames) == kNumBuiltinNames,
              "every BuiltinName needs its string, in order");

constexpr int kMaxFlowDepth = 8;

struct NameEntry {
  NameId id;
  std::string text;
};

struct TrackEntry {
  TrackId id;
  std::string group;  // the device of kGroup/kQueue/kCounter tracks (immutable)
  std::string name;   // as registered (immutable; read by the per-thread caches)
  TrackInfo info;     // info.name changes with SetThreadName, under the registry lock
};

// Everything shared between threads. Never destroyed: threads may record
// and the exit writer may read while static destructors run.
class Registry {
 public:
  Registry() {
    names_.push_back(nullptr);
    for (NameId id = 1; id < kNumBuiltinNames; ++id) InternLocked(kBuiltinNames[id]);
    tracks_.push_back(nullptr);
  }

  const NameEntry* Intern(absl::string_view s) {
    std::lock_guard<std::mutex> lock(mu_);
    return InternLocked(s);
  }

  const TrackEntry* FindOrAddTrack(TrackKind kind, absl::string_view group, absl::string_view name,
                                   CounterUnit unit) {
    std::string key = absl::StrCat(static_cast<int>(kind), ":", group, "\n", name);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tracks_by_key_.find(key);
    if (it != tracks_by_key_.end()) return it->second;
    TrackId parent = 0;
    if (kind != TrackKind::kGroup) {
      std::string group_key =
          absl::StrCat(static_cast<int>(TrackKind::kGroup), ":", group, "\n", group);
      auto g = tracks_by_key_.find(group_key);
      parent = g != tracks_by_key_.end()
                   ? g->second->id
                   : AddTrackLocked(TrackKind::kGroup, group, group, CounterUnit::kCount, 0,
                                    std::move(group_key))
                         ->id;
    }
    TrackEntry* t = AddTrackLocked(kind, group, name, unit, parent, std::move(key));
    return t;
  }

  TrackId AddThreadTrack(std::string name, int64_t tid) {
    std::lock_guard<std::mutex> lock(mu_);
    TrackEntry* t = AddTrackLocked(TrackKind::kThread, "", name, CounterUnit::kCount, 0, "");
    t->info.tid = tid;
    return t->id;
  }

  void RenameTrack(TrackId id, absl::string_view name) {
    std::lock_guard<std::mutex> lock(mu_);
    if (id < tracks_.size()) tracks_[id]->info.name = std::string(name);
  }

  EventRing* AcquireRing() {
    std::lock_guard<std::mutex> lock(mu_);
    // A ring of the current size, so a changed size applies to new threads.
    for (size_t i = free_rings_.size(); i-- > 0;) {
      EventRing* r = free_rings_[i];
      if (r->capacity() != EventRing::RoundedCapacity(ring_capacity_)) continue;
      free_rings_.erase(free_rings_.begin() + i);
      return r;
    }
    rings_.push_back(new EventRing(ring_capacity_));
    return rings_.back();
  }
  void ReleaseRing(EventRing* ring) {
    std::lock_guard<std::mutex> lock(mu_);
    free_rings_.push_back(ring);
  }
  size_t RingCapacity() {
    std::lock_guard<std::mutex> lock(mu_);
    return ring_capacity_;
  }
  void SetRingCapacity(size_t events) {
    std::lock_guard<std::mutex> lock(mu_);
    ring_capacity_ = std::max<size_t>(events, 1);
  }

  std::vector<EventRing*> Rings() {
    std::lock_guard<std::mutex> lock(mu_);
    return rings_;
  }

  void CopyTables(TraceSnapshot* out) {
    std::lock_guard<std::mutex> lock(mu_);
    out->names.resize(names_.size());
    for (size_t i = 1; i < names_.size(); ++i) out->names[i] = names_[i]->text;
    out->tracks.resize(tracks_.size());
    for (size_t i = 1; i < tracks_.size(); ++i) out->tracks[i] = tracks_[i]->info;
  }

 private:
  const NameEntry* InternLocked(absl::string_view s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = names_by_text_.find(s);
    if (it != names_by_text_.end()) return it->second;
    auto* e = new NameEntry{static_cast<NameId>(names_.size()), std::string(s)};
    names_.push_back(e);
    names_by_text_.emplace(e->text, e);
    return e;
  }

  TrackEntry* AddTrackLocked(TrackKind kind, absl::string_view group, absl::string_view name,
                             CounterUnit unit, TrackId parent, std::string key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto* t = new TrackEntry{
        static_cast<TrackId>(tracks_.size()), std::string(group), std::string(name), {}};
    t->info.kind = kind;
    t->info.name = std::string(name);
    t->info.parent = parent;
    t->info.unit = unit;
    tracks_.push_back(t);
    if (!key.empty()) tracks_by_key_.emplace(std::move(key), t);
    return t;
  }

  // std::mutex, not absl::Mutex: ThreadSanitizer sees its synchronization
  // (Debian's absl is not built with TSan annotations).
  std::mutex mu_;
  absl::flat_hash_map<std::string, const NameEntry*> names_by_text_ ABSL_GUARDED_BY(mu_);
  std::vector<const NameEntry*> names_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, const TrackEntry*> tracks_by_key_ ABSL_GUARDED_BY(mu_);
  std::vector<TrackEntry*> tracks_ ABSL_GUARDED_BY(mu_);
  std::vector<EventRing*> rings_ ABSL_GUARDED_BY(mu_);
  std::vector<EventRing*> free_rings_ ABSL_GUARDED_BY(mu_);
  size_t ring_capacity_ ABSL_GUARDED_BY(mu_) = size_t{1} << 16;
};

Registry& Reg() {
  static Registry* r = new Registry;
  return *r;
}

std::atomic<int64_t> g_cutoff_ns{0};

// Per-thread state. Reached through a trivially destructible thread_local
// pointer, so code running during thread exit (after the guard below freed
// the state) finds kDead and records nothing instead of touching freed memory.
struct ThreadState {
  EventRing* ring = nullptr;
  TrackId track = 0;
  int depth = 0;
  uint64_t flows[kMaxFlowDepth] = {};
  // Interning caches, two levels. First by the caller's string address
  // (hooks pass the same literal or the same kernel name every time: a
  // multiply and a memcmp, ~5 ns), direct-mapped so it never grows; then by
  // content hash. Every hit is verified against the entry's text.
  struct NameSlot {
    const char* data = nullptr;
    size_t size = 0;
    const NameEntry* entry = nullptr;
  };
  struct TrackSlot {
    const char* group = nullptr;
    const char* name = nullptr;
    const TrackEntry* entry = nullptr;
  };
  static constexpr size_t kSlots = 256;
  NameSlot name_slots[kSlots];
  TrackSlot track_slots[kSlots];
  absl::flat_hash_map<size_t, const NameEntry*> names;
  absl::flat_hash_map<size_t, const TrackEntry*> tracks;
};

inline size_t SlotOf(const void* a, const void* b) {
  const uint64_t x = (reinterpret_cast<uintptr_t>(a) ^ (reinterpret_cast<uintptr_t>(b) << 1)) *
                     0x9E3779B97F4A7C15ull;
  return static_cast<size_t>(x >> 56);  // top 8 bits: ThreadState::kSlots == 256
}

inline bool SameText(const std::string& text, absl::string_view s) {
  return text.size() == s.size() && std::memcmp(text.data(), s.data(), s.size()) == 0;
}

ThreadState* const kDead = reinterpret_cast<ThreadState*>(uintptr_t{1});
thread_local ThreadState* t_state = nullptr;

struct ThreadGuard {
  ~ThreadGuard() {
    ThreadState* s = t_state;
    t_state = kDead;
    if (s != nullptr && s != kDead) {
      if (s->ring != nullptr) Reg().ReleaseRing(s->ring);
      delete s;
    }
  }
};

ABSL_ATTRIBUTE_NOINLINE ThreadState* InitThread() {
  thread_local ThreadGuard guard;
  (void)&guard;
  t_state = new ThreadState;
  return t_state;
}

// Null during thread exit.
inline ThreadState* Self() {
  ThreadState* s = t_state;
  if (ABSL_PREDICT_TRUE(s != nullptr && s != kDead)) return s;
  return s == kDead ? nullptr : InitThread();
}

int64_t Tid() { return static_cast<int64_t>(::gettid()); }

std::string CurrentThreadName() {
  char buf[32] = {};
  if (pthread_getname_np(pthread_self(), buf, sizeof(buf)) != 0 || buf[0] == '\0')
    return absl::StrCat("thread ", Tid());
  return buf;
}

void AttachCurrentFlows(Event& e) {
  ThreadState* s = Self();
  if (s == nullptr) return;
  const int top = std::min(s->depth, kMaxFlowDepth);
  for (int i = top - 1, n = 0; i >= 0 && n < kMaxInlineFlows; --i, ++n) e.AddFlow(s->flows[i]);
}

const TrackEntry* LookupTrack(TrackKind kind, absl::string_view group, absl::string_view name,
                              CounterUnit unit) {
  ThreadState* s = Self();
  ThreadState::TrackSlot* slot = nullptr;
  if (s != nullptr) {
    slot = &s->track_slots[SlotOf(group.data(), name.data())];
    const TrackEntry* t = slot->entry;
    if (t != nullptr && slot->group == group.data() && slot->name == name.data() &&
        t->info.kind == kind && SameText(t->group, group) && SameText(t->name, name))
      return t;
  }
  const size_t h = absl::Hash<std::tuple<int, absl::string_view, absl::string_view>>{}(
      std::make_tuple(static_cast<int>(kind), group, name));
  const TrackEntry* t = nullptr;
  if (s != nullptr) {
    auto it = s->tracks.find(h);
    if (it != s->tracks.end() && it->second->info.kind == kind && it->second->group == group &&
        it->second->name == name)
      t = it->second;
  }
  if (t == nullptr) {
    t = Reg().FindOrAddTrack(kind, group, name, unit);
    if (s != nullptr) s->tracks[h] = t;
  }
  if (slot != nullptr) *slot = {group.data(), name.data(), t};
  return t;
}

std::string ProcessName() {
  std::ifstream comm("/proc/self/comm");
  std::string name;
  std::getline(comm, name);
  return name.empty() ? "uop" : name;
}

}  // namespace

// ---------------------------------------------------------------------------
// Control and snapshots
// ---------------------------------------------------------------------------

void Start(const RecorderOptions& options) {
  Reg().SetRingCapacity(options.events_per_thread);
  internal::g_enabled.store(true, std::memory_order_release);
}

void Stop() { internal::g_enabled.store(false, std::memory_order_release); }

RecorderOptions CurrentRecorderOptions() {
  RecorderOptions options;
  options.events_per_thread = Reg().RingCapacity();
  return options;
}

void Clear() { g_cutoff_ns.store(NowNs(), std::memory_order_relaxed); }

TraceSnapshot SnapshotTrace(int64_t since_ns) {
  TraceSnapshot out;
  const int64_t min_ts = std::max(since_ns, g_cutoff_ns.load(std::memory_order_relaxed));
  for (EventRing* ring : Reg().Rings()) out.dropped_events += ring->CopyTo(&out.events, min_ts);
  // Tables after events: every id an event uses was registered before it
  // was recorded, so it is in the tables copied now.
  Reg().CopyTables(&out);
  std::stable_sort(out.events.begin(), out.events.end(),
                   [](const Event& a, const Event& b) { return a.ts < b.ts; });
  out.pid = ::getpid();
  out.process_name = ProcessName();
  out.monotonic_ns = NowNs();
  out.boottime_ns = BootTimeNs();
  return out;
}

std::string SnapshotPerfetto(absl::Duration window) {
  int64_t since = 0;
  if (window != absl::InfiniteDuration()) since = NowNs() - absl::ToInt64Nanoseconds(window);
  return ToPerfetto(SnapshotTrace(since));
}

absl::Status DumpRecent(const std::string& path, absl::Duration window) {
  int64_t since = 0;
  if (window != absl::InfiniteDuration()) since = NowNs() - absl::ToInt64Nanoseconds(window);
  return WriteTraceFile(path, SnapshotTrace(since));
}

// ---------------------------------------------------------------------------
// UOP_PROFILE
// ---------------------------------------------------------------------------

namespace {

std::string& EnvPath() {
  static std::string* path = new std::string;
  return *path;
}

void WriteProfileAtExit() {
  absl::Status st = WriteProfileNow();
  if (!st.ok()) {
    fprintf(stderr, "uop: UOP_PROFILE: %s\n", std::string(st.message()).c_str());
  } else {
    fprintf(stderr, "uop: profile written to %s\n", EnvPath().c_str());
  }
}

bool StartFromEnvironment() {
  const char* path = std::getenv("UOP_PROFILE");
  if (path == nullptr || path[0] == '\0') return false;
  EnvPath() = path;
  RecorderOptions options;
  options.events_per_thread = size_t{1} << 20;
  if (const char* n = std::getenv("UOP_PROFILE_EVENTS")) {
    uint64_t events = 0;
    if (absl::SimpleAtoi(n, &events) && events > 0) {
      options.events_per_thread = events;
    } else {
      fprintf(stderr, "uop: UOP_PROFILE_EVENTS=%s is not a positive integer; using %zu\n", n,
              options.events_per_thread);
    }
  }
  Start(options);
  std::atexit(WriteProfileAtExit);
  return true;
}

[[maybe_unused]] const bool g_started_from_environment = StartFromEnvironment();

}  // namespace

const std::string& ProfilePath() { return EnvPath(); }

absl::Status WriteProfileNow() {
  if (EnvPath().empty())
    return absl::FailedPreconditionError("WriteProfileNow: UOP_PROFILE is not set");
  return WriteTraceFile(EnvPath(), SnapshotTrace());
}

// ---------------------------------------------------------------------------
// Names, tracks, flows
// ---------------------------------------------------------------------------

NameId Name(absl::string_view s) {
  ThreadState* t = Self();
  ThreadState::NameSlot* slot = nullptr;
  if (t != nullptr) {
    slot = &t->name_slots[SlotOf(s.data(), reinterpret_cast<const void*>(s.size()))];
    if (slot->entry != nullptr && slot->data == s.data() && slot->size == s.size() &&
        SameText(slot->entry->text, s))
      return slot->entry->id;
  }
  const size_t h = absl::Hash<absl::string_view>{}(s);
  const NameEntry* e = nullptr;
  if (t != nullptr) {
    auto it = t->names.find(h);
    if (it != t->names.end() && it->second->text == s) e = it->second;
  }
  if (e == nullptr) {
    e = Reg().Intern(s);
    if (t != nullptr) t->names[h] = e;
  }
  if (slot != nullptr) *slot = {s.data(), s.size(), e};
  return e->id;
}

TrackId ThreadTrack() {
  ThreadState* s = Self();
  if (s == nullptr) return 0;
  if (s->track == 0) s->track = Reg().AddThreadTrack(CurrentThreadName(), Tid());
  return s->track;
}

void SetThreadName(absl::string_view name) {
  TrackId t = ThreadTrack();
  if (t != 0) Reg().RenameTrack(t, name);
}

TrackId DeviceTrack(absl::string_view device) {
  return LookupTrack(TrackKind::kGroup, device, device, CounterUnit::kCount)->id;
}

TrackId QueueTrack(absl::string_view device, absl::string_view queue) {
  return LookupTrack(TrackKind::kQueue, device, queue, CounterUnit::kCount)->id;
}

TrackId CounterTrack(absl::string_view device, absl::string_view counter, CounterUnit unit) {
  return LookupTrack(TrackKind::kCounter, device, counter, unit)->id;
}

uint64_t NewFlowId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

void FlowScope::Push(uint64_t id) {
  ThreadState* s = Self();
  if (s == nullptr) return;
  if (s->depth < kMaxFlowDepth) s->flows[s->depth] = id;
  ++s->depth;
  pushed_ = true;
}

void FlowScope::Pop() {
  ThreadState* s = Self();
  if (s != nullptr && s->depth > 0) --s->depth;
}

uint64_t CurrentFlow() {
  ThreadState* s = t_state;
  if (s == nullptr || s == kDead || s->depth == 0) return 0;
  return s->flows[std::min(s->depth, kMaxFlowDepth) - 1];
}

std::array<uint64_t, kMaxInlineFlows> CurrentFlows() {
  Event e;
  AttachCurrentFlows(e);
  return {e.flows[0], e.flows[1]};
}

// ---------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------

void Record(const Event& event) {
  if (!Enabled()) return;
  ThreadState* s = Self();
  if (s == nullptr) return;
  if (ABSL_PREDICT_FALSE(s->ring == nullptr)) s->ring = Reg().AcquireRing();
  s->ring->Push(event);
}

void RecordSpan(TrackId track, NameId name, int64_t begin_ns, int64_t end_ns,
                std::initializer_list<uint64_t> flows) {
  if (!Enabled()) return;
  Event e = Event::Span(track, name, begin_ns, end_ns);
  for (uint64_t f : flows) e.AddFlow(f);
  Record(e);
}

void RecordInstant(TrackId track, NameId name, std::initializer_list<uint64_t> flows) {
  if (!Enabled()) return;
  Event e = Event::Instant(track, name, NowNs());
  for (uint64_t f : flows) e.AddFlow(f);
  Record(e);
}

void RecordCounter(TrackId counter_track, int64_t value) {
  if (Enabled()) Record(Event::Counter(counter_track, NowNs(), value));
}

void RecordCounter(TrackId counter_track, double value) {
  if (Enabled()) Record(Event::DoubleCounter(counter_track, NowNs(), value));
}

void RecordDeviceSpan(TrackId queue_track, NameId name, int64_t device_begin, int64_t device_end,
                      const ClockSync& sync, const std::array<uint64_t, kMaxInlineFlows>& flows) {
  if (!Enabled()) return;
  Event e = Event::Span(queue_track, name, sync.ToHost(device_begin), sync.ToHost(device_end));
  for (uint64_t f : flows) e.AddFlow(f);
  Record(e);
}

void Span::Begin(TrackId track, NameId name) {
  event_.emplace();
  Event& e = *event_;
  e.kind = EventKind::kSpan;
  e.track = track != 0 ? track : ThreadTrack();
  e.name = name;
  AttachCurrentFlows(e);
  e.ts = NowNs();
}

void Span::End() {
  if (!event_) return;
  event_->value = std::max<int64_t>(0, NowNs() - event_->ts);
  Record(*event_);
  event_.reset();
}

void RequestSpan::BeginRequest(const char* name) {
  flow_ = CurrentFlow();
  if (flow_ == 0) {
    flow_ = NewFlowId();
    scope_.emplace(flow_);
  }
  Begin(0, Name(name));
}

void BatchSpan::BeginBatch(const uint64_t* request_flows, size_t count) {
  flow_ = NewFlowId();
  Begin(0, kNameBatch);
  Event& e = *event_;
  e.AddFlow(flow_);
  e.AddUint(kArgRequests, count);
  size_t i = 0;
  while (i < count && e.AddFlow(request_flows[i])) ++i;
  // More requests than one event holds: instants at the batch's start, each
  // linking the batch flow to more requests.
  while (i < count) {
    Event more = Event::Instant(e.track, kNameBatchRequests, e.ts);
    more.AddFlow(flow_);
    while (i < count && more.AddFlow(request_flows[i])) ++i;
    Record(more);
  }
  scope_.emplace(flow_);
}

void KernelSpan::BeginKernel(absl::string_view device, absl::string_view kernel,
                             const std::array<int64_t, 3>& global,
                             const std::array<int64_t, 3>& local) {
  Begin(QueueTrack(device, "compute"), Name(kernel));
  Event& e = *event_;
  e.AddInt(kArgGlobalX, global[0]);
  e.AddInt(kArgGlobalY, global[1]);
  e.AddInt(kArgGlobalZ, global[2]);
  e.AddInt(kArgLocalX, local[0]);
  e.AddInt(kArgLocalY, local[1]);
  e.AddInt(kArgLocalZ, local[2]);
}

void CopySpan::BeginCopy(absl::string_view device, const char* what, uint64_t bytes) {
  Begin(QueueTrack(device, "copy"), Name(what));
  event_->AddUint(kArgBytes, bytes);
}

void CompileSpan::Done(absl::string_view kernel, uint64_t kernel_flow, bool disk_hit) {
  if (!event_) return;
  Event& e = *event_;
  e.name = Name(absl::StrCat("compile ", kernel));
  e.AddFlow(kernel_flow);
  e.AddString(kArgKernel, Name(kernel));
  e.AddString(kArgCache, disk_hit ? kValueDiskHit : kValueMiss);
  End();
}

namespace internal {

void RecordKernelCacheHit(absl::string_view kernel, uint64_t kernel_flow) {
  Event e = Event::Instant(ThreadTrack(), kNameKernelCacheHit, NowNs());
  e.AddFlow(kernel_flow);
  AttachCurrentFlows(e);
  e.AddString(kArgKernel, Name(kernel));
  Record(e);
}

void RecordMemory(absl::string_view device, MemoryOp op, uint64_t bytes, uint64_t bytes_in_use) {
  const int64_t now = NowNs();
  const NameId name = op == MemoryOp::kAlloc  ? kNameAlloc
                      : op == MemoryOp::kFree ? kNameFree
                                              : kNameAllocFailed;
  Event e = Event::Instant(ThreadTrack(), name, now);
  e.AddUint(kArgBytes, bytes);
  e.AddString(kArgDevice, Name(device));
  e.AddUint(kArgBytesInUse, bytes_in_use);
  Record(e);
  Record(Event::Counter(CounterTrack(device, "memory in use", CounterUnit::kBytes), now,
                        static_cast<int64_t>(bytes_in_use)));
}

}  // namespace internal

}  // namespace uop::profiler
