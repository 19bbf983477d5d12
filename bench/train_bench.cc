// train_mlp_step / train_convnet_step: one training step (forward,
// cross-entropy, gradients, Adam update in place) captured by the JIT and
// replayed on the CPU, per step, side by side with the same step written by
// hand in numpy (bench/peers/numpy_train.py; OpenBLAS matmuls). Same shapes,
// same optimizer, 8 pre-made batches cycled on both sides.
//   mlp:     batch 128, 784 -> 256 -> 256 -> 10, ReLU
//   convnet: batch 32, 1x28x28, conv3x3(1->8) ReLU maxpool2, conv3x3(8->16)
//            ReLU maxpool2, linear 784 -> 10
// stderr gets the kernels per step and the first/last loss of each side.
// It also prints (stderr) how long Gradient and the scheduler take on a
// ResNet-50 training graph.
// UOP_PYTHON names the Python that runs the peer (default /usr/bin/python3).
// bench/peers/torch_train.py runs the same step in torch where torch exists
// (not here); docs/gradient.md has its figures.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "drivers/cpu/cpu_device.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/jit.h"
#include "runtime/nn/layers.h"
#include "runtime/nn/loss.h"
#include "runtime/nn/optim.h"
#include "runtime/schedule/schedule.h"
#include "runtime/tensor/gradient.h"

namespace uop {
namespace {

using nn::NamedTensor;

struct Mlp : nn::Module {
  nn::Linear fc1{784, 256, {.seed = 1}}, fc2{256, 256, {.seed = 2}}, fc3{256, 10, {.seed = 3}};
  Tensor operator()(const Tensor& x) const { return fc3(fc2(fc1(x).Relu()).Relu()); }
  void Collect(const std::string& p, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override {
    fc1.Collect(p + "fc1.", params, buffers);
    fc2.Collect(p + "fc2.", params, buffers);
    fc3.Collect(p + "fc3.", params, buffers);
  }
};

struct ConvNet : nn::Module {
  nn::Conv2d c1{1, 8, {3, 3}, {.padding = {{1, 1}}, .seed = 4}};
  nn::Conv2d c2{8, 16, {3, 3}, {.padding = {{1, 1}}, .seed = 5}};
  nn::Linear fc{16 * 7 * 7, 10, {.seed = 6}};
  Tensor operator()(const Tensor& x) const {
    PoolOptions pool;
    pool.kernel = {2, 2};
    Tensor h = c1(x).Relu().MaxPool2d(pool);
    return fc(c2(h).Relu().MaxPool2d(pool).Flatten(1));
  }
  void Collect(const std::string& p, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override {
    c1.Collect(p + "c1.", params, buffers);
    c2.Collect(p + "c2.", params, buffers);
    fc.Collect(p + "fc.", params, buffers);
  }
};

struct PeerResult {
  double ms = 0;
  float first = 0, last = 0;
};

PeerResult NumpyPeer(const char* kind) {
  PeerResult r;
  // UOP_PYTHON picks the interpreter (one with numpy); Debian's by default.
  const char* python = getenv("UOP_PYTHON");
  std::string cmd =
      std::string(python ? python : "/usr/bin/python3") + " bench/peers/numpy_train.py " + kind;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char line[256];
  while (fgets(line, sizeof(line), p)) {
    if (line[0] == '#') {
      fprintf(stderr, "%s", line);
      continue;
    }
    sscanf(line, "ms_per_step %lf loss %f %f", &r.ms, &r.first, &r.last);
  }
  pclose(p);
  return r;
}

template <typename Model>
int Bench(const char* name, const char* kind, std::shared_ptr<Engine> engine, Model& model,
          const Shape& x_shape) {
  absl::StatusOr<std::unique_ptr<nn::Adam>> opt = nn::Adam::Create(model.ParameterPointers());
  if (!opt.ok()) {
    fprintf(stderr, "%s: %s\n", name, std::string(opt.status().message()).c_str());
    return 1;
  }
  nn::Optimizer& o = **opt;
  Jit jit(engine, [&](const std::vector<Tensor>& in) {
    Tensor loss = nn::CrossEntropy(model(in[0]), in[1]);
    absl::StatusOr<std::vector<Tensor>> grads = Gradient(loss, o.parameter_tensors());
    if (!grads.ok()) return std::vector<Tensor>{Tensor::Error(grads.status())};
    absl::StatusOr<std::vector<Tensor>> updates = o.Step(*grads);
    if (!updates.ok()) return std::vector<Tensor>{Tensor::Error(updates.status())};
    std::vector<Tensor> out = {loss};
    out.insert(out.end(), updates->begin(), updates->end());
    return out;
  });
  std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int32_t> label(0, 9);
  std::vector<std::pair<Tensor, Tensor>> batches;
  int64_t n = 1;
  for (int64_t d : x_shape) n *= d;
  for (int b = 0; b < 8; ++b) {
    std::vector<float> x(n);
    std::vector<int32_t> y(x_shape[0]);
    for (float& v : x) v = normal(rng);
    for (int32_t& v : y) v = label(rng);
    batches.push_back({Tensor::FromVector(x, x_shape), Tensor::FromVector(y, {x_shape[0]})});
  }
  std::vector<double> times;
  float first = 0, last = 0;
  for (int step = 0; step < 40; ++step) {
    const auto& [x, y] = batches[step % batches.size()];
    absl::Time t0 = absl::Now();
    absl::StatusOr<std::vector<Tensor>> out = jit.Call({x, y});
    if (!out.ok()) {
      fprintf(stderr, "%s: %s\n", name, std::string(out.status().message()).c_str());
      return 1;
    }
    // The loss read waits for the step's kernels (and is part of a step).
    absl::StatusOr<float> loss = (*out)[0].Item<float>();
    if (!loss.ok()) return 1;
    times.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    (step == 0 ? first : last) = *loss;
  }
  // Steps 0 and 1 build, schedule and compile; the rest are replays.
  std::vector<double> replay(times.begin() + 5, times.end());
  std::sort(replay.begin(), replay.end());
  const double ms = replay[replay.size() / 2];
  PeerResult peer = NumpyPeer(kind);
  if (peer.ms > 0) {
    printf("BENCH %s value=%.4f unit=ms peer=numpy:%.4f ratio=%.3f\n", name, ms, peer.ms,
           peer.ms / ms);
  } else {
    printf("BENCH %s value=%.4f unit=ms\n", name, ms);
  }
  fprintf(stderr,
          "# %s: %zu kernels per step; first two steps (capture) %.1f + %.1f ms; loss %.4f -> "
          "%.4f (uop), %.4f -> %.4f (numpy)\n",
          name, jit.num_launches(), times[0], times[1], first, last, peer.first, peer.last);
  return 0;
}

// ResNet-50 (batch 64) with training-mode BatchNorm and a log-softmax loss:
// the time to build the gradient graph of every parameter and to schedule
// forward + backward (no kernels run). Printed to stderr.
struct ResNetGraph {
  std::vector<Tensor> params;
  Tensor Param(Shape s) {
    params.push_back(Tensor::Empty(std::move(s)));
    return params.back();
  }
  Tensor ConvBn(const Tensor& x, int64_t cout, int64_t k, int64_t stride, bool relu) {
    ConvOptions o;
    o.stride = {stride};
    o.padding = {{k / 2, k / 2}};
    Tensor y = x.Conv2d(Param({cout, x.shape()[1], k, k}), std::nullopt, o);
    const std::vector<int64_t> axes = {0, 2, 3};
    Tensor centered = y - y.Mean(axes, true);
    Tensor inv_std = (centered.Square().Mean(axes, true) + 1e-5).Rsqrt();
    y = centered * inv_std * Param({cout}).Reshape({1, cout, 1, 1}) +
        Param({cout}).Reshape({1, cout, 1, 1});
    return relu ? y.Relu() : y;
  }
  Tensor Loss() {
    Tensor x = ConvBn(Tensor::Empty({64, 3, 224, 224}), 64, 7, 2, true);
    x = x.MaxPool2d(PoolOptions{.kernel = {3, 3}, .stride = {2, 2}, .padding = {{1, 1}}});
    const int64_t blocks[4] = {3, 4, 6, 3};
    for (int layer = 0; layer < 4; ++layer) {
      const int64_t width = int64_t{64} << layer;
      for (int64_t b = 0; b < blocks[layer]; ++b) {
        const int64_t stride = (b == 0 && layer > 0) ? 2 : 1;
        Tensor out = ConvBn(ConvBn(ConvBn(x, width, 1, 1, true), width, 3, stride, true), width * 4,
                            1, 1, false);
        x = out.Add(b == 0 ? ConvBn(x, width * 4, 1, stride, false) : x).Relu();
      }
    }
    return x.Mean({2, 3}).Linear(Param({1000, 2048}), Param({1000})).LogSoftmax(1).Mean();
  }
};

void GradientResNet50() {
  std::vector<double> grad_ms, sched_ms;
  size_t kernels = 0, params = 0;
  for (int run = 0; run < 5; ++run) {
    ResNetGraph net;
    Tensor loss = net.Loss();
    absl::Time t0 = absl::Now();
    absl::StatusOr<std::vector<Tensor>> g = Gradient(loss, net.params);
    absl::Time t1 = absl::Now();
    if (!g.ok()) return;
    UOpList srcs = {loss.uop()};
    for (const Tensor& t : *g) srcs.push_back(t.uop());
    absl::StatusOr<Schedule> s = CreateSchedule(UOp::Create(Op::kSink, DType::Void(), srcs));
    if (!s.ok()) return;
    grad_ms.push_back(absl::ToDoubleMilliseconds(t1 - t0));
    sched_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t1));
    kernels = s->items.size();
    params = net.params.size();
  }
  std::sort(grad_ms.begin(), grad_ms.end());
  std::sort(sched_ms.begin(), sched_ms.end());
  fprintf(stderr,
          "# gradient_resnet50: Gradient of %zu parameters %.2f ms; schedule forward + backward "
          "%.1f ms, %zu items (medians of 5)\n",
          params, grad_ms[2], sched_ms[2], kernels);
}

int Main() {
  GradientResNet50();
  auto engine = Engine::Install({.cache_dir = "-"});
  Mlp mlp;
  if (Bench("train_mlp_step", "mlp", engine, mlp, {128, 784}) != 0) return 1;
  ConvNet net;
  return Bench("train_convnet_step", "convnet", engine, net, {32, 1, 28, 28});
}

}  // namespace
}  // namespace uop

int main() { return uop::Main(); }
