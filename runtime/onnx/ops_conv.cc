// Convolution and pooling: Conv, ConvTranspose, MaxPool (with Indices),
// AveragePool, LpPool, Global{Average,Max,Lp}Pool, MaxUnpool, with ONNX's
// auto_pad, pads, strides, dilations and ceil_mode.
#include <cmath>
#include <limits>

#include "absl/strings/str_join.h"
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

// Spatial geometry of a conv/pool node over `n` spatial axes.
struct Window {
  std::vector<int64_t> kernel, strides, dilations;
  PairList pads;  // (begin, end) per spatial axis
};

absl::StatusOr<Window> ReadWindow(const OpContext& ctx, const Shape& in_spatial,
                                  std::vector<int64_t> kernel) {
  const size_t n = in_spatial.size();
  Window w;
  w.kernel = std::move(kernel);
  w.strides = ctx.Ints("strides", std::vector<int64_t>(n, 1));
  w.dilations = ctx.Ints("dilations", std::vector<int64_t>(n, 1));
  if (w.kernel.size() != n || w.strides.size() != n || w.dilations.size() != n)
    return ctx.Error("kernel_shape [", absl::StrJoin(w.kernel, ", "),
                     "], strides and dilations must have ", n, " entries");
  for (size_t a = 0; a < n; ++a)
    if (w.strides[a] < 1 || w.dilations[a] < 1 || w.kernel[a] < 1)
      return ctx.Error("kernel, strides and dilations must be positive");
  const std::string auto_pad = ctx.Str("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    std::vector<int64_t> pads = ctx.Ints("pads", std::vector<int64_t>(2 * n, 0));
    if (pads.size() != 2 * n) return ctx.Error(pads.size(), " pads for ", n, " spatial axes");
    for (size_t a = 0; a < n; ++a) w.pads.push_back({pads[a], pads[a + n]});
  } else if (auto_pad == "VALID") {
    w.pads.assign(n, {0, 0});
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (size_t a = 0; a < n; ++a) {
      const int64_t out = (in_spatial[a] + w.strides[a] - 1) / w.strides[a];
      const int64_t total = std::max<int64_t>(
          0, (out - 1) * w.strides[a] + (w.kernel[a] - 1) * w.dilations[a] + 1 - in_spatial[a]);
      const int64_t small = total / 2, big = total - small;
      w.pads.push_back(auto_pad == "SAME_UPPER" ? std::pair{small, big} : std::pair{big, small});
    }
  } else {
    return ctx.Error("unknown auto_pad '", auto_pad, "'");
  }
  return w;
}

Shape Spatial(const Tensor& x) { return Shape(x.shape().begin() + 2, x.shape().end()); }

// (1, c, 1, ...) for a rank-`rank` tensor.
Shape ChannelShape(int64_t rank, int64_t c) {
  Shape s(rank, 1);
  s[1] = c;
  return s;
}

// A depthwise convolution (one group per input channel, weight [C*m, 1, K...])
// as a sum over kernel taps of strided views times per-channel weights: an
// elementwise kernel with no reduce axis, which vectorizes along the image
// rows. An error tensor when the convolution is not depthwise.
Tensor Depthwise(const Tensor& x, const Tensor& w, const ConvOptions& o) {
  const Tensor no = Tensor::Error(absl::UnimplementedError("not depthwise"));
  const int64_t n = x.ndim() - 2, c = x.shape()[1];
  if (o.groups != c || c < 2 || w.shape()[1] != 1 || w.shape()[0] % c != 0) return no;
  int64_t taps = 1;
  for (int64_t a = 0; a < n; ++a) taps *= w.shape()[2 + a];
  if (taps > 49) return no;
  const int64_t m = w.shape()[0] / c, co = c * m;
  Tensor in = x;
  if (m > 1) {
    Shape s = x.shape(), e = x.shape();
    s.insert(s.begin() + 2, 1);
    e.insert(e.begin() + 2, m);
    Shape r = x.shape();
    r[1] = co;
    in = x.Reshape(s).Expand(e).Reshape(r);
  }
  PairList pads = {{0, 0}, {0, 0}};
  for (int64_t a = 0; a < n; ++a) pads.push_back(o.padding[a]);
  Tensor padded = in.Pad(pads);
  Shape out;
  for (int64_t a = 0; a < n; ++a) {
    const int64_t span = padded.shape()[2 + a] - ((w.shape()[2 + a] - 1) * o.dilation[a] + 1);
    if (span < 0) return no;
    out.push_back(span / o.stride[a] + 1);
  }
  Tensor wf = w.Reshape({co, taps});
  Tensor acc;
  std::vector<int64_t> pos(n, 0);
  for (int64_t t = 0; t < taps; ++t) {
    std::vector<SliceSpec> specs(2);
    for (int64_t a = 0; a < n; ++a) {
      const int64_t start = pos[a] * o.dilation[a];
      specs.push_back(SliceSpec{start, start + (out[a] - 1) * o.stride[a] + 1, o.stride[a]});
    }
    Tensor term = padded.Slice(specs).Mul(wf.Slice(1, t, t + 1).Reshape(ChannelShape(n + 2, co)));
    acc = t == 0 ? term : acc.Add(term);
    for (int64_t a = n - 1; a >= 0 && ++pos[a] == w.shape()[2 + a]; --a) pos[a] = 0;
  }
  return acc;
}

absl::Status Conv(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor w, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> b, ctx.OptInput(2));
  if (x.ndim() < 3 || w.ndim() != x.ndim())
    return ctx.Error("input ", ShapeToString(x.shape()), " and weight ", ShapeToString(w.shape()),
                     " must be (N, C, *spatial) of one rank >= 3");
  ASSIGN_OR_RETURN(Window win, ReadWindow(ctx, Spatial(x), ctx.Ints("kernel_shape", Spatial(w))));
  if (win.kernel != Spatial(w))
    return ctx.Error("kernel_shape [", absl::StrJoin(win.kernel, ", "), "] differs from weight ",
                     ShapeToString(w.shape()));
  ConvOptions o;
  o.groups = ctx.Int("group", 1);
  o.stride = win.strides;
  o.dilation = win.dilations;
  o.padding = win.pads;
  // The input is materialized: a convolution reads every input element once
  // per kernel tap, so recomputing a fused producer there multiplies its cost.
  if (b && b->shape() != Shape{w.shape()[0]})
    return ctx.Error("bias ", ShapeToString(b->shape()), " must be (", w.shape()[0], ",)");
  Tensor y = Depthwise(x.Contiguous(), w, o);
  if (!y.ok()) y = x.Contiguous().Conv(w, std::nullopt, o);
  if (b) y = y.Add(b->Reshape(ChannelShape(x.ndim(), b->numel())));
  ctx.Set(0, ctx.Shared(0, y));
  return absl::OkStatus();
}

// ConvTranspose whose windows do not overlap (stride == kernel, no dilation,
// one group, no output padding): every input pixel writes its own k-block of
// the output, so the layer is one matmul [N*S, Ci] x [Ci, Co*K] and a
// pixel-shuffle view, instead of a convolution over a zero-stuffed input
// where most products are zeros. An error tensor when the case does not apply.
Tensor NonOverlappingConvTranspose(const Tensor& x, const Tensor& w, const ConvOptions& o,
                                   const std::vector<int64_t>& kernel) {
  const int64_t n = x.ndim() - 2;
  const Tensor no = Tensor::Error(absl::UnimplementedError("overlapping windows"));
  if (o.groups != 1 || static_cast<int64_t>(kernel.size()) != n) return no;
  for (int64_t a = 0; a < n; ++a) {
    if (o.stride[a] != kernel[a] || o.dilation[a] != 1 || o.output_padding[a] != 0) return no;
    if (o.padding[a].first < 0 || o.padding[a].second < 0) return no;
  }
  const int64_t batch = x.shape()[0], ci = x.shape()[1], co = w.shape()[1];
  int64_t pixels = 1, taps = 1;
  for (int64_t a = 0; a < n; ++a) {
    pixels *= x.shape()[2 + a];
    taps *= kernel[a];
  }
  // [N, S, Ci] x [Ci, Co*K] -> [N, S..., Co, K...] -> [N, Co, S0, K0, S1, K1, ...].
  // The product is materialized in its natural layout; the shuffle is a view.
  Tensor y = x.Reshape({batch, ci, pixels})
                 .Transpose(1, 2)
                 .Matmul(w.Reshape({ci, co * taps}))
                 .Contiguous();
  Shape split = {batch};
  for (int64_t a = 0; a < n; ++a) split.push_back(x.shape()[2 + a]);
  split.push_back(co);
  for (int64_t a = 0; a < n; ++a) split.push_back(kernel[a]);
  std::vector<int64_t> order = {0, n + 1};
  Shape merged = {batch, co};
  for (int64_t a = 0; a < n; ++a) {
    order.push_back(1 + a);
    order.push_back(n + 2 + a);
    merged.push_back(x.shape()[2 + a] * kernel[a]);
  }
  y = y.Reshape(split).Permute(order).Reshape(merged);
  PairList crop = {{0, batch}, {0, co}};
  for (int64_t a = 0; a < n; ++a)
    crop.push_back({o.padding[a].first, merged[2 + a] - o.padding[a].second});
  return y.Shrink(crop);
}

absl::Status ConvTranspose(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor w, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> b, ctx.OptInput(2));
  if (x.ndim() < 3 || w.ndim() != x.ndim())
    return ctx.Error("input ", ShapeToString(x.shape()), " and weight ", ShapeToString(w.shape()),
                     " must be (N, C, *spatial) of one rank >= 3");
  const Shape in = Spatial(x);
  const size_t n = in.size();
  const std::vector<int64_t> kernel = ctx.Ints("kernel_shape", Spatial(w));
  const std::vector<int64_t> strides = ctx.Ints("strides", std::vector<int64_t>(n, 1));
  const std::vector<int64_t> dil = ctx.Ints("dilations", std::vector<int64_t>(n, 1));
  std::vector<int64_t> outpad = ctx.Ints("output_padding", std::vector<int64_t>(n, 0));
  const std::vector<int64_t> output_shape = ctx.Ints("output_shape");
  const std::string auto_pad = ctx.Str("auto_pad", "NOTSET");
  if (kernel.size() != n || strides.size() != n || dil.size() != n || outpad.size() != n)
    return ctx.Error("kernel_shape, strides, dilations and output_padding need ", n, " entries");
  PairList pads;
  if (!output_shape.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    std::vector<int64_t> target = output_shape;
    if (target.size() == n + 2) target.erase(target.begin(), target.begin() + 2);
    if (target.empty())
      for (size_t a = 0; a < n; ++a) target.push_back(in[a] * strides[a]);
    if (target.size() != n) return ctx.Error("output_shape needs ", n, " entries");
    for (size_t a = 0; a < n; ++a) {
      int64_t total =
          strides[a] * (in[a] - 1) + outpad[a] + (kernel[a] - 1) * dil[a] + 1 - target[a];
      if (total < 0) {  // the output grows past the full result: extra output padding
        outpad[a] -= total;
        total = 0;
      }
      const int64_t half = total / 2;
      pads.push_back(auto_pad == "SAME_UPPER" ? std::pair{half, total - half}
                                              : std::pair{total - half, half});
    }
  } else {
    std::vector<int64_t> p = ctx.Ints("pads", std::vector<int64_t>(2 * n, 0));
    if (p.size() != 2 * n) return ctx.Error(p.size(), " pads for ", n, " spatial axes");
    for (size_t a = 0; a < n; ++a) pads.push_back({p[a], p[a + n]});
  }
  ConvOptions o;
  o.groups = ctx.Int("group", 1);
  o.stride = strides;
  o.dilation = dil;
  o.padding = pads;
  // Output padding past what the conv-transpose API allows (stride) is zero
  // rows appended after the computation.
  std::vector<int64_t> extra(n, 0);
  for (size_t a = 0; a < n; ++a) {
    const int64_t limit = std::max(strides[a], dil[a]) - 1;
    if (outpad[a] > limit) {
      extra[a] = outpad[a] - limit;
      outpad[a] = limit;
    }
  }
  o.output_padding = outpad;
  Tensor y = NonOverlappingConvTranspose(x, w, o, kernel);
  if (!y.ok()) y = x.ConvTranspose(w, std::nullopt, o);
  bool any_extra = false;
  for (int64_t e : extra) any_extra |= e != 0;
  if (any_extra) {
    PairList p = {{0, 0}, {0, 0}};
    for (int64_t e : extra) p.push_back({0, e});
    y = y.Pad(p);
  }
  if (b) y = y.Add(b->Reshape(ChannelShape(x.ndim(), b->numel())));
  ctx.Set(0, ctx.Shared(0, y));
  return absl::OkStatus();
}

absl::StatusOr<PoolOptions> ReadPool(OpContext& ctx, const Tensor& x) {
  if (x.ndim() < 3)
    return ctx.Error("input must be (N, C, *spatial), got ", ShapeToString(x.shape()));
  std::vector<int64_t> kernel = ctx.Ints("kernel_shape");
  if (kernel.empty()) return ctx.Error("attribute 'kernel_shape' is required");
  ASSIGN_OR_RETURN(Window w, ReadWindow(ctx, Spatial(x), kernel));
  PoolOptions o;
  o.kernel = w.kernel;
  o.stride = w.strides;
  o.dilation = w.dilations;
  o.padding = w.pads;
  o.ceil_mode = ctx.Int("ceil_mode", 0) != 0;
  o.count_include_pad = ctx.Int("count_include_pad", 0) != 0;
  return o;
}

// Output size of one pooled axis.
int64_t PoolOut(int64_t in, int64_t k, int64_t s, int64_t d, std::pair<int64_t, int64_t> pad,
                bool ceil_mode) {
  const int64_t span = in + pad.first + pad.second - ((k - 1) * d + 1);
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  // A last window may not start inside the end padding.
  if (ceil_mode && (out - 1) * s >= in + pad.first) --out;
  return out;
}

// The k-th window tap of every output position: a strided view of the
// padded input with shape (N, C, *out), for each kernel offset.
std::vector<Tensor> WindowTaps(const Tensor& padded, const std::vector<int64_t>& kernel,
                               const std::vector<int64_t>& strides, const std::vector<int64_t>& dil,
                               const Shape& out) {
  const size_t n = kernel.size();
  std::vector<Tensor> taps;
  std::vector<int64_t> pos(n, 0);
  while (true) {
    std::vector<SliceSpec> specs(2);
    for (size_t a = 0; a < n; ++a) {
      const int64_t start = pos[a] * dil[a];
      specs.push_back(SliceSpec{start, start + (out[a] - 1) * strides[a] + 1, strides[a]});
    }
    taps.push_back(padded.Slice(specs));
    size_t a = n;
    while (a > 0 && ++pos[a - 1] == kernel[a - 1]) pos[--a] = 0;
    if (a == 0) break;
  }
  return taps;
}

absl::Status MaxPool(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(PoolOptions o, ReadPool(ctx, x));
  if (!ctx.Wants(1)) {
    ctx.Set(0, x.MaxPool(o));
    return absl::OkStatus();
  }
  // With Indices: compare the window taps one by one, keeping the first
  // maximum and its flat index into the input (row-major, or column-major
  // spatial order for storage_order 1).
  const Shape in = Spatial(x);
  const size_t n = in.size();
  Shape out;
  for (size_t a = 0; a < n; ++a)
    out.push_back(
        PoolOut(in[a], o.kernel[a], o.stride[a], o.dilation[a], o.padding[a], o.ceil_mode));
  PairList pads = {{0, 0}, {0, 0}};
  for (size_t a = 0; a < n; ++a) {
    const int64_t need = (out[a] - 1) * o.stride[a] + (o.kernel[a] - 1) * o.dilation[a] + 1;
    pads.push_back({o.padding[a].first, std::max<int64_t>(0, need - in[a] - o.padding[a].first)});
  }
  const DType d = x.dtype();
  Number lowest = d.is_float() ? Number(-std::numeric_limits<double>::infinity())
                               : Number(d.is_unsigned() ? int64_t{0} : d.min_int());
  Tensor padded = x.Pad(pads, lowest);
  // Flat input index of every element, built from per-axis ranges.
  const bool col_major = ctx.Int("storage_order", 0) != 0;
  std::vector<int64_t> strides(x.ndim());
  int64_t acc = 1;
  for (int64_t a = x.ndim() - 1; a >= 0; --a) {
    strides[a] = acc;
    acc *= x.shape()[a];
  }
  if (col_major) {  // spatial axes column-major: the first spatial axis varies fastest
    int64_t sp = 1;
    for (size_t a = 0; a < n; ++a) {
      strides[2 + a] = sp;
      sp *= in[a];
    }
  }
  Tensor index = Tensor::Zeros(x.shape(), DType::Int64());
  for (int64_t a = 0; a < x.ndim(); ++a) {
    Shape s(x.ndim(), 1);
    s[a] = x.shape()[a];
    index =
        index.Add(Tensor::Arange(0, x.shape()[a], 1, DType::Int64()).Mul(strides[a]).Reshape(s));
  }
  Tensor padded_index = index.Pad(pads, -1);
  std::vector<Tensor> values = WindowTaps(padded, o.kernel, o.stride, o.dilation, out);
  std::vector<Tensor> indices = WindowTaps(padded_index, o.kernel, o.stride, o.dilation, out);
  Tensor best = values[0], best_index = indices[0];
  for (size_t k = 1; k < values.size(); ++k) {
    Tensor better = values[k].Gt(best);
    best = better.Where(values[k], best);
    best_index = better.Where(indices[k], best_index);
  }
  ctx.Set(0, best);
  ctx.Set(1, best_index);
  return absl::OkStatus();
}

absl::Status AveragePool(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(PoolOptions o, ReadPool(ctx, x));
  ctx.Set(0, x.AvgPool(o).Cast(x.dtype()));
  return absl::OkStatus();
}

absl::Status LpPool(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(PoolOptions o, ReadPool(ctx, x));
  const double p = static_cast<double>(ctx.Int("p", 2));
  const Shape in = Spatial(x);
  Shape out;
  PairList pads = {{0, 0}, {0, 0}};
  for (size_t a = 0; a < in.size(); ++a) {
    out.push_back(
        PoolOut(in[a], o.kernel[a], o.stride[a], o.dilation[a], o.padding[a], o.ceil_mode));
    const int64_t need = (out[a] - 1) * o.stride[a] + (o.kernel[a] - 1) * o.dilation[a] + 1;
    pads.push_back({o.padding[a].first, std::max<int64_t>(0, need - in[a] - o.padding[a].first)});
  }
  Tensor powed = x.Abs().Pow(p).Pad(pads);
  std::vector<Tensor> taps = WindowTaps(powed, o.kernel, o.stride, o.dilation, out);
  Tensor sum = taps[0];
  for (size_t k = 1; k < taps.size(); ++k) sum = sum.Add(taps[k]);
  ctx.Set(0, sum.Pow(1.0 / p).Cast(x.dtype()));
  return absl::OkStatus();
}

template <int kKind>  // 0 average, 1 max, 2 Lp
absl::Status GlobalPool(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  if (x.ndim() < 3)
    return ctx.Error("input must be (N, C, *spatial), got ", ShapeToString(x.shape()));
  std::vector<int64_t> axes;
  for (int64_t a = 2; a < x.ndim(); ++a) axes.push_back(a);
  Tensor y;
  if (kKind == 0) y = x.Mean(axes, true).Cast(x.dtype());
  if (kKind == 1) y = x.Max(axes, true);
  if (kKind == 2) {
    const double p = static_cast<double>(ctx.Int("p", 2));
    y = x.Abs().Pow(p).Sum(axes, true).Pow(1.0 / p).Cast(x.dtype());
  }
  ctx.Set(0, y);
  return absl::OkStatus();
}

absl::Status MaxUnpool(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor index, ctx.Input(1));
  if (x.ndim() < 3 || index.shape() != x.shape())
    return ctx.Error("X ", ShapeToString(x.shape()), " and I ", ShapeToString(index.shape()),
                     " must have one (N, C, *spatial) shape");
  Shape out_shape;
  if (ctx.Has(2)) {
    ASSIGN_OR_RETURN(out_shape, ctx.IntsInput(2));
  } else {
    ASSIGN_OR_RETURN(Window w, ReadWindow(ctx, Spatial(x), ctx.Ints("kernel_shape")));
    out_shape = {x.shape()[0], x.shape()[1]};
    for (size_t a = 0; a < w.kernel.size(); ++a)
      out_shape.push_back((x.shape()[2 + a] - 1) * w.strides[a] + w.kernel[a] - w.pads[a].first -
                          w.pads[a].second);
  }
  int64_t total = 1;
  for (int64_t d : out_shape) total *= d;
  Tensor flat = Tensor::Zeros({total}, x.dtype());
  ctx.Set(0, flat.Scatter(0, index.Flatten().Cast(DType::Int64()), x.Flatten()).Reshape(out_shape));
  return absl::OkStatus();
}

// Col2Im (opset 18): sums the columns [N, C * prod(block), L] back into an
// image: every kernel offset's [N, C, *blocks] map is spread by the stride
// (zero-stuffed), shifted to its offset and added.
absl::Status Col2Im(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> image, ctx.IntsInput(1));
  ASSIGN_OR_RETURN(std::vector<int64_t> block, ctx.IntsInput(2));
  const size_t n = image.size();
  if (x.ndim() != 3 || block.size() != n || n == 0)
    return ctx.Error("input [N, C*K, L] with image_shape and block_shape of one length expected");
  const std::vector<int64_t> dil = ctx.Ints("dilations", std::vector<int64_t>(n, 1));
  const std::vector<int64_t> stride = ctx.Ints("strides", std::vector<int64_t>(n, 1));
  const std::vector<int64_t> pads = ctx.Ints("pads", std::vector<int64_t>(2 * n, 0));
  if (dil.size() != n || stride.size() != n || pads.size() != 2 * n)
    return ctx.Error("dilations, strides and pads do not match ", n, " spatial axes");
  int64_t taps = 1, blocks = 1;
  Shape counts;
  for (size_t a = 0; a < n; ++a) {
    if (block[a] <= 0 || stride[a] <= 0 || dil[a] <= 0 || image[a] <= 0)
      return ctx.Error("sizes, strides and dilations must be positive");
    taps *= block[a];
    const int64_t span = image[a] + pads[a] + pads[a + n] - (dil[a] * (block[a] - 1) + 1);
    if (span < 0) return ctx.Error("block larger than the padded image");
    counts.push_back(span / stride[a] + 1);
    blocks *= counts.back();
  }
  const int64_t batch = x.shape()[0];
  if (x.shape()[1] % taps != 0 || x.shape()[2] != blocks)
    return ctx.Error("input ", ShapeToString(x.shape()), " does not hold ", taps, " taps of ",
                     blocks, " blocks");
  const int64_t c = x.shape()[1] / taps;
  RETURN_IF_ERROR(ctx.CheckElements(batch * c * [&] {
    int64_t p = 1;
    for (size_t a = 0; a < n; ++a) p *= image[a] + pads[a] + pads[a + n];
    return p;
  }()));
  Shape spread_shape = {batch, c};  // the padded image
  for (size_t a = 0; a < n; ++a) spread_shape.push_back(image[a] + pads[a] + pads[a + n]);
  Shape cols_shape = {batch, c, taps};
  cols_shape.insert(cols_shape.end(), counts.begin(), counts.end());
  Tensor cols = x.Reshape(cols_shape);
  Tensor acc = Tensor::Zeros(spread_shape, x.dtype());
  std::vector<int64_t> pos(n, 0);
  for (int64_t t = 0; t < taps; ++t) {
    // [N, C, *counts] -> zero-stuffed by the stride -> placed at the offset.
    Tensor m = cols.Select(2, t);
    Shape inter = {batch, c}, stuffed = {batch, c};
    PairList stuff = {{0, 0}, {0, 0}};
    for (size_t a = 0; a < n; ++a) {
      inter.insert(inter.end(), {counts[a], 1});
      stuff.insert(stuff.end(), {{0, 0}, {0, stride[a] - 1}});
      stuffed.push_back(counts[a] * stride[a]);
    }
    m = m.Reshape(inter).Pad(stuff).Reshape(stuffed);
    PairList place = {{0, 0}, {0, 0}};
    for (size_t a = 0; a < n; ++a) {
      const int64_t begin = pos[a] * dil[a];
      place.push_back({begin, spread_shape[2 + a] - begin - stuffed[2 + a]});
    }
    acc = acc.Add(m.Pad(place));
    for (int64_t a = static_cast<int64_t>(n) - 1; a >= 0 && ++pos[a] == block[a]; --a) pos[a] = 0;
  }
  PairList crop = {{0, 0}, {0, 0}};
  for (size_t a = 0; a < n; ++a) crop.push_back({-pads[a], -pads[a + n]});
  ctx.Set(0, acc.Pad(crop));
  return absl::OkStatus();
}

}  // namespace

void RegisterConvOps(OpRegistry& r) {
  auto add = [&](const char* name, int since, OpFn fn) { r.Add(kOnnxDomain, name, since, fn); };
  add("Conv", 1, Conv);
  add("ConvTranspose", 1, ConvTranspose);
  add("MaxPool", 1, MaxPool);
  add("AveragePool", 1, AveragePool);
  add("LpPool", 1, LpPool);
  add("GlobalAveragePool", 1, GlobalPool<0>);
  add("GlobalMaxPool", 1, GlobalPool<1>);
  add("GlobalLpPool", 1, GlobalPool<2>);
  add("MaxUnpool", 9, MaxUnpool);
  add("Col2Im", 18, Col2Im);
}

}  // namespace uop::onnx_import
