// Elementwise arithmetic, comparisons, logic, bitwise ops, casts and pow.
#include <cmath>
#include <limits>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_internal.h"

namespace uop {
namespace {

using T = TensorOps;

// a op b after broadcasting to one shape and dtype (promoted, or `dtype`).
Tensor Binary(absl::string_view name, Op op, const Tensor& a, const Tensor& b,
              std::optional<DType> dtype = std::nullopt) {
  Tensor x, y, err;
  if (!T::Broadcast2(name, a, b, dtype, &x, &y, &err)) return err;
  return T::Alu(op, {&x, &y});
}

Tensor BinaryNumber(Op op, const Tensor& a, Number n, bool reverse = false) {
  if (!a.ok()) return a;
  auto [x, c] = T::WithNumber(a, n);
  return reverse ? T::Alu(op, {&c, &x}) : T::Alu(op, {&x, &c});
}

// The dtype two tensors meet in, or nullopt when either is an error.
std::optional<DType> Promoted(const Tensor& a, const Tensor& b) {
  if (!a.ok() || !b.ok()) return std::nullopt;
  return Promote(a.dtype(), b.dtype());
}

bool IsIntOrBool(DType d) { return d.is_int() || d.is_bool(); }

// Square-and-multiply for a non-negative constant exponent: exact for
// integers (wrapping) and the most accurate form for floats.
Tensor PowByMultiplication(const Tensor& x, uint64_t n) {
  if (n == 0) return x.OnesLike();
  std::optional<Tensor> result;
  Tensor base = x;
  while (true) {
    if (n & 1) result = result ? result->Mul(base) : base;
    n >>= 1;
    if (n == 0) break;
    base = base.Mul(base);
  }
  return *result;
}

// Float a ** b (same shape and dtype).
Tensor FloatPow(const Tensor& a, const Tensor& b) {
  Tensor magnitude = b.Mul(a.Abs().Log2()).Exp2();
  Tensor b_int = b.Trunc().Eq(b);
  Tensor b_odd = b_int.LogicalAnd(b.Fmod(2).Ne(0));
  Tensor negative = a.Lt(0);
  Tensor r = negative.LogicalAnd(b_odd).Where(magnitude.Neg(), magnitude);
  r = negative.LogicalAnd(b_int.LogicalNot()).Where(std::numeric_limits<double>::quiet_NaN(), r);
  return b.Eq(0).Where(1, r);  // x ** 0 == 1, even for NaN (like C pow)
}

// Integer a ** b (same shape and dtype): square-and-multiply over the bits of
// b; negative exponents give 1 / a^|b| truncated (1, +-1 or 0).
Tensor IntPow(const Tensor& a, const Tensor& b) {
  const DType d = a.dtype();
  const int bits = d.itemsize() * 8 - (d.is_unsigned() ? 0 : 1);
  Tensor result = a.OnesLike(), base = a;
  for (int i = 0; i < bits; ++i) {
    Tensor bit = b.RShift(i).BitwiseAnd(1).Ne(0);
    result = bit.Where(result.Mul(base), result);
    if (i + 1 < bits) base = base.Mul(base);
  }
  if (d.is_unsigned()) return result;
  Tensor odd = b.BitwiseAnd(1).Ne(0);
  Tensor negative_exp = a.Eq(1).Where(1, a.Eq(-1).Where(odd.Where(-1, 1), 0)).Cast(d);
  return b.Lt(0).Where(negative_exp, result);
}

// Python's integer floor-division fix-up: q - 1 where the C quotient was
// rounded toward zero across a sign change.
Tensor IntFloorAdjust(const Tensor& q, const Tensor& r, const Tensor& b) {
  if (q.dtype().is_unsigned()) return q;
  Tensor adjust = r.Ne(0).LogicalAnd(r.Lt(0).Ne(b.Lt(0)));
  return adjust.Where(q.Sub(1), q);
}

Tensor FloatFmod(const Tensor& a, const Tensor& b) { return a.Sub(a.Div(b).Trunc().Mul(b)); }

}  // namespace

// ---------------------------------------------------------------- arithmetic

Tensor Tensor::Add(const Tensor& y) const { return Binary("Add", Op::kAdd, *this, y); }
Tensor Tensor::Add(Number y) const { return BinaryNumber(Op::kAdd, *this, y); }
Tensor Tensor::Sub(const Tensor& y) const { return Binary("Sub", Op::kSub, *this, y); }
Tensor Tensor::Sub(Number y) const { return BinaryNumber(Op::kSub, *this, y); }
Tensor Tensor::Mul(const Tensor& y) const { return Binary("Mul", Op::kMul, *this, y); }
Tensor Tensor::Mul(Number y) const { return BinaryNumber(Op::kMul, *this, y); }

Tensor Tensor::Div(const Tensor& y) const {
  std::optional<DType> d = Promoted(*this, y);
  return Binary("Div", Op::kFdiv, *this, y, d ? std::optional(DefaultFloatFor(*d)) : d);
}

Tensor Tensor::Div(Number y) const {
  if (!ok()) return *this;
  DType d = DefaultFloatFor(y.ResultDType(dtype()));
  return Cast(d).Div(T::Const(y, d, shape(), device_));
}

Tensor Tensor::IntDiv(const Tensor& y) const {
  std::optional<DType> d = Promoted(*this, y);
  if (d && !d->is_int())
    return T::Fail("IntDiv", "needs integer dtypes, got ", dtype().ToString(), " and ",
                   y.dtype().ToString());
  return Binary("IntDiv", Op::kIdiv, *this, y);
}

Tensor Tensor::IntDiv(Number y) const {
  if (!ok()) return *this;
  return IntDiv(T::Const(y, y.ResultDType(dtype()), shape(), device_));
}

Tensor Tensor::FloorDiv(const Tensor& y) const {
  TENSOR_RETURN_IF_ERROR(this, &y);
  std::optional<DType> d = Promoted(*this, y);
  if (d->is_bool()) return T::Fail("FloorDiv", "needs number dtypes, got bool");
  if (d->is_float()) return Div(y).Floor();
  Tensor a, b, err;
  if (!T::Broadcast2("FloorDiv", *this, y, std::nullopt, &a, &b, &err)) return err;
  return IntFloorAdjust(T::Alu(Op::kIdiv, {&a, &b}), T::Alu(Op::kMod, {&a, &b}), b);
}

Tensor Tensor::FloorDiv(Number y) const {
  if (!ok()) return *this;
  return FloorDiv(T::Const(y, y.ResultDType(dtype()), shape(), device_));
}

Tensor Tensor::Mod(const Tensor& y) const {
  TENSOR_RETURN_IF_ERROR(this, &y);
  std::optional<DType> d = Promoted(*this, y);
  if (d->is_bool()) return T::Fail("Mod", "needs number dtypes, got bool");
  Tensor a, b, err;
  if (!T::Broadcast2("Mod", *this, y, std::nullopt, &a, &b, &err)) return err;
  Tensor r = d->is_float() ? FloatFmod(a, b) : T::Alu(Op::kMod, {&a, &b});
  if (d->is_unsigned()) return r;
  // Move a remainder whose sign differs from the divisor's into its range.
  Tensor fix = r.Ne(0).LogicalAnd(r.Lt(0).Ne(b.Lt(0)));
  return fix.Where(r.Add(b), r);
}

Tensor Tensor::Mod(Number y) const {
  if (!ok()) return *this;
  return Mod(T::Const(y, y.ResultDType(dtype()), shape(), device_));
}

Tensor Tensor::Fmod(const Tensor& y) const {
  TENSOR_RETURN_IF_ERROR(this, &y);
  std::optional<DType> d = Promoted(*this, y);
  if (d->is_bool()) return T::Fail("Fmod", "needs number dtypes, got bool");
  Tensor a, b, err;
  if (!T::Broadcast2("Fmod", *this, y, std::nullopt, &a, &b, &err)) return err;
  return d->is_float() ? FloatFmod(a, b) : T::Alu(Op::kMod, {&a, &b});
}

Tensor Tensor::Fmod(Number y) const {
  if (!ok()) return *this;
  return Fmod(T::Const(y, y.ResultDType(dtype()), shape(), device_));
}

Tensor Tensor::Pow(const Tensor& y) const {
  Tensor a, b, err;
  if (!T::Broadcast2("Pow", *this, y, std::nullopt, &a, &b, &err)) return err;
  DType d = a.dtype();
  if (d.is_bool()) return T::Fail("Pow", "needs number dtypes, got bool");
  if (d.is_int()) return IntPow(a, b);
  return FloatPow(a, b);
}

Tensor Tensor::Pow(Number y) const {
  if (!ok()) return *this;
  DType d = y.ResultDType(dtype());
  if (d.is_bool()) return T::Fail("Pow", "needs number dtypes, got bool");
  Tensor x = Cast(d);
  const double e = y.AsDouble();
  const bool integral = !y.is_float() || (std::trunc(e) == e && std::isfinite(e));
  if (d.is_int()) {
    if (y.AsInt() < 0)
      return T::Fail("Pow", "integer ", dtype().ToString(), " base with negative exponent ",
                     y.AsInt());
    return PowByMultiplication(x, static_cast<uint64_t>(y.AsInt()));
  }
  constexpr double kMaxMultiplied = 32;  // beyond this exp2/log2 is as accurate and shorter
  if (integral && std::abs(e) <= kMaxMultiplied) {
    Tensor p = PowByMultiplication(x, static_cast<uint64_t>(std::abs(e)));
    return e < 0 ? p.Reciprocal() : p;
  }
  return FloatPow(x, Full(shape(), y, d, device_));
}

Tensor Tensor::Maximum(const Tensor& y) const { return Binary("Maximum", Op::kMax, *this, y); }
Tensor Tensor::Maximum(Number y) const { return BinaryNumber(Op::kMax, *this, y); }

Tensor Tensor::Minimum(const Tensor& y) const {
  Tensor a, b, err;
  if (!T::Broadcast2("Minimum", *this, y, std::nullopt, &a, &b, &err)) return err;
  // min(a, b) = -max(-a, -b) for floats; ~max(~a, ~b) for ints and bools,
  // which is exact where negation would overflow.
  if (a.dtype().is_float()) return a.Neg().Maximum(b.Neg()).Neg();
  return a.BitwiseNot().Maximum(b.BitwiseNot()).BitwiseNot();
}

Tensor Tensor::Minimum(Number y) const {
  if (!ok()) return *this;
  auto [x, c] = T::WithNumber(*this, y);
  return x.Minimum(c);
}

Tensor Tensor::Clip(std::optional<Number> lo, std::optional<Number> hi) const {
  Tensor r = *this;
  if (lo) r = r.Maximum(*lo);
  if (hi) r = r.Minimum(*hi);
  return r;
}

Tensor Tensor::Where(const Tensor& x, const Tensor& y) const {
  TENSOR_RETURN_IF_ERROR(this, &x, &y);
  if (x.device() != device_ || y.device() != device_)
    return T::Fail("Where", "tensors are on different devices ", device_, ", ", x.device(), " and ",
                   y.device());
  absl::StatusOr<Shape> s = T::BroadcastShapes("Where", x.shape(), y.shape());
  if (s.ok()) s = T::BroadcastShapes("Where", shape(), *s);
  if (!s.ok()) return Error(s.status());
  DType d = Promote(x.dtype(), y.dtype());
  Tensor c = T::BroadcastTo(Cast(DType::Bool()), *s);
  Tensor a = T::BroadcastTo(x.Cast(d), *s), b = T::BroadcastTo(y.Cast(d), *s);
  return T::Alu(Op::kWhere, {&c, &a, &b});
}

Tensor Tensor::Where(const Tensor& x, Number y) const {
  if (!x.ok()) return x;
  return Where(x, T::Const(y, y.ResultDType(x.dtype()), x.shape(), x.device()));
}

Tensor Tensor::Where(Number x, const Tensor& y) const {
  if (!y.ok()) return y;
  return Where(T::Const(x, x.ResultDType(y.dtype()), y.shape(), y.device()), y);
}

Tensor Tensor::Where(Number x, Number y) const {
  if (!ok()) return *this;
  DType d = Promote(x.DefaultDType(), y.DefaultDType());
  return Where(T::Const(x, d, shape(), device_), T::Const(y, d, shape(), device_));
}

// ---------------------------------------------------------------- comparison

Tensor Tensor::Lt(const Tensor& y) const { return Binary("Lt", Op::kCmpLt, *this, y); }
Tensor Tensor::Lt(Number y) const { return BinaryNumber(Op::kCmpLt, *this, y); }
Tensor Tensor::Gt(const Tensor& y) const { return Binary("Gt", Op::kCmpLt, y, *this); }
Tensor Tensor::Gt(Number y) const { return BinaryNumber(Op::kCmpLt, *this, y, /*reverse=*/true); }
Tensor Tensor::Eq(const Tensor& y) const { return Binary("Eq", Op::kCmpEq, *this, y); }
Tensor Tensor::Eq(Number y) const { return BinaryNumber(Op::kCmpEq, *this, y); }
Tensor Tensor::Ne(const Tensor& y) const { return Binary("Ne", Op::kCmpNe, *this, y); }
Tensor Tensor::Ne(Number y) const { return BinaryNumber(Op::kCmpNe, *this, y); }
// a <= b is (a < b) | (a == b), not !(b < a), so NaN compares false.
Tensor Tensor::Le(const Tensor& y) const { return Lt(y).LogicalOr(Eq(y)); }
Tensor Tensor::Le(Number y) const { return Lt(y).LogicalOr(Eq(y)); }
Tensor Tensor::Ge(const Tensor& y) const { return Gt(y).LogicalOr(Eq(y)); }
Tensor Tensor::Ge(Number y) const { return Gt(y).LogicalOr(Eq(y)); }

// ------------------------------------------------------------------- logical

Tensor Tensor::LogicalNot() const {
  if (!ok()) return *this;
  return Cast(DType::Bool()).Ne(true);
}

Tensor Tensor::LogicalAnd(const Tensor& y) const {
  return Binary("LogicalAnd", Op::kAnd, Cast(DType::Bool()), y.Cast(DType::Bool()));
}
Tensor Tensor::LogicalOr(const Tensor& y) const {
  return Binary("LogicalOr", Op::kOr, Cast(DType::Bool()), y.Cast(DType::Bool()));
}
Tensor Tensor::LogicalXor(const Tensor& y) const {
  return Binary("LogicalXor", Op::kXor, Cast(DType::Bool()), y.Cast(DType::Bool()));
}

// ------------------------------------------------------------------- bitwise

namespace {

Tensor Bitwise(absl::string_view name, Op op, const Tensor& a, const Tensor& b, bool bools_ok) {
  std::optional<DType> d = Promoted(a, b);
  if (d && !(d->is_int() || (bools_ok && d->is_bool())))
    return T::Fail(name, "needs integer", bools_ok ? " or bool" : "", " dtypes, got ",
                   a.dtype().ToString(), " and ", b.dtype().ToString());
  return Binary(name, op, a, b);
}

Tensor BitwiseNumber(absl::string_view name, Op op, const Tensor& a, Number n, bool bools_ok) {
  if (!a.ok()) return a;
  if (n.is_float()) return T::Fail(name, "needs an integer operand, got ", n.AsDouble());
  return Bitwise(name, op, a, T::Const(n, n.ResultDType(a.dtype()), a.shape(), a.device()),
                 bools_ok);
}

}  // namespace

Tensor Tensor::BitwiseAnd(const Tensor& y) const {
  return Bitwise("BitwiseAnd", Op::kAnd, *this, y, true);
}
Tensor Tensor::BitwiseAnd(Number y) const {
  return BitwiseNumber("BitwiseAnd", Op::kAnd, *this, y, true);
}
Tensor Tensor::BitwiseOr(const Tensor& y) const {
  return Bitwise("BitwiseOr", Op::kOr, *this, y, true);
}
Tensor Tensor::BitwiseOr(Number y) const {
  return BitwiseNumber("BitwiseOr", Op::kOr, *this, y, true);
}
Tensor Tensor::BitwiseXor(const Tensor& y) const {
  return Bitwise("BitwiseXor", Op::kXor, *this, y, true);
}
Tensor Tensor::BitwiseXor(Number y) const {
  return BitwiseNumber("BitwiseXor", Op::kXor, *this, y, true);
}
Tensor Tensor::LShift(const Tensor& y) const {
  return Bitwise("LShift", Op::kShl, *this, y, false);
}
Tensor Tensor::LShift(Number y) const { return BitwiseNumber("LShift", Op::kShl, *this, y, false); }
Tensor Tensor::RShift(const Tensor& y) const {
  return Bitwise("RShift", Op::kShr, *this, y, false);
}
Tensor Tensor::RShift(Number y) const { return BitwiseNumber("RShift", Op::kShr, *this, y, false); }

Tensor Tensor::BitwiseNot() const {
  if (!ok()) return *this;
  if (dtype().is_bool()) return BitwiseXor(true);
  if (!dtype().is_int())
    return T::Fail("BitwiseNot", "needs an integer or bool dtype, got ", dtype().ToString());
  return BitwiseXor(-1);  // all ones in every integer width
}

// --------------------------------------------------------------- neg / casts

Tensor Tensor::Neg() const {
  if (!ok()) return *this;
  if (dtype().is_bool()) return LogicalNot();
  return T::Alu(Op::kNeg, {this});
}

Tensor Tensor::Cast(DType dtype) const {
  if (!ok() || dtype == this->dtype()) return *this;
  if (dtype.count() != 1 || dtype.is_ptr() || dtype.is_void() ||
      dtype.scalar_type() == ScalarType::kIndex)
    return T::Fail("Cast", "unsupported dtype ", dtype.ToString());
  return T::AluTo(Op::kCast, dtype, *this);
}

Tensor Tensor::Bitcast(DType dtype) const {
  if (!ok() || dtype == this->dtype()) return *this;
  if (dtype.count() != 1 || dtype.is_ptr() || dtype.is_void() || dtype.is_bool() ||
      this->dtype().is_bool() || dtype.itemsize() != this->dtype().itemsize() ||
      dtype.scalar_type() == ScalarType::kIndex)
    return T::Fail("Bitcast", "cannot reinterpret ", this->dtype().ToString(), " as ",
                   dtype.ToString(), " (needs equal item sizes, no bool)");
  return T::AluTo(Op::kBitcast, dtype, *this);
}

// ----------------------------------------------------------------- operators

Tensor operator+(const Tensor& a, const Tensor& b) { return a.Add(b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return a.Sub(b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return a.Mul(b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return a.Div(b); }
Tensor operator+(const Tensor& a, Number b) { return a.Add(b); }
Tensor operator-(const Tensor& a, Number b) { return a.Sub(b); }
Tensor operator*(const Tensor& a, Number b) { return a.Mul(b); }
Tensor operator/(const Tensor& a, Number b) { return a.Div(b); }
Tensor operator+(Number a, const Tensor& b) { return b.Add(a); }
Tensor operator-(Number a, const Tensor& b) { return BinaryNumber(Op::kSub, b, a, true); }
Tensor operator*(Number a, const Tensor& b) { return b.Mul(a); }
Tensor operator/(Number a, const Tensor& b) {
  if (!b.ok()) return b;
  DType d = DefaultFloatFor(a.ResultDType(b.dtype()));
  return T::Const(a, d, b.shape(), b.device()).Div(b);
}
Tensor operator-(const Tensor& a) { return a.Neg(); }

}  // namespace uop
