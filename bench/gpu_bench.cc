// GPU benchmarks on the first CUDA device, against torch (cuBLAS) on the same
// GPU in the same run (bench/peers/torch_gpu.py):
//   gpu_matmul_<fp32|fp16>_<N>  GEMM built with the Tensor API, scheduled,
//                               compiled and run by the Engine; the kernel is
//                               timed with CUDA events (median), results
//                               spot-checked against float64 dot products.
//   gpu_graph_replay            microseconds per kernel of a 200-kernel chain
//                               replayed as a CUDA graph by a CudaQueue.
//   gpu_direct_launch           the same chain launched kernel by kernel
//                               (Program::Run, synchronous).
// Without a GPU it says so on stderr and prints nothing.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "drivers/cuda/cuda_device.h"
#include "drivers/cuda/cuda_queue.h"
#include "drivers/device_registry.h"
#include "runtime/engine/engine.h"
#include "runtime/tensor/tensor.h"

namespace uop {
namespace {

struct Peer {
  std::map<std::string, double> tflops;  // "fp32_4096" -> TFLOP/s
  double graph_us = 0;
};

Peer TorchPeer(const std::vector<int64_t>& sizes) {
  std::string cmd = "python3 bench/peers/torch_gpu.py";
  for (int64_t n : sizes) cmd += " " + std::to_string(n);
  Peer peer;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return peer;
  char line[512];
  while (fgets(line, sizeof(line), p)) {
    char kind[32];
    long long n;
    double v;
    if (line[0] == '#') {
      fprintf(stderr, "%s", line);
    } else if (sscanf(line, "matmul %31s %lld %lf", kind, &n, &v) == 3) {
      peer.tflops[absl::StrFormat("%s_%d", kind, n)] = v;
    } else if (sscanf(line, "graph_replay %lf", &v) == 1) {
      peer.graph_us = v;
    }
  }
  pclose(p);
  return peer;
}

class LaunchRecorder : public Recorder {
 public:
  void OnLaunch(const RecordedLaunch& l) override { launches.push_back(l); }
  void OnHostRead(const Storage&) override {}
  void KeepAlive(std::shared_ptr<void> r) override { kept.push_back(std::move(r)); }
  std::vector<RecordedLaunch> launches;
  std::vector<std::shared_ptr<void>> kept;
};

Tensor Random(int64_t n, DType dtype, uint32_t seed, std::vector<float>* values) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::vector<uint8_t> bytes(n * dtype.itemsize());
  values->resize(n);
  for (int64_t i = 0; i < n; ++i) {
    float x = d(rng);
    if (dtype == DType::Float16()) {
      uint16_t h = FloatToHalf(x);
      x = HalfToFloat(h);
      std::memcpy(&bytes[i * 2], &h, 2);
    } else {
      std::memcpy(&bytes[i * 4], &x, 4);
    }
    (*values)[i] = x;
  }
  return Tensor::FromBytes(bytes, dtype, {n}, "CUDA");
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// TFLOP/s of an n^3 GEMM through the engine, or a negative value on error.
double Matmul(const std::shared_ptr<Engine>& engine, int64_t n, DType dtype) {
  std::vector<float> av, bv;
  Tensor a = Random(n * n, dtype, 1, &av).Reshape({n, n});
  Tensor b = Random(n * n, dtype, 2, &bv).Reshape({n, n});
  LaunchRecorder rec;
  Tensor c = a.Matmul(b, DType::Float32());
  if (dtype != DType::Float32()) c = c.Cast(dtype);
  engine->SetRecorder(&rec);
  absl::Status st = c.Realize();
  engine->SetRecorder(nullptr);
  if (!st.ok()) {
    fprintf(stderr, "gpu_bench: matmul %ld: %s\n", static_cast<long>(n),
            std::string(st.message()).c_str());
    return -1;
  }
  absl::StatusOr<std::vector<double>> out = c.Cast(DType::Float64()).ToVector<double>();
  if (!out.ok()) return -1;
  std::mt19937 rng(3);
  for (int check = 0; check < 64; ++check) {
    const int64_t i = rng() % n, j = rng() % n;
    double ref = 0, mag = 0;
    for (int64_t k = 0; k < n; ++k) {
      ref += static_cast<double>(av[i * n + k]) * bv[k * n + j];
      mag += std::abs(static_cast<double>(av[i * n + k]) * bv[k * n + j]);
    }
    const double tol = (dtype == DType::Float32() ? 1e-5 : 2e-3) * mag + 1e-3;
    if (std::abs((*out)[i * n + j] - ref) > tol) {
      fprintf(stderr, "gpu_bench: matmul %ld wrong at (%ld, %ld): %f vs %f\n", static_cast<long>(n),
              static_cast<long>(i), static_cast<long>(j), (*out)[i * n + j], ref);
      return -1;
    }
  }
  // The GEMM kernel: the recorded launch with the most work.
  const RecordedLaunch* gemm = nullptr;
  for (const RecordedLaunch& l : rec.launches) {
    if (l.kernel && (!gemm || l.kernel->spec.ops > gemm->kernel->spec.ops)) gemm = &l;
  }
  if (gemm == nullptr) return -1;
  const ProgramSpec& spec = gemm->kernel->spec;
  LaunchDims global{spec.global_size[0], spec.global_size[1], spec.global_size[2]};
  LaunchDims local{spec.local_size[0], spec.local_size[1], spec.local_size[2]};
  std::vector<double> times;
  for (int r = 0; r < 12; ++r) {
    RunTiming t;
    if (!gemm->kernel->program->Run(gemm->bufs, {}, global, local, &t).ok()) return -1;
    if (r >= 2) times.push_back(t.seconds);
  }
  fprintf(stderr,
          "# %s %s: grid (%ld,%ld,%ld) block (%ld,%ld,%ld), render %.1f ms, NVRTC compile + load "
          "%.1f ms, median %.3f ms\n",
          spec.name.c_str(), dtype.ToString().c_str(), static_cast<long>(global.x),
          static_cast<long>(global.y), static_cast<long>(global.z), static_cast<long>(local.x),
          static_cast<long>(local.y), static_cast<long>(local.z),
          gemm->kernel->render_seconds * 1e3, gemm->kernel->compile_seconds * 1e3,
          Median(times) * 1e3);
  return 2.0 * n * n * n / Median(times) / 1e12;
}

// Microseconds per kernel of a chain of `count` tiny kernels: replayed as a
// CUDA graph through a queue, and launched one Run at a time.
std::pair<double, double> Replay(const std::shared_ptr<Engine>& engine, cuda::CudaDevice& gpu) {
  std::vector<float> xv;
  Tensor x = Random(1024, DType::Float32(), 4, &xv);
  LaunchRecorder rec;
  Tensor y = x.Add(1.0);
  engine->SetRecorder(&rec);
  absl::Status st = y.Realize();
  engine->SetRecorder(nullptr);
  if (!st.ok() || rec.launches.empty()) return {-1, -1};
  const RecordedLaunch& l = rec.launches.back();
  const ProgramSpec& spec = l.kernel->spec;
  LaunchDims global{spec.global_size[0], spec.global_size[1], spec.global_size[2]};
  LaunchDims local{spec.local_size[0], spec.local_size[1], spec.local_size[2]};
  constexpr int kKernels = 200;
  auto cb = std::make_shared<CommandBuffer>();
  for (int i = 0; i < kKernels; ++i) cb->Exec(l.kernel->program.get(), l.bufs, {}, global, local);
  absl::StatusOr<std::unique_ptr<cuda::CudaQueue>> q =
      cuda::CudaQueue::Create(&gpu, "CUDA:0/bench", {});
  if (!q.ok()) return {-1, -1};
  for (int i = 0; i < 3; ++i) (void)(*q)->Submit(cb);  // direct, then graph built
  if (!(*q)->Wait(absl::Seconds(30)).ok()) return {-1, -1};
  constexpr int kReplays = 50;
  absl::Time t0 = absl::Now();
  for (int i = 0; i < kReplays; ++i) (void)(*q)->Submit(cb);
  if (!(*q)->Wait(absl::Seconds(30)).ok()) return {-1, -1};
  const double graph_us = absl::ToDoubleMicroseconds(absl::Now() - t0) / (kReplays * kKernels);
  t0 = absl::Now();
  for (int i = 0; i < kKernels; ++i) {
    if (!l.kernel->program->Run(l.bufs, {}, global, local).ok()) return {-1, -1};
  }
  const double direct_us = absl::ToDoubleMicroseconds(absl::Now() - t0) / kKernels;
  return {graph_us, direct_us};
}

int Main() {
  absl::Status avail = cuda::CudaDevice::Availability();
  if (!avail.ok()) {
    fprintf(stderr, "gpu_bench: no CUDA GPU: %s\n", std::string(avail.message()).c_str());
    return 0;
  }
  absl::StatusOr<Device*> dev = DeviceRegistry::Global().Get("CUDA");
  if (!dev.ok()) return 1;
  auto* gpu = static_cast<cuda::CudaDevice*>(*dev);
  fprintf(stderr, "# uop device: %s\n", gpu->info().description.c_str());
  const char* sizes_env = std::getenv("UOP_GPU_BENCH_SIZES");
  std::vector<int64_t> sizes = {4096};
  if (sizes_env != nullptr) {
    sizes.clear();
    for (const char* p = sizes_env; *p;) {
      sizes.push_back(std::strtoll(p, const_cast<char**>(&p), 10));
      while (*p == ',') ++p;
    }
  }
  Peer peer = TorchPeer(sizes);
  auto engine = Engine::Install({.cache_dir = "-"});
  int failures = 0;
  for (int64_t n : sizes) {
    for (DType dtype : {DType::Float32(), DType::Float16()}) {
      const std::string kind = dtype == DType::Float32() ? "fp32" : "fp16";
      const double tflops = Matmul(engine, n, dtype);
      if (tflops < 0) {
        ++failures;
        continue;
      }
      std::string line =
          absl::StrFormat("BENCH gpu_matmul_%s_%d value=%.2f unit=TFLOP/s", kind, n, tflops);
      auto it = peer.tflops.find(absl::StrFormat("%s_%d", kind, n));
      if (it != peer.tflops.end() && it->second > 0) {
        line += absl::StrFormat(" peer=torch:%.2f ratio=%.3f", it->second, tflops / it->second);
      }
      printf("%s\n", line.c_str());
      fflush(stdout);
    }
  }
  auto [graph_us, direct_us] = Replay(engine, *gpu);
  if (graph_us < 0) {
    ++failures;
  } else {
    std::string line =
        absl::StrFormat("BENCH gpu_graph_replay value=%.3f unit=us/kernel", graph_us);
    if (peer.graph_us > 0) {
      line += absl::StrFormat(" peer=torch_graph:%.3f ratio=%.3f", peer.graph_us,
                              peer.graph_us / graph_us);
    }
    printf("%s\n", line.c_str());
    printf("BENCH gpu_direct_launch value=%.3f unit=us/kernel\n", direct_us);
  }
  Tensor::SetRealizer(nullptr);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace uop

int main() { return uop::Main(); }
