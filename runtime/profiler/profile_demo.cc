// A small MLP realized through the Engine a few times, then JIT-replayed; the
// program knows nothing of the profiler. Run with UOP_PROFILE=out.perfetto-trace
// (or out.json) to get its trace at exit:
//
//   UOP_PROFILE=/tmp/demo.perfetto-trace bazel-bin/runtime/profiler/profile_demo
#include <cstdio>
#include <vector>

#include "runtime/engine/engine.h"
#include "runtime/engine/jit.h"
#include "runtime/tensor/tensor.h"

namespace uop {
namespace {

Tensor Weights(int rows, int cols, float scale) {
  std::vector<float> v(rows * cols);
  for (size_t i = 0; i < v.size(); ++i) v[i] = scale * static_cast<float>((i * 7) % 11 - 5);
  return Tensor::FromVector(v, Shape{rows, cols});
}

int Main() {
  auto engine = Engine::Install({.cache_dir = "-"});
  Tensor w1 = Weights(16, 32, 0.05f), w2 = Weights(32, 8, 0.1f);
  auto net = [&](const Tensor& x) { return x.Matmul(w1).Relu().Matmul(w2).Softmax(-1); };
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<std::vector<float>> y = net(Weights(4, 16, 1.0f + i)).ToVector<float>();
    if (!y.ok()) {
      fprintf(stderr, "profile_demo: %s\n", std::string(y.status().message()).c_str());
      return 1;
    }
  }
  Jit jit(engine, [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{net(in[0])}; });
  Tensor x = Weights(4, 16, 1.0f);
  if (!x.Realize().ok()) return 1;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<std::vector<Tensor>> out = jit.Call({x});
    if (!out.ok() || !(*out)[0].ToVector<float>().ok()) {
      fprintf(stderr, "profile_demo: JIT call %d failed\n", i);
      return 1;
    }
  }
  printf("profile_demo: ok, %zu kernels per replay\n", jit.num_launches());
  return 0;
}

}  // namespace
}  // namespace uop

int main() { return uop::Main(); }
