// Movement ops: free views (RESHAPE, PERMUTE, EXPAND, PAD, SHRINK, FLIP) and
// the compositions built from them.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_join.h"
#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_internal.h"

namespace uop {
namespace {

using T = TensorOps;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Keeps every `step`-th element of `axis` (which has (count - 1) * step + 1
// or more elements), starting with the first: pad to count * step, split the
// axis into (count, step), keep column 0.
Tensor StrideAxis(const Tensor& x, int64_t axis, int64_t step, int64_t count) {
  if (step == 1) return x;
  const int64_t n = x.shape()[axis];
  PairList bounds(x.ndim(), {0, 0});
  for (int64_t k = 0; k < x.ndim(); ++k) bounds[k] = {0, x.shape()[k]};
  Tensor y = x;
  if (n < count * step) {
    PairList pad(x.ndim(), {0, 0});
    pad[axis] = {0, count * step - n};
    y = y.Pad(pad);
  } else if (n > count * step) {
    bounds[axis] = {0, count * step};
    y = y.Shrink(bounds);
  }
  Shape split = y.shape();
  split[axis] = count;
  split.insert(split.begin() + axis + 1, step);
  y = y.Reshape(split);
  PairList keep;
  for (int64_t d : split) keep.push_back({0, d});
  keep[axis + 1] = {0, 1};
  Shape out = x.shape();
  out[axis] = count;
  return y.Shrink(keep).Reshape(out);
}

}  // namespace

Tensor Tensor::Reshape(const Shape& new_shape) const {
  if (!ok()) return *this;
  Shape s = new_shape;
  int64_t infer = -1, known = 1;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == -1) {
      if (infer >= 0) return T::Fail("Reshape", "more than one -1 in ", ShapeToString(new_shape));
      infer = static_cast<int64_t>(k);
    } else if (s[k] < 0) {
      return T::Fail("Reshape", "negative dimension in ", ShapeToString(new_shape));
    } else if (__builtin_mul_overflow(known, s[k], &known)) {
      return T::Fail("Reshape", ShapeToString(new_shape), " has more than 2^63 elements");
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel() % known != 0)
      return T::Fail("Reshape", "cannot infer -1 reshaping ", ShapeToString(shape()), " (", numel(),
                     " elements) to ", ShapeToString(new_shape));
    s[infer] = numel() / known;
    known *= s[infer];
  }
  if (known != numel())
    return T::Fail("Reshape", "cannot reshape ", ShapeToString(shape()), " (", numel(),
                   " elements) to ", ShapeToString(new_shape), " (", known, " elements)");
  if (s == shape()) return *this;
  return T::Move(*this, Op::kReshape, Arg(s));
}

Tensor Tensor::Permute(const std::vector<int64_t>& order) const {
  if (!ok()) return *this;
  if (static_cast<int64_t>(order.size()) != ndim())
    return T::Fail("Permute", "order (", absl::StrJoin(order, ", "), ") does not match rank ",
                   ndim(), " of ", ShapeToString(shape()));
  std::vector<int64_t> norm(order.size());
  std::vector<bool> seen(order.size(), false);
  for (size_t k = 0; k < order.size(); ++k) {
    absl::StatusOr<int64_t> a = T::NormAxis("Permute", order[k], ndim());
    if (!a.ok()) return Error(a.status());
    if (seen[*a])
      return T::Fail("Permute", "order (", absl::StrJoin(order, ", "), ") repeats axis ", *a);
    seen[*a] = true;
    norm[k] = *a;
  }
  bool identity = true;
  for (size_t k = 0; k < norm.size(); ++k) identity &= norm[k] == static_cast<int64_t>(k);
  if (identity) return *this;
  return T::Move(*this, Op::kPermute, Arg(norm));
}

Tensor Tensor::Transpose(int64_t a, int64_t b) const {
  if (!ok()) return *this;
  absl::StatusOr<int64_t> x = T::NormAxis("Transpose", a, ndim());
  absl::StatusOr<int64_t> y = T::NormAxis("Transpose", b, ndim());
  if (!x.ok()) return Error(x.status());
  if (!y.ok()) return Error(y.status());
  std::vector<int64_t> order(ndim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[*x], order[*y]);
  return Permute(order);
}

Tensor Tensor::Expand(const Shape& new_shape) const {
  if (!ok()) return *this;
  if (new_shape.size() < shape().size())
    return T::Fail("Expand", "cannot expand ", ShapeToString(shape()), " to fewer axes ",
                   ShapeToString(new_shape));
  const size_t lead = new_shape.size() - shape().size();
  Shape target = new_shape;
  for (size_t k = 0; k < target.size(); ++k) {
    const int64_t have = k < lead ? 1 : shape()[k - lead];
    if (target[k] == -1) {
      if (k < lead) return T::Fail("Expand", "-1 for a new axis in ", ShapeToString(new_shape));
      target[k] = have;
    }
    if (target[k] < 0 || (have != target[k] && have != 1))
      return T::Fail("Expand", "cannot expand ", ShapeToString(shape()), " to ",
                     ShapeToString(new_shape));
  }
  if (absl::StatusOr<int64_t> n = T::CheckedNumel("Expand", target); !n.ok())
    return Error(n.status());
  return T::BroadcastTo(*this, target);
}

Tensor Tensor::Shrink(const PairList& bounds) const {
  if (!ok()) return *this;
  if (static_cast<int64_t>(bounds.size()) != ndim())
    return T::Fail("Shrink", bounds.size(), " bounds for ", ShapeToString(shape()));
  bool identity = true;
  for (int64_t k = 0; k < ndim(); ++k) {
    auto [b, e] = bounds[k];
    if (b < 0 || e < b || e > shape()[k])
      return T::Fail("Shrink", "bounds (", b, ", ", e, ") outside axis ", k, " of ",
                     ShapeToString(shape()));
    identity &= b == 0 && e == shape()[k];
  }
  if (identity) return *this;
  return T::Move(*this, Op::kShrink, Arg(bounds));
}

Tensor Tensor::Flip(const std::vector<int64_t>& axes) const {
  if (!ok()) return *this;
  absl::StatusOr<std::vector<int64_t>> ax = T::NormAxes("Flip", axes, ndim());
  if (!ax.ok()) return Error(ax.status());
  if (ax->empty()) return *this;
  std::vector<int64_t> flags(ndim(), 0);
  for (int64_t a : *ax) flags[a] = 1;
  return T::Move(*this, Op::kFlip, Arg(flags));
}

Tensor Tensor::Pad(const PairList& pads, Number value, PadMode mode) const {
  if (!ok()) return *this;
  if (static_cast<int64_t>(pads.size()) != ndim())
    return T::Fail("Pad", pads.size(), " pairs for ", ShapeToString(shape()));
  // Negative amounts crop first.
  PairList crop(ndim()), grow(ndim());
  for (int64_t k = 0; k < ndim(); ++k) {
    auto [b, a] = pads[k];
    const int64_t begin = std::max<int64_t>(0, -b), end = shape()[k] - std::max<int64_t>(0, -a);
    if (begin > end)
      return T::Fail("Pad", "cropping (", b, ", ", a, ") removes more than axis ", k, " of ",
                     ShapeToString(shape()));
    crop[k] = {begin, end};
    grow[k] = {std::max<int64_t>(0, b), std::max<int64_t>(0, a)};
  }
  Tensor x = Shrink(crop);
  bool any = false;
  for (auto [b, a] : grow) any |= b != 0 || a != 0;
  if (!any) return x;
  if (mode == PadMode::kConstant) {
    Tensor padded = T::Move(x, Op::kPad, Arg(grow));
    const bool zero =
        value.AsDouble() == 0 && !(value.is_float() && std::signbit(value.AsDouble()));
    if (zero) return padded;
    // PAD fills with 0; elsewhere select the value through a padded mask.
    Tensor inside = T::Move(T::ConstLike(x, true, DType::Bool()), Op::kPad, Arg(grow));
    return inside.Where(padded, T::ConstLike(padded, value));
  }
  for (int64_t k = 0; k < ndim(); ++k) {
    auto [b, a] = grow[k];
    if (b == 0 && a == 0) continue;
    const int64_t n = x.shape()[k];
    Tensor left, right;
    switch (mode) {
      case PadMode::kReflect:
        if (b >= n || a >= n)
          return T::Fail("Pad", "reflect padding (", b, ", ", a, ") needs less than the size ", n,
                         " of axis ", k);
        left = x.Slice(k, 1, b + 1).Flip({k});
        right = x.Slice(k, n - 1 - a, n - 1).Flip({k});
        break;
      case PadMode::kEdge: {
        if (n == 0) return T::Fail("Pad", "edge padding of empty axis ", k);
        Shape ls = x.shape(), rs = x.shape();
        ls[k] = b;
        rs[k] = a;
        left = x.Slice(k, 0, 1).Expand(ls);
        right = x.Slice(k, n - 1, n).Expand(rs);
        break;
      }
      default:  // kWrap
        if (b > n || a > n)
          return T::Fail("Pad", "wrap padding (", b, ", ", a, ") exceeds the size ", n, " of axis ",
                         k);
        left = x.Slice(k, n - b, n);
        right = x.Slice(k, 0, a);
        break;
    }
    x = Cat({left, x, right}, k);
  }
  return x;
}

Tensor Tensor::Slice(const std::vector<SliceSpec>& specs) const {
  if (!ok()) return *this;
  if (static_cast<int64_t>(specs.size()) > ndim())
    return T::Fail("Slice", specs.size(), " slices for ", ShapeToString(shape()));
  PairList bounds;
  std::vector<int64_t> flips, steps, counts;
  for (int64_t k = 0; k < ndim(); ++k) {
    const int64_t n = shape()[k];
    SliceSpec sp = k < static_cast<int64_t>(specs.size()) ? specs[k] : SliceSpec{};
    if (sp.step == 0) return T::Fail("Slice", "step 0 on axis ", k);
    // Python's slice.indices(n).
    auto norm = [n](int64_t v, int64_t lo, int64_t hi) {
      if (v < 0) v += n;
      return std::clamp(v, lo, hi);
    };
    int64_t count, first, last;
    if (sp.step > 0) {
      int64_t start = sp.start ? norm(*sp.start, 0, n) : 0;
      int64_t stop = sp.stop ? norm(*sp.stop, 0, n) : n;
      count = stop > start ? CeilDiv(stop - start, sp.step) : 0;
      first = start;
      last = start + (count - 1) * sp.step;
      bounds.push_back(count ? std::pair{first, last + 1} : std::pair{start, start});
    } else {
      int64_t start = sp.start ? norm(*sp.start, -1, n - 1) : n - 1;
      int64_t stop = sp.stop ? norm(*sp.stop, -1, n - 1) : -1;
      count = start > stop ? CeilDiv(start - stop, -sp.step) : 0;
      first = start;
      last = start + (count - 1) * sp.step;
      bounds.push_back(count ? std::pair{last, first + 1} : std::pair{int64_t{0}, int64_t{0}});
      if (count) flips.push_back(k);
    }
    steps.push_back(std::abs(sp.step));
    counts.push_back(count);
  }
  Tensor x = Shrink(bounds).Flip(flips);
  for (int64_t k = 0; k < ndim(); ++k)
    if (counts[k] > 1) x = StrideAxis(x, k, steps[k], counts[k]);
  return x;
}

Tensor Tensor::Slice(int64_t axis, std::optional<int64_t> start, std::optional<int64_t> stop,
                     int64_t step) const {
  if (!ok()) return *this;
  absl::StatusOr<int64_t> a = T::NormAxis("Slice", axis, ndim());
  if (!a.ok() || ndim() == 0)
    return Error(a.ok() ? absl::InvalidArgumentError("Slice: cannot slice a 0-d tensor")
                        : a.status());
  std::vector<SliceSpec> specs(*a + 1);
  specs[*a] = SliceSpec{start, stop, step};
  return Slice(specs);
}

Tensor Tensor::Select(int64_t axis, int64_t index) const {
  if (!ok()) return *this;
  absl::StatusOr<int64_t> a = T::NormAxis("Select", axis, ndim());
  if (!a.ok() || ndim() == 0)
    return Error(a.ok() ? absl::InvalidArgumentError("Select: cannot index a 0-d tensor")
                        : a.status());
  const int64_t n = shape()[*a];
  if (index < -n || index >= n)
    return T::Fail("Select", "index ", index, " is out of range for axis ", *a, " of size ", n);
  if (index < 0) index += n;
  Shape out = shape();
  out.erase(out.begin() + *a);
  return Slice(*a, index, index + 1).Reshape(out);
}

Tensor Tensor::Squeeze(const std::vector<int64_t>& axes) const {
  if (!ok()) return *this;
  absl::StatusOr<std::vector<int64_t>> ax = T::NormAxes("Squeeze", axes, ndim());
  if (!ax.ok()) return Error(ax.status());
  Shape out;
  for (int64_t k = 0; k < ndim(); ++k) {
    bool drop = std::binary_search(ax->begin(), ax->end(), k);
    if (drop && shape()[k] != 1)
      return T::Fail("Squeeze", "axis ", k, " of ", ShapeToString(shape()), " has size ",
                     shape()[k], ", not 1");
    if (!drop) out.push_back(shape()[k]);
  }
  return Reshape(out);
}

Tensor Tensor::Squeeze() const {
  if (!ok()) return *this;
  Shape out;
  for (int64_t d : shape())
    if (d != 1) out.push_back(d);
  return Reshape(out);
}

Tensor Tensor::Unsqueeze(int64_t axis) const {
  if (!ok()) return *this;
  absl::StatusOr<int64_t> a = T::NormAxis("Unsqueeze", axis, ndim() + 1);
  if (!a.ok()) return Error(a.status());
  Shape out = shape();
  out.insert(out.begin() + *a, 1);
  return Reshape(out);
}

Tensor Tensor::Flatten(int64_t start, int64_t end) const {
  if (!ok()) return *this;
  if (ndim() == 0) return Reshape({1});
  absl::StatusOr<int64_t> s = T::NormAxis("Flatten", start, ndim());
  absl::StatusOr<int64_t> e = T::NormAxis("Flatten", end, ndim());
  if (!s.ok()) return Error(s.status());
  if (!e.ok()) return Error(e.status());
  if (*s > *e) return T::Fail("Flatten", "start axis ", *s, " is after end axis ", *e);
  Shape out(shape().begin(), shape().begin() + *s);
  int64_t merged = 1;
  for (int64_t k = *s; k <= *e; ++k) merged *= shape()[k];
  out.push_back(merged);
  out.insert(out.end(), shape().begin() + *e + 1, shape().end());
  return Reshape(out);
}

Tensor Tensor::Unflatten(int64_t axis, const Shape& sizes) const {
  if (!ok()) return *this;
  absl::StatusOr<int64_t> a = T::NormAxis("Unflatten", axis, ndim());
  if (!a.ok()) return Error(a.status());
  Shape sub = sizes;
  int64_t infer = -1, known = 1;
  for (size_t k = 0; k < sub.size(); ++k) {
    if (sub[k] == -1 && infer < 0) {
      infer = static_cast<int64_t>(k);
    } else {
      known *= sub[k];
    }
  }
  if (infer >= 0 && known != 0) sub[infer] = shape()[*a] / known;
  if (T::Prod(sub) != shape()[*a] ||
      std::any_of(sub.begin(), sub.end(), [](int64_t d) { return d < 0; }))
    return T::Fail("Unflatten", "sizes ", ShapeToString(sizes), " do not split axis ", *a,
                   " of size ", shape()[*a]);
  Shape out(shape().begin(), shape().begin() + *a);
  out.insert(out.end(), sub.begin(), sub.end());
  out.insert(out.end(), shape().begin() + *a + 1, shape().end());
  return Reshape(out);
}

Tensor Tensor::Repeat(const std::vector<int64_t>& repeats) const {
  if (!ok()) return *this;
  if (static_cast<int64_t>(repeats.size()) < ndim())
    return T::Fail("Repeat", repeats.size(), " repeats for ", ShapeToString(shape()));
  Shape base(repeats.size() - ndim(), 1);
  base.insert(base.end(), shape().begin(), shape().end());
  Shape unsqueezed, expanded, final_shape;
  for (size_t k = 0; k < repeats.size(); ++k) {
    if (repeats[k] < 0) return T::Fail("Repeat", "negative repeat ", repeats[k]);
    if (repeats[k] != 1) {
      unsqueezed.push_back(1);
      expanded.push_back(repeats[k]);
    }
    unsqueezed.push_back(base[k]);
    expanded.push_back(base[k]);
    final_shape.push_back(base[k] * repeats[k]);
  }
  if (absl::StatusOr<int64_t> n = T::CheckedNumel("Repeat", final_shape); !n.ok())
    return Error(n.status());
  return Reshape(unsqueezed).Expand(expanded).Reshape(final_shape);
}

// ---------------------------------------------------------------------------

Tensor TensorOps::PadLast(const Tensor& x, const PairList& pads, Number value) {
  if (!x.ok()) return x;
  if (static_cast<int64_t>(pads.size()) > x.ndim())
    return Fail("Pad", pads.size(), " pairs for ", ShapeToString(x.shape()));
  PairList full(x.ndim() - pads.size(), {0, 0});
  full.insert(full.end(), pads.begin(), pads.end());
  return x.Pad(full, value);
}

Tensor TensorOps::Pool(absl::string_view op, const Tensor& x, const std::vector<int64_t>& k,
                       const std::vector<int64_t>& s, const std::vector<int64_t>& d) {
  if (!x.ok()) return x;
  const size_t n = k.size();
  if (x.ndim() < static_cast<int64_t>(n))
    return Fail(op, "cannot pool ", ShapeToString(x.shape()), " with a ", n, "-d kernel");
  const size_t lead = x.ndim() - n;
  Shape noop(x.shape().begin(), x.shape().begin() + lead);
  std::vector<int64_t> i(x.shape().begin() + lead, x.shape().end()), o(n);
  bool simple = true;
  for (size_t a = 0; a < n; ++a) {
    if (k[a] < 1 || s[a] < 1 || d[a] < 1)
      return Fail(op, "kernel, stride and dilation must be positive");
    if (d[a] * (k[a] - 1) + 1 > i[a])
      return Fail(op, "kernel ", k[a], " (dilation ", d[a], ") does not fit input size ", i[a],
                  " of ", ShapeToString(x.shape()));
    o[a] = CeilDiv(i[a] - d[a] * (k[a] - 1), s[a]);
    simple &= k[a] <= s[a] && d[a] == 1;
  }
  auto with_noop = [&](const std::vector<int64_t>& tail) {
    Shape r = noop;
    r.insert(r.end(), tail.begin(), tail.end());
    return r;
  };
  auto bounds_of = [&](const std::vector<std::pair<int64_t, int64_t>>& tail) {
    PairList r;
    for (int64_t dim : noop) r.push_back({0, dim});
    r.insert(r.end(), tail.begin(), tail.end());
    return r;
  };
  std::vector<int64_t> order(lead);
  std::iota(order.begin(), order.end(), 0);
  if (!simple) {
    // tinygrad's _pool: repeat the input so windows become rows of a
    // reshaped view, then take every stride-th row start. f makes the row
    // length large enough for the last window.
    std::vector<int64_t> f(n), rep(lead, 1), row(n);
    for (size_t a = 0; a < n; ++a) {
      f[a] = 1 + (o[a] * s[a] > i[a] - d[a] * (k[a] - 1) ? 1 : 0);
      row[a] = i[a] * f[a] + d[a];
      rep.push_back(CeilDiv(k[a] * row[a], i[a]));
    }
    Tensor y = x.Repeat(rep);
    std::vector<std::pair<int64_t, int64_t>> b1;
    std::vector<int64_t> s1;
    for (size_t a = 0; a < n; ++a) {
      b1.push_back({0, k[a] * row[a]});
      s1.push_back(k[a]);
      s1.push_back(row[a]);
    }
    y = y.Shrink(bounds_of(b1)).Reshape(with_noop(s1));
    std::vector<std::pair<int64_t, int64_t>> b2;
    std::vector<int64_t> s2;
    for (size_t a = 0; a < n; ++a) {
      b2.push_back({0, k[a]});
      b2.push_back({0, o[a] * s[a]});
      s2.insert(s2.end(), {k[a], o[a], s[a]});
    }
    y = y.Shrink(bounds_of(b2)).Reshape(with_noop(s2));
    std::vector<std::pair<int64_t, int64_t>> b3;
    std::vector<int64_t> s3;
    for (size_t a = 0; a < n; ++a) {
      b3.insert(b3.end(), {{0, k[a]}, {0, o[a]}, {0, 1}});
      s3.insert(s3.end(), {k[a], o[a]});
    }
    y = y.Shrink(bounds_of(b3)).Reshape(with_noop(s3));
    for (size_t a = 0; a < n; ++a) order.push_back(lead + a * 2 + 1);
    for (size_t a = 0; a < n; ++a) order.push_back(lead + a * 2);
    return y.Permute(order);
  }
  // Kernel no larger than the stride: pad or crop to o * s and split.
  std::vector<std::pair<int64_t, int64_t>> pad, crop, keep;
  std::vector<int64_t> split;
  for (size_t a = 0; a < n; ++a) {
    pad.push_back({0, std::max<int64_t>(0, o[a] * s[a] - i[a])});
    crop.push_back({0, o[a] * s[a]});
    split.insert(split.end(), {o[a], s[a]});
    keep.insert(keep.end(), {{0, o[a]}, {0, k[a]}});
  }
  PairList full_pad;
  for (size_t a = 0; a < lead; ++a) full_pad.push_back({0, 0});
  full_pad.insert(full_pad.end(), pad.begin(), pad.end());
  Tensor y = x.Pad(full_pad).Shrink(bounds_of(crop)).Reshape(with_noop(split));
  y = y.Shrink(bounds_of(keep));
  for (size_t a = 0; a < n; ++a) order.push_back(lead + a * 2);
  for (size_t a = 0; a < n; ++a) order.push_back(lead + a * 2 + 1);
  return y.Permute(order);
}

}  // namespace uop
