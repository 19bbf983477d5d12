// Creation: constants, ranges and the identity matrix.
#include <climits>
#include <cmath>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_internal.h"

namespace uop {
namespace {

absl::Status CheckShape(absl::string_view op, const Shape& shape) {
  return TensorOps::CheckedNumel(op, shape).status();
}

absl::Status CheckDType(absl::string_view op, DType dtype) {
  if (dtype.count() != 1 || dtype.is_ptr() || dtype.is_void() ||
      dtype.scalar_type() == ScalarType::kIndex)
    return absl::InvalidArgumentError(absl::StrCat(op, ": unsupported dtype ", dtype.ToString()));
  return absl::OkStatus();
}

}  // namespace

Tensor Tensor::Full(Shape shape, Number value, std::optional<DType> dtype, std::string device) {
  DType dt = dtype ? *dtype : value.DefaultDType();
  if (absl::Status s = CheckShape("Full", shape); !s.ok()) return Error(s);
  if (absl::Status s = CheckDType("Full", dt); !s.ok()) return Error(s);
  if (device.empty()) return TensorOps::Fail("Full", "empty device name");
  return TensorOps::Const(value, dt, shape, device);
}

Tensor Tensor::Zeros(Shape shape, DType dtype, std::string device) {
  return Full(std::move(shape), 0, dtype, std::move(device));
}

Tensor Tensor::Ones(Shape shape, DType dtype, std::string device) {
  return Full(std::move(shape), 1, dtype, std::move(device));
}

Tensor Tensor::FullLike(Number value, std::optional<DType> dtype) const {
  if (!ok()) return *this;
  return Full(shape(), value, dtype ? *dtype : this->dtype(), device_);
}

Tensor Tensor::Arange(Number start, Number stop, Number step, std::optional<DType> dtype,
                      std::string device) {
  const bool ints = !start.is_float() && !stop.is_float() && !step.is_float();
  DType dt = dtype ? *dtype : (ints ? DType::Int32() : DType::Float32());
  if (absl::Status s = CheckDType("Arange", dt); !s.ok()) return Error(s);
  if (step.AsDouble() == 0) return TensorOps::Fail("Arange", "step must not be 0");
  int64_t n;
  if (ints) {
    int64_t span = stop.AsInt() - start.AsInt(), st = step.AsInt();
    n = span / st + (span % st != 0 && ((span < 0) == (st < 0)) ? 1 : 0);
  } else {
    double c = std::ceil((stop.AsDouble() - start.AsDouble()) / step.AsDouble());
    if (!(c < 9.2e18)) return TensorOps::Fail("Arange", "the range is not finite or too long");
    n = static_cast<int64_t>(c);
  }
  n = std::max<int64_t>(n, 0);
  if (n == 0) return Full({0}, 0, dt, std::move(device));
  // A cumulative sum costs O(n^2) where it is not folded (the reference
  // evaluator, unfused schedules), so long ranges are built as a (rows, k)
  // grid of two short ranges, like tinygrad's split cumsum.
  constexpr int64_t kMaxCumSum = 256;
  if (n > kMaxCumSum) {
    const int64_t k = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
    const int64_t rows = (n + k - 1) / k;
    DType idx_dtype = rows * k > INT32_MAX ? DType::Int64() : DType::Int32();
    Tensor hi = Arange(0, rows * k, k, idx_dtype, device).Reshape({rows, 1});
    Tensor lo = Arange(0, k, 1, idx_dtype, device).Reshape({1, k});
    Tensor idx = hi.Add(lo).Flatten().Shrink({{0, n}});
    if (ints && !dt.is_float())
      return idx.Cast(DType::Int64()).Mul(step.AsInt()).Add(start.AsInt()).Cast(dt);
    DType f = dt.is_float() ? dt : DType::Float64();
    return idx.Cast(f).Mul(step.AsDouble()).Add(start.AsDouble()).Cast(dt);
  }
  // tinygrad's form: a cumulative sum of `step`s, offset by start - step. The
  // scheduler sees a reduce over a pooled view (its arange folding applies).
  Number offset =
      ints ? Number(start.AsInt() - step.AsInt()) : Number(start.AsDouble() - step.AsDouble());
  Tensor steps = Full({n}, step, dt, std::move(device));
  return steps.CumSum(0).Add(offset).Cast(dt);
}

Tensor Tensor::Eye(int64_t n, int64_t m, DType dtype, std::string device) {
  if (m < 0) m = n;
  if (n < 0) return TensorOps::Fail("Eye", "negative size ", n);
  const int64_t k = std::max(n, m);
  // Ones in column 0 of a (k, k + 1) padded matrix, read back as (k, k):
  // element (i, j) is flat index i * k + j, which lands in column 0 exactly
  // when i == j. Pure views: no compute.
  Tensor ones = Ones({k, 1}, dtype, std::move(device));
  Tensor eye = ones.Pad({{0, 0}, {0, k}}).Flatten().Shrink({{0, k * k}}).Reshape({k, k});
  return eye.Shrink({{0, n}, {0, m}});
}

}  // namespace uop
