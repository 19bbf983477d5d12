// ASSIGN: in-place writes, their ordering against readers, and hazards.
#include <algorithm>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/schedule/schedule.h"
#include "runtime/schedule/test_graphs.h"
#include "runtime/shape/shapetracker.h"

namespace uop {
namespace {

using namespace uop::testing;  // NOLINT: graph builders

Schedule Sched(const UOpPtr& sink) {
  absl::StatusOr<Schedule> s = CreateSchedule(sink);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : Schedule{};
}

int IndexOf(const Schedule& s, const UOpPtr& root) {
  for (size_t i = 0; i < s.items.size(); ++i)
    if (s.items[i].root == root) return static_cast<int>(i);
  return -1;
}

bool DependsOn(const Schedule& s, int item, int on) {
  const std::vector<int>& d = s.items[item].deps;
  return std::find(d.begin(), d.end(), on) != d.end();
}

bool Reads(const ScheduleItem& item, const UOpPtr& buffer) {
  for (size_t i = item.num_outputs; i < item.bufs.size(); ++i)
    if (item.bufs[i] == buffer) return true;
  return false;
}

TEST(Assign, WritesThroughTheTargetView) {
  UOpPtr b = Input({4, 4});
  UOpPtr target = Shrink(b, {{1, 3}, {0, 4}});
  UOpPtr a = Assign(target, AddScalar(Input({2, 4}), 1.0));
  Schedule s = Sched(Sink({a}));
  ASSERT_EQ(s.items.size(), 1u);
  EXPECT_EQ(s.items[0].bufs[0], BufferOf(b));
  ShapeTracker want =
      ShapeTracker::FromShape({16}).Reshape({4, 4}).value().Shrink({{1, 3}, {0, 4}}).value();
  const UOp* store = s.items[0].ast->src(0).get();
  EXPECT_EQ(*store->src(1)->arg().object<ShapeTracker>(), want);
  EXPECT_EQ(s.becomes.at(a.get()), target);
  ASSERT_EQ(s.buffers[0].buffer, BufferOf(b));
  EXPECT_EQ(s.buffers[0].role, BufferRole::kExternal);
}

TEST(Assign, InPlaceUpdateUsesOneSlot) {
  UOpPtr b = Input({8});
  Schedule s = Sched(Sink({Assign(b, AddScalar(b, 1.0))}));
  ASSERT_EQ(s.items.size(), 1u);
  EXPECT_EQ(s.items[0].bufs.size(), 1u);  // read and written: slot 0
}

TEST(Assign, RunsAfterEveryReaderOfTheOldContents) {
  UOpPtr b = Input({8});
  UOpPtr reader = MulScalar(b, 2.0);
  UOpPtr a = Assign(b, Full({8}, 0.0));
  // Listed first, the ASSIGN still runs after the reader.
  Schedule s = Sched(Sink({a, reader}));
  ASSERT_EQ(s.items.size(), 2u);
  int r = IndexOf(s, reader), w = IndexOf(s, a);
  ASSERT_GE(r, 0);
  ASSERT_GE(w, 0);
  EXPECT_LT(r, w);
  EXPECT_TRUE(DependsOn(s, w, r));
}

TEST(Assign, ReadersOfTheAssignRunAfterIt) {
  UOpPtr b = Input({8});
  UOpPtr a = Assign(b, AddScalar(b, 1.0));
  UOpPtr after = MulScalar(a, 3.0);
  Schedule s = Sched(Sink({after}));
  ASSERT_EQ(s.items.size(), 2u);
  EXPECT_EQ(s.items[0].root, a);
  EXPECT_TRUE(DependsOn(s, 1, 0));
  EXPECT_TRUE(Reads(s.items[1], BufferOf(b)));
}

TEST(Assign, SelfReadThroughAnotherViewIsCopiedFirst) {
  UOpPtr b = Input({4, 4});
  UOpPtr a = Assign(b, Permute(b, {1, 0}));  // b = b.T would read what it overwrote
  Schedule s = Sched(Sink({a}));
  ASSERT_EQ(s.items.size(), 2u);
  int w = IndexOf(s, a);
  ASSERT_EQ(w, 1);
  EXPECT_FALSE(Reads(s.items[w], BufferOf(b)));  // reads the copy
  EXPECT_TRUE(Reads(s.items[0], BufferOf(b)));
  EXPECT_TRUE(DependsOn(s, 1, 0));
}

TEST(Assign, OldAndNewContentsInOneKernel) {
  UOpPtr b = Input({8});
  UOpPtr a = Assign(b, AddScalar(b, 1.0));
  UOpPtr both = a + b;  // the new contents plus the old ones
  Schedule s = Sched(Sink({both}));
  // A snapshot of the old contents, the ASSIGN, then the sum.
  ASSERT_EQ(s.items.size(), 3u);
  int w = IndexOf(s, a), sum = IndexOf(s, both);
  ASSERT_GE(w, 0);
  ASSERT_EQ(sum, 2);
  int snap = 3 - w - sum;
  EXPECT_LT(snap, w);
  EXPECT_TRUE(DependsOn(s, w, snap));
  EXPECT_TRUE(Reads(s.items[sum], BufferOf(b)));
  EXPECT_TRUE(Reads(s.items[sum], s.items[snap].bufs[0]));
}

TEST(Assign, TwoAssignsToOneBufferApplyInGraphOrder) {
  UOpPtr b = Input({8});
  UOpPtr a1 = Assign(b, Full({8}, 1.0));
  UOpPtr a2 = Assign(b, Full({8}, 2.0));
  Schedule s = Sched(Sink({a2, a1}));
  int i1 = IndexOf(s, a1), i2 = IndexOf(s, a2);
  ASSERT_GE(i1, 0);
  ASSERT_GE(i2, 0);
  // Topological order of the graph decides (a1 was created first, but
  // neither depends on the other: the SINK order a2, a1 is the graph order).
  EXPECT_TRUE(DependsOn(s, std::max(i1, i2), std::min(i1, i2)));
}

TEST(Assign, RealizerContractFreshTarget) {
  // What Tensor::Realize builds: SINK(ASSIGN(RESHAPE(new BUFFER), value)).
  UOpPtr target = Input({2, 3});
  UOpPtr a = Assign(target, Exp(Input({2, 3})));
  Schedule s = Sched(Sink({a}));
  ASSERT_EQ(s.items.size(), 1u);
  EXPECT_EQ(s.items[0].bufs[0], BufferOf(target));
  EXPECT_EQ(s.becomes.at(a.get()), target);
  for (const ScheduleBuffer& buf : s.buffers) EXPECT_EQ(buf.role, BufferRole::kExternal);
}

}  // namespace
}  // namespace uop
