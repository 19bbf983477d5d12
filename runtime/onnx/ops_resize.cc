// Resize (opsets 10-18) and Upsample: nearest (every nearest_mode), linear
// and cubic (cubic_coeff_a, exclude_outside), every
// coordinate_transformation_mode including tf_crop_and_resize with
// extrapolation_value, sizes or scales, axes and keep_aspect_ratio_policy.
//
// Output shapes are static, so the source taps of every output position are
// computed on the host, per axis, exactly as the ONNX reference does
// (interpolate_1d_with_x: edge-padded neighbours, ratio in (0, 1]). Then each
// resized axis is one tensor op: a gather of constant indices for nearest
// (a free expand when every source repeats the same number of times), or a
// product with a constant [in, out] weight matrix for linear and cubic.
#include <cmath>

#include "absl/strings/str_join.h"
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

struct ResizeParams {
  std::string mode = "nearest";
  std::string coord = "half_pixel";
  std::string nearest_mode = "round_prefer_floor";
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0;
  bool antialias = false;  // opset 18: widen linear/cubic filters when downsampling
};

// One output position's taps: (source index, weight), or `outside` for
// tf_crop_and_resize positions past the input (they take extrapolation_value).
struct Taps {
  std::vector<std::pair<int64_t, double>> taps;
  bool outside = false;
};

double SourceCoord(const ResizeParams& p, double x, double scale, int64_t in, int64_t out,
                   double roi_start, double roi_end) {
  const std::string& m = p.coord;
  if (m == "half_pixel") return (x + 0.5) / scale - 0.5;
  if (m == "half_pixel_symmetric") {
    const double adj = out / (scale * in);
    const double center = in / 2.0;
    const double offset = center * (1 - adj);
    return offset + (x + 0.5) / scale - 0.5;
  }
  if (m == "pytorch_half_pixel") return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
  if (m == "align_corners") return out == 1 ? 0.0 : x * (in - 1) / static_cast<double>(out - 1);
  if (m == "asymmetric") return x / scale;
  if (m == "tf_half_pixel_for_nn") return (x + 0.5) / scale;
  // tf_crop_and_resize
  if (out > 1) return roi_start * (in - 1) + x * (roi_end - roi_start) * (in - 1) / (out - 1);
  return 0.5 * (roi_start + roi_end) * (in - 1);
}

// The antialiased filters of the ONNX reference (opset 18): the kernel is
// stretched by 1 / scale when downsampling and its taps renormalized.
std::vector<double> AntialiasCoeffs(const ResizeParams& p, double ratio, double scale) {
  scale = std::min(scale, 1.0);
  std::vector<double> c;
  if (p.mode == "linear") {
    const int64_t start = static_cast<int64_t>(std::floor(-1 / scale) + 1);
    for (int64_t i = start; i < 2 - start; ++i)
      c.push_back(std::clamp(1 - std::abs((i - ratio) * scale), 0.0, 1.0));
  } else {
    const double a = p.cubic_a;
    const int64_t start = static_cast<int64_t>(std::floor(-2 / scale) + 1);
    for (int64_t i = start; i < 2 - start; ++i) {
      const double x = std::abs(scale * (i - ratio)), x2 = x * x, x3 = x2 * x;
      c.push_back(x <= 1  ? (a + 2) * x3 - (a + 3) * x2 + 1
                  : x < 2 ? a * x3 - 5 * a * x2 + 8 * a * x - 4 * a
                          : 0.0);
    }
  }
  double sum = 0;
  for (double v : c) sum += v;
  for (double& v : c) v /= sum;
  return c;
}

std::vector<double> Coeffs(const ResizeParams& p, double ratio, double scale) {
  if (p.antialias && p.mode != "nearest" && scale < 1) return AntialiasCoeffs(p, ratio, scale);
  if (p.mode == "nearest") {
    if (ratio == 1.0) return {0, 1};
    const std::string& n = p.nearest_mode;
    if (n == "round_prefer_floor") return {ratio <= 0.5 ? 1.0 : 0.0, ratio > 0.5 ? 1.0 : 0.0};
    if (n == "round_prefer_ceil") return {ratio < 0.5 ? 1.0 : 0.0, ratio >= 0.5 ? 1.0 : 0.0};
    if (n == "floor") return {1, 0};
    return {0, 1};  // ceil
  }
  if (p.mode == "linear") return {1 - ratio, ratio};
  const double a = p.cubic_a, r = ratio, s = 1 - ratio;
  return {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
          ((a + 2) * r - (a + 3)) * r * r + 1, ((a + 2) * s - (a + 3)) * s * s + 1,
          ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a};
}

Taps TapsFor(const ResizeParams& p, int64_t x, double scale, int64_t in, int64_t out,
             double roi_start, double roi_end) {
  Taps t;
  const double xo = SourceCoord(p, static_cast<double>(x), scale, in, out, roi_start, roi_end);
  if (p.coord == "tf_crop_and_resize" && (xo < 0 || xo > in - 1)) {
    t.outside = true;
    return t;
  }
  const double fl = std::floor(xo);
  const double ratio = xo == fl ? 1.0 : xo - fl;
  std::vector<double> c = Coeffs(p, ratio, scale);
  const int64_t n = static_cast<int64_t>(c.size());
  // The n nearest indices of the edge-padded input (ties to the lower one).
  const int64_t pad = (n + 1) / 2;
  const double xp = xo + pad;
  const int64_t limit = in + 2 * pad;
  std::vector<int64_t> idx;
  int64_t lo = static_cast<int64_t>(std::floor(xp)), hi = lo + 1;
  while (static_cast<int64_t>(idx.size()) < n) {
    const bool lo_ok = lo >= 0 && lo < limit, hi_ok = hi >= 0 && hi < limit;
    if (!lo_ok && !hi_ok) break;
    if (lo_ok && (!hi_ok || std::abs(xp - lo) <= std::abs(xp - hi))) {
      idx.push_back(lo--);
    } else {
      idx.push_back(hi++);
    }
  }
  std::sort(idx.begin(), idx.end());
  double sum = 0;
  for (int64_t k = 0; k < static_cast<int64_t>(idx.size()); ++k) {
    const int64_t src = idx[k] - pad;
    if (p.exclude_outside && (src < 0 || src >= in)) c[k] = 0;
    sum += c[k];
  }
  for (int64_t k = 0; k < static_cast<int64_t>(idx.size()); ++k) {
    if (c[k] == 0) continue;
    const int64_t src = std::clamp<int64_t>(idx[k] - pad, 0, in - 1);
    t.taps.push_back({src, p.exclude_outside && sum != 0 ? c[k] / sum : c[k]});
  }
  return t;
}

// Resizes axis `axis` of x to `out` positions.
absl::StatusOr<Tensor> ResizeAxis(const OpContext& ctx, const ResizeParams& p, const Tensor& x,
                                  int64_t axis, int64_t out, double scale, double roi_start,
                                  double roi_end) {
  const int64_t in = x.shape()[axis];
  if (in == 0) return ctx.Error("cannot resize an empty axis");
  RETURN_IF_ERROR(ctx.CheckElements(out));
  RETURN_IF_ERROR(ctx.CheckElements(in * out));
  std::vector<Taps> taps;
  bool identity = out == in, any_outside = false;
  for (int64_t o = 0; o < out; ++o) {
    taps.push_back(TapsFor(p, o, scale, in, out, roi_start, roi_end));
    const Taps& t = taps.back();
    any_outside |= t.outside;
    identity &= !t.outside && t.taps.size() == 1 && t.taps[0].first == o && t.taps[0].second == 1;
  }
  if (identity) return x;
  bool single = !any_outside;
  for (const Taps& t : taps) single &= t.taps.size() == 1 && t.taps[0].second == 1.0;
  if (single) {
    std::vector<int64_t> src;
    for (const Taps& t : taps) src.push_back(t.taps[0].first);
    // Every source repeated k times in order: an expand of a new axis.
    if (out % in == 0) {
      const int64_t k = out / in;
      bool repeat = true;
      for (int64_t o = 0; o < out && repeat; ++o) repeat = src[o] == o / k;
      if (repeat) {
        Shape s = x.shape();
        s.insert(s.begin() + axis + 1, 1);
        Shape e = s;
        e[axis + 1] = k;
        Shape r = x.shape();
        r[axis] = out;
        return x.Reshape(s).Expand(e).Reshape(r);
      }
    }
    Tensor index = Tensor::FromVector<int64_t>(src, Shape{out});
    return x.Take(axis, index);
  }
  // Weighted taps: y = x @ W along the axis with W [in, out].
  std::vector<float> w(in * out, 0.0f);
  std::vector<bool> outside(out, false);
  for (int64_t o = 0; o < out; ++o) {
    outside[o] = taps[o].outside;
    for (const auto& [src, wt] : taps[o].taps) w[src * out + o] += static_cast<float>(wt);
  }
  const DType d = x.dtype().is_float() ? x.dtype() : DType::Float32();
  Tensor weights = Tensor::FromVector(w, Shape{in, out}).Cast(d);
  std::vector<int64_t> perm;
  for (int64_t a = 0; a < x.ndim(); ++a)
    if (a != axis) perm.push_back(a);
  perm.push_back(axis);
  std::vector<int64_t> inv(x.ndim());
  for (int64_t a = 0; a < x.ndim(); ++a) inv[perm[a]] = a;
  Tensor y = x.Cast(d).Permute(perm).Matmul(weights).Permute(inv);
  if (any_outside) {
    std::vector<bool> mask = outside;
    Shape ms(x.ndim(), 1);
    ms[axis] = out;
    Tensor m = Tensor::FromVector<bool>(mask, ms);
    y = m.Where(Tensor::Full({}, p.extrapolation, d), y);
  }
  return y;
}

absl::Status ResizeImpl(OpContext& ctx, const ResizeParams& p, const Tensor& x,
                        std::vector<double> scales, std::vector<int64_t> sizes,
                        std::vector<double> roi, std::vector<int64_t> axes) {
  const int64_t r = x.ndim();
  if (axes.empty())
    for (int64_t a = 0; a < r; ++a) axes.push_back(a);
  ASSIGN_OR_RETURN(axes, NormAxes(ctx, axes, r));
  const size_t n = axes.size();
  if (!scales.empty() && scales.size() != n)
    return ctx.Error(scales.size(), " scales for ", n, " axes");
  if (!sizes.empty() && sizes.size() != n)
    return ctx.Error(sizes.size(), " sizes for ", n, " axes");
  if (scales.empty() && sizes.empty()) return ctx.Error("needs scales or sizes");
  if (!roi.empty() && roi.size() != 2 * n && roi.size() != 2 * static_cast<size_t>(r))
    return ctx.Error(roi.size(), " roi values for ", n, " axes");
  const bool roi_full = roi.size() == 2 * static_cast<size_t>(r) && n != static_cast<size_t>(r);
  std::vector<int64_t> out(n);
  std::vector<double> sc(n);
  if (!sizes.empty()) {
    const std::string policy = ctx.Str("keep_aspect_ratio_policy", "stretch");
    if (policy == "stretch") {
      for (size_t i = 0; i < n; ++i) {
        out[i] = sizes[i];
        sc[i] = static_cast<double>(sizes[i]) / x.shape()[axes[i]];
      }
    } else {
      double s = policy == "not_larger" ? 1e300 : 0;
      for (size_t i = 0; i < n; ++i) {
        const double f = static_cast<double>(sizes[i]) / x.shape()[axes[i]];
        s = policy == "not_larger" ? std::min(s, f) : std::max(s, f);
      }
      for (size_t i = 0; i < n; ++i) {
        sc[i] = s;
        out[i] = static_cast<int64_t>(std::round(s * x.shape()[axes[i]]));
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      if (scales[i] <= 0) return ctx.Error("scale ", scales[i], " must be positive");
      sc[i] = scales[i];
      out[i] = static_cast<int64_t>(std::floor(x.shape()[axes[i]] * scales[i]));
    }
  }
  for (size_t i = 0; i < n; ++i)
    if (out[i] < 0) return ctx.Error("negative output size ", out[i]);
  Tensor y = x;
  for (size_t i = 0; i < n; ++i) {
    double rs = 0, re = 1;
    if (!roi.empty()) {
      const size_t k = roi_full ? axes[i] : i, m = roi_full ? r : n;
      rs = roi[k];
      re = roi[k + m];
    }
    ASSIGN_OR_RETURN(y, ResizeAxis(ctx, p, y, axes[i], out[i], sc[i], rs, re));
  }
  ctx.Set(0, y.Cast(x.dtype()));
  return absl::OkStatus();
}

absl::Status Resize(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ResizeParams p;
  p.mode = ctx.Str("mode", "nearest");
  if (p.mode != "nearest" && p.mode != "linear" && p.mode != "cubic")
    return ctx.Error("unknown mode '", p.mode, "'");
  p.antialias = ctx.Int("antialias", 0) != 0;
  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
  if (ctx.opset() < 11) {
    p.coord = "asymmetric";
    p.nearest_mode = "floor";
    ASSIGN_OR_RETURN(scales, ctx.DoublesInput(1));
  } else {
    p.coord = ctx.Str("coordinate_transformation_mode", "half_pixel");
    p.nearest_mode = ctx.Str("nearest_mode", "round_prefer_floor");
    p.cubic_a = ctx.Float("cubic_coeff_a", -0.75f);
    p.exclude_outside = ctx.Int("exclude_outside", 0) != 0;
    p.extrapolation = ctx.Float("extrapolation_value", 0.0f);
    if (ctx.Has(1) && ctx.In(1).tensor().numel() > 0) {
      ASSIGN_OR_RETURN(roi, ctx.DoublesInput(1));
    }
    if (ctx.Has(2) && ctx.In(2).tensor().numel() > 0) {
      ASSIGN_OR_RETURN(scales, ctx.DoublesInput(2));
    }
    if (ctx.Has(3) && ctx.In(3).tensor().numel() > 0) {
      ASSIGN_OR_RETURN(sizes, ctx.IntsInput(3));
    }
  }
  static const char* kCoords[] = {
      "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
      "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  if (std::find(std::begin(kCoords), std::end(kCoords), p.coord) == std::end(kCoords))
    return ctx.Error("unknown coordinate_transformation_mode '", p.coord, "'");
  if (p.coord != "tf_crop_and_resize") roi.clear();
  return ResizeImpl(ctx, p, x, scales, sizes, roi, ctx.Ints("axes"));
}

absl::Status Upsample(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ResizeParams p;
  p.mode = ctx.Str("mode", "nearest");
  if (p.mode == "bilinear") p.mode = "linear";
  p.coord = "asymmetric";
  p.nearest_mode = "floor";
  std::vector<double> scales;
  if (ctx.opset() < 9) {
    for (float f : ctx.Floats("scales")) scales.push_back(f);
  } else {
    ASSIGN_OR_RETURN(scales, ctx.DoublesInput(1));
  }
  return ResizeImpl(ctx, p, x, scales, {}, {}, {});
}

}  // namespace

void RegisterResizeOps(OpRegistry& r) {
  r.Add(kOnnxDomain, "Resize", 10, Resize);
  r.Add(kOnnxDomain, "Upsample", 7, Upsample);
}

}  // namespace uop::onnx_import
