// Matmul, convolutions and pooling: broadcasted multiplies and windowed views
// (TensorOps::Pool) reduced by REDUCE_AXIS, as in tinygrad.
#include <algorithm>
#include <limits>
#include <numeric>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_internal.h"

namespace uop {
namespace {

using T = TensorOps;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> r(std::max<int64_t>(0, to - from));
  std::iota(r.begin(), r.end(), from);
  return r;
}

Shape Concat(std::initializer_list<Shape> parts) {
  Shape out;
  for (const Shape& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Extra right padding so the output size rounds up (torch ceil_mode), never
// starting a window in the right padding (tinygrad's _apply_ceil_mode).
PairList ApplyCeilMode(const PairList& pads, const std::vector<int64_t>& k,
                       const std::vector<int64_t>& s, const std::vector<int64_t>& d,
                       const std::vector<int64_t>& i) {
  PairList out = pads;
  for (size_t a = 0; a < k.size(); ++a) {
    auto [pb, pa] = pads[a];
    const int64_t extent = d[a] * (k[a] - 1) + 1;
    const int64_t span = i[a] + pb + pa - extent;
    if (span < 0) continue;  // the pool reports the kernel that does not fit
    const int64_t o = CeilDiv(span, s[a]) + 1;
    out[a].second += s[a] * (o - 1) + extent - (i[a] + pb + pa) -
                     std::max<int64_t>(0, s[a] * (o - 1) - (pb + i[a] - 1));
  }
  return out;
}

struct PoolSetup {
  std::vector<int64_t> k, s, d, i;
  PairList pads;
  std::vector<int64_t> axes;  // the window axes of the pooled view
};

absl::StatusOr<PoolSetup> SetupPool(absl::string_view op, const Tensor& x,
                                    const PoolOptions& opts) {
  PoolSetup p;
  const size_t n = opts.kernel.size();
  if (n == 0) return absl::InvalidArgumentError(absl::StrCat(op, ": empty kernel"));
  if (x.ndim() < static_cast<int64_t>(n))
    return absl::InvalidArgumentError(absl::StrCat(op, ": input ", ShapeToString(x.shape()),
                                                   " has fewer axes than the ", n, "-d kernel"));
  p.k = opts.kernel;
  absl::StatusOr<std::vector<int64_t>> s = T::PerAxis(op, "stride", opts.stride, n, 0);
  absl::StatusOr<std::vector<int64_t>> d = T::PerAxis(op, "dilation", opts.dilation, n, 1);
  absl::StatusOr<PairList> pads = T::PerAxisPairs(op, opts.padding, n);
  if (!s.ok()) return s.status();
  if (!d.ok()) return d.status();
  if (!pads.ok()) return pads.status();
  p.s = *s;
  for (size_t a = 0; a < n; ++a)
    if (opts.stride.empty()) p.s[a] = p.k[a];
  p.d = *d;
  p.pads = *pads;
  for (auto [b, e] : p.pads)
    if (b < 0 || e < 0) return absl::InvalidArgumentError(absl::StrCat(op, ": negative padding"));
  p.i.assign(x.shape().end() - n, x.shape().end());
  p.axes = Range(-static_cast<int64_t>(n), 0);
  return p;
}

}  // namespace

Tensor Tensor::Matmul(const Tensor& w, std::optional<DType> acc_dtype) const {
  TENSOR_RETURN_IF_ERROR(this, &w);
  const int64_t dx = ndim(), dw = w.ndim();
  if (dx == 0 || dw == 0)
    return T::Fail("Matmul", "both operands need at least 1 axis, got ", ShapeToString(shape()),
                   " and ", ShapeToString(w.shape()));
  const int64_t axis_w = dw - std::min<int64_t>(dw, 2);
  if (shape().back() != w.shape()[axis_w])
    return T::Fail("Matmul", "cannot multiply ", ShapeToString(shape()), " by ",
                   ShapeToString(w.shape()), ": ", shape().back(), " != ", w.shape()[axis_w]);
  const int64_t ones = std::min<int64_t>({dx - 1, dw - 1, 1});
  Shape xs(shape().begin(), shape().end() - 1);
  xs.insert(xs.end(), ones, 1);
  xs.push_back(shape().back());
  Shape ws(w.shape().begin(), w.shape().begin() + std::max<int64_t>(0, dw - 2));
  ws.insert(ws.end(), ones, 1);
  ws.insert(ws.end(), w.shape().begin() + axis_w, w.shape().end());
  Tensor x = Reshape(xs);
  Tensor y = w.Reshape(ws).Transpose(-1, -static_cast<int64_t>(std::min<int64_t>(dw, 2)));
  if (!T::BroadcastShapes("Matmul", x.shape(), y.shape()).ok())
    return T::Fail("Matmul", "cannot broadcast the batch axes of ", ShapeToString(shape()), " and ",
                   ShapeToString(w.shape()));
  DType out = acc_dtype ? *acc_dtype : Promote(dtype(), w.dtype());
  return x.Mul(y).Sum({-1}, false, acc_dtype).Cast(out);
}

Tensor Tensor::Linear(const Tensor& weight, const std::optional<Tensor>& bias) const {
  TENSOR_RETURN_IF_ERROR(this, &weight);
  if (weight.ndim() != 2)
    return T::Fail("Linear", "weight must be (out, in), got ", ShapeToString(weight.shape()));
  Tensor y = Matmul(weight.T());
  return bias ? y.Add(*bias) : y;
}

Tensor Tensor::Conv(const Tensor& weight, const std::optional<Tensor>& bias,
                    const ConvOptions& opts) const {
  TENSOR_RETURN_IF_ERROR(this, &weight);
  if (bias && !bias->ok()) return *bias;
  const int64_t n = ndim() - 2;
  if (n < 1 || weight.ndim() != ndim())
    return T::Fail("Conv", "input ", ShapeToString(shape()), " and weight ",
                   ShapeToString(weight.shape()),
                   " must both be (batch/cout, channels, *spatial) of one rank >= 3");
  const int64_t bs = shape()[0], cin_x = shape()[1], cout = weight.shape()[0],
                cin = weight.shape()[1], g = opts.groups;
  if (g < 1) return T::Fail("Conv", "groups must be positive, got ", g);
  if (cin * g != cin_x)
    return T::Fail("Conv", "input ", ShapeToString(shape()), " has ", cin_x, " channels, weight ",
                   ShapeToString(weight.shape()), " expects ", cin, " x ", g,
                   " groups = ", cin * g);
  if (cout % g != 0)
    return T::Fail("Conv", "output channels ", cout, " are not divisible by groups ", g);
  if (bias && bias->shape() != Shape{cout})
    return T::Fail("Conv", "bias ", ShapeToString(bias->shape()), " must be (", cout, ",)");
  absl::StatusOr<std::vector<int64_t>> stride = T::PerAxis("Conv", "stride", opts.stride, n, 1);
  absl::StatusOr<std::vector<int64_t>> dil = T::PerAxis("Conv", "dilation", opts.dilation, n, 1);
  absl::StatusOr<PairList> pads = T::PerAxisPairs("Conv", opts.padding, n);
  if (!stride.ok()) return Error(stride.status());
  if (!dil.ok()) return Error(dil.status());
  if (!pads.ok()) return Error(pads.status());
  Shape kernel(weight.shape().begin() + 2, weight.shape().end());
  // (bs, cin_x, *out, *kernel) windows of the padded input.
  Tensor x = T::Pool("Conv", T::PadLast(*this, *pads), kernel, *stride, *dil);
  if (!x.ok()) return x;
  const int64_t rcout = cout / g;
  Shape out(x.shape().begin() + 2, x.shape().begin() + 2 + n);
  // Broadcast to (bs, groups, rcout, *out, cin, *kernel) and reduce the last 1 + n axes.
  x = x.Reshape(Concat({{bs, g, cin, 1}, out, kernel}))
          .Expand(Concat({{bs, g, cin, rcout}, out, kernel}));
  std::vector<int64_t> order = {0, 1, 3};
  for (int64_t a : Range(4, 4 + n)) order.push_back(a);
  order.push_back(2);
  for (int64_t a : Range(4 + n, 4 + 2 * n)) order.push_back(a);
  x = x.Permute(order);
  Tensor w = weight.Reshape(Concat({{1, g, rcout}, Shape(n, 1), {cin}, kernel}));
  Tensor y = x.Mul(w).Sum(Range(-1 - n, 0), /*keepdim=*/true, opts.acc_dtype);
  y = y.Reshape(Concat({{bs, cout}, out}));
  if (!bias) return y;
  return y.Add(bias->Reshape(Concat({{1, cout}, Shape(n, 1)})));
}

Tensor Tensor::ConvTranspose(const Tensor& weight, const std::optional<Tensor>& bias,
                             const ConvOptions& opts) const {
  TENSOR_RETURN_IF_ERROR(this, &weight);
  if (bias && !bias->ok()) return *bias;
  const int64_t n = ndim() - 2;
  if (n < 1 || weight.ndim() != ndim())
    return T::Fail("ConvTranspose", "input ", ShapeToString(shape()), " and weight ",
                   ShapeToString(weight.shape()), " must both have one rank >= 3");
  const int64_t cin = shape()[1], g = opts.groups;
  if (g < 1) return T::Fail("ConvTranspose", "groups must be positive, got ", g);
  if (weight.shape()[0] != cin || cin % g != 0)
    return T::Fail("ConvTranspose", "weight ", ShapeToString(weight.shape()), " must have ", cin,
                   " input channels (divisible by groups ", g, ") for input ",
                   ShapeToString(shape()));
  absl::StatusOr<std::vector<int64_t>> stride =
      T::PerAxis("ConvTranspose", "stride", opts.stride, n, 1);
  absl::StatusOr<std::vector<int64_t>> dil =
      T::PerAxis("ConvTranspose", "dilation", opts.dilation, n, 1);
  absl::StatusOr<std::vector<int64_t>> outpad =
      T::PerAxis("ConvTranspose", "output_padding", opts.output_padding, n, 0);
  absl::StatusOr<PairList> pads = T::PerAxisPairs("ConvTranspose", opts.padding, n);
  if (!stride.ok()) return Error(stride.status());
  if (!dil.ok()) return Error(dil.status());
  if (!outpad.ok()) return Error(outpad.status());
  if (!pads.ok()) return Error(pads.status());
  for (int64_t a = 0; a < n; ++a) {
    if ((*stride)[a] < 1 || (*dil)[a] < 1)
      return T::Fail("ConvTranspose", "stride and dilation must be positive");
    if ((*outpad)[a] < 0 || (*outpad)[a] >= std::max((*stride)[a], (*dil)[a]))
      return T::Fail("ConvTranspose", "output_padding ", (*outpad)[a],
                     " must be smaller than stride or dilation");
  }
  // (cin, cout/g, *k) -> (g, cin/g, cout/g, *k) -> (g, cout/g, cin/g, *k),
  // spatially flipped -> (cout, cin/g, *k): the equivalent direct conv weight.
  std::vector<int64_t> spatial = Range(3, 3 + n);
  Tensor w = weight.Unflatten(0, {g, cin / g}).Transpose(1, 2).Flip(spatial).Flatten(0, 1);
  // Zero-stuff the input: stride - 1 zeros between neighbours.
  Tensor x = *this;
  if (std::any_of(stride->begin(), stride->end(), [](int64_t s) { return s > 1; })) {
    Shape split = {shape()[0], cin}, stuffed = split;
    PairList zeros = {{0, 0}, {0, 0}}, crop = {{0, shape()[0]}, {0, cin}};
    for (int64_t a = 0; a < n; ++a) {
      const int64_t i = shape()[2 + a], s = (*stride)[a];
      split.insert(split.end(), {i, 1});
      zeros.insert(zeros.end(), {{0, 0}, {0, s - 1}});
      stuffed.push_back(i * s);
      crop.push_back({0, i * s - (s - 1)});
    }
    x = x.Reshape(split).Pad(zeros).Reshape(stuffed).Shrink(crop);
  }
  PairList conv_pads;
  for (int64_t a = 0; a < n; ++a) {
    const int64_t k = weight.shape()[2 + a], d = (*dil)[a];
    conv_pads.push_back(
        {(k - 1) * d - (*pads)[a].first, (k - 1) * d - (*pads)[a].second + (*outpad)[a]});
  }
  ConvOptions conv;
  conv.groups = g;
  conv.dilation = *dil;
  conv.acc_dtype = opts.acc_dtype;
  // Padding may be negative here (crop): apply it before the conv.
  return T::PadLast(x, conv_pads).Conv(w, bias, conv);
}

Tensor Tensor::MaxPool(const PoolOptions& opts) const {
  if (!ok()) return *this;
  absl::StatusOr<PoolSetup> p = SetupPool("MaxPool", *this, opts);
  if (!p.ok()) return Error(p.status());
  PairList pads = opts.ceil_mode ? ApplyCeilMode(p->pads, p->k, p->s, p->d, p->i) : p->pads;
  // Padding is the dtype's lowest value, so it never wins.
  Number lowest =
      dtype().is_float()
          ? Number(-std::numeric_limits<double>::infinity())
          : Number(dtype().is_int() && !dtype().is_unsigned() ? dtype().min_int() : int64_t{0});
  Tensor x = T::PadLast(*this, pads, lowest);
  return T::Pool("MaxPool", x, p->k, p->s, p->d).Max(p->axes);
}

Tensor Tensor::AvgPool(const PoolOptions& opts) const {
  if (!ok()) return *this;
  absl::StatusOr<PoolSetup> p = SetupPool("AvgPool", *this, opts);
  if (!p.ok()) return Error(p.status());
  auto pool = [&](const Tensor& x, const PairList& pads) {
    return T::Pool("AvgPool", T::PadLast(x, pads), p->k, p->s, p->d);
  };
  const PairList& reg = p->pads;
  PairList ceil = ApplyCeilMode(reg, p->k, p->s, p->d, p->i);
  Tensor ones = OnesLike().Cast(DefaultFloatFor(dtype()));
  if (!opts.count_include_pad) {
    const PairList& pads = opts.ceil_mode ? ceil : reg;
    return pool(*this, pads).Sum(p->axes).Div(pool(ones, pads).Sum(p->axes));
  }
  if (!opts.ceil_mode) return pool(*this, reg).Mean(p->axes);
  // ceil_mode with count_include_pad: the regular padding counts, the extra
  // ceil padding does not.
  PairList extra;
  for (size_t a = 0; a < reg.size(); ++a)
    extra.push_back({ceil[a].first - reg[a].first, ceil[a].second - reg[a].second});
  Tensor divisor = pool(T::PadLast(*this, reg).OnesLike().Cast(ones.dtype()), extra);
  return pool(*this, ceil).Sum(p->axes).Div(divisor.Sum(p->axes));
}

}  // namespace uop
