#include "runtime/profiler/event_ring.h"

#include <atomic>
#include <cstring>
#include <thread>

#include "gtest/gtest.h"

namespace uop::profiler {
namespace {

// An event whose every field derives from `i`, so a torn copy is detectable.
Event Numbered(int64_t i) {
  Event e = Event::Span(static_cast<TrackId>(i % 7 + 1), static_cast<NameId>(i % 5 + 1), i, i + 3);
  e.AddFlow(static_cast<uint64_t>(i) * 2 + 1);
  for (int a = 0; a < kMaxArgs; ++a) e.AddInt(static_cast<NameId>(a + 1), i * 10 + a);
  return e;
}

bool Consistent(const Event& e) {
  const int64_t i = e.ts;
  const Event want = Numbered(i);
  return std::memcmp(&e, &want, sizeof(Event)) == 0;
}

TEST(EventRing, CopiesEventsInPushOrder) {
  EventRing ring(100);
  for (int i = 0; i < 10; ++i) ring.Push(Numbered(i));
  std::vector<Event> out;
  EXPECT_EQ(ring.CopyTo(&out, 0), 0u);
  ASSERT_EQ(out.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(out[i].ts, i);
    EXPECT_TRUE(Consistent(out[i]));
  }
}

TEST(EventRing, CapacityIsWholeChunks) {
  EXPECT_EQ(EventRing(1).capacity(), EventRing::kChunkEvents);
  EXPECT_EQ(EventRing(EventRing::kChunkEvents + 1).capacity(), 2 * EventRing::kChunkEvents);
  EXPECT_EQ(EventRing(0).capacity(), EventRing::kChunkEvents);
}

TEST(EventRing, OverwritesTheOldestWhenFull) {
  EventRing ring(EventRing::kChunkEvents);
  const int64_t n = 3 * EventRing::kChunkEvents + 17;
  for (int64_t i = 0; i < n; ++i) ring.Push(Numbered(i));
  std::vector<Event> out;
  const uint64_t dropped = ring.CopyTo(&out, 0);
  // The slot after the head counts as possibly being rewritten.
  EXPECT_EQ(dropped, static_cast<uint64_t>(n - EventRing::kChunkEvents + 1));
  ASSERT_EQ(out.size(), EventRing::kChunkEvents - 1);
  EXPECT_EQ(out.front().ts, static_cast<int64_t>(dropped));
  EXPECT_EQ(out.back().ts, n - 1);
  for (const Event& e : out) EXPECT_TRUE(Consistent(e));
  EXPECT_EQ(ring.pushed(), static_cast<uint64_t>(n));
}

TEST(EventRing, FiltersByTimestamp) {
  EventRing ring(64);
  for (int i = 0; i < 20; ++i) ring.Push(Numbered(i));
  std::vector<Event> out;
  ring.CopyTo(&out, 15);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].ts, 15);
}

TEST(EventRing, AppendsToExistingOutput) {
  EventRing ring(64);
  ring.Push(Numbered(4));
  std::vector<Event> out = {Numbered(1)};
  ring.CopyTo(&out, 0);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].ts, 1);
  EXPECT_EQ(out[1].ts, 4);
}

// A reader copying while the writer laps the ring many times never sees a
// torn event, and always sees a contiguous, increasing run.
TEST(EventRing, ConcurrentCopiesNeverTear) {
  EventRing ring(EventRing::kChunkEvents);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int64_t i = 0; i < 2'000'000; ++i) ring.Push(Numbered(i));
    done = true;
  });
  int copies = 0;
  while (!done.load() || copies < 3) {
    std::vector<Event> out;
    ring.CopyTo(&out, 0);
    for (size_t k = 0; k < out.size(); ++k) {
      ASSERT_TRUE(Consistent(out[k])) << "torn event at copy " << copies << " index " << k;
      if (k > 0) ASSERT_EQ(out[k].ts, out[k - 1].ts + 1);
    }
    ++copies;
  }
  writer.join();
  EXPECT_GT(copies, 3);
}

}  // namespace
}  // namespace uop::profiler
