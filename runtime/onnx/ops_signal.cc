// Signal processing: DFT, STFT and MelWeightMatrix (opset 17). Transform
// lengths are static, so the DFT basis (cos/sin of 2 pi j k / n, computed in
// double on the host) is a constant matrix: a DFT is a matmul along its axis
// and an STFT a strided convolution whose kernels are the windowed basis.
#include <cmath>
#include <numbers>

#include "runtime/onnx/onnx_types.h"
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

// [n, bins] matrices of cos and sin(2 pi j k / n) for k < bins.
std::pair<Tensor, Tensor> Basis(int64_t n, int64_t bins, const std::vector<double>* window) {
  std::vector<float> c(n * bins), s(n * bins);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t k = 0; k < bins; ++k) {
      const double a = 2 * std::numbers::pi * static_cast<double>((j * k) % n) / n;
      const double w = window ? (*window)[j] : 1.0;
      c[j * bins + k] = static_cast<float>(w * std::cos(a));
      s[j * bins + k] = static_cast<float>(w * std::sin(a));
    }
  return {Tensor::FromVector(c, Shape{n, bins}), Tensor::FromVector(s, Shape{n, bins})};
}

absl::Status Dft(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  if (x.ndim() < 3 || (x.shape().back() != 1 && x.shape().back() != 2))
    return ctx.Error("input must be [batch, ..., 1 or 2], got ", ShapeToString(x.shape()));
  const int64_t r = x.ndim();
  int64_t axis = ctx.Int("axis", 1);
  if (ctx.opset() >= 20) {  // the axis became an input, negative from the full rank's end
    axis = -2;
    if (ctx.Has(2)) {
      ASSIGN_OR_RETURN(axis, ctx.IntInput(2));
    }
    if (axis < 0) axis += r;
  }
  ASSIGN_OR_RETURN(axis, NormAxis(ctx, axis, r - 1));
  if (axis == 0) return ctx.Error("axis must not be the batch axis");
  const bool inverse = ctx.Int("inverse", 0) != 0, onesided = ctx.Int("onesided", 0) != 0;
  const bool complex_in = x.shape().back() == 2;
  int64_t n = x.shape()[axis];
  if (ctx.Has(1) && ctx.In(1).shape() != Shape{0}) {
    ASSIGN_OR_RETURN(n, ctx.IntInput(1));
  }
  if (n <= 0) return ctx.Error("dft_length must be positive, got ", n);
  RETURN_IF_ERROR(ctx.CheckElements(n * n));
  // Real and imaginary parts with the transformed axis last, padded or cut to n.
  Tensor xf = x.Cast(DType::Float32());
  auto part = [&](int64_t p) {
    Tensor t = xf.Select(r - 1, p).Transpose(axis, -1);
    const int64_t have = t.shape().back();
    PairList pads(t.ndim(), {0, 0});
    pads.back() = {0, n - have};
    return t.Pad(pads);
  };
  Tensor re = part(0);
  Tensor im = complex_in ? part(1) : Tensor();
  const int64_t bins = onesided ? n / 2 + 1 : n;
  auto [c, s] = Basis(n, bins, nullptr);
  // forward: (a + ib)(cos - i sin); inverse: (a + ib)(cos + i sin) / n.
  const double sign = inverse ? 1.0 : -1.0;
  Tensor out_re = re.Matmul(c), out_im = re.Matmul(s).Mul(sign);
  if (complex_in) {
    out_re = out_re.Sub(im.Matmul(s).Mul(sign));
    out_im = out_im.Add(im.Matmul(c));
  }
  if (inverse) {
    out_re = out_re.Div(static_cast<double>(n));
    out_im = out_im.Div(static_cast<double>(n));
  }
  Tensor y = Tensor::Stack({out_re.Transpose(axis, -1), out_im.Transpose(axis, -1)}, -1);
  ctx.Set(0, y.Cast(x.dtype()));
  return absl::OkStatus();
}

absl::Status Stft(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(int64_t step, ctx.IntInput(1));
  if (x.ndim() != 3 || (x.shape()[2] != 1 && x.shape()[2] != 2))
    return ctx.Error("signal must be [batch, length, 1 or 2], got ", ShapeToString(x.shape()));
  std::vector<double> window;
  if (ctx.Has(2)) {
    ASSIGN_OR_RETURN(window, ctx.DoublesInput(2));
  }
  int64_t len = static_cast<int64_t>(window.size());
  if (ctx.Has(3)) {
    ASSIGN_OR_RETURN(len, ctx.IntInput(3));
  }
  if (len <= 0) return ctx.Error("needs a window or a frame_length");
  if (!window.empty() && static_cast<int64_t>(window.size()) != len)
    return ctx.Error("window of ", window.size(), " for frame_length ", len);
  if (step <= 0 || len > x.shape()[1]) return ctx.Error("bad frame_step or frame_length");
  RETURN_IF_ERROR(ctx.CheckElements(len * len));
  const bool onesided = ctx.Int("onesided", 1) != 0;
  const int64_t bins = onesided ? len / 2 + 1 : len;
  auto [c, s] = Basis(len, bins, window.empty() ? nullptr : &window);
  // Conv kernels [2 * bins, 1, len]: the cos rows then the -sin rows.
  Tensor kernels = Tensor::Cat({c.T(), s.T().Neg()}, 0).Reshape({2 * bins, 1, len});
  ConvOptions o;
  o.stride = {step};
  const int64_t batch = x.shape()[0];
  auto transform = [&](const Tensor& signal) {  // [batch, len] -> [batch, frames, bins, 2]
    Tensor y = signal.Reshape({batch, 1, signal.shape()[1]}).Conv(kernels, std::nullopt, o);
    if (!y.ok()) return y;
    const int64_t frames = y.shape()[2];
    return y.Reshape({batch, 2, bins, frames}).Permute({0, 3, 2, 1});
  };
  Tensor xf = x.Cast(DType::Float32());
  Tensor y = transform(xf.Select(2, 0));
  if (x.shape()[2] == 2) {
    // (a + ib) e^{-i t}: the imaginary part's transform rotated by i.
    Tensor yi = transform(xf.Select(2, 1));
    Tensor re = y.Select(3, 0).Sub(yi.Select(3, 1)), im = y.Select(3, 1).Add(yi.Select(3, 0));
    y = Tensor::Stack({re, im}, 3);
  }
  ctx.Set(0, y.Cast(x.dtype()));
  return absl::OkStatus();
}

absl::Status MelWeightMatrix(OpContext& ctx) {
  ASSIGN_OR_RETURN(int64_t mel_bins, ctx.IntInput(0));
  ASSIGN_OR_RETURN(int64_t dft_length, ctx.IntInput(1));
  ASSIGN_OR_RETURN(int64_t sample_rate, ctx.IntInput(2));
  ASSIGN_OR_RETURN(double lower, ctx.DoubleInput(3));
  ASSIGN_OR_RETURN(double upper, ctx.DoubleInput(4));
  ASSIGN_OR_RETURN(DType d, DTypeFromOnnx(static_cast<int32_t>(ctx.Int("output_datatype", 1))));
  if (mel_bins <= 0 || dft_length <= 0 || sample_rate <= 0)
    return ctx.Error("num_mel_bins, dft_length and sample_rate must be positive");
  const int64_t spec_bins = dft_length / 2 + 1;
  RETURN_IF_ERROR(ctx.CheckElements(spec_bins));
  RETURN_IF_ERROR(ctx.CheckElements(mel_bins));
  RETURN_IF_ERROR(ctx.CheckElements(spec_bins * mel_bins));
  // As the ONNX reference: mel edges spaced evenly, mapped back to dft bins.
  const double lo = 2595 * std::log10(1 + lower / 700), hi = 2595 * std::log10(1 + upper / 700);
  const double step = (hi - lo) / (mel_bins + 2);
  std::vector<int64_t> bins(mel_bins + 2);
  for (int64_t i = 0; i < mel_bins + 2; ++i) {
    const double hz = 700 * (std::pow(10.0, (i * step + lo) / 2595) - 1);
    bins[i] = static_cast<int64_t>(std::floor((dft_length + 1) * hz / sample_rate));
  }
  std::vector<double> out(spec_bins * mel_bins, 0.0);
  auto at = [&](int64_t j, int64_t i) -> double* {
    return j >= 0 && j < spec_bins ? &out[j * mel_bins + i] : nullptr;
  };
  for (int64_t i = 0; i < mel_bins; ++i) {
    const int64_t left = bins[i], center = bins[i + 1], right = bins[i + 2];
    if (center == left) {
      if (double* p = at(center, i)) *p = 1;
    } else {
      for (int64_t j = left; j <= center; ++j)
        if (double* p = at(j, i)) *p = static_cast<double>(j - left) / (center - left);
    }
    if (right > center)
      for (int64_t j = center; j < right; ++j)
        if (double* p = at(j, i)) *p = static_cast<double>(right - j) / (right - center);
  }
  ctx.Set(0, Tensor::FromVector(out, Shape{spec_bins, mel_bins}).Cast(d));
  return absl::OkStatus();
}

}  // namespace

void RegisterSignalOps(OpRegistry& r) {
  r.Add(kOnnxDomain, "DFT", 17, Dft);
  r.Add(kOnnxDomain, "STFT", 17, Stft);
  r.Add(kOnnxDomain, "MelWeightMatrix", 17, MelWeightMatrix);
}

}  // namespace uop::onnx_import
