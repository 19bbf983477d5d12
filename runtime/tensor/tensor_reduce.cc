// Reductions: REDUCE_AXIS with ADD, MUL or MAX and compositions of them.
#include <limits>
#include <numeric>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_internal.h"

namespace uop {
namespace {

using T = TensorOps;

std::vector<int64_t> AllAxes(const Tensor& x) {
  std::vector<int64_t> axes(x.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  return axes;
}

// -x for floats, ~x for ints and bools: order-reversing and exact, so
// min(x) = inverse(max(inverse(x))).
Tensor Inverse(const Tensor& x) { return x.dtype().is_float() ? x.Neg() : x.BitwiseNot(); }

int64_t ReducedCount(const Tensor& x, const std::vector<int64_t>& axes) {
  int64_t n = 1;
  for (int64_t a : axes) n *= x.shape()[a];
  return n;
}

}  // namespace

Tensor Tensor::Sum(const std::vector<int64_t>& axes, bool keepdim,
                   std::optional<DType> dtype) const {
  if (!ok()) return *this;
  absl::StatusOr<std::vector<int64_t>> ax = T::NormAxes("Sum", axes, ndim());
  if (!ax.ok()) return Error(ax.status());
  DType acc = dtype ? *dtype : T::SumAccDType(this->dtype());
  Tensor r = T::Reduce(Cast(acc), Op::kAdd, *ax, keepdim);
  const ScalarType s = this->dtype().scalar_type();
  if (!dtype && (s == ScalarType::kFloat16 || s == ScalarType::kBFloat16))
    return r.Cast(this->dtype());
  return r;
}

Tensor Tensor::Sum() const { return ok() ? Sum(AllAxes(*this)) : *this; }

Tensor Tensor::Prod(const std::vector<int64_t>& axes, bool keepdim) const {
  if (!ok()) return *this;
  absl::StatusOr<std::vector<int64_t>> ax = T::NormAxes("Prod", axes, ndim());
  if (!ax.ok()) return Error(ax.status());
  return T::Reduce(*this, Op::kMul, *ax, keepdim);
}

Tensor Tensor::Prod() const { return ok() ? Prod(AllAxes(*this)) : *this; }

Tensor Tensor::Max(const std::vector<int64_t>& axes, bool keepdim) const {
  if (!ok()) return *this;
  absl::StatusOr<std::vector<int64_t>> ax = T::NormAxes("Max", axes, ndim());
  if (!ax.ok()) return Error(ax.status());
  return T::Reduce(*this, Op::kMax, *ax, keepdim);
}

Tensor Tensor::Max() const { return ok() ? Max(AllAxes(*this)) : *this; }

Tensor Tensor::Min(const std::vector<int64_t>& axes, bool keepdim) const {
  if (!ok()) return *this;
  absl::StatusOr<std::vector<int64_t>> ax = T::NormAxes("Min", axes, ndim());
  if (!ax.ok()) return Error(ax.status());
  return Inverse(T::Reduce(Inverse(*this), Op::kMax, *ax, keepdim));
}

Tensor Tensor::Min() const { return ok() ? Min(AllAxes(*this)) : *this; }

Tensor Tensor::Mean(const std::vector<int64_t>& axes, bool keepdim) const {
  if (!ok()) return *this;
  absl::StatusOr<std::vector<int64_t>> ax = T::NormAxes("Mean", axes, ndim());
  if (!ax.ok()) return Error(ax.status());
  DType out = DefaultFloatFor(dtype());
  Tensor sum = Cast(T::SumAccDType(dtype())).Sum(*ax, keepdim);
  return sum.Div(ReducedCount(*this, *ax)).Cast(out);
}

Tensor Tensor::Mean() const { return ok() ? Mean(AllAxes(*this)) : *this; }

Tensor Tensor::Var(const std::vector<int64_t>& axes, bool keepdim, double correction) const {
  if (!ok()) return *this;
  absl::StatusOr<std::vector<int64_t>> ax = T::NormAxes("Var", axes, ndim());
  if (!ax.ok()) return Error(ax.status());
  Tensor x = Cast(DefaultFloatFor(dtype()));
  Tensor centered = x.Sub(x.Mean(*ax, /*keepdim=*/true));
  double n = static_cast<double>(ReducedCount(*this, *ax));
  return centered.Square().Sum(*ax, keepdim).Div(std::max(0.0, n - correction));
}

Tensor Tensor::Std(const std::vector<int64_t>& axes, bool keepdim, double correction) const {
  return Var(axes, keepdim, correction).Sqrt();
}

Tensor Tensor::Any(const std::vector<int64_t>& axes, bool keepdim) const {
  if (!ok()) return *this;
  absl::StatusOr<std::vector<int64_t>> ax = T::NormAxes("Any", axes, ndim());
  if (!ax.ok()) return Error(ax.status());
  return T::Reduce(Cast(DType::Bool()), Op::kMax, *ax, keepdim);
}

Tensor Tensor::Any() const { return ok() ? Any(AllAxes(*this)) : *this; }

Tensor Tensor::All(const std::vector<int64_t>& axes, bool keepdim) const {
  return LogicalNot().Any(axes, keepdim).LogicalNot();
}

Tensor Tensor::All() const { return ok() ? All(AllAxes(*this)) : *this; }

Tensor Tensor::ArgMax(int64_t axis, bool keepdim) const {
  if (!ok()) return *this;
  absl::StatusOr<int64_t> a = T::NormAxis("ArgMax", axis, ndim());
  if (!a.ok()) return Error(a.status());
  if (ndim() == 0) return Full(keepdim ? shape() : Shape{}, 0, DType::Int32(), device_);
  const int64_t n = shape()[*a];
  if (n == 0) return T::Fail("ArgMax", "cannot reduce axis ", *a, " of size 0");
  // Positions equal to the max get n - i; the largest such value is the
  // first index. A NaN max marks the NaNs (numpy returns the first NaN).
  Tensor m = Max({*a}, /*keepdim=*/true);
  Tensor hit = Eq(m);
  if (dtype().is_float()) hit = hit.LogicalOr(IsNan().LogicalAnd(m.IsNan()));
  Shape along(ndim(), 1);
  along[*a] = n;
  Tensor countdown = Arange(n, 0, -1, DType::Int32(), device_).Reshape(along);
  Tensor first = hit.Where(countdown, 0).Max({*a}, keepdim);
  return (n - first).Cast(DType::Int32());
}

Tensor Tensor::ArgMin(int64_t axis, bool keepdim) const {
  if (!ok()) return *this;
  if (dtype().is_bool()) return LogicalNot().ArgMax(axis, keepdim);
  return Inverse(*this).ArgMax(axis, keepdim);
}

Tensor Tensor::LogSumExp(const std::vector<int64_t>& axes, bool keepdim) const {
  if (!ok()) return *this;
  absl::StatusOr<std::vector<int64_t>> ax = T::NormAxes("LogSumExp", axes, ndim());
  if (!ax.ok()) return Error(ax.status());
  Tensor x = Cast(DefaultFloatFor(dtype()));
  // An infinite max would make x - max NaN: shift by 0 instead (an all -inf
  // row gives log(0) = -inf, a +inf gives +inf).
  Tensor m = x.Max(*ax, /*keepdim=*/true);
  Tensor shift = m.IsInf().Where(0, m);
  Tensor r = x.Sub(shift).Exp().Sum(*ax, /*keepdim=*/true).Log().Add(shift);
  return keepdim ? r : r.Squeeze(*ax);
}

namespace {

// Inclusive prefix sums along the last axis, in x's dtype. Window i of the
// left-padded axis holds x[i - n + 1 .. i]; summing each window gives the
// prefix (tinygrad's _cumalu). That is O(n^2) where it is not folded, so long
// axes are split into blocks of kBlock: prefix sums within each block plus
// the exclusive prefix sum of the block totals (tinygrad's _split_cumalu).
Tensor PrefixSumLast(const Tensor& x) {
  constexpr int64_t kBlock = 256;
  const int64_t n = x.shape().back();
  if (n <= 2 * kBlock) {
    Tensor windows = T::Pool("CumSum", T::PadLast(x, {{n - 1, 0}}), {n}, {1}, {1});
    return windows.Sum({-1}, false, x.dtype());
  }
  const int64_t blocks = (n + kBlock - 1) / kBlock, lead = blocks * kBlock - n;
  Tensor within = PrefixSumLast(T::PadLast(x, {{lead, 0}}).Unflatten(-1, {blocks, kBlock}));
  Tensor totals = within.Select(-1, kBlock - 1);
  Tensor before = T::PadLast(PrefixSumLast(totals), {{1, -1}});
  return within.Add(before.Unsqueeze(-1)).Flatten(-2).Slice(-1, lead, std::nullopt);
}

}  // namespace

Tensor Tensor::CumSum(int64_t axis, bool exclusive, bool reverse) const {
  if (!ok()) return *this;
  absl::StatusOr<int64_t> a = T::NormAxis("CumSum", axis, ndim());
  if (!a.ok()) return Error(a.status());
  if (ndim() == 0) return exclusive ? ZerosLike().Sum() : Sum();
  const ScalarType s = dtype().scalar_type();
  const bool cast_back = s == ScalarType::kFloat16 || s == ScalarType::kBFloat16;
  Tensor x = (reverse ? Flip({*a}) : *this).Cast(T::SumAccDType(dtype()));
  if (shape()[*a] == 0) return cast_back ? x.Cast(dtype()) : x;
  Tensor r = PrefixSumLast(x.Transpose(*a, -1));
  // Exclusive: shift right by one, 0 first.
  if (exclusive) r = T::PadLast(r, {{1, -1}});
  r = r.Transpose(*a, -1);
  if (reverse) r = r.Flip({*a});
  return cast_back ? r.Cast(dtype()) : r;
}

}  // namespace uop
