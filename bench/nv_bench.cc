// NV direct driver against the CUDA backend on the same GPU, in one run:
//   <dev>_empty_launch   microseconds from Program::Run of an empty kernel to
//                        its completion on the host (median of 500);
//   <dev>_replay         microseconds per kernel of a 200-kernel chain of
//                        tiny kernels (y = x + 1 and back, ping-pong, so each
//                        kernel reads what the one before wrote) submitted
//                        again and again through a Queue: NV replays its
//                        recorded pushbuffer (JIT replay), CUDA launches a
//                        CUDA graph. The final values are checked against the
//                        same float additions on the host ("chain ok"):
//                        kernels that overlapped would lose increments;
//   <dev>_mlp_jit        milliseconds per call of a small MLP (batch 1,
//                        784 -> 512 -> 512 -> 10, ReLU, float32) replayed by
//                        the Jit, output read back to the host (median).
// `dev` is nv or cuda; a device that is not available is reported and
// skipped. The MLP's outputs on both devices are compared with each other.
// With --nv-replay-only only nv_replay runs (for runs under other UOP_NV_*
// settings, e.g. UOP_NV_LAUNCH_ORDER=wfi, which this prints with the figure).
// NV's replay also prints the engine's counters (segments, replays, waits).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "drivers/common/device_queue.h"
#include "drivers/device_registry.h"
#include "drivers/nv/nv_queue.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/jit.h"
#include "runtime/tensor/tensor.h"

namespace uop {
namespace {

std::shared_ptr<Engine> g_engine;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

void Fail(const std::string& dev, const char* what, const absl::Status& st) {
  fprintf(stderr, "nv_bench: %s: %s: %s\n", dev.c_str(), what, st.ToString().c_str());
}

class LaunchRecorder : public Recorder {
 public:
  void OnLaunch(const RecordedLaunch& l) override { launches.push_back(l); }
  void OnHostRead(const Storage&) override {}
  void KeepAlive(std::shared_ptr<void> r) override { kept.push_back(std::move(r)); }
  std::vector<RecordedLaunch> launches;
  std::vector<std::shared_ptr<void>> kept;
};

Tensor Random(Shape shape, uint32_t seed, const std::string& dev, float scale) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  std::vector<uint8_t> bytes(n * 4);
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return Tensor::FromBytes(bytes, DType::Float32(), shape, dev);
}

// Microseconds of one synchronous empty-kernel Run (median).
double EmptyLaunch(Device& d) {
  absl::StatusOr<std::string> bin =
      d.compiler().Compile("uop_empty",
                           "// uop-abi: globals=0 vars=0 shared=0\n"
                           "extern \"C\" __global__ void uop_empty() {}\n");
  if (!bin.ok()) return Fail(d.name(), "compiling the empty kernel", bin.status()), -1;
  absl::StatusOr<std::unique_ptr<Program>> p = d.LoadProgram({"uop_empty", {}, 0}, *bin);
  if (!p.ok()) return Fail(d.name(), "loading the empty kernel", p.status()), -1;
  std::vector<double> us;
  for (int i = 0; i < 550; ++i) {
    const absl::Time t0 = absl::Now();
    absl::Status st = (*p)->Run({}, {}, LaunchDims{1}, LaunchDims{1});
    const double t = absl::ToDoubleMicroseconds(absl::Now() - t0);
    if (!st.ok()) return Fail(d.name(), "running the empty kernel", st), -1;
    if (i >= 50) us.push_back(t);
  }
  return Median(us);
}

// Microseconds per kernel of a replayed 200-kernel chain (median of 7 x 20
// submissions).
double Replay(const std::string& dev, Device& d) {
  Tensor x = Random({4096}, 4, dev, 1);
  LaunchRecorder rec;
  Tensor y = x.Add(1.0);
  g_engine->SetRecorder(&rec);
  absl::Status st = y.Realize();
  g_engine->SetRecorder(nullptr);
  if (!st.ok() || rec.launches.empty()) return Fail(dev, "x + 1", st), -1;
  const RecordedLaunch& l = rec.launches.back();
  const ProgramSpec& spec = l.kernel->spec;
  LaunchDims global{spec.global_size[0], spec.global_size[1], spec.global_size[2]};
  LaunchDims local{spec.local_size[0], spec.local_size[1], spec.local_size[2]};
  constexpr int kKernels = 200;
  if (l.bufs.size() != 2) return Fail(dev, "x + 1 has no (out, in) buffers", st), -1;
  DeviceBuffer* a = l.bufs[1];  // x
  DeviceBuffer* b = l.bufs[0];  // y
  std::vector<float> x0(4096);
  if (st = d.allocator().CopyOut(*a, 0, AsWritableBytes(absl::MakeSpan(x0))); !st.ok()) {
    return Fail(dev, "reading x", st), -1;
  }
  auto cb = std::make_shared<CommandBuffer>();
  for (int i = 0; i < kKernels; ++i) {
    DeviceBuffer* out = i % 2 == 0 ? b : a;
    DeviceBuffer* in = i % 2 == 0 ? a : b;
    cb->Exec(l.kernel->program.get(), {out, in}, {}, global, local);
  }
  absl::StatusOr<std::unique_ptr<Queue>> q = d.CreateQueue("bench");
  if (!q.ok()) return Fail(dev, "creating a queue", q.status()), -1;
  int submissions = 0;
  for (int i = 0; i < 3; ++i, ++submissions) {  // direct, recorded / built into a graph, replayed
    if (st = (*q)->Submit(cb); !st.ok()) return Fail(dev, "submitting", st), -1;
  }
  if (st = (*q)->Wait(absl::Seconds(30)); !st.ok()) return Fail(dev, "waiting", st), -1;
  std::vector<double> per_kernel;
  for (int r = 0; r < 7; ++r) {
    const absl::Time t0 = absl::Now();
    for (int i = 0; i < 20; ++i, ++submissions) (void)(*q)->Submit(cb);
    if (st = (*q)->Wait(absl::Seconds(30)); !st.ok()) return Fail(dev, "waiting", st), -1;
    per_kernel.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0) / (20 * kKernels));
  }
  // Every kernel added 1 to what the one before wrote.
  std::vector<float> got(4096);
  if (st = d.allocator().CopyOut(*a, 0, AsWritableBytes(absl::MakeSpan(got))); !st.ok()) {
    return Fail(dev, "reading the chain's result", st), -1;
  }
  size_t wrong = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    float v = x0[i];
    for (int k = 0; k < submissions * kKernels; ++k) v = v + 1.0f;
    wrong += got[i] != v;
  }
  fprintf(stderr,
          "# %s replay chain (%d submissions of %d kernels): %s (%zu of %zu values wrong)\n",
          dev.c_str(), submissions, kKernels, wrong == 0 ? "chain ok" : "CHAIN WRONG", wrong,
          got.size());
  if (auto* dq = dynamic_cast<DeviceQueue*>(q->get()); dq != nullptr) {
    if (auto* e = dynamic_cast<NvEngine*>(&dq->engine()); e != nullptr) {
      const NvEngineStats s = e->stats();
      fprintf(stderr,
              "# NV engine: launches %llu segments %llu replays %llu interrupt_waits %llu "
              "shared_waits %llu\n",
              (unsigned long long)s.launches, (unsigned long long)s.segments,
              (unsigned long long)s.replays, (unsigned long long)s.interrupt_waits,
              (unsigned long long)s.shared_waits);
    }
  }
  if (wrong != 0) return -1;
  return Median(per_kernel);
}

// Milliseconds per Jit call of the MLP with the output read back; `out`
// receives the last output.
double Mlp(const std::string& dev, std::vector<float>* out, size_t* kernels) {
  Tensor w1 = Random({784, 512}, 11, dev, 0.05f), b1 = Random({512}, 12, dev, 0.05f);
  Tensor w2 = Random({512, 512}, 13, dev, 0.05f), b2 = Random({512}, 14, dev, 0.05f);
  Tensor w3 = Random({512, 10}, 15, dev, 0.05f), b3 = Random({10}, 16, dev, 0.05f);
  for (Tensor* t : {&w1, &b1, &w2, &b2, &w3, &b3}) {
    if (absl::Status st = t->Realize(); !st.ok()) return Fail(dev, "weights", st), -1;
  }
  Jit jit(g_engine, [&](const std::vector<Tensor>& in) {
    Tensor h = in[0].Matmul(w1).Add(b1).Relu();
    h = h.Matmul(w2).Add(b2).Relu();
    return std::vector<Tensor>{h.Matmul(w3).Add(b3)};
  });
  Tensor x = Random({1, 784}, 17, dev, 1);
  if (absl::Status st = x.Realize(); !st.ok()) return Fail(dev, "input", st), -1;
  std::vector<double> ms;
  for (int i = 0; i < 203; ++i) {
    const absl::Time t0 = absl::Now();
    absl::StatusOr<std::vector<Tensor>> y = jit.Call({x});
    if (!y.ok()) return Fail(dev, "mlp call", y.status()), -1;
    absl::StatusOr<std::vector<float>> v = (*y)[0].ToVector<float>();
    if (!v.ok()) return Fail(dev, "mlp readback", v.status()), -1;
    if (i >= 3) ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    *out = *v;
  }
  *kernels = jit.num_launches();
  return Median(ms);
}

int Main(bool nv_replay_only) {
  g_engine = Engine::Install({.cache_dir = "-"});
  if (nv_replay_only) {
    absl::StatusOr<Device*> d = DeviceRegistry::Global().Get("NV");
    if (!d.ok()) return fprintf(stderr, "nv_bench: %s\n", d.status().ToString().c_str()), 1;
    const char* order = std::getenv("UOP_NV_LAUNCH_ORDER");
    const char* spin = std::getenv("UOP_NV_SPIN_US");
    fprintf(stderr, "# %s: %s\n", (*d)->name().c_str(), (*d)->info().description.c_str());
    const double replay = Replay("NV", **d);
    if (replay >= 0) {
      printf("BENCH nv_replay value=%.3f unit=us/kernel UOP_NV_LAUNCH_ORDER=%s UOP_NV_SPIN_US=%s\n",
             replay, order ? order : "default", spin ? spin : "default");
    }
    Tensor::SetRealizer(nullptr);
    g_engine.reset();
    return replay >= 0 ? 0 : 1;
  }
  int failures = 0;
  std::vector<std::vector<float>> outs;
  for (const std::string dev : {"NV", "CUDA"}) {
    absl::StatusOr<Device*> d = DeviceRegistry::Global().Get(dev);
    if (!d.ok()) {
      fprintf(stderr, "nv_bench: %s not available: %s\n", dev.c_str(),
              d.status().ToString().c_str());
      ++failures;
      continue;
    }
    fprintf(stderr, "# %s: %s\n", (*d)->name().c_str(), (*d)->info().description.c_str());
    const std::string tag = absl::AsciiStrToLower(dev);
    const double launch = EmptyLaunch(**d);
    if (launch >= 0) printf("BENCH %s_empty_launch value=%.2f unit=us\n", tag.c_str(), launch);
    fflush(stdout);
    const double replay = Replay(dev, **d);
    if (replay >= 0) printf("BENCH %s_replay value=%.3f unit=us/kernel\n", tag.c_str(), replay);
    fflush(stdout);
    std::vector<float> out;
    size_t kernels = 0;
    const double mlp = Mlp(dev, &out, &kernels);
    if (mlp >= 0) {
      printf("BENCH %s_mlp_jit value=%.4f unit=ms kernels=%zu\n", tag.c_str(), mlp, kernels);
      outs.push_back(out);
    }
    fflush(stdout);
    failures += (launch < 0) + (replay < 0) + (mlp < 0);
  }
  if (outs.size() == 2) {
    double worst = 0;
    for (size_t i = 0; i < outs[0].size() && i < outs[1].size(); ++i) {
      worst = std::max<double>(worst, std::abs(outs[0][i] - outs[1][i]));
    }
    fprintf(stderr, "# mlp outputs NV vs CUDA: max |diff| %.3g over %zu values\n", worst,
            outs[0].size());
    if (worst > 1e-3) ++failures;
  }
  Tensor::SetRealizer(nullptr);
  g_engine.reset();
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace uop

int main(int argc, char** argv) {
  const bool nv_replay_only = argc > 1 && std::string(argv[1]) == "--nv-replay-only";
  return uop::Main(nv_replay_only);
}
