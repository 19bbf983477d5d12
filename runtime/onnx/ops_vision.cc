// Spatial sampling: GridSample (bilinear, nearest, bicubic; zeros, border,
// reflection padding; align_corners) in the tensor graph, following PyTorch's
// grid_sampler that ONNX's test data comes from, and RoiAlign (avg/max,
// half_pixel or output_half_pixel) on the host, since its sampling grid
// depends on the box values.
#include <cmath>

#include "absl/strings/str_join.h"
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

// Grid coordinate in [-1, 1] -> pixel coordinate.
Tensor Unnormalize(const Tensor& g, int64_t size, bool align_corners) {
  return align_corners ? g.Add(1).Mul((size - 1) / 2.0) : g.Add(1).Mul(size / 2.0).Sub(0.5);
}

// PyTorch's reflect_coordinates over [twice_low / 2, twice_high / 2].
Tensor Reflect(const Tensor& x, double twice_low, double twice_high) {
  if (twice_low == twice_high) return x.ZerosLike();
  const double lo = twice_low / 2, span = (twice_high - twice_low) / 2;
  Tensor in = x.Sub(lo).Abs();
  Tensor flips = in.Div(span).Floor();
  Tensor extra = in.Sub(flips.Mul(span));
  Tensor even = flips.Mod(2.0).Eq(0.0);
  return even.Where(extra.Add(lo), extra.Neg().Add(span + lo));
}

// Padding applied to a coordinate (border clamps, reflection reflects then clamps).
Tensor Pad(const Tensor& x, int64_t size, const std::string& mode, bool align_corners) {
  if (mode == "border") return x.Maximum(0.0).Minimum(static_cast<double>(size - 1));
  if (mode == "reflection") {
    Tensor r = align_corners ? Reflect(x, 0, 2.0 * (size - 1)) : Reflect(x, -1, 2.0 * size - 1);
    return r.Maximum(0.0).Minimum(static_cast<double>(size - 1));
  }
  return x;
}

absl::Status GridSample(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor grid, ctx.Input(1));
  if (x.ndim() != 4 || grid.ndim() != 4 || grid.shape()[3] != 2 || grid.shape()[0] != x.shape()[0])
    return ctx.Error("X [N, C, H, W] and grid [N, Ho, Wo, 2] expected, got ",
                     ShapeToString(x.shape()), " and ", ShapeToString(grid.shape()));
  std::string mode = ctx.Str("mode", "bilinear");
  if (mode == "linear") mode = "bilinear";
  if (mode == "cubic") mode = "bicubic";
  const std::string padding = ctx.Str("padding_mode", "zeros");
  const bool align = ctx.Int("align_corners", 0) != 0;
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic")
    return ctx.Error("unknown mode '", mode, "'");
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    return ctx.Error("unknown padding_mode '", padding, "'");
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const int64_t ho = grid.shape()[1], wo = grid.shape()[2];
  Tensor g = grid.Cast(DType::Float32());
  Tensor gx = Unnormalize(g.Select(3, 0), w, align);  // [N, Ho, Wo]
  Tensor gy = Unnormalize(g.Select(3, 1), h, align);
  Tensor flat = x.Cast(DType::Float32()).Reshape({n, c, h * w});
  // One tap: the pixel (iy, ix) (int coordinates as floats) times `weight`,
  // zero where it falls outside the image.
  auto tap = [&](const Tensor& iy, const Tensor& ix, const Tensor& weight) {
    Tensor inside =
        ix.Ge(0.0).LogicalAnd(ix.Le(w - 1.0)).LogicalAnd(iy.Ge(0.0)).LogicalAnd(iy.Le(h - 1.0));
    Tensor idx = iy.Maximum(0.0)
                     .Minimum(h - 1.0)
                     .Mul(static_cast<double>(w))
                     .Add(ix.Maximum(0.0).Minimum(w - 1.0))
                     .Cast(DType::Int64())
                     .Reshape({n, 1, ho * wo})
                     .Expand({n, c, ho * wo});
    Tensor v = flat.Gather(2, idx);
    Tensor wt = inside.Where(weight, 0.0f).Reshape({n, 1, ho * wo});
    return v.Mul(wt);
  };
  Tensor acc;
  auto add = [&](const Tensor& t) { acc = acc.ok() ? acc.Add(t) : t; };
  if (mode == "bicubic") {
    const double a = -0.75;
    Tensor x0 = gx.Floor(), y0 = gy.Floor();
    Tensor tx = gx.Sub(x0), ty = gy.Sub(y0);
    auto coeffs = [&](const Tensor& t) {
      auto near = [&](const Tensor& d) { return d.Mul(a + 2).Sub(a + 3).Mul(d).Mul(d).Add(1); };
      auto far = [&](const Tensor& d) {
        return d.Mul(a).Sub(5 * a).Mul(d).Add(8 * a).Mul(d).Sub(4 * a);
      };
      return std::vector<Tensor>{far(t.Add(1)), near(t), near(t.Neg().Add(1)), far(t.Neg().Add(2))};
    };
    std::vector<Tensor> cx = coeffs(tx), cy = coeffs(ty);
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        Tensor iy = Pad(y0.Add(i - 1), h, padding, align),
               ix = Pad(x0.Add(j - 1), w, padding, align);
        add(tap(iy, ix, cy[i].Mul(cx[j])));
      }
  } else {
    Tensor px = Pad(gx, w, padding, align), py = Pad(gy, h, padding, align);
    if (mode == "nearest") {
      add(tap(py.Round(), px.Round(), px.OnesLike()));
    } else {
      Tensor x0 = px.Floor(), y0 = py.Floor();
      Tensor fx = px.Sub(x0), fy = py.Sub(y0);
      add(tap(y0, x0, fx.Neg().Add(1).Mul(fy.Neg().Add(1))));
      add(tap(y0, x0.Add(1), fx.Mul(fy.Neg().Add(1))));
      add(tap(y0.Add(1), x0, fx.Neg().Add(1).Mul(fy)));
      add(tap(y0.Add(1), x0.Add(1), fx.Mul(fy)));
    }
  }
  ctx.Set(0, acc.Reshape({n, c, ho, wo}).Cast(x.dtype()));
  return absl::OkStatus();
}

absl::Status RoiAlign(OpContext& ctx) {
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> x, ctx.HostInput(0));
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> rois, ctx.HostInput(1));
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> batch, ctx.HostInput(2));
  if (x->shape.size() != 4 || rois->shape.size() != 2 || rois->shape[1] != 4 ||
      batch->numel() != rois->shape[0])
    return ctx.Error("X [N, C, H, W], rois [R, 4] and batch_indices [R] expected");
  const std::string mode = ctx.Str("mode", "avg");
  const int64_t oh = ctx.Int("output_height", 1), ow = ctx.Int("output_width", 1);
  const int64_t ratio = ctx.Int("sampling_ratio", 0);
  const double scale = ctx.Float("spatial_scale", 1.0f);
  const bool half_pixel =
      ctx.opset() >= 16 && ctx.Str("coordinate_transformation_mode", "half_pixel") == "half_pixel";
  const int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
  const int64_t r = rois->shape[0];
  if (oh < 1 || ow < 1) return ctx.Error("output_height and output_width must be positive");
  RETURN_IF_ERROR(ctx.CheckElements(oh * ow));
  RETURN_IF_ERROR(ctx.CheckElements(r * c * oh * ow));
  std::vector<float> out(r * c * oh * ow, 0.0f);
  const double offset = half_pixel ? 0.5 : 0.0;
  for (int64_t k = 0; k < r; ++k) {
    const int64_t b = batch->AsInt(k);
    if (b < 0 || b >= n) return ctx.Error("batch index ", b, " is out of range");
    const double x1 = rois->AsDouble(k * 4) * scale - offset,
                 y1 = rois->AsDouble(k * 4 + 1) * scale - offset;
    const double x2 = rois->AsDouble(k * 4 + 2) * scale - offset,
                 y2 = rois->AsDouble(k * 4 + 3) * scale - offset;
    double rw = x2 - x1, rh = y2 - y1;
    if (!half_pixel) {
      rw = std::max(rw, 1.0);
      rh = std::max(rh, 1.0);
    }
    const double bh = rh / oh, bw = rw / ow;
    const double shd = ratio > 0 ? ratio : std::ceil(rh / oh);
    const double swd = ratio > 0 ? ratio : std::ceil(rw / ow);
    if (!(shd * swd <= 1e6))  // also false for NaN
      return ctx.Error("roi ", k, " needs ", shd, " x ", swd, " samples per bin");
    const int64_t sh = static_cast<int64_t>(shd), sw = static_cast<int64_t>(swd);
    const int64_t count = std::max<int64_t>(sh * sw, 1);
    for (int64_t ch = 0; ch < c; ++ch) {
      const int64_t base = (b * c + ch) * h * w;
      auto px = [&](int64_t yy, int64_t xx) { return x->AsDouble(base + yy * w + xx); };
      for (int64_t py = 0; py < oh; ++py)
        for (int64_t pxi = 0; pxi < ow; ++pxi) {
          double acc = mode == "max" ? -std::numeric_limits<double>::infinity() : 0.0;
          bool any = false;
          for (int64_t iy = 0; iy < sh; ++iy)
            for (int64_t ix = 0; ix < sw; ++ix) {
              double yy = y1 + py * bh + (iy + 0.5) * bh / sh;
              double xx = x1 + pxi * bw + (ix + 0.5) * bw / sw;
              double v = 0;
              if (!(yy < -1.0 || yy > h || xx < -1.0 || xx > w)) {
                yy = std::max(yy, 0.0);
                xx = std::max(xx, 0.0);
                int64_t y0 = static_cast<int64_t>(yy), x0 = static_cast<int64_t>(xx), y1i, x1i;
                if (y0 >= h - 1) {
                  y0 = y1i = h - 1;
                  yy = static_cast<double>(y0);
                } else {
                  y1i = y0 + 1;
                }
                if (x0 >= w - 1) {
                  x0 = x1i = w - 1;
                  xx = static_cast<double>(x0);
                } else {
                  x1i = x0 + 1;
                }
                const double ly = yy - y0, lx = xx - x0, hy = 1 - ly, hx = 1 - lx;
                if (mode == "max") {
                  v = std::max({hy * hx * px(y0, x0), hy * lx * px(y0, x1i), ly * hx * px(y1i, x0),
                                ly * lx * px(y1i, x1i)});
                } else {
                  v = hy * hx * px(y0, x0) + hy * lx * px(y0, x1i) + ly * hx * px(y1i, x0) +
                      ly * lx * px(y1i, x1i);
                }
              }
              any = true;
              acc = mode == "max" ? std::max(acc, v) : acc + v;
            }
          out[((k * c + ch) * oh + py) * ow + pxi] =
              static_cast<float>(mode == "max" ? (any ? acc : 0.0) : acc / count);
        }
    }
  }
  HostTensor y = HostTensor::FromVector(out, {r, c, oh, ow});
  Tensor t = TensorFromHost(y).Cast(x->dtype);
  ctx.Set(0, t);
  return absl::OkStatus();
}

// AffineGrid (opset 20): the sampling grid of GridSample for affine maps
// theta [N, 2, 3] (2-D) or [N, 3, 4] (3-D) over an output of `size`.
absl::Status AffineGrid(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor theta, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> size, ctx.IntsInput(1));
  const bool align = ctx.Int("align_corners", 0) != 0;
  const int64_t dims = static_cast<int64_t>(size.size()) - 2;
  if ((dims != 2 && dims != 3) || theta.ndim() != 3 || theta.shape()[1] != dims ||
      theta.shape()[2] != dims + 1 || theta.shape()[0] != size[0])
    return ctx.Error("theta ", ShapeToString(theta.shape()), " does not match size [",
                     absl::StrJoin(size, ", "), "]");
  int64_t points = 1;
  for (int64_t a = 0; a < dims; ++a) points *= size[2 + a];
  RETURN_IF_ERROR(ctx.CheckElements(points * (dims + 1)));
  // Base coordinates (x, y[, z], 1) of every output point, x fastest.
  auto linspace = [&](int64_t n) {
    Tensor i = Tensor::Arange(0, n, 1, DType::Float32());
    if (align) return n == 1 ? i.ZerosLike() : i.Mul(2.0 / (n - 1)).Sub(1.0);
    return i.Mul(2.0).Add(1.0).Div(static_cast<double>(n)).Sub(1.0);
  };
  Shape grid_shape(size.begin() + 2, size.end());
  std::vector<Tensor> coords;
  for (int64_t c = 0; c < dims; ++c) {  // c = 0 is x: the last spatial axis
    const int64_t axis = dims - 1 - c;
    Shape s(dims, 1);
    s[axis] = size[2 + axis];
    coords.push_back(linspace(size[2 + axis]).Reshape(s).Expand(grid_shape).Reshape({points, 1}));
  }
  coords.push_back(Tensor::Ones({points, 1}));
  Tensor base = Tensor::Cat(coords, 1);                                     // [P, dims + 1]
  Tensor grid = base.Matmul(theta.Cast(DType::Float32()).Transpose(1, 2));  // [N, P, dims]
  Shape out = {size[0]};
  out.insert(out.end(), grid_shape.begin(), grid_shape.end());
  out.push_back(dims);
  ctx.Set(0, grid.Reshape(out).Cast(theta.dtype()));
  return absl::OkStatus();
}

}  // namespace

void RegisterVisionOps(OpRegistry& r) {
  r.Add(kOnnxDomain, "GridSample", 16, GridSample);
  r.Add(kMsDomain, "GridSample", 1, GridSample);  // onnxruntime's, before opset 16
  r.Add(kOnnxDomain, "RoiAlign", 10, RoiAlign);
  r.Add(kOnnxDomain, "AffineGrid", 20, AffineGrid);
}

}  // namespace uop::onnx_import
