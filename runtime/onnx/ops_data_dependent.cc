// Operators whose output shape depends on the data: NonZero, Compress,
// Unique, NonMaxSuppression are computed on the host from realized inputs
// (Evaluator::ReadHost records the dependency). TopK has a static shape: it
// stays in the tensor graph as a rank-by-comparison selection when the axis
// is short, and runs on the host otherwise.
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>

#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

constexpr int64_t kMaxGraphTopK = 1024;

// Row-major strides of a shape.
std::vector<int64_t> Strides(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (int64_t a = static_cast<int64_t>(s.size()) - 1; a >= 0; --a) {
    st[a] = acc;
    acc *= s[a];
  }
  return st;
}

Value HostResult(HostTensor h) {
  auto p = std::make_shared<const HostTensor>(std::move(h));
  Value v = Value::FromTensor(TensorFromHost(*p));
  v.set_host(p);
  return v;
}

// Whether element a orders before element b by value.
bool BytesLess(const HostTensor& h, int64_t a, int64_t b) {
  if (h.dtype.is_float()) return h.AsDouble(a) < h.AsDouble(b);
  if (h.dtype.is_unsigned() || h.dtype.is_bool())
    return static_cast<uint64_t>(h.AsInt(a)) < static_cast<uint64_t>(h.AsInt(b));
  return h.AsInt(a) < h.AsInt(b);
}

absl::Status NonZero(OpContext& ctx) {
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> h, ctx.HostInput(0));
  if (h->is_string) return ctx.Error("input must be numeric");
  const Shape& s = h->shape;
  const std::vector<int64_t> st = Strides(s);
  std::vector<int64_t> hits;
  for (int64_t i = 0; i < h->numel(); ++i)
    if (h->AsDouble(i) != 0) hits.push_back(i);
  const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(s.size()));
  const int64_t n = static_cast<int64_t>(hits.size());
  std::vector<int64_t> out(rank * n, 0);
  for (int64_t k = 0; k < n; ++k)
    for (size_t a = 0; a < s.size(); ++a) out[a * n + k] = (hits[k] / st[a]) % s[a];
  ctx.Set(0, HostResult(HostTensor::FromVector(out, {rank, n})));
  return absl::OkStatus();
}

absl::Status Compress(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> cond, ctx.HostInput(1));
  std::vector<int64_t> keep;
  Tensor src = x;
  int64_t axis = 0;
  if (ctx.HasAttr("axis")) {
    ASSIGN_OR_RETURN(axis, NormAxis(ctx, ctx.Int("axis", 0), x.ndim()));
  } else {
    src = x.Flatten();
  }
  const int64_t n = src.shape()[axis];
  for (int64_t i = 0; i < std::min(n, cond->numel()); ++i)
    if (cond->AsDouble(i) != 0) keep.push_back(i);
  Shape out = src.shape();
  out[axis] = static_cast<int64_t>(keep.size());
  if (keep.empty()) {
    ctx.Set(0, Tensor::Zeros(out, x.dtype()));
    return absl::OkStatus();
  }
  ctx.Set(0, src.Take(axis, Tensor::FromVector(keep, Shape{out[axis]})));
  return absl::OkStatus();
}

absl::Status TopKHost(OpContext& ctx, int64_t axis, int64_t k, bool largest, bool sorted) {
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> h, ctx.HostInput(0));
  const Shape& s = h->shape;
  const int64_t n = s[axis];
  const std::vector<int64_t> st = Strides(s);
  int64_t outer = 1;
  for (int64_t a = 0; a < axis; ++a) outer *= s[a];
  const int64_t inner = st[axis];
  Shape os = s;
  os[axis] = k;
  HostTensor values;
  values.dtype = h->dtype;
  values.shape = os;
  values.bytes.resize(outer * k * inner * h->dtype.itemsize());
  std::vector<int64_t> indices(outer * k * inner);
  const int item = h->dtype.itemsize();
  std::vector<int64_t> order(n);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      auto at = [&](int64_t i) { return o * n * inner + i * inner + in; };
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return largest ? BytesLess(*h, at(b), at(a)) : BytesLess(*h, at(a), at(b));
      });
      if (!sorted) std::sort(order.begin(), order.begin() + k);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t dst = o * k * inner + j * inner + in;
        std::memcpy(values.bytes.data() + dst * item, h->bytes.data() + at(order[j]) * item, item);
        indices[dst] = order[j];
      }
    }
  }
  ctx.Set(0, HostResult(std::move(values)));
  ctx.Set(1, HostResult(HostTensor::FromVector(indices, os)));
  return absl::OkStatus();
}

absl::Status TopK(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  int64_t k;
  if (ctx.opset() < 10) {
    k = ctx.Int("k", 1);
  } else {
    ASSIGN_OR_RETURN(k, ctx.IntInput(1));
  }
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", -1), x.ndim()));
  const bool largest = ctx.Int("largest", 1) != 0, sorted = ctx.Int("sorted", 1) != 0;
  const int64_t n = x.shape()[axis];
  if (k < 0 || k > n) return ctx.Error("k ", k, " is out of range for an axis of ", n);
  if (n > kMaxGraphTopK || !sorted) return TopKHost(ctx, axis, k, largest, sorted);
  // rank(i) = #{j : x_j before x_i}, where "before" is larger (smaller) value,
  // ties broken by the lower index; output r takes the element of rank r.
  Tensor xi = x.Unsqueeze(axis + 1);  // [.., n, 1, ..]: element i
  Tensor xj = x.Unsqueeze(axis);      // [.., 1, n, ..]: element j
  Shape is(x.ndim() + 1, 1), js(x.ndim() + 1, 1);
  is[axis] = n;
  js[axis + 1] = n;
  Tensor ii = Tensor::Arange(0, n, 1, DType::Int32()).Reshape(is);
  Tensor jj = Tensor::Arange(0, n, 1, DType::Int32()).Reshape(js);
  Tensor better = largest ? xj.Gt(xi) : xj.Lt(xi);
  Tensor before = better.LogicalOr(xj.Eq(xi).LogicalAnd(jj.Lt(ii)));
  Tensor rank = before.Cast(DType::Int32()).Sum({axis + 1});  // [.., n, ..]
  Shape rs(x.ndim() + 1, 1);
  rs[axis + 1] = k;
  Tensor slots = Tensor::Arange(0, k, 1, DType::Int32()).Reshape(rs);
  Tensor hit = rank.Unsqueeze(axis + 1).Eq(slots);  // [.., n, k, ..]
  Tensor values = hit.Where(x.Unsqueeze(axis + 1), x.ZerosLike().Unsqueeze(axis + 1))
                      .Sum({axis}, false, x.dtype());
  Tensor idx = hit.Where(ii.Cast(DType::Int64()), Tensor::Zeros({}, DType::Int64()))
                   .Sum({axis}, false, DType::Int64());
  ctx.Set(0, values);
  ctx.Set(1, idx);
  return absl::OkStatus();
}

absl::Status Unique(OpContext& ctx) {
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> h, ctx.HostInput(0));
  if (h->is_string) return ctx.Unsupported("Unique of strings is not supported");
  const bool sorted = ctx.Int("sorted", 1) != 0;
  const int item = h->dtype.itemsize();
  // Items: single elements (no axis) or slices along the axis.
  Shape s = h->shape;
  int64_t axis = -1, n, outer = 1, inner = 1;
  if (ctx.HasAttr("axis")) {
    ASSIGN_OR_RETURN(axis, NormAxis(ctx, ctx.Int("axis", 0), static_cast<int64_t>(s.size())));
    n = s[axis];
    for (int64_t a = 0; a < axis; ++a) outer *= s[a];
    for (size_t a = axis + 1; a < s.size(); ++a) inner *= s[a];
  } else {
    n = h->numel();
  }
  auto elem = [&](int64_t item_i, int64_t k) {  // k-th element of item i
    if (axis < 0) return item_i;
    return (k / inner) * n * inner + item_i * inner + k % inner;
  };
  const int64_t width = axis < 0 ? 1 : outer * inner;
  auto less = [&](int64_t a, int64_t b) {
    for (int64_t k = 0; k < width; ++k) {
      if (BytesLess(*h, elem(a, k), elem(b, k))) return true;
      if (BytesLess(*h, elem(b, k), elem(a, k))) return false;
    }
    return false;
  };
  auto same = [&](int64_t a, int64_t b) {
    for (int64_t k = 0; k < width; ++k)
      if (std::memcmp(h->bytes.data() + elem(a, k) * item, h->bytes.data() + elem(b, k) * item,
                      item) != 0)
        return false;
    return true;
  };
  std::vector<int64_t> first;  // first occurrence of each unique item
  std::vector<int64_t> inverse(n);
  std::vector<int64_t> counts;
  for (int64_t i = 0; i < n; ++i) {
    int64_t u = 0;
    while (u < static_cast<int64_t>(first.size()) && !same(first[u], i)) ++u;
    if (u == static_cast<int64_t>(first.size())) {
      first.push_back(i);
      counts.push_back(0);
    }
    inverse[i] = u;
    ++counts[u];
  }
  std::vector<int64_t> order(first.size());
  std::iota(order.begin(), order.end(), 0);
  if (sorted)
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return less(first[a], first[b]); });
  std::vector<int64_t> rank(first.size());
  for (size_t r = 0; r < order.size(); ++r) rank[order[r]] = static_cast<int64_t>(r);
  const int64_t m = static_cast<int64_t>(first.size());
  HostTensor y;
  y.dtype = h->dtype;
  y.shape = axis < 0 ? Shape{m} : s;
  if (axis >= 0) y.shape[axis] = m;
  y.bytes.resize(m * width * item);
  std::vector<int64_t> idx(m), cnt(m), inv(n);
  for (int64_t r = 0; r < m; ++r) {
    const int64_t u = order[r];
    idx[r] = first[u];
    cnt[r] = counts[u];
    for (int64_t k = 0; k < width; ++k) {
      const int64_t dst = axis < 0 ? r : (k / inner) * m * inner + r * inner + k % inner;
      std::memcpy(y.bytes.data() + dst * item, h->bytes.data() + elem(first[u], k) * item, item);
    }
  }
  for (int64_t i = 0; i < n; ++i) inv[i] = rank[inverse[i]];
  ctx.Set(0, HostResult(std::move(y)));
  ctx.Set(1, HostResult(HostTensor::FromVector(idx, {m})));
  ctx.Set(2, HostResult(HostTensor::FromVector(inv, {n})));
  ctx.Set(3, HostResult(HostTensor::FromVector(cnt, {m})));
  return absl::OkStatus();
}

absl::Status NonMaxSuppression(OpContext& ctx) {
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> boxes, ctx.HostInput(0));
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> scores, ctx.HostInput(1));
  int64_t max_out = 0;
  double iou_th = 0, score_th = -std::numeric_limits<double>::infinity();
  if (ctx.Has(2)) {
    ASSIGN_OR_RETURN(max_out, ctx.IntInput(2));
  }
  if (ctx.Has(3)) {
    ASSIGN_OR_RETURN(iou_th, ctx.DoubleInput(3));
  }
  if (ctx.Has(4)) {
    ASSIGN_OR_RETURN(score_th, ctx.DoubleInput(4));
  }
  const bool center = ctx.Int("center_point_box", 0) != 0;
  if (boxes->shape.size() != 3 || boxes->shape[2] != 4 || scores->shape.size() != 3 ||
      scores->shape[0] != boxes->shape[0] || scores->shape[2] != boxes->shape[1])
    return ctx.Error("boxes ", boxes->Describe(), " and scores ", scores->Describe(),
                     " must be [B, N, 4] and [B, C, N]");
  const int64_t batches = boxes->shape[0], n = boxes->shape[1], classes = scores->shape[1];
  auto corners = [&](int64_t b, int64_t i) {
    std::array<double, 4> v;
    for (int k = 0; k < 4; ++k) v[k] = boxes->AsDouble((b * n + i) * 4 + k);
    if (center)
      return std::array<double, 4>{v[1] - v[3] / 2, v[0] - v[2] / 2, v[1] + v[3] / 2,
                                   v[0] + v[2] / 2};
    return std::array<double, 4>{std::min(v[0], v[2]), std::min(v[1], v[3]), std::max(v[0], v[2]),
                                 std::max(v[1], v[3])};
  };
  auto iou = [&](const std::array<double, 4>& a, const std::array<double, 4>& b) {
    const double ih = std::max(0.0, std::min(a[2], b[2]) - std::max(a[0], b[0]));
    const double iw = std::max(0.0, std::min(a[3], b[3]) - std::max(a[1], b[1]));
    const double inter = ih * iw;
    const double area_a = (a[2] - a[0]) * (a[3] - a[1]), area_b = (b[2] - b[0]) * (b[3] - b[1]);
    const double uni = area_a + area_b - inter;
    return uni <= 0 ? 0.0 : inter / uni;
  };
  std::vector<int64_t> out;
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t c = 0; c < classes; ++c) {
      std::vector<int64_t> cand;
      for (int64_t i = 0; i < n; ++i)
        if (scores->AsDouble((b * classes + c) * n + i) > score_th) cand.push_back(i);
      std::stable_sort(cand.begin(), cand.end(), [&](int64_t x, int64_t y) {
        return scores->AsDouble((b * classes + c) * n + x) >
               scores->AsDouble((b * classes + c) * n + y);
      });
      std::vector<int64_t> kept;
      for (int64_t i : cand) {
        if (static_cast<int64_t>(kept.size()) >= max_out) break;
        bool keep = true;
        for (int64_t j : kept)
          if (iou(corners(b, i), corners(b, j)) > iou_th) {
            keep = false;
            break;
          }
        if (keep) kept.push_back(i);
      }
      for (int64_t i : kept) out.insert(out.end(), {b, c, i});
    }
  }
  const int64_t m = static_cast<int64_t>(out.size()) / 3;
  ctx.Set(0, HostResult(HostTensor::FromVector(out, {m, 3})));
  return absl::OkStatus();
}

}  // namespace

void RegisterDataDependentOps(OpRegistry& r) {
  auto add = [&](const char* name, int since, OpFn fn) { r.Add(kOnnxDomain, name, since, fn); };
  add("NonZero", 9, NonZero);
  add("Compress", 9, Compress);
  add("TopK", 1, TopK);
  add("Unique", 11, Unique);
  add("NonMaxSuppression", 10, NonMaxSuppression);
}

}  // namespace uop::onnx_import
