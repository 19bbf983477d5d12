// matmul_1024 / matmul_2048: fp32 GEMM through uop's codegen on all CPU cores
// against numpy (OpenBLAS) in the same run. Prints BENCH lines (bench/run.py).
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "drivers/cpu/cpu_device.h"
#include "runtime/codegen/ast_builder_for_test.h"
#include "runtime/codegen/compile.h"
#include "runtime/codegen/device_runner_for_test.h"
#include "runtime/codegen/llvm_renderer.h"

namespace uop {
namespace {

// Runs the numpy peer; returns GFLOP/s per size (0 when unavailable).
std::map<int64_t, double> NumpyPeer(const std::vector<int64_t>& sizes) {
  std::string cmd = "/usr/bin/python3 bench/peers/numpy_matmul.py";
  for (int64_t n : sizes) cmd += " " + std::to_string(n);
  std::map<int64_t, double> out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char line[256];
  while (fgets(line, sizeof(line), p)) {
    if (line[0] == '#') {
      fprintf(stderr, "%s", line);
      continue;
    }
    long long n;
    double g;
    if (sscanf(line, "%lld %lf", &n, &g) == 2) out[n] = g;
  }
  pclose(p);
  return out;
}

int Main() {
  absl::StatusOr<std::unique_ptr<CpuDevice>> cpu = CpuDevice::Create();
  if (!cpu.ok()) {
    fprintf(stderr, "matmul_bench: %s\n", std::string(cpu.status().message()).c_str());
    return 1;
  }
  int threads = (*cpu)->info().compute_units;
  std::vector<int64_t> sizes = {1024, 2048};
  std::map<int64_t, double> peer = NumpyPeer(sizes);
  LlvmRenderer renderer(threads, (*cpu)->info().max_vector_bytes);
  for (int64_t n : sizes) {
    absl::StatusOr<ProgramSpec> spec = RenderKernel(testing::MatmulAst(n, n, n), renderer);
    if (!spec.ok()) {
      fprintf(stderr, "matmul_bench: %s\n", std::string(spec.status().message()).c_str());
      return 1;
    }
    if (const char* dump = std::getenv("UOP_DUMP_SOURCE")) {
      std::string path = absl::StrFormat("%s/%s.ll", dump, spec->name);
      if (FILE* f = fopen(path.c_str(), "w")) fputs(spec->source.c_str(), f), fclose(f);
    }
    absl::StatusOr<testing::LoadedKernel> k = testing::LoadedKernel::Load(**cpu, *spec);
    if (!k.ok()) {
      fprintf(stderr, "matmul_bench: %s\n", std::string(k.status().message()).c_str());
      return 1;
    }
    std::mt19937 rng(0);
    std::normal_distribution<float> d;
    std::vector<float> a(n * n), b(n * n);
    for (float& x : a) x = d(rng);
    for (float& x : b) x = d(rng);
    (void)k->SetInput(1, testing::Bytes(a));
    (void)k->SetInput(2, testing::Bytes(b));
    (void)k->Run();  // warm-up
    double best = 1e30;
    int reps = std::max<int>(3, static_cast<int>(2e10 / (2.0 * n * n * n)));
    for (int r = 0; r < reps; ++r) {
      absl::Time t0 = absl::Now();
      absl::Status st = k->Run();
      if (!st.ok()) return 1;
      best = std::min(best, absl::ToDoubleSeconds(absl::Now() - t0));
    }
    double gflops = 2.0 * n * n * n / best / 1e9;
    std::string line = absl::StrFormat("BENCH matmul_%d value=%.1f unit=GFLOP/s", n, gflops);
    if (peer.count(n) && peer[n] > 0) {
      line += absl::StrFormat(" peer=numpy:%.1f ratio=%.3f", peer[n], gflops / peer[n]);
    }
    printf("%s\n", line.c_str());
    fprintf(stderr, "# %s threads=%d opts:", spec->name.c_str(), threads);
    fprintf(stderr, "\n");
  }
  return 0;
}

}  // namespace
}  // namespace uop

int main() { return uop::Main(); }
