#include "runtime/profiler/perfetto_writer.h"

#include <unistd.h>

#include <thread>

#include "gtest/gtest.h"
#include "runtime/profiler/perfetto_trace.pb.h"
#include "runtime/profiler/profiler.h"
#include "runtime/profiler/trace_decoder.h"

namespace uop::profiler {
namespace {

namespace pb = ::uop::profiler::perfetto;

class PerfettoWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Start();
    Clear();
  }
  void TearDown() override { Stop(); }

  DecodedTrace Decode(const TraceSnapshot& snap) {
    absl::StatusOr<DecodedTrace> t = DecodePerfetto(ToPerfetto(snap));
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *std::move(t) : DecodedTrace{};
  }
};

// A request's life as the engine and a driver record it: realize (request
// flow) > schedule, a compile (compile flow) on another thread, a kernel
// launch on the device queue carrying both flows, a copy, memory.
TEST_F(PerfettoWriterTest, EncodesTracksNestingFlowsArgsAndCounters) {
  uint64_t request = 0, compile = NewFlowId();
  {
    RequestSpan realize("realize");
    request = realize.flow();
    { Span schedule("schedule"); }
    std::thread([&, request] {
      FlowScope f(request);
      CompileSpan c;
      c.Done("E_8", compile, /*disk_hit=*/false);
    }).join();
    {
      FlowScope k(compile);
      KernelSpan kernel("CPU:5", "E_8", {4, 1, 1}, {1, 1, 1});
    }
    { CopySpan copy("CPU:5", "copy out", 32); }
    RecordMemory("CPU:5", MemoryOp::kAlloc, 32, 32);
    RecordMemory("CPU:5", MemoryOp::kFree, 32, 0);
  }
  DecodedTrace t = Decode(SnapshotTrace());

  // Tracks: process, this thread, the device group with queue and counter children.
  const DecodedTrack* process = nullptr;
  const DecodedTrack* thread = nullptr;
  for (const auto& [uuid, track] : t.tracks) {
    if (track.is_process) process = &track;
    if (track.is_thread && track.tid == ::gettid()) thread = &track;
  }
  ASSERT_NE(process, nullptr);
  ASSERT_NE(thread, nullptr);
  EXPECT_EQ(thread->parent, process->uuid);
  const DecodedTrack* group = t.TrackNamed("CPU:5");
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->parent, 0u);
  const DecodedTrack* compute = t.TrackNamed("compute");
  const DecodedTrack* copy = t.TrackNamed("copy");
  const DecodedTrack* memory = t.TrackNamed("memory in use");
  ASSERT_TRUE(compute && copy && memory);
  EXPECT_EQ(compute->parent, group->uuid);
  EXPECT_EQ(copy->parent, group->uuid);
  EXPECT_EQ(memory->parent, group->uuid);
  EXPECT_TRUE(memory->is_counter);
  EXPECT_EQ(memory->counter_unit, pb::CounterDescriptor::UNIT_SIZE_BYTES);

  // Nesting on the thread track.
  const DecodedSlice* realize = t.SlicesNamed("realize").at(0);
  const DecodedSlice* schedule = t.SlicesNamed("schedule").at(0);
  EXPECT_EQ(realize->track, thread->uuid);
  EXPECT_EQ(realize->depth, 0);
  EXPECT_EQ(schedule->depth, 1);
  EXPECT_GE(schedule->begin, realize->begin);
  EXPECT_LE(schedule->end, realize->end);

  // The kernel: on the device's compute queue, with dims, linked by ID to its
  // request and to its compile (which ran on another thread).
  const DecodedSlice* kernel = t.SlicesNamed("E_8").at(0);
  EXPECT_TRUE(t.IsUnder(kernel->track, group->uuid));
  EXPECT_EQ(kernel->track, compute->uuid);
  EXPECT_EQ(kernel->args.at("global.x"), "4");
  EXPECT_EQ(kernel->args.at("local.z"), "1");
  EXPECT_TRUE(kernel->HasFlow(request));
  EXPECT_TRUE(kernel->HasFlow(compile));
  EXPECT_TRUE(realize->HasFlow(request));
  const DecodedSlice* compiled = t.SlicesNamed("compile E_8").at(0);
  EXPECT_NE(compiled->track, thread->uuid);
  EXPECT_TRUE(compiled->HasFlow(compile));
  EXPECT_TRUE(compiled->HasFlow(request));
  EXPECT_EQ(compiled->args.at("cache"), "miss");

  // The copy with its bytes; memory instants and the counter.
  const DecodedSlice* copied = t.SlicesNamed("copy out").at(0);
  EXPECT_EQ(copied->track, copy->uuid);
  EXPECT_EQ(copied->args.at("bytes"), "32");
  EXPECT_TRUE(copied->HasFlow(request));
  EXPECT_TRUE(t.SlicesNamed("alloc").at(0)->instant);
  ASSERT_EQ(t.counters.size(), 2u);
  EXPECT_EQ(t.counters[0].value, 32);
  EXPECT_EQ(t.counters[1].value, 0);
  EXPECT_EQ(t.counters[0].track, memory->uuid);
}

TEST_F(PerfettoWriterTest, OverlappingSpansOnOneQueueGetASiblingLane) {
  const TrackId q = QueueTrack("CPU:6", "compute");
  const int64_t t0 = NowNs();
  RecordSpan(q, Name("first"), t0, t0 + 1000);
  RecordSpan(q, Name("second"), t0 + 500, t0 + 1500);
  DecodedTrace t = Decode(SnapshotTrace());
  const DecodedSlice* first = t.SlicesNamed("first").at(0);
  const DecodedSlice* second = t.SlicesNamed("second").at(0);
  EXPECT_NE(first->track, second->track);
  const DecodedTrack& lane = t.tracks.at(second->track);
  EXPECT_EQ(lane.name, "compute (2)");
  EXPECT_TRUE(t.IsUnder(second->track, t.TrackNamed("CPU:6")->uuid));
  EXPECT_EQ(first->end - first->begin, 1000);
}

TEST_F(PerfettoWriterTest, UsesMonotonicTimestampsWithABoottimeSnapshot) {
  RecordInstant(ThreadTrack(), Name("tick"));
  TraceSnapshot snap = SnapshotTrace();
  DecodedTrace t = Decode(snap);
  EXPECT_EQ(t.clock_monotonic, snap.monotonic_ns);
  EXPECT_EQ(t.clock_boottime, snap.boottime_ns);
  const DecodedSlice* tick = t.SlicesNamed("tick").at(0);
  EXPECT_EQ(tick->begin, snap.events.back().ts);
  EXPECT_LE(tick->begin, snap.monotonic_ns);
}

TEST_F(PerfettoWriterTest, ArgumentsOfEveryTypeSurvive) {
  {
    Span s("typed");
    s.Int(Name("neg"), -5).Uint(Name("big"), ~uint64_t{0}).Bool(Name("flag"), true);
    s.Str(Name("what"), Name("a \"quoted\" value"));
  }
  Event d = Event::Instant(ThreadTrack(), Name("double"), NowNs());
  d.AddDouble(Name("ratio"), 0.25);
  Record(d);
  DecodedTrace t = Decode(SnapshotTrace());
  const DecodedSlice* typed = t.SlicesNamed("typed").at(0);
  EXPECT_EQ(typed->args.at("neg"), "-5");
  EXPECT_EQ(typed->args.at("big"), "18446744073709551615");
  EXPECT_EQ(typed->args.at("flag"), "true");
  EXPECT_EQ(typed->args.at("what"), "a \"quoted\" value");
  EXPECT_EQ(t.SlicesNamed("double").at(0)->args.at("ratio"), "0.25");
}

TEST_F(PerfettoWriterTest, AnEmptySnapshotIsAValidTrace) {
  TraceSnapshot snap = SnapshotTrace();
  snap.events.clear();
  DecodedTrace t = Decode(snap);
  EXPECT_TRUE(t.slices.empty());
  EXPECT_EQ(t.tracks.size(), 1u);  // the process
}

TEST_F(PerfettoWriterTest, ManyNamesSpanSeveralInternedPackets) {
  for (int i = 0; i < 1500; ++i) RecordInstant(ThreadTrack(), Name("name " + std::to_string(i)));
  DecodedTrace t = Decode(SnapshotTrace());
  EXPECT_EQ(t.slices.size(), 1500u);
  EXPECT_EQ(t.SlicesNamed("name 1499").size(), 1u);
}

// The decoder is the test's oracle: show that it rejects what Perfetto would.
TEST(TraceDecoder, RejectsBytesThatAreNotATrace) {
  EXPECT_FALSE(DecodePerfetto("\xff\xff\xff").ok());
}

pb::Trace MinimalTrace() {
  pb::Trace trace;
  auto* clocks = trace.add_packet()->mutable_clock_snapshot();
  auto* c = clocks->add_clocks();
  c->set_clock_id(3), c->set_timestamp(100);
  c = clocks->add_clocks();
  c->set_clock_id(6), c->set_timestamp(200);
  auto* p = trace.add_packet();
  p->set_sequence_flags(pb::TracePacket::SEQ_INCREMENTAL_STATE_CLEARED);
  p->mutable_interned_data()->add_event_names()->set_iid(1);
  p->mutable_interned_data()->mutable_event_names(0)->set_name("x");
  p = trace.add_packet();
  p->mutable_track_descriptor()->set_uuid(7);
  p->mutable_track_descriptor()->set_name("q");
  return trace;
}

pb::TracePacket* AddEvent(pb::Trace& trace, uint64_t ts, pb::TrackEvent::Type type) {
  pb::TracePacket* p = trace.add_packet();
  p->set_timestamp(ts);
  p->set_timestamp_clock_id(3);
  p->set_sequence_flags(pb::TracePacket::SEQ_NEEDS_INCREMENTAL_STATE);
  p->mutable_track_event()->set_track_uuid(7);
  p->mutable_track_event()->set_type(type);
  if (type != pb::TrackEvent::TYPE_SLICE_END) p->mutable_track_event()->set_name_iid(1);
  return p;
}

TEST(TraceDecoder, AcceptsAWellFormedHandMadeTrace) {
  pb::Trace trace = MinimalTrace();
  AddEvent(trace, 10, pb::TrackEvent::TYPE_SLICE_BEGIN);
  AddEvent(trace, 20, pb::TrackEvent::TYPE_SLICE_END);
  absl::StatusOr<DecodedTrace> t = DecodePerfetto(trace.SerializeAsString());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->slices.at(0).end, 20);
}

TEST(TraceDecoder, RejectsAnEndWithoutABegin) {
  pb::Trace trace = MinimalTrace();
  AddEvent(trace, 20, pb::TrackEvent::TYPE_SLICE_END);
  EXPECT_FALSE(DecodePerfetto(trace.SerializeAsString()).ok());
}

TEST(TraceDecoder, RejectsAnUnclosedSlice) {
  pb::Trace trace = MinimalTrace();
  AddEvent(trace, 10, pb::TrackEvent::TYPE_SLICE_BEGIN);
  EXPECT_FALSE(DecodePerfetto(trace.SerializeAsString()).ok());
}

TEST(TraceDecoder, RejectsTimeGoingBackOnATrack) {
  pb::Trace trace = MinimalTrace();
  AddEvent(trace, 10, pb::TrackEvent::TYPE_INSTANT);
  AddEvent(trace, 9, pb::TrackEvent::TYPE_INSTANT);
  absl::Status st = DecodePerfetto(trace.SerializeAsString()).status();
  EXPECT_NE(st.message().find("goes back"), absl::string_view::npos) << st;
}

TEST(TraceDecoder, RejectsUnknownTracksNamesAndClocks) {
  pb::Trace unknown_track = MinimalTrace();
  AddEvent(unknown_track, 10, pb::TrackEvent::TYPE_INSTANT)
      ->mutable_track_event()
      ->set_track_uuid(8);
  EXPECT_FALSE(DecodePerfetto(unknown_track.SerializeAsString()).ok());
  pb::Trace unknown_name = MinimalTrace();
  AddEvent(unknown_name, 10, pb::TrackEvent::TYPE_INSTANT)->mutable_track_event()->set_name_iid(2);
  EXPECT_FALSE(DecodePerfetto(unknown_name.SerializeAsString()).ok());
  pb::Trace boottime = MinimalTrace();
  AddEvent(boottime, 10, pb::TrackEvent::TYPE_INSTANT)->set_timestamp_clock_id(6);
  EXPECT_FALSE(DecodePerfetto(boottime.SerializeAsString()).ok());
}

}  // namespace
}  // namespace uop::profiler
