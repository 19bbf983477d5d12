#include "runtime/profiler/profiler.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace uop::profiler {
namespace {

// Every test starts recording from a clean slate (the recorder is global).
class ProfilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Start();
    Clear();
  }
  void TearDown() override { Stop(); }

  static std::vector<Event> Named(const TraceSnapshot& s, absl::string_view name) {
    std::vector<Event> out;
    for (const Event& e : s.events)
      if (e.name != 0 && s.name(e.name) == name) out.push_back(e);
    return out;
  }
  static bool HasFlow(const Event& e, uint64_t id) {
    bool found = false;
    e.ForEachFlow([&](uint64_t f) { found |= f == id; });
    return found;
  }
  static std::string Arg(const TraceSnapshot& s, const Event& e, NameId key) {
    for (int i = 0; i < e.num_args; ++i)
      if (e.arg_keys[i] == key) {
        if (e.arg_types[i] == ArgType::kString) return s.name(static_cast<NameId>(e.arg_values[i]));
        return std::to_string(e.arg_values[i]);
      }
    return "<missing>";
  }
};

TEST_F(ProfilerTest, SpanRecordsOnTheThreadTrackWithItsDuration) {
  const int64_t before = NowNs();
  {
    Span s("work");
    s.Int(kArgBytes, 7);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  TraceSnapshot snap = SnapshotTrace();
  std::vector<Event> work = Named(snap, "work");
  ASSERT_EQ(work.size(), 1u);
  EXPECT_EQ(work[0].kind, EventKind::kSpan);
  EXPECT_GE(work[0].ts, before);
  EXPECT_GE(work[0].value, 2'000'000);
  EXPECT_EQ(work[0].track, ThreadTrack());
  const TrackInfo* track = snap.track(work[0].track);
  ASSERT_NE(track, nullptr);
  EXPECT_EQ(track->kind, TrackKind::kThread);
  EXPECT_EQ(track->tid, static_cast<int64_t>(::gettid()));
  EXPECT_EQ(Arg(snap, work[0], kArgBytes), "7");
}

TEST_F(ProfilerTest, NothingIsRecordedWhileStopped) {
  Stop();
  EXPECT_FALSE(Enabled());
  {
    Span s("invisible");
    EXPECT_FALSE(s.active());
    FlowScope f(NewFlowId());
    EXPECT_EQ(CurrentFlow(), 0u);
  }
  RecordInstant(ThreadTrack(), Name("invisible"));
  RecordMemory("CPU:0", MemoryOp::kAlloc, 64, 64);
  Start();
  EXPECT_TRUE(Named(SnapshotTrace(), "invisible").empty());
}

TEST_F(ProfilerTest, EndRecordsEarlyAndOnlyOnce) {
  Span s("early");
  s.End();
  s.End();
  EXPECT_FALSE(s.active());
  EXPECT_EQ(Named(SnapshotTrace(), "early").size(), 1u);
}

TEST_F(ProfilerTest, NamesAreInternedStablyAndBuiltinsAreFixed) {
  EXPECT_EQ(Name("bytes"), kArgBytes);
  EXPECT_EQ(Name("kernel cache hit"), kNameKernelCacheHit);
  const NameId a = Name("some name");
  EXPECT_EQ(Name(std::string("some ") + "name"), a);
  EXPECT_NE(Name("other name"), a);
  NameId from_thread = 0;
  std::thread([&] { from_thread = Name("some name"); }).join();
  EXPECT_EQ(from_thread, a);
  TraceSnapshot snap = SnapshotTrace();
  EXPECT_EQ(snap.name(a), "some name");
}

TEST_F(ProfilerTest, TracksFormDeviceGroups) {
  const TrackId compute = QueueTrack("GPU:3", "compute");
  const TrackId copy = QueueTrack("GPU:3", "copy");
  const TrackId mem = CounterTrack("GPU:3", "memory in use", CounterUnit::kBytes);
  EXPECT_EQ(QueueTrack("GPU:3", "compute"), compute);
  EXPECT_NE(compute, copy);
  TraceSnapshot snap = SnapshotTrace();
  const TrackId group = DeviceTrack("GPU:3");
  snap = SnapshotTrace();
  EXPECT_EQ(snap.track(compute)->parent, group);
  EXPECT_EQ(snap.track(copy)->parent, group);
  EXPECT_EQ(snap.track(mem)->parent, group);
  EXPECT_EQ(snap.track(mem)->kind, TrackKind::kCounter);
  EXPECT_EQ(snap.track(mem)->unit, CounterUnit::kBytes);
  EXPECT_EQ(snap.track(group)->kind, TrackKind::kGroup);
  EXPECT_EQ(snap.track(group)->name, "GPU:3");
  EXPECT_EQ(snap.track(compute)->name, "compute");
}

TEST_F(ProfilerTest, FlowScopesAttachTheInnermostTwoFlows) {
  const uint64_t request = NewFlowId(), compile = NewFlowId(), inner = NewFlowId();
  EXPECT_NE(request, compile);
  {
    FlowScope r(request);
    EXPECT_EQ(CurrentFlow(), request);
    Span outer("outer");
    {
      FlowScope c(compile);
      Span mid("mid");
      {
        FlowScope i(inner);
        EXPECT_EQ(CurrentFlows()[0], inner);
        EXPECT_EQ(CurrentFlows()[1], compile);
      }
    }
  }
  EXPECT_EQ(CurrentFlow(), 0u);
  TraceSnapshot snap = SnapshotTrace();
  const Event outer = Named(snap, "outer").at(0);
  const Event mid = Named(snap, "mid").at(0);
  EXPECT_TRUE(HasFlow(outer, request));
  EXPECT_FALSE(HasFlow(outer, compile));
  EXPECT_TRUE(HasFlow(mid, request));
  EXPECT_TRUE(HasFlow(mid, compile));
}

TEST_F(ProfilerTest, FlowScopeOfIdZeroIsANoOp) {
  FlowScope none(0);
  EXPECT_EQ(CurrentFlow(), 0u);
}

TEST_F(ProfilerTest, RequestSpanStartsAFlowOnlyWhenNoneIsActive) {
  uint64_t own = 0;
  {
    RequestSpan outer("call");
    own = outer.flow();
    EXPECT_NE(own, 0u);
    EXPECT_EQ(CurrentFlow(), own);
    RequestSpan inner("realize");
    EXPECT_EQ(inner.flow(), own);  // joins the enclosing request
  }
  EXPECT_EQ(CurrentFlow(), 0u);
  const uint64_t server_request = NewFlowId();
  {
    FlowScope f(server_request);
    RequestSpan r("realize");
    EXPECT_EQ(r.flow(), server_request);
  }
  TraceSnapshot snap = SnapshotTrace();
  EXPECT_TRUE(HasFlow(Named(snap, "call").at(0), own));
  std::vector<Event> realizes = Named(snap, "realize");
  ASSERT_EQ(realizes.size(), 2u);
  EXPECT_TRUE(HasFlow(realizes[0], own) || HasFlow(realizes[1], own));
  EXPECT_TRUE(HasFlow(realizes[0], server_request) || HasFlow(realizes[1], server_request));
}

TEST_F(ProfilerTest, BatchSpanLinksEveryRequestAndCarriesItsOwnFlow) {
  std::vector<uint64_t> requests;
  for (int i = 0; i < 20; ++i) requests.push_back(NewFlowId());
  uint64_t batch_flow = 0;
  {
    BatchSpan batch(requests.data(), requests.size());
    batch_flow = batch.flow();
    EXPECT_EQ(CurrentFlow(), batch_flow);
    Span kernel("kernel under batch");
  }
  TraceSnapshot snap = SnapshotTrace();
  std::vector<Event> linked = Named(snap, "batch");
  for (const Event& e : Named(snap, "batch requests")) linked.push_back(e);
  ASSERT_GE(linked.size(), 3u);  // 20 requests need more than one event
  for (uint64_t r : requests) {
    EXPECT_TRUE(
        std::any_of(linked.begin(), linked.end(),
                    [&](const Event& e) { return HasFlow(e, r) && HasFlow(e, batch_flow); }))
        << "request flow " << r;
  }
  EXPECT_EQ(Arg(snap, Named(snap, "batch").at(0), kArgRequests), "20");
  EXPECT_TRUE(HasFlow(Named(snap, "kernel under batch").at(0), batch_flow));
}

TEST_F(ProfilerTest, KernelSpanGoesOnTheDeviceComputeQueueWithDims) {
  const uint64_t compile = NewFlowId();
  {
    FlowScope f(compile);
    KernelSpan k("CPU:9", "E_4_4", {8, 1, 1}, {1, 2, 3});
  }
  TraceSnapshot snap = SnapshotTrace();
  const Event k = Named(snap, "E_4_4").at(0);
  EXPECT_EQ(k.track, QueueTrack("CPU:9", "compute"));
  EXPECT_EQ(Arg(snap, k, kArgGlobalX), "8");
  EXPECT_EQ(Arg(snap, k, kArgGlobalY), "1");
  EXPECT_EQ(Arg(snap, k, kArgLocalZ), "3");
  EXPECT_TRUE(HasFlow(k, compile));
}

TEST_F(ProfilerTest, CopySpanCarriesBytesOnTheCopyQueue) {
  { CopySpan c("CPU:9", "copy in", 4096); }
  TraceSnapshot snap = SnapshotTrace();
  const Event c = Named(snap, "copy in").at(0);
  EXPECT_EQ(c.track, QueueTrack("CPU:9", "copy"));
  EXPECT_EQ(Arg(snap, c, kArgBytes), "4096");
}

TEST_F(ProfilerTest, CompileSpanNamesTheKernelOrRecordsAFailure) {
  const uint64_t flow = NewFlowId();
  {
    CompileSpan ok;
    ok.Done("r_16_4", flow, /*disk_hit=*/true);
  }
  { CompileSpan failed; }
  TraceSnapshot snap = SnapshotTrace();
  const Event c = Named(snap, "compile r_16_4").at(0);
  EXPECT_TRUE(HasFlow(c, flow));
  EXPECT_EQ(Arg(snap, c, kArgCache), "disk hit");
  EXPECT_EQ(Arg(snap, c, kArgKernel), "r_16_4");
  EXPECT_EQ(Named(snap, "compile failed").size(), 1u);
}

TEST_F(ProfilerTest, KernelCacheHitLinksCompileAndRequest) {
  const uint64_t compile = NewFlowId(), request = NewFlowId();
  {
    FlowScope f(request);
    RecordKernelCacheHit("E_1", compile);
  }
  TraceSnapshot snap = SnapshotTrace();
  const Event hit = Named(snap, "kernel cache hit").at(0);
  EXPECT_EQ(hit.kind, EventKind::kInstant);
  EXPECT_TRUE(HasFlow(hit, compile));
  EXPECT_TRUE(HasFlow(hit, request));
  EXPECT_EQ(Arg(snap, hit, kArgKernel), "E_1");
}

TEST_F(ProfilerTest, MemoryEventsFeedTheDeviceCounter) {
  RecordMemory("MEM:0", MemoryOp::kAlloc, 100, 100);
  RecordMemory("MEM:0", MemoryOp::kAlloc, 28, 128);
  RecordMemory("MEM:0", MemoryOp::kFree, 100, 28);
  TraceSnapshot snap = SnapshotTrace();
  const TrackId counter = CounterTrack("MEM:0", "memory in use", CounterUnit::kBytes);
  std::vector<int64_t> values;
  for (const Event& e : snap.events)
    if (e.kind == EventKind::kCounter && e.track == counter) values.push_back(e.value);
  EXPECT_EQ(values, (std::vector<int64_t>{100, 128, 28}));
  EXPECT_EQ(Named(snap, "alloc").size(), 2u);
  EXPECT_EQ(Arg(snap, Named(snap, "free").at(0), kArgBytes), "100");
  EXPECT_EQ(Arg(snap, Named(snap, "free").at(0), kArgDevice), "MEM:0");
}

TEST_F(ProfilerTest, CountersRecordIntegersAndDoubles) {
  const TrackId depth = CounterTrack("uopd", "queue depth");
  RecordCounter(depth, int64_t{3});
  RecordCounter(depth, 0.5);
  TraceSnapshot snap = SnapshotTrace();
  std::vector<Event> got;
  for (const Event& e : snap.events)
    if (e.track == depth) got.push_back(e);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].value, 3);
  EXPECT_FALSE(got[0].double_counter());
  EXPECT_TRUE(got[1].double_counter());
  EXPECT_EQ(std::bit_cast<double>(got[1].value), 0.5);
}

TEST_F(ProfilerTest, DeviceSpansAreConvertedToTheHostClock) {
  // Device tick 7 was read at host time h.
  ClockSync sync;
  const int64_t h = NowNs();
  ASSERT_TRUE(sync.AddPair(7, h - 4, h + 4).ok());
  const uint64_t request = NewFlowId();
  RecordDeviceSpan(QueueTrack("GPU:0", "compute"), Name("gemm"), 10, 20, sync, {request, 0});
  TraceSnapshot snap = SnapshotTrace();
  const Event g = Named(snap, "gemm").at(0);
  EXPECT_EQ(g.ts, h + 3);
  EXPECT_EQ(g.value, 10);
  EXPECT_EQ(g.track, QueueTrack("GPU:0", "compute"));
  EXPECT_TRUE(HasFlow(g, request));
}

TEST_F(ProfilerTest, SnapshotSinceDropsOlderEvents) {
  RecordInstant(ThreadTrack(), Name("old"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int64_t cut = NowNs();
  RecordInstant(ThreadTrack(), Name("new"));
  TraceSnapshot snap = SnapshotTrace(cut);
  EXPECT_TRUE(Named(snap, "old").empty());
  EXPECT_EQ(Named(snap, "new").size(), 1u);
  EXPECT_EQ(snap.pid, ::getpid());
}

TEST_F(ProfilerTest, EventsOfExitedThreadsStayAndTheirRingsAreReused) {
  std::thread([] {
    SetThreadName("short-lived");
    RecordInstant(ThreadTrack(), Name("from a thread"));
  }).join();
  std::thread([] { RecordInstant(ThreadTrack(), Name("from the next thread")); }).join();
  TraceSnapshot snap = SnapshotTrace();
  const Event a = Named(snap, "from a thread").at(0);
  const Event b = Named(snap, "from the next thread").at(0);
  EXPECT_NE(a.track, b.track);  // one track per thread, even on a reused ring
  EXPECT_EQ(snap.track(a.track)->name, "short-lived");
}

TEST_F(ProfilerTest, ManyThreadsRecordWhileSnapshotsRun) {
  std::atomic<bool> stop{false};
  std::atomic<int> started{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      const TrackId q = QueueTrack("CPU:7", "lane" + std::to_string(t));
      for (bool first = true; !stop.load(); first = false) {
        {
          Span s(q, kNameBatch);
          s.Int(kArgBytes, t);
        }
        if (first) ++started;
      }
    });
  while (started.load() < 4) std::this_thread::yield();
  size_t seen = 0;
  for (int i = 0; i < 8; ++i) {
    TraceSnapshot snap = SnapshotTrace();
    for (size_t k = 1; k < snap.events.size(); ++k)
      ASSERT_LE(snap.events[k - 1].ts, snap.events[k].ts);
    for (const Event& e : snap.events) ASSERT_NE(snap.track(e.track), nullptr);
    seen = std::max(seen, snap.events.size());
  }
  stop = true;
  for (std::thread& w : writers) w.join();
  EXPECT_GT(seen, 0u);
}

TEST_F(ProfilerTest, RingsAreBoundedAndReportDrops) {
  Start({.events_per_thread = 1024});
  EXPECT_EQ(CurrentRecorderOptions().events_per_thread, 1024u);
  std::thread([] {
    for (int i = 0; i < 5000; ++i) RecordInstant(ThreadTrack(), kNameBatch);
  }).join();
  Start();  // back to the default size for later threads
  TraceSnapshot snap = SnapshotTrace();
  EXPECT_GT(snap.dropped_events, 3000u);
}

TEST_F(ProfilerTest, WriteProfileNowNeedsUopProfile) {
  ASSERT_TRUE(ProfilePath().empty());  // the test runs without UOP_PROFILE
  EXPECT_EQ(WriteProfileNow().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace uop::profiler
