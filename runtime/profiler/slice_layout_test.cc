#include "runtime/profiler/slice_layout.h"

#include <string>

#include "gtest/gtest.h"

namespace uop::profiler {
namespace {

// One track (id 1) with named spans; markers printed as "B:a@0/0 E:a@5/0".
class SliceLayoutTest : public ::testing::Test {
 protected:
  SliceLayoutTest() {
    snapshot_.tracks.resize(3);
    snapshot_.tracks[1].kind = TrackKind::kQueue;
    snapshot_.tracks[2].kind = TrackKind::kCounter;
    snapshot_.names = {""};
  }
  NameId N(const std::string& s) {
    for (NameId i = 0; i < snapshot_.names.size(); ++i)
      if (snapshot_.names[i] == s) return i;
    snapshot_.names.push_back(s);
    return static_cast<NameId>(snapshot_.names.size() - 1);
  }
  void AddSpan(const std::string& name, int64_t b, int64_t e) {
    snapshot_.events.push_back(Event::Span(1, N(name), b, e));
  }
  void AddInstant(const std::string& name, int64_t t) {
    snapshot_.events.push_back(Event::Instant(1, N(name), t));
  }
  std::string Layout() {
    std::stable_sort(snapshot_.events.begin(), snapshot_.events.end(),
                     [](const Event& a, const Event& b) { return a.ts < b.ts; });
    SliceLayout l = LayoutSlices(snapshot_);
    lanes_ = l.lanes[1];
    std::string out;
    for (const Marker& m : l.markers) {
      const Event& e = snapshot_.events[m.event];
      const char* t = m.type == Marker::kBegin     ? "B"
                      : m.type == Marker::kEnd     ? "E"
                      : m.type == Marker::kInstant ? "I"
                                                   : "C";
      if (!out.empty()) out += " ";
      out += std::string(t) + ":" + snapshot_.names[e.name] + "@" + std::to_string(m.ts) + "/" +
             std::to_string(m.lane);
    }
    return out;
  }
  TraceSnapshot snapshot_;
  int lanes_ = 0;
};

TEST_F(SliceLayoutTest, NestedSpansShareOneLane) {
  AddSpan("inner", 2, 4);  // recorded first: spans are recorded when they end
  AddSpan("outer", 0, 10);
  EXPECT_EQ(Layout(), "B:outer@0/0 B:inner@2/0 E:inner@4/0 E:outer@10/0");
  EXPECT_EQ(lanes_, 1);
}

TEST_F(SliceLayoutTest, BackToBackSpansEndBeforeTheNextBegins) {
  AddSpan("a", 0, 5);
  AddSpan("b", 5, 9);
  EXPECT_EQ(Layout(), "B:a@0/0 E:a@5/0 B:b@5/0 E:b@9/0");
}

TEST_F(SliceLayoutTest, IdenticalExtentsNestTheLaterRecordedOutside) {
  AddSpan("child", 3, 8);   // ends first (recorded first)
  AddSpan("parent", 3, 8);  // same clock readings
  EXPECT_EQ(Layout(), "B:parent@3/0 B:child@3/0 E:child@8/0 E:parent@8/0");
}

TEST_F(SliceLayoutTest, OverlapGoesToASecondLane) {
  AddSpan("a", 0, 10);
  AddSpan("b", 5, 15);  // starts inside a, ends after it
  AddSpan("c", 20, 30);
  EXPECT_EQ(Layout(), "B:a@0/0 B:b@5/1 E:a@10/0 E:b@15/1 B:c@20/0 E:c@30/0");
  EXPECT_EQ(lanes_, 2);
}

TEST_F(SliceLayoutTest, InstantsNestInsideOrFollowSpans) {
  AddInstant("at_start", 0);
  AddSpan("s", 0, 10);
  AddInstant("inside", 5);
  AddInstant("at_end", 10);
  EXPECT_EQ(Layout(), "B:s@0/0 I:at_start@0/0 I:inside@5/0 E:s@10/0 I:at_end@10/0");
}

TEST_F(SliceLayoutTest, CountersPassThroughAndEventsOnUnknownTracksAreDropped) {
  snapshot_.events.push_back(Event::Counter(2, 7, 42));
  snapshot_.events.push_back(Event::Instant(99, N("lost"), 8));
  AddSpan("s", 0, 10);
  SliceLayout l = LayoutSlices(snapshot_);
  ASSERT_EQ(l.markers.size(), 3u);
  EXPECT_EQ(l.markers[1].type, Marker::kCounter);
  EXPECT_EQ(l.lanes[2], 1);
}

TEST_F(SliceLayoutTest, ManyOverlapsStillNestPerLane) {
  // 50 staggered spans of width 10: every lane must nest properly.
  for (int i = 0; i < 50; ++i) AddSpan("s" + std::to_string(i), i * 3, i * 3 + 10);
  std::stable_sort(snapshot_.events.begin(), snapshot_.events.end(),
                   [](const Event& a, const Event& b) { return a.ts < b.ts; });
  SliceLayout l = LayoutSlices(snapshot_);
  std::vector<std::vector<int64_t>> open(l.lanes[1]);
  int64_t last = INT64_MIN;
  for (const Marker& m : l.markers) {
    EXPECT_GE(m.ts, last);
    last = m.ts;
    const Event& e = snapshot_.events[m.event];
    if (m.type == Marker::kBegin) {
      if (!open[m.lane].empty()) EXPECT_LE(e.end(), open[m.lane].back());
      open[m.lane].push_back(e.end());
    } else if (m.type == Marker::kEnd) {
      ASSERT_FALSE(open[m.lane].empty());
      EXPECT_EQ(open[m.lane].back(), m.ts);
      open[m.lane].pop_back();
    }
  }
  for (const auto& lane : open) EXPECT_TRUE(lane.empty());
  EXPECT_EQ(l.lanes[1], 4);  // at most ceil(10 / 3) spans overlap
}

}  // namespace
}  // namespace uop::profiler
