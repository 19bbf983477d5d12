// matmul_1024 / matmul_2048: fp32 GEMM through uop on all CPU cores
// against numpy (OpenBLAS) in the same run. Prints BENCH lines (bench/run.py).
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/jit.h"
#include "runtime/tensor/tensor.h"

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
  // Through the whole stack: Tensor API -> schedule (with the CPU panel
  // packing pass) -> codegen -> LLVM, captured by the JIT so each timed call
  // is a replay: the packing kernel and the GEMM kernel, no graph work.
  auto engine = Engine::Install({.cache_dir = "-"});
  std::vector<int64_t> sizes = {1024, 2048};
  std::map<int64_t, double> peer = NumpyPeer(sizes);
  for (int64_t n : sizes) {
    std::mt19937 rng(0);
    std::normal_distribution<float> d;
    std::vector<float> a(n * n), b(n * n);
    for (float& x : a) x = d(rng);
    for (float& x : b) x = d(rng);
    Tensor ta = Tensor::FromVector(a, Shape{n, n}), tb = Tensor::FromVector(b, Shape{n, n});
    Jit jit(engine,
            [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].Matmul(in[1])}; });
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<std::vector<Tensor>> out = jit.Call({ta, tb});
      if (!out.ok()) {
        fprintf(stderr, "matmul_bench: %s\n", std::string(out.status().message()).c_str());
        return 1;
      }
    }
    // Spot-check one element against a double-precision dot product.
    std::vector<float> c = *jit.outputs()[0].ToVector<float>();
    double ref = 0;
    for (int64_t k = 0; k < n; ++k) ref += static_cast<double>(a[7 * n + k]) * b[k * n + 5];
    if (std::abs(c[7 * n + 5] - ref) > 1e-3 * (1 + std::abs(ref))) {
      fprintf(stderr, "matmul_bench: wrong result %f vs %f\n", c[7 * n + 5], ref);
      return 1;
    }
    double best = 1e30;
    int reps = std::max<int>(3, static_cast<int>(2e10 / (2.0 * n * n * n)));
    for (int r = 0; r < reps; ++r) {
      absl::Time t0 = absl::Now();
      if (!jit.Call({ta, tb}).ok()) return 1;
      best = std::min(best, absl::ToDoubleSeconds(absl::Now() - t0));
    }
    double gflops = 2.0 * n * n * n / best / 1e9;
    std::string line = absl::StrFormat("BENCH matmul_%d value=%.1f unit=GFLOP/s", n, gflops);
    if (peer.count(n) && peer[n] > 0) {
      line += absl::StrFormat(" peer=numpy:%.1f ratio=%.3f", peer[n], gflops / peer[n]);
    }
    printf("%s\n", line.c_str());
    fprintf(stderr, "# matmul %ld: %zu kernels per call\n", static_cast<long>(n),
            jit.num_launches());
  }
  return 0;
}

}  // namespace
}  // namespace uop

int main() { return uop::Main(); }
