// Schedule time and memory plan of ResNet-50 (batch 64, built from UOps the
// way the Tensor API builds it). Prints figures; asserts only structure.
#include <chrono>
#include <cstdio>

#include "gtest/gtest.h"
#include "runtime/schedule/memory_planner.h"
#include "runtime/schedule/schedule.h"
#include "runtime/schedule/test_graphs.h"

namespace uop {
namespace {

using namespace uop::testing;  // NOLINT: graph builders

double MsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

TEST(ScheduleBench, ResNet50) {
  for (int run = 0; run < 3; ++run) {
    auto t0 = std::chrono::steady_clock::now();
    UOpPtr out = ResNet50(64);
    UOpPtr sink = Sink({out});
    const double build_ms = MsSince(t0);
    auto t1 = std::chrono::steady_clock::now();
    absl::StatusOr<Schedule> s = CreateSchedule(sink);
    const double schedule_ms = MsSince(t1);
    ASSERT_TRUE(s.ok()) << s.status();
    auto t2 = std::chrono::steady_clock::now();
    absl::StatusOr<MemoryPlan> plan = PlanMemory(*s);
    const double plan_ms = MsSince(t2);
    ASSERT_TRUE(plan.ok()) << plan.status();

    int reduces = 0;
    for (const ScheduleItem& item : s->items)
      for (const UOp* u : item.ast->Toposort()) reduces += u->op() == Op::kReduceAxis;
    std::printf(
        "resnet50 b64 (run %d): %zu nodes, build %.2f ms, schedule %.2f ms, plan %.3f ms; "
        "%zu kernels (%d reduces); intermediates %.1f MiB unplanned, %.1f MiB arena, "
        "%.1f MiB peak\n",
        run, GraphSize(sink), build_ms, schedule_ms, plan_ms, s->items.size(), reduces,
        plan->unplanned_bytes / 1048576.0, plan->arena_bytes() / 1048576.0,
        plan->peak_bytes / 1048576.0);
    // 53 convolutions (+ BN, + ReLU, + residual) one kernel each, max pool,
    // average pool and the classifier: 56 reduces. The first block's
    // downsample and its last 1x1 conv reduce the same space (64 -> 256
    // channels at 56x56) and share a kernel: 55.
    EXPECT_EQ(reduces, 56);
    EXPECT_EQ(s->items.size(), 55u);
    EXPECT_LT(plan->arena_bytes(), plan->unplanned_bytes / 4);
  }
}

}  // namespace
}  // namespace uop
