#include "runtime/onnx/ops_util.h"

#include <numbers>

#include "absl/strings/str_join.h"

namespace uop::onnx_import {

absl::StatusOr<int64_t> NormAxis(const OpContext& ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return ctx.Error("axis ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

absl::StatusOr<std::vector<int64_t>> NormAxes(const OpContext& ctx, std::vector<int64_t> axes,
                                              int64_t rank) {
  for (int64_t& a : axes) {
    if (a < -rank || a >= rank) return ctx.Error("axis ", a, " is out of range for rank ", rank);
    if (a < 0) a += rank;
  }
  std::vector<int64_t> sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return ctx.Error("axes [", absl::StrJoin(axes, ", "), "] repeat an axis");
  return axes;
}

Tensor Scalar(Number v, DType dtype) { return Tensor::Full({}, v, dtype); }

absl::StatusOr<Shape> BroadcastShape(const OpContext& ctx, const std::vector<Shape>& shapes) {
  size_t rank = 0;
  for (const Shape& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const Shape& s : shapes) {
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t& o = out[rank - s.size() + i];
      int64_t d = s[i];
      if (d == o || d == 1) continue;
      if (o == 1) {
        o = d;
        continue;
      }
      std::vector<std::string> all;
      for (const Shape& t : shapes) all.push_back(ShapeToString(t));
      return ctx.Error("shapes ", absl::StrJoin(all, ", "), " do not broadcast");
    }
  }
  return out;
}

Value HostConstant(HostTensor h) {
  return Value::Constant(std::make_shared<const HostTensor>(std::move(h)));
}

Tensor Atan(const Tensor& x) {
  // Range reduction: atan(x) = sign(x) * (pi/2 - atan(1/|x|)) for |x| > 1,
  // then atan(a) = 2 atan(a / (1 + sqrt(1 + a^2))) brings |a| <= tan(pi/8),
  // where an odd Taylor polynomial to a^15 is accurate to 1e-8.
  Tensor a = x.Abs();
  Tensor big = a.Gt(1);
  Tensor r = big.Where(a.Reciprocal(), a);
  Tensor h = r.Div(r.Square().Add(1).Sqrt().Add(1));
  Tensor h2 = h.Square();
  Tensor p = Tensor::Full({}, -1.0 / 15, x.dtype());
  for (int k = 13; k >= 1; k -= 2) p = p.Mul(h2).Add(((k / 2) % 2 ? -1.0 : 1.0) / k);
  Tensor at = p.Mul(h).Mul(2);
  Tensor res = big.Where(at.Neg().Add(std::numbers::pi / 2), at);
  return x.Lt(0).Where(res.Neg(), res);
}

}  // namespace uop::onnx_import
