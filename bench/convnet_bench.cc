// convnet_cold / convnet_warm_cache / convnet_jit: a small conv net
// (conv3x3-relu-maxpool2 twice, 1x3x64x64 -> 1x32x16x16) from graph to first
// result in a fresh process (empty and warm on-disk kernel cache), and the
// JIT replay per call. Cold-start figures are wall time of a child process
// from exec to exit, and the time inside it from main to the first result.
//
// The peer is tinygrad (CPU device) when UOP_TINYGRAD_PYTHONPATH points at a
// tinygrad checkout (bench/peers/tinygrad_convnet.py); otherwise only uop's
// figures are printed, with the reference the issue records for tinygrad.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "drivers/cpu/cpu_device.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/jit.h"
#include "runtime/tensor/tensor.h"

extern char** environ;

namespace uop {
namespace {

struct Net {
  Tensor w1, b1, w2, b2;
  // Weights come from host memory, as from a model file.
  static Net Make() {
    return Net{HostRandom({16, 3, 3, 3}, 1, 0.2f), HostRandom({16}, 2, 0.1f),
               HostRandom({32, 16, 3, 3}, 3, 0.1f), HostRandom({32}, 4, 0.1f)};
  }
  static Tensor HostRandom(Shape shape, uint32_t seed, float scale) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> v(n);
    uint32_t s = seed * 2654435761u;
    for (float& x : v) {
      s = s * 1664525u + 1013904223u;
      x = scale * (static_cast<float>(s >> 8) / 16777216.0f - 0.5f);
    }
    return Tensor::FromVector(v, shape);
  }
  Tensor Forward(const Tensor& x) const {
    ConvOptions pad1;
    pad1.padding = {{1, 1}, {1, 1}};
    PoolOptions pool;
    pool.kernel = {2, 2};
    Tensor h = x.Conv2d(w1, b1, pad1).Relu().MaxPool2d(pool);
    return h.Conv2d(w2, b2, pad1).Relu().MaxPool2d(pool);
  }
};

Tensor Input() { return Net::HostRandom({1, 3, 64, 64}, 5, 2.0f); }

// Child mode: build, realize, read back; prints the in-main time.
int Child() {
  absl::Time t0 = absl::Now();
  Engine::Install();
  Net net = Net::Make();
  absl::StatusOr<std::vector<float>> out = net.Forward(Input()).ToVector<float>();
  if (!out.ok()) {
    fprintf(stderr, "convnet child: %s\n", std::string(out.status().message()).c_str());
    return 1;
  }
  printf("main_to_result_ms %.3f checksum %.6f\n", absl::ToDoubleMilliseconds(absl::Now() - t0),
         (*out)[0] + (*out)[100]);
  return 0;
}

// Runs this binary as a child with UOP_CACHE_DIR=cache; returns exec->exit ms
// and the child's own main->result ms.
bool RunChild(const char* self, const std::string& cache, double* wall_ms, double* main_ms) {
  std::vector<std::string> env_strings = {"UOP_CACHE_DIR=" + cache};
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("UOP_CACHE_DIR=", 0) != 0) env_strings.push_back(*e);
  std::vector<char*> env;
  for (std::string& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);
  std::string out_path = cache + "/child.out";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  char arg0[] = "convnet_bench", arg1[] = "--child";
  char* argv[] = {arg0, arg1, nullptr};
  absl::Time t0 = absl::Now();
  pid_t pid;
  if (posix_spawn(&pid, self, &fa, nullptr, argv, env.data()) != 0) return false;
  int status = 0;
  waitpid(pid, &status, 0);
  *wall_ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
  posix_spawn_file_actions_destroy(&fa);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return false;
  FILE* f = fopen(out_path.c_str(), "r");
  if (!f) return false;
  double checksum;
  bool ok = fscanf(f, "main_to_result_ms %lf checksum %lf", main_ms, &checksum) == 2;
  fclose(f);
  return ok;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Main(const char* self) {
  char tmpl[] = "/tmp/uop-convnet-XXXXXX";
  std::string root = mkdtemp(tmpl);
  std::vector<double> cold_wall, cold_main, warm_wall, warm_main;
  for (int i = 0; i < 5; ++i) {
    std::string cache = absl::StrFormat("%s/cold%d", root, i);
    std::string cmd = "mkdir -p " + cache;
    if (system(cmd.c_str()) != 0) return 1;
    double w, m;
    if (!RunChild(self, cache, &w, &m)) {
      fprintf(stderr, "convnet_bench: cold child failed\n");
      return 1;
    }
    cold_wall.push_back(w), cold_main.push_back(m);
    if (!RunChild(self, cache, &w, &m)) return 1;  // now warm
    warm_wall.push_back(w), warm_main.push_back(m);
  }
  if (system(("rm -rf " + root).c_str()) != 0) return 1;

  // JIT replay in this process.
  auto engine = Engine::Install({.cache_dir = "-"});
  Net net = Net::Make();
  Jit jit(engine,
          [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{net.Forward(in[0])}; });
  Tensor x = Input();
  (void)x.Realize();
  for (int i = 0; i < 3; ++i)
    if (!jit.Call({x}).ok()) return 1;
  std::vector<double> per_call;
  for (int r = 0; r < 7; ++r) {
    absl::Time t0 = absl::Now();
    for (int i = 0; i < 50; ++i)
      if (!jit.Call({x}).ok()) return 1;
    per_call.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0) / 50);
  }
  printf("BENCH convnet_cold value=%.2f unit=ms\n", Median(cold_main));
  printf("BENCH convnet_warm_cache value=%.2f unit=ms\n", Median(warm_main));
  printf("BENCH convnet_jit value=%.4f unit=ms\n", Median(per_call));
  fprintf(stderr,
          "# exec->exit: cold %.1f ms, warm cache %.1f ms; kernels per call %zu; reference "
          "(tinygrad, issue 4): cold 316 ms, warm cache 642 ms, jit 0.57 ms\n",
          Median(cold_wall), Median(warm_wall), jit.num_launches());
  return 0;
}

}  // namespace
}  // namespace uop

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--child") return uop::Child();
  return uop::Main("/proc/self/exe");
}
