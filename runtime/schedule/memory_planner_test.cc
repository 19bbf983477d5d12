#include "runtime/schedule/memory_planner.h"

#include <vector>

#include "gtest/gtest.h"
#include "runtime/schedule/schedule.h"
#include "runtime/schedule/test_graphs.h"

namespace uop {
namespace {

using namespace uop::testing;  // NOLINT: graph builders

MemoryPlan Plan(const UOpPtr& sink, Schedule* schedule = nullptr) {
  absl::StatusOr<Schedule> s = CreateSchedule(sink);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return {};
  absl::StatusOr<MemoryPlan> p = PlanMemory(*s);
  EXPECT_TRUE(p.ok()) << p.status();
  if (schedule) *schedule = *s;
  return p.ok() ? *std::move(p) : MemoryPlan{};
}

// No two placements overlap in bytes while both are live.
void ExpectNoOverlap(const MemoryPlan& plan) {
  std::vector<BufferPlacement> all;
  for (const auto& [id, p] : plan.placements) all.push_back(p);
  for (size_t i = 0; i < all.size(); ++i) {
    const BufferPlacement& a = all[i];
    EXPECT_EQ(a.offset % 64, 0);
    EXPECT_LE(a.offset + a.nbytes, plan.arenas[a.arena].size);
    for (size_t j = i + 1; j < all.size(); ++j) {
      const BufferPlacement& b = all[j];
      if (a.arena != b.arena || a.last_item < b.first_item || b.last_item < a.first_item) continue;
      EXPECT_TRUE(a.offset + a.nbytes <= b.offset || b.offset + b.nbytes <= a.offset)
          << "[" << a.offset << ", +" << a.nbytes << ") and [" << b.offset << ", +" << b.nbytes
          << ") overlap";
    }
  }
}

TEST(MemoryPlanner, ChainOfForcedIntermediatesNeedsTwoBuffers) {
  constexpr int kN = 12;
  UOpPtr x = Input({256});  // 1 KiB each
  for (int i = 0; i < kN; ++i) x = Contiguous(AddScalar(x, 1.0));
  MemoryPlan plan = Plan(Sink({MulScalar(x, 2.0)}));
  EXPECT_EQ(plan.placements.size(), static_cast<size_t>(kN));
  EXPECT_EQ(plan.unplanned_bytes, kN * 1024);
  EXPECT_EQ(plan.peak_bytes, 2 * 1024);
  EXPECT_EQ(plan.arena_bytes(), 2 * 1024);
  ExpectNoOverlap(plan);
}

TEST(MemoryPlanner, Diamond) {
  UOpPtr x = Input({64});  // 256 bytes
  UOpPtr a = Contiguous(AddScalar(x, 1.0));
  UOpPtr b = Contiguous(MulScalar(a, 2.0));
  UOpPtr c = Contiguous(AddScalar(a, 3.0));
  Schedule s;
  MemoryPlan plan = Plan(Sink({b + c}), &s);
  ASSERT_EQ(s.items.size(), 4u);  // a, b, c, b + c
  EXPECT_EQ(plan.placements.size(), 3u);
  EXPECT_EQ(plan.peak_bytes, 3 * 256);  // a, b, c live while c is computed
  EXPECT_EQ(plan.arena_bytes(), 3 * 256);
  ExpectNoOverlap(plan);
}

int64_t IdOf(const Schedule& s, const UOpPtr& root) {
  for (const ScheduleItem& item : s.items)
    if (item.root == root) return item.bufs[0]->arg().get<BufferArg>().id;
  ADD_FAILURE() << "no item for " << root->ShortString();
  return -1;
}

TEST(MemoryPlanner, FreedBlocksAreReusedBestFit) {
  // Items: A (4 KiB), K (4 KiB, read to the end), S (256 B), M (256 B,
  // last reader of A and S), L (256 B). Beside L's lifetime the gaps are
  // A's (4 KiB) and S's (256 B): L takes S's, the best fit.
  UOpPtr x = Input({1024});
  auto rowsum = [](const UOpPtr& v) { return Reshape(Sum(Reshape(v, {64, 16}), {1}), {64}); };
  UOpPtr a = Contiguous(AddScalar(x, 1.0));
  UOpPtr k = Contiguous(AddScalar(x, 2.0));
  UOpPtr sm = Contiguous(rowsum(x));
  UOpPtr m = Contiguous(rowsum(a) + rowsum(k) + sm);
  UOpPtr l = Contiguous(MulScalar(m, 2.0));
  Schedule s;
  MemoryPlan plan = Plan(Sink({l + rowsum(MulScalar(k, 3.0))}), &s);
  ASSERT_EQ(s.items.size(), 6u);
  ExpectNoOverlap(plan);
  EXPECT_EQ(plan.placements.at(IdOf(s, l)).offset, plan.placements.at(IdOf(s, sm)).offset);
  EXPECT_EQ(plan.peak_bytes, 2 * 4096 + 2 * 256);
  EXPECT_EQ(plan.arena_bytes(), plan.peak_bytes);
  EXPECT_EQ(plan.unplanned_bytes, 2 * 4096 + 3 * 256);
}

TEST(MemoryPlanner, AlignsSizes) {
  UOpPtr x = Input({3});  // 12 bytes
  UOpPtr a = Contiguous(AddScalar(x, 1.0));
  UOpPtr b = Contiguous(AddScalar(x, 2.0));
  MemoryPlan plan = Plan(Sink({a + b}));
  ASSERT_EQ(plan.placements.size(), 2u);
  for (const auto& [id, p] : plan.placements) {
    EXPECT_EQ(p.nbytes, 64);
    EXPECT_EQ(p.offset % 64, 0);
  }
  EXPECT_EQ(plan.arena_bytes(), 128);
}

TEST(MemoryPlanner, OutputsAndExternalBuffersAreNotPlanned) {
  UOpPtr x = Input({16});
  Schedule s;
  MemoryPlan plan = Plan(Sink({AddScalar(x, 1.0), Assign(Input({16}), MulScalar(x, 2.0))}), &s);
  EXPECT_TRUE(plan.placements.empty());
  EXPECT_TRUE(plan.arenas.empty());
  EXPECT_EQ(plan.peak_bytes, 0);
}

TEST(MemoryPlanner, OneArenaPerDevice) {
  UOpPtr x = Input({16});
  UOpPtr on_cpu = Contiguous(AddScalar(x, 1.0));
  UOpPtr on_gpu = Contiguous(MulScalar(CopyTo(on_cpu, "GPU"), 2.0));
  MemoryPlan plan = Plan(Sink({AddScalar(on_gpu, 1.0)}));
  ASSERT_EQ(plan.arenas.size(), 2u);
  EXPECT_EQ(plan.arenas[0].device, "CPU");
  EXPECT_EQ(plan.arenas[1].device, "GPU");
  ExpectNoOverlap(plan);
}

TEST(MemoryPlanner, RejectsBadInput) {
  Schedule s;
  EXPECT_EQ(PlanMemory(s, {.alignment = 48}).status().code(), absl::StatusCode::kInvalidArgument);
  // An intermediate read before anything writes it.
  UOpPtr buf = BufferOf(Input({8}));
  s.buffers.push_back({buf, BufferRole::kIntermediate});
  ScheduleItem item;
  item.bufs = {BufferOf(Input({8})), buf};
  s.items.push_back(item);
  absl::Status st = PlanMemory(s).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("before any item writes it"), absl::string_view::npos) << st;
}

}  // namespace
}  // namespace uop
