#include <cstdio>
#include <functional>
#include "absl/time/clock.h"
#include "runtime/engine/engine.h"
#include "runtime/tensor/tensor.h"
using namespace uop;
double Time(const std::function<Tensor()>& f) {
  double best = 1e9;
  for (int i = 0; i < 8; ++i) {
    Tensor t = f();
    absl::Time t0 = absl::Now();
    if (!t.Realize().ok()) { printf("fail %s\n", std::string(t.status().message()).c_str()); return -1; }
    best = std::min(best, absl::ToDoubleMilliseconds(absl::Now() - t0));
  }
  return best;
}
Tensor R(Shape s) { Tensor t = Tensor::Randn(s); (void)t.Realize(); return t; }
Tensor Taps(const Tensor& x, const Tensor& w, int k, int stride) {
  // depthwise: x [1,C,H,W] padded by k/2, w [C,1,k,k]
  int64_t C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  int p = k / 2;
  Tensor xp = x.Pad({{0,0},{0,0},{p,p},{p,p}});
  int64_t Ho = (H + 2*p - k) / stride + 1, Wo = (W + 2*p - k) / stride + 1;
  Tensor acc;
  for (int a = 0; a < k; ++a) for (int b = 0; b < k; ++b) {
    Tensor s = xp.Slice({SliceSpec{}, SliceSpec{}, SliceSpec{a, a + (Ho-1)*stride + 1, stride}, SliceSpec{b, b + (Wo-1)*stride+1, stride}});
    Tensor t = s.Mul(w.Reshape({1, C, k*k}).Slice(2, a*k+b, a*k+b+1).Reshape({1, C, 1, 1}));
    acc = acc.ok() ? acc.Add(t) : t;
  }
  return acc;
}
Tensor TapsFull(const Tensor& x, const Tensor& w, int k, int stride) {
  int64_t C = x.shape()[1], H = x.shape()[2], W = x.shape()[3], CO = w.shape()[0];
  int p = k / 2;
  Tensor xp = x.Pad({{0,0},{0,0},{p,p},{p,p}});
  int64_t Ho = (H + 2*p - k) / stride + 1, Wo = (W + 2*p - k) / stride + 1;
  Tensor acc;
  for (int c = 0; c < C; ++c) for (int a = 0; a < k; ++a) for (int b = 0; b < k; ++b) {
    Tensor s = xp.Slice({SliceSpec{}, SliceSpec{c, c+1, 1}, SliceSpec{a, a + (Ho-1)*stride + 1, stride}, SliceSpec{b, b + (Wo-1)*stride+1, stride}});
    Tensor t = s.Mul(w.Reshape({CO, C*k*k}).Slice(1, (c*k+a)*k+b, (c*k+a)*k+b+1).Reshape({1, CO, 1, 1}));
    acc = acc.ok() ? acc.Add(t) : t;
  }
  return acc;
}
int main() {
  Engine::Install();
  { Tensor x = R({1,96,40,40}), w = R({24,96,3,3}), w1 = R({6,24,1,1}), w2 = R({24,6,1,1});
    ConvOptions pp; pp.padding = {{1,1},{1,1}};
    auto rse = [&](bool contig) {
      Tensor y = x.Conv(w, std::nullopt, pp);
      if (contig) y = y.Contiguous();
      Tensor g = y.Mean({2,3}, true);
      Tensor s = g.Conv(w1).Relu().Conv(w2).HardSigmoid(0.2, 0.5);
      return y.Mul(s).Add(y);
    };
    printf("rse %.4f\n", Time([&]{ return rse(false); }));
    printf("rse contig %.4f\n", Time([&]{ return rse(true); })); }
  ConvOptions p1; p1.padding = {{1,1},{1,1}};
  { Tensor x = R({1,96,40,40}), w = R({24,96,3,3});
    printf("conv96x40 %.4f\n", Time([&]{ return x.Conv(w, std::nullopt, p1); })); }
  { Tensor x = R({1,96,80,80}), w = R({24,96,3,3});
    printf("conv96x80 %.4f\n", Time([&]{ return x.Conv(w, std::nullopt, p1); })); }
  { Tensor x = R({1,96,20,20}), w = R({24,96,3,3});
    printf("conv96x20 %.4f\n", Time([&]{ return x.Conv(w, std::nullopt, p1); })); }
  { Tensor x = R({1,48,80,80}), w = R({48,1,3,3}); ConvOptions o = p1; o.groups = 48;
    printf("dw48x80 %.4f\n", Time([&]{ return x.Conv(w, std::nullopt, o); }));
    printf("dw48x80 taps %.4f\n", Time([&]{ return Taps(x, w, 3, 1); })); }
  { Tensor x = R({1,32,160,160}), w = R({32,1,3,3}); ConvOptions o = p1; o.groups = 32; o.stride = {2,2};
    printf("dw32x160s2 %.4f\n", Time([&]{ return x.Conv(w, std::nullopt, o); }));
    printf("dw32x160s2 taps %.4f\n", Time([&]{ return Taps(x, w, 3, 2); })); }
  { Tensor x = R({1,192,20,20}), w = R({192,1,5,5}); ConvOptions o; o.padding={{2,2},{2,2}}; o.groups = 192;
    printf("dw192x20k5 %.4f\n", Time([&]{ return x.Conv(w, std::nullopt, o); }));
    printf("dw192x20k5 taps %.4f\n", Time([&]{ return Taps(x, w, 5, 1); })); }
  { Tensor x = R({1,96,40,40}), w = R({96,96,1,1});
    printf("pw96x40 %.4f\n", Time([&]{ return x.Conv(w); }));
    printf("pw96x40 mm %.4f\n", Time([&]{ return w.Reshape({96,96}).Matmul(x.Reshape({96,1600})); })); }
  { Tensor x = R({1,16,160,160}), w = R({32,16,1,1});
    printf("pw16x160 %.4f\n", Time([&]{ return x.Conv(w); })); }
  { Tensor x = R({1,3,320,320}), w = R({16,3,3,3}); ConvOptions o = p1; o.stride={2,2};
    printf("conv0 %.4f\n", Time([&]{ return x.Conv(w, std::nullopt, o); }));
    printf("conv0 taps %.4f\n", Time([&]{ return TapsFull(x, w, 3, 2); })); }
}
