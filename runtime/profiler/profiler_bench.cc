// profiler_bench: what profiling costs.
//
// 1. Per hook, nanoseconds per call with the profiler off (the relaxed load
//    every hook makes) and on (recording into this thread's ring).
// 2. A small-model request loop — the MLP of profile_demo as JIT replays, and
//    as full realizes (schedule + cache lookups + launches) — with the flight
//    recorder off and on, interleaved in blocks; the overhead is the ratio of
//    the medians.
//
//   bazel run -c opt //runtime/profiler:profiler_bench
//
// Prints "BENCH <name> value=<v> unit=<u>" lines; not a test, nothing fails.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "absl/time/clock.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/jit.h"
#include "runtime/profiler/chrome_json_writer.h"
#include "runtime/profiler/perfetto_writer.h"
#include "runtime/profiler/profiler.h"
#include "runtime/tensor/tensor.h"

namespace uop {
namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// ns per call of `fn`, median of 7 runs of `n` calls.
template <typename Fn>
double NsPerCall(int n, Fn fn) {
  std::vector<double> runs;
  for (int r = 0; r < 7; ++r) {
    const absl::Time t0 = absl::Now();
    for (int i = 0; i < n; ++i) fn(i);
    runs.push_back(absl::ToDoubleNanoseconds(absl::Now() - t0) / n);
  }
  return Median(runs);
}

void HookCosts() {
  const int n = 2'000'000;
  struct Row {
    const char* name;
    double off, on;
  };
  std::vector<Row> rows;
  auto measure = [&](const char* name, auto fn) {
    profiler::Stop();
    const double off = NsPerCall(n, fn);
    profiler::Start();
    const double on = NsPerCall(n, fn);
    profiler::Stop();
    rows.push_back({name, off, on});
  };
  measure("span", [](int) { profiler::Span s("bench span"); });
  measure("flow_scope", [](int i) { profiler::FlowScope f(static_cast<uint64_t>(i) + 1); });
  measure("kernel_span", [](int) {
    profiler::KernelSpan k("CPU:0", "E_bench_kernel", {16, 1, 1}, {1, 1, 1});
  });
  measure("copy_span", [](int) { profiler::CopySpan c("CPU:0", "copy in", 4096); });
  measure("memory", [](int i) {
    profiler::RecordMemory("CPU:0", profiler::MemoryOp::kAlloc, 64, static_cast<uint64_t>(i));
  });
  const profiler::TrackId depth = profiler::CounterTrack("bench", "queue depth");
  measure("counter", [depth](int i) { profiler::RecordCounter(depth, int64_t{i}); });
  for (const Row& r : rows) {
    printf("BENCH profiler_%s_off value=%.2f unit=ns\n", r.name, r.off);
    printf("BENCH profiler_%s_on value=%.2f unit=ns\n", r.name, r.on);
  }
}

// Snapshot and encoding time of a full flight recorder (one thread's ring of
// 64 Ki events: kernel-like spans with args and flows).
void ExportCosts() {
  profiler::Start();
  profiler::Clear();
  const size_t n = profiler::CurrentRecorderOptions().events_per_thread;
  for (size_t i = 0; i < n; ++i) {
    profiler::FlowScope f(i / 8 + 1);
    profiler::KernelSpan k("CPU:0", i % 2 ? "E_bench_a" : "r_bench_b", {16, 1, 1}, {1, 1, 1});
  }
  profiler::Stop();
  const absl::Time t0 = absl::Now();
  profiler::TraceSnapshot snap = profiler::SnapshotTrace();
  const absl::Time t1 = absl::Now();
  const std::string perfetto = profiler::ToPerfetto(snap);
  const absl::Time t2 = absl::Now();
  const std::string json = profiler::ToChromeJson(snap);
  const absl::Time t3 = absl::Now();
  printf("BENCH profiler_snapshot_64k value=%.2f unit=ms\n", absl::ToDoubleMilliseconds(t1 - t0));
  printf("BENCH profiler_perfetto_64k value=%.2f unit=ms\n", absl::ToDoubleMilliseconds(t2 - t1));
  printf("BENCH profiler_json_64k value=%.2f unit=ms\n", absl::ToDoubleMilliseconds(t3 - t2));
  fprintf(stderr, "# %zu events: perfetto %zu bytes (%.1f per event), json %zu bytes\n",
          snap.events.size(), perfetto.size(),
          static_cast<double>(perfetto.size()) / std::max<size_t>(snap.events.size(), 1),
          json.size());
}

Tensor Weights(int rows, int cols, float scale) {
  std::vector<float> v(rows * cols);
  for (size_t i = 0; i < v.size(); ++i) v[i] = scale * static_cast<float>((i * 7) % 11 - 5);
  return Tensor::FromVector(v, Shape{rows, cols});
}

// Per-call microseconds of `call` with the recorder off and on, in 40
// alternating blocks so drift hits both alike. On a shared machine other
// processes only ever add time, so the minimum over blocks is the figure;
// the median is printed beside it.
template <typename Call>
bool OffVsOn(const char* name, int calls_per_block, Call call) {
  std::vector<double> off, on;
  for (int block = 0; block < 40; ++block) {
    const bool enabled = block % 2 == 1;
    enabled ? profiler::Start() : profiler::Stop();
    const absl::Time t0 = absl::Now();
    for (int i = 0; i < calls_per_block; ++i)
      if (!call()) return false;
    (enabled ? on : off).push_back(absl::ToDoubleMicroseconds(absl::Now() - t0) / calls_per_block);
  }
  profiler::Stop();
  const double off_min = *std::min_element(off.begin(), off.end());
  const double on_min = *std::min_element(on.begin(), on.end());
  printf("BENCH %s_off value=%.3f unit=us\n", name, off_min);
  printf("BENCH %s_on value=%.3f unit=us\n", name, on_min);
  printf("BENCH %s_overhead value=%.2f unit=%%\n", name, 100 * (on_min / off_min - 1));
  fprintf(stderr, "# %s medians: off %.3f us, on %.3f us\n", name, Median(off), Median(on));
  return true;
}

// bench/convnet_bench.cc's net: conv3x3-relu-maxpool2 twice, 1x3x64x64 in.
Tensor ConvNet(const Tensor& x, const std::vector<Tensor>& w) {
  ConvOptions pad1;
  pad1.padding = {{1, 1}, {1, 1}};
  PoolOptions pool;
  pool.kernel = {2, 2};
  Tensor h = x.Conv2d(w[0], w[1], pad1).Relu().MaxPool2d(pool);
  return h.Conv2d(w[2], w[3], pad1).Relu().MaxPool2d(pool);
}

int Main() {
  HookCosts();
  ExportCosts();

  auto engine = Engine::Install({.cache_dir = "-"});
  Tensor w1 = Weights(64, 128, 0.02f), w2 = Weights(128, 16, 0.05f);
  auto net = [&](const Tensor& x) { return x.Matmul(w1).Relu().Matmul(w2).Softmax(-1); };
  Jit jit(engine, [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{net(in[0])}; });
  Tensor x = Weights(8, 64, 1.0f);
  if (!x.Realize().ok()) return 1;
  for (int i = 0; i < 3; ++i)
    if (!jit.Call({x}).ok()) return 1;
  std::vector<float> out(8 * 16);
  const bool ok = OffVsOn("mlp_jit_request", 200,
                          [&] {
                            absl::StatusOr<std::vector<Tensor>> y = jit.Call({x});
                            return y.ok() && (*y)[0].ToVector<float>().ok();
                          }) &&
                  OffVsOn("mlp_realize_request", 10, [&] { return net(x).ToVector<float>().ok(); });
  std::vector<Tensor> cw = {
      Weights(16, 27, 0.2f).Reshape({16, 3, 3, 3}), Weights(1, 16, 0.1f).Reshape({16}),
      Weights(32, 144, 0.1f).Reshape({32, 16, 3, 3}), Weights(1, 32, 0.1f).Reshape({32})};
  for (Tensor& t : cw)
    if (!t.Realize().ok()) return 1;
  Jit conv_jit(engine, [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{ConvNet(in[0], cw)};
  });
  Tensor image = Weights(3 * 64, 64, 1.0f).Reshape({1, 3, 64, 64}).Contiguous();
  if (!image.Realize().ok()) return 1;
  for (int i = 0; i < 3; ++i)
    if (!conv_jit.Call({image}).ok()) return 1;
  const bool conv_ok = OffVsOn("convnet_jit_request", 20, [&] {
    absl::StatusOr<std::vector<Tensor>> y = conv_jit.Call({image});
    return y.ok() && (*y)[0].ToVector<float>().ok();
  });
  if (!ok || !conv_ok) {
    fprintf(stderr, "profiler_bench: a request failed\n");
    return 1;
  }
  fprintf(stderr, "# kernels per JIT replay: mlp %zu, convnet %zu\n", jit.num_launches(),
          conv_jit.num_launches());
  return 0;
}

}  // namespace
}  // namespace uop

int main() { return uop::Main(); }
