// schedule_resnet50: ResNet-50 at batch 64 from nothing to the source of
// every kernel: build the graph through the Tensor API, schedule it, and
// lower + render every kernel (no compilation, no execution), as the
// reference system's scheduling benchmark does. matcher_rewrites: pattern
// rewrites per second during that lowering.
//
// The peer figure (tinygrad, Dec 2024: 1.26 s) is the measurement of
// the reference system; it is not re-run here (no tinygrad on these
// machines), so the ratio is against that recorded figure.
#include <cstdio>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "runtime/codegen/compile.h"
#include "runtime/codegen/decompose.h"
#include "runtime/codegen/llvm_renderer.h"
#include "runtime/schedule/schedule.h"
#include "runtime/tensor/tensor.h"
#include "runtime/uop/symbolic.h"

namespace uop {
namespace {

constexpr double kTinygradSeconds = 1.26;

Tensor ConvBn(const Tensor& x, int64_t cout, int64_t k, int64_t stride, bool relu) {
  int64_t cin = x.shape()[1];
  ConvOptions o;
  o.stride = {stride};
  o.padding = {{k / 2, k / 2}};
  auto channel = [&] { return Tensor::Empty({cout}); };
  Tensor y = x.Conv2d(Tensor::Empty({cout, cin, k, k}), std::nullopt, o)
                 .BatchNorm(channel(), channel(), channel(), channel());
  return relu ? y.Relu() : y;
}

Tensor ResNet50(int64_t batch) {
  Tensor x = ConvBn(Tensor::Empty({batch, 3, 224, 224}), 64, 7, 2, true);
  x = x.MaxPool2d(PoolOptions{.kernel = {3, 3}, .stride = {2, 2}, .padding = {{1, 1}}});
  const int64_t blocks[4] = {3, 4, 6, 3};
  for (int layer = 0; layer < 4; ++layer) {
    int64_t width = int64_t{64} << layer;
    for (int64_t b = 0; b < blocks[layer]; ++b) {
      int64_t stride = (b == 0 && layer > 0) ? 2 : 1;
      Tensor out = ConvBn(x, width, 1, 1, true);
      out = ConvBn(out, width, 3, stride, true);
      out = ConvBn(out, width * 4, 1, 1, false);
      Tensor identity = b == 0 ? ConvBn(x, width * 4, 1, stride, false) : x;
      x = out.Add(identity).Relu();
    }
  }
  return x.Mean({2, 3}).Linear(Tensor::Empty({1000, 2048}), Tensor::Empty({1000}));
}

uint64_t TotalRewrites() {
  uint64_t n = 0;
  for (const PatternMatcher* pm : {&Symbolic(), &DecompositionRules()})
    for (const RuleStats& s : pm->Stats()) n += s.rewrites;
  return n;
}

int Main() {
  LlvmRenderer renderer(2, 64);
  std::vector<double> totals, lower_times;
  uint64_t rewrites = 0;
  size_t kernels = 0, source_bytes = 0;
  for (int run = 0; run < 5; ++run) {
    bool stats = run == 4;  // last run counts rewrites (statistics cost time)
    PatternMatcher::EnableStats(stats);
    if (stats) {
      Symbolic().ResetStats();
      DecompositionRules().ResetStats();
    }
    absl::Time t0 = absl::Now();
    Tensor out = ResNet50(64);
    if (!out.ok()) {
      fprintf(stderr, "schedule_bench: %s\n", std::string(out.status().message()).c_str());
      return 1;
    }
    UOpPtr sink = UOp::Create(Op::kSink, DType::Void(), {out.uop()});
    absl::StatusOr<Schedule> s = CreateSchedule(sink);
    if (!s.ok()) {
      fprintf(stderr, "schedule_bench: %s\n", std::string(s.status().message()).c_str());
      return 1;
    }
    absl::Time t1 = absl::Now();
    kernels = 0, source_bytes = 0;
    for (const ScheduleItem& item : s->items) {
      if (item.kind != ScheduleItem::Kind::kKernel) continue;
      absl::StatusOr<ProgramSpec> spec = RenderKernel(item.ast, renderer);
      if (!spec.ok()) {
        fprintf(stderr, "schedule_bench: %s\n", std::string(spec.status().message()).c_str());
        return 1;
      }
      ++kernels;
      source_bytes += spec->source.size();
    }
    absl::Time t2 = absl::Now();
    if (stats) {
      rewrites = TotalRewrites();
      lower_times.push_back(absl::ToDoubleSeconds(t2 - t1));
      fprintf(stderr, "# with match statistics: lowering %.1f ms\n",
              absl::ToDoubleMilliseconds(t2 - t1));
    } else {
      totals.push_back(absl::ToDoubleSeconds(t2 - t0));
      fprintf(
          stderr,
          "# run %d: build+schedule %.1f ms, lower+render %.1f ms, %zu kernels, %.0f KiB source\n",
          run, absl::ToDoubleMilliseconds(t1 - t0), absl::ToDoubleMilliseconds(t2 - t1), kernels,
          source_bytes / 1024.0);
    }
  }
  PatternMatcher::EnableStats(false);
  std::sort(totals.begin(), totals.end());
  double median = totals[totals.size() / 2];
  printf("BENCH schedule_resnet50 value=%.1f unit=ms peer=tinygrad_recorded:%.0f ratio=%.2f\n",
         median * 1e3, kTinygradSeconds * 1e3, kTinygradSeconds / median);
  printf("BENCH matcher_rewrites value=%.0f unit=rewrites/s\n", rewrites / lower_times[0]);
  return 0;
}

}  // namespace
}  // namespace uop

int main() { return uop::Main(); }
