// Schedule time and memory plan of ResNet-50 (batch 64, built from UOps the
// way the Tensor API builds it). Prints figures; asserts only structure.
#include <chrono>
#include <cstdio>

#include "gtest/gtest.h"
#include "runtime/schedule/memory_planner.h"
#include "runtime/schedule/schedule.h"
#include "runtime/schedule/test_graphs.h"
#include "runtime/tensor/tensor.h"
#include "runtime/uop/spec.h"

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
    for (const ScheduleItem& item : s->items) {
      for (const UOp* u : item.ast->Toposort()) reduces += u->op() == Op::kReduceAxis;
      if (run == 0) EXPECT_TRUE(VerifyKernelAst(item.ast).ok()) << VerifyKernelAst(item.ast);
    }
    if (run == 0) EXPECT_TRUE(VerifyTensorGraph(sink).ok()) << VerifyTensorGraph(sink);
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

// ResNet-50 v1.5 through the Tensor API (unrealized weights: nothing runs).
Tensor ConvBnT(const Tensor& x, int64_t cout, int64_t k, int64_t stride, bool relu) {
  const int64_t cin = x.shape()[1];
  ConvOptions o;
  o.stride = {stride};
  o.padding = {{k / 2, k / 2}};
  auto channel = [&] { return Tensor::Empty({cout}); };
  Tensor y = x.Conv2d(Tensor::Empty({cout, cin, k, k}), std::nullopt, o)
                 .BatchNorm(channel(), channel(), channel(), channel());
  return relu ? y.Relu() : y;
}

Tensor ResNet50T(int64_t batch) {
  Tensor x = ConvBnT(Tensor::Empty({batch, 3, 224, 224}), 64, 7, 2, true);
  x = x.MaxPool2d(PoolOptions{.kernel = {3, 3}, .stride = {2, 2}, .padding = {{1, 1}}});
  const int64_t blocks[4] = {3, 4, 6, 3};
  for (int layer = 0; layer < 4; ++layer) {
    const int64_t width = int64_t{64} << layer;
    for (int64_t b = 0; b < blocks[layer]; ++b) {
      const int64_t stride = (b == 0 && layer > 0) ? 2 : 1;
      Tensor out = ConvBnT(x, width, 1, 1, true);
      out = ConvBnT(out, width, 3, stride, true);
      out = ConvBnT(out, width * 4, 1, 1, false);
      Tensor identity = b == 0 ? ConvBnT(x, width * 4, 1, stride, false) : x;
      x = out.Add(identity).Relu();
    }
  }
  return x.Mean({2, 3}).Linear(Tensor::Empty({1000, 2048}), Tensor::Empty({1000}));
}

TEST(ScheduleBench, ResNet50ThroughTensorApi) {
  for (int run = 0; run < 3; ++run) {
    auto t0 = std::chrono::steady_clock::now();
    Tensor out = ResNet50T(64);
    ASSERT_TRUE(out.ok()) << out.status();
    UOpPtr sink = Sink({out.uop()});
    const double build_ms = MsSince(t0);
    auto t1 = std::chrono::steady_clock::now();
    absl::StatusOr<Schedule> s = CreateSchedule(sink);
    const double schedule_ms = MsSince(t1);
    ASSERT_TRUE(s.ok()) << s.status();
    absl::StatusOr<MemoryPlan> plan = PlanMemory(*s);
    ASSERT_TRUE(plan.ok()) << plan.status();
    std::printf(
        "resnet50 b64 via Tensor (run %d): %zu nodes, build %.2f ms, schedule %.2f ms; "
        "%zu kernels; intermediates %.1f MiB unplanned, %.1f MiB arena\n",
        run, GraphSize(sink), build_ms, schedule_ms, s->items.size(),
        plan->unplanned_bytes / 1048576.0, plan->arena_bytes() / 1048576.0);
    EXPECT_GE(s->items.size(), 54u);
    EXPECT_LE(s->items.size(), 60u);
  }
}

}  // namespace
}  // namespace uop
