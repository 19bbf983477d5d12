#include "runtime/schedule/test_graphs.h"

#include <atomic>
#include <cmath>
#include <utility>

namespace uop::testing {
namespace {

int64_t ProdOf(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

const Shape& ShapeOf(const UOpPtr& x) { return *x->shape(); }

UOpPtr Unary(Op op, const UOpPtr& x) { return UOp::Create(op, x->dtype(), {x}); }

// Shrink pairs: (0, dim) (all of it) for the leading `keep` axes, then `tail`.
PairList Keep(const Shape& s, size_t keep, const PairList& tail) {
  PairList p;
  for (size_t i = 0; i < keep; ++i) p.push_back({0, s[i]});
  p.insert(p.end(), tail.begin(), tail.end());
  return p;
}

Shape Concat(const Shape& a, const Shape& b) {
  Shape s = a;
  s.insert(s.end(), b.begin(), b.end());
  return s;
}

// tinygrad's Tensor.repeat.
UOpPtr Repeat(const UOpPtr& x, const std::vector<int64_t>& repeats) {
  const Shape& s = ShapeOf(x);
  Shape unsqueezed, expanded, final_shape;
  for (size_t i = 0; i < s.size(); ++i) {
    unsqueezed.insert(unsqueezed.end(), {1, s[i]});
    expanded.insert(expanded.end(), {repeats[i], s[i]});
    final_shape.push_back(repeats[i] * s[i]);
  }
  return Reshape(Expand(Reshape(x, unsqueezed), expanded), final_shape);
}

// tinygrad's Tensor._pool (dilation 1): (..., *i) -> (..., *o, *k).
UOpPtr Pool(const UOpPtr& x, const std::vector<int64_t>& k, int64_t stride) {
  const Shape s = ShapeOf(x);
  const size_t nk = k.size(), noop = s.size() - nk;
  Shape lead(s.begin(), s.begin() + noop);
  std::vector<int64_t> i(s.begin() + noop, s.end()), o(nk);
  bool overlap = false;
  for (size_t j = 0; j < nk; ++j) {
    o[j] = CeilDiv(i[j] - (k[j] - 1), stride);
    overlap = overlap || k[j] > stride;
  }
  std::vector<int64_t> order(lead.size());
  for (size_t j = 0; j < noop; ++j) order[j] = static_cast<int64_t>(j);
  if (overlap) {
    std::vector<int64_t> f(nk), reps(noop, 1);
    for (size_t j = 0; j < nk; ++j) {
      f[j] = 1 + (o[j] * stride > i[j] - (k[j] - 1) ? 1 : 0);
      reps.push_back(CeilDiv(k[j] * (i[j] * f[j] + 1), i[j]));
    }
    UOpPtr y = Repeat(x, reps);
    PairList p1, p2, p3;
    Shape r1, r2, r3;
    for (size_t j = 0; j < nk; ++j) {
      p1.push_back({0, k[j] * (i[j] * f[j] + 1)});
      r1.insert(r1.end(), {k[j], i[j] * f[j] + 1});
      p2.insert(p2.end(), {{0, k[j]}, {0, o[j] * stride}});
      r2.insert(r2.end(), {k[j], o[j], stride});
      p3.insert(p3.end(), {{0, k[j]}, {0, o[j]}, {0, 1}});
      r3.insert(r3.end(), {k[j], o[j]});
    }
    y = Reshape(Shrink(y, Keep(ShapeOf(y), noop, p1)), Concat(lead, r1));
    y = Reshape(Shrink(y, Keep(ShapeOf(y), noop, p2)), Concat(lead, r2));
    y = Reshape(Shrink(y, Keep(ShapeOf(y), noop, p3)), Concat(lead, r3));
    for (size_t j = 0; j < nk; ++j) order.push_back(static_cast<int64_t>(noop + j * 2 + 1));
    for (size_t j = 0; j < nk; ++j) order.push_back(static_cast<int64_t>(noop + j * 2));
    return Permute(y, order);
  }
  PairList pad, shrink1, shrink2;
  Shape r;
  for (size_t j = 0; j < nk; ++j) {
    pad.push_back({0, std::max<int64_t>(0, o[j] * stride - i[j])});
    shrink1.push_back({0, o[j] * stride});
    r.insert(r.end(), {o[j], stride});
    shrink2.insert(shrink2.end(), {{0, o[j]}, {0, k[j]}});
  }
  PairList no_pad(noop, {0, 0});
  no_pad.insert(no_pad.end(), pad.begin(), pad.end());
  UOpPtr y = Pad(x, no_pad);
  y = Shrink(y, Keep(ShapeOf(y), noop, shrink1));
  y = Reshape(y, Concat(lead, r));
  y = Shrink(y, Keep(ShapeOf(y), noop, shrink2));
  for (size_t j = 0; j < nk; ++j) order.push_back(static_cast<int64_t>(noop + j * 2));
  for (size_t j = 0; j < nk; ++j) order.push_back(static_cast<int64_t>(noop + j * 2 + 1));
  return Permute(y, order);
}

// Pads the last two axes by `p`, filling with `value`: tinygrad's
// pad(value=v) = pad(x) + where(pad(ones), 0, v).
UOpPtr Pad2d(const UOpPtr& x, int64_t p, double value) {
  const Shape& s = ShapeOf(x);
  PairList pads = {{0, 0}, {0, 0}, {p, p}, {p, p}};
  UOpPtr padded = Pad(x, pads);
  if (value == 0.0) return padded;
  UOpPtr mask = Cast(Pad(Full(s, 1.0, x->dtype()), pads), DType::Bool());
  const Shape& ps = ShapeOf(padded);
  return padded + Where(mask, Full(ps, 0.0, x->dtype()), Full(ps, value, x->dtype()));
}

UOpPtr ConvBn(const UOpPtr& x, int64_t cout, int64_t k, int64_t stride, bool relu) {
  const int64_t cin = ShapeOf(x)[1];
  UOpPtr y = BatchNorm(Conv2d(x, Input({cout, cin, k, k}), nullptr, stride, k / 2));
  return relu ? Relu(y) : y;
}

UOpPtr Bottleneck(const UOpPtr& x, int64_t width, int64_t stride, bool downsample) {
  UOpPtr out = ConvBn(x, width, 1, 1, true);
  out = ConvBn(out, width, 3, stride, true);
  out = ConvBn(out, width * 4, 1, 1, false);
  UOpPtr identity = downsample ? ConvBn(x, width * 4, 1, stride, false) : x;
  return Relu(out + identity);
}

}  // namespace

UOpPtr DeviceNode(const std::string& name) {
  return UOp::Create(Op::kDevice, DType::Void(), {}, Arg(name));
}

UOpPtr Input(const Shape& shape, DType dtype, const std::string& device) {
  static std::atomic<int64_t> next_id{1'000'000'000};
  const int64_t n = ProdOf(shape);
  UOpPtr b = UOp::Create(Op::kBuffer, dtype, {DeviceNode(device)},
                         Arg(BufferArg{next_id.fetch_add(1), n}));
  return shape == Shape{n} ? b : Reshape(b, shape);
}

UOpPtr BufferOf(const UOpPtr& view) {
  UOpPtr x = view;
  while (IsMovement(x->op())) x = x->src(0);
  return x;
}

UOpPtr Full(const Shape& shape, double value, DType dtype) {
  UOpPtr c = UOp::Const(dtype, value);
  return Expand(Reshape(c, Shape(shape.size(), 1)), shape);
}

UOpPtr Reshape(const UOpPtr& x, const Shape& shape) {
  return UOp::Create(Op::kReshape, x->dtype(), {x}, Arg(shape));
}
UOpPtr Permute(const UOpPtr& x, const std::vector<int64_t>& order) {
  return UOp::Create(Op::kPermute, x->dtype(), {x}, Arg(order));
}
UOpPtr Expand(const UOpPtr& x, const Shape& shape) {
  return UOp::Create(Op::kExpand, x->dtype(), {x}, Arg(shape));
}
UOpPtr Pad(const UOpPtr& x, const PairList& pads) {
  return UOp::Create(Op::kPad, x->dtype(), {x}, Arg(pads));
}
UOpPtr Shrink(const UOpPtr& x, const PairList& bounds) {
  return UOp::Create(Op::kShrink, x->dtype(), {x}, Arg(bounds));
}
UOpPtr Flip(const UOpPtr& x, const std::vector<int64_t>& flags) {
  return UOp::Create(Op::kFlip, x->dtype(), {x}, Arg(flags));
}

UOpPtr Broadcast(const UOpPtr& x, const Shape& shape) {
  const Shape& s = ShapeOf(x);
  Shape padded(shape.size() - s.size(), 1);
  padded.insert(padded.end(), s.begin(), s.end());
  UOpPtr y = padded == s ? x : Reshape(x, padded);
  return padded == shape ? y : Expand(y, shape);
}

UOpPtr Sum(const UOpPtr& x, const std::vector<int64_t>& axes) {
  return UOp::Create(Op::kReduceAxis, x->dtype(), {x}, Arg(ReduceArg{Op::kAdd, axes}));
}
UOpPtr MaxOf(const UOpPtr& x, const std::vector<int64_t>& axes) {
  return UOp::Create(Op::kReduceAxis, x->dtype(), {x}, Arg(ReduceArg{Op::kMax, axes}));
}

UOpPtr Exp(const UOpPtr& x) { return Unary(Op::kExp2, MulScalar(x, 1.0 / std::log(2.0))); }
UOpPtr Relu(const UOpPtr& x) { return Max(x, Full(ShapeOf(x), 0.0, x->dtype())); }
UOpPtr Recip(const UOpPtr& x) { return Unary(Op::kRecip, x); }
UOpPtr AddScalar(const UOpPtr& x, double c) { return x + Full(ShapeOf(x), c, x->dtype()); }
UOpPtr MulScalar(const UOpPtr& x, double c) { return x * Full(ShapeOf(x), c, x->dtype()); }

UOpPtr Contiguous(const UOpPtr& x) { return UOp::Create(Op::kContiguous, x->dtype(), {x}); }
UOpPtr CopyTo(const UOpPtr& x, const std::string& device) {
  return UOp::Create(Op::kCopy, x->dtype(), {x, DeviceNode(device)});
}
UOpPtr Assign(const UOpPtr& target, const UOpPtr& value) {
  static std::atomic<int64_t> serial{1};
  return UOp::Create(Op::kAssign, target->dtype(), {target, value}, Arg(serial.fetch_add(1)));
}
UOpPtr Sink(std::initializer_list<UOpPtr> outputs) {
  return UOp::Create(Op::kSink, DType::Void(), outputs);
}
UOpPtr Sink(const std::vector<UOpPtr>& outputs) {
  return UOp::Create(Op::kSink, DType::Void(), absl::MakeConstSpan(outputs));
}

UOpPtr Matmul(const UOpPtr& a, const UOpPtr& b) {
  const int64_t m = ShapeOf(a)[0], k = ShapeOf(a)[1], n = ShapeOf(b)[1];
  UOpPtr x = Expand(Reshape(a, {m, 1, k}), {m, n, k});
  UOpPtr y = Expand(Reshape(Permute(b, {1, 0}), {1, n, k}), {m, n, k});
  return Reshape(Sum(x * y, {2}), {m, n});
}

UOpPtr Conv2d(const UOpPtr& x, const UOpPtr& w, const UOpPtr& bias, int64_t stride,
              int64_t padding) {
  const int64_t bs = ShapeOf(x)[0], cin = ShapeOf(x)[1];
  const int64_t cout = ShapeOf(w)[0], kh = ShapeOf(w)[2], kw = ShapeOf(w)[3];
  UOpPtr xp = padding > 0 ? Pad2d(x, padding, 0.0) : x;
  UOpPtr p = Pool(xp, {kh, kw}, stride);  // (bs, cin, oy, ox, kh, kw)
  const int64_t oy = ShapeOf(p)[2], ox = ShapeOf(p)[3];
  const Shape full = {bs, 1, cout, oy, ox, cin, kh, kw};
  UOpPtr xe = Permute(
      Expand(Reshape(p, {bs, 1, cin, 1, oy, ox, kh, kw}), {bs, 1, cin, cout, oy, ox, kh, kw}),
      {0, 1, 3, 4, 5, 2, 6, 7});
  UOpPtr we = Expand(Reshape(w, {1, 1, cout, 1, 1, cin, kh, kw}), full);
  UOpPtr out = Reshape(Sum(xe * we, {5, 6, 7}), {bs, cout, oy, ox});
  if (!bias) return out;
  return out + Broadcast(Reshape(bias, {1, cout, 1, 1}), ShapeOf(out));
}

UOpPtr Softmax(const UOpPtr& x) {
  const Shape& s = ShapeOf(x);
  const int64_t last = static_cast<int64_t>(s.size()) - 1;
  UOpPtr m = MaxOf(x, {last});
  UOpPtr e = Exp(x - Expand(m, s));
  return e * Expand(Recip(Sum(e, {last})), s);
}

UOpPtr BatchNorm(const UOpPtr& x) {
  const Shape& s = ShapeOf(x);
  const int64_t c = s[1];
  auto channel = [&](const UOpPtr& v) { return Broadcast(Reshape(v, {1, c, 1, 1}), s); };
  UOpPtr invstd = Input({c}) * Recip(Unary(Op::kSqrt, AddScalar(Input({c}), 1e-5)));
  return (x - channel(Input({c}))) * channel(invstd) + channel(Input({c}));
}

UOpPtr ResNet50(int64_t batch, int64_t image) {
  UOpPtr x = Input({batch, 3, image, image});
  x = ConvBn(x, 64, 7, 2, true);
  // 3x3 max pool, stride 2, padding 1 (with -inf).
  UOpPtr p = Pool(Pad2d(x, 1, -INFINITY), {3, 3}, 2);
  const Shape& ps = ShapeOf(p);
  x = Reshape(MaxOf(p, {4, 5}), {ps[0], ps[1], ps[2], ps[3]});
  const int64_t blocks[4] = {3, 4, 6, 3};
  for (int layer = 0; layer < 4; ++layer) {
    const int64_t width = int64_t{64} << layer;
    for (int64_t b = 0; b < blocks[layer]; ++b) {
      const int64_t stride = (b == 0 && layer > 0) ? 2 : 1;
      x = Bottleneck(x, width, stride, b == 0);
    }
  }
  const Shape& s = ShapeOf(x);
  UOpPtr pooled =
      Reshape(MulScalar(Sum(x, {2, 3}), 1.0 / static_cast<double>(s[2] * s[3])), {s[0], s[1]});
  UOpPtr fc = Matmul(pooled, Permute(Input({1000, s[1]}), {1, 0}));
  return fc + Broadcast(Input({1000}), ShapeOf(fc));
}

size_t GraphSize(const UOpPtr& root) { return root->Toposort().size(); }

}  // namespace uop::testing
