// Float math and activations, built from the primitive ops EXP2, LOG2, SIN,
// SQRT, RECIP and TRUNC so a backend implements only those.
#include <cmath>
#include <limits>
#include <numbers>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_internal.h"

namespace uop {
namespace {

using T = TensorOps;

constexpr double kLog2E = std::numbers::log2e;
constexpr double kLn2 = std::numbers::ln2;

// x computed as its float dtype, then `op`.
Tensor FloatUnary(const Tensor& x, Op op) {
  if (!x.ok()) return x;
  Tensor f = x.Cast(DefaultFloatFor(x.dtype()));
  return T::Alu(op, {&f});
}

Tensor AsFloat(const Tensor& x) { return x.ok() ? x.Cast(DefaultFloatFor(x.dtype())) : x; }

}  // namespace

Tensor Tensor::Exp2() const { return FloatUnary(*this, Op::kExp2); }
Tensor Tensor::Log2() const { return FloatUnary(*this, Op::kLog2); }
Tensor Tensor::Sqrt() const { return FloatUnary(*this, Op::kSqrt); }
Tensor Tensor::Reciprocal() const { return FloatUnary(*this, Op::kRecip); }
Tensor Tensor::Sin() const { return FloatUnary(*this, Op::kSin); }
Tensor Tensor::Exp() const { return AsFloat(*this).Mul(kLog2E).Exp2(); }
Tensor Tensor::Log() const { return Log2().Mul(kLn2); }
Tensor Tensor::Rsqrt() const { return Sqrt().Reciprocal(); }
Tensor Tensor::Cos() const { return (std::numbers::pi / 2 - AsFloat(*this)).Sin(); }
Tensor Tensor::Tan() const { return Sin().Div(Cos()); }

Tensor Tensor::Erf() const {
  // Abramowitz and Stegun 7.1.26: erf(x) = 1 - t * poly(t) * exp(-x^2) for
  // x >= 0 with t = 1 / (1 + p x); odd symmetry for x < 0.
  Tensor x = AsFloat(*this);
  Tensor t = x.Abs().Mul(0.3275911).Add(1).Reciprocal();
  Tensor poly = t.Mul(1.061405429).Add(-1.453152027);
  poly = poly.Mul(t).Add(1.421413741);
  poly = poly.Mul(t).Add(-0.284496736);
  poly = poly.Mul(t).Add(0.254829592);
  Tensor y = 1 - t.Mul(poly).Mul(x.Square().Neg().Exp());
  return x.Sign().Mul(y);
}

Tensor Tensor::Abs() const {
  if (!ok() || dtype().is_unsigned() || dtype().is_bool()) return *this;
  return Lt(0).Where(Neg(), *this);
}

Tensor Tensor::Sign() const {
  if (!ok() || dtype().is_bool()) return *this;
  Tensor s = Lt(0).Where(-1, Gt(0).Where(1, 0)).Cast(dtype());
  return dtype().is_float() ? IsNan().Where(*this, s) : s;
}

Tensor Tensor::Trunc() const {
  if (!ok() || !dtype().is_float()) return *this;
  return T::Alu(Op::kTrunc, {this});
}

Tensor Tensor::Floor() const {
  if (!ok() || !dtype().is_float()) return *this;
  Tensor t = Trunc();
  return t.Gt(*this).Where(t.Sub(1), t);
}

Tensor Tensor::Ceil() const {
  if (!ok() || !dtype().is_float()) return *this;
  Tensor t = Trunc();
  return t.Lt(*this).Where(t.Add(1), t);
}

Tensor Tensor::Round() const {
  if (!ok() || !dtype().is_float()) return *this;
  // x - floor(x) is exact, so ties are found exactly; a tie goes to the even
  // neighbour.
  Tensor f = Floor();
  Tensor frac = Sub(f);
  Tensor f_even = f.Fmod(2).Eq(0);
  Tensor tie = f_even.Where(f, f.Add(1));
  return frac.Gt(0.5).Where(f.Add(1), frac.Lt(0.5).Where(f, tie));
}

Tensor Tensor::IsNan() const {
  if (!ok()) return *this;
  if (!dtype().is_float()) return T::ConstLike(*this, false, DType::Bool());
  return Ne(*this);
}

Tensor Tensor::IsInf(bool detect_positive, bool detect_negative) const {
  if (!ok()) return *this;
  Tensor r = T::ConstLike(*this, false, DType::Bool());
  if (!dtype().is_float()) return r;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (detect_positive) r = r.LogicalOr(Eq(kInf));
  if (detect_negative) r = r.LogicalOr(Eq(-kInf));
  return r;
}

// ---------------------------------------------------------------- activations

Tensor Tensor::Relu() const { return AsFloat(*this).Maximum(0); }

Tensor Tensor::LeakyRelu(double alpha) const {
  Tensor x = AsFloat(*this);
  return x.Lt(0).Where(x.Mul(alpha), x);
}

Tensor Tensor::Sigmoid() const {
  // exp2 overflows to inf for very negative x and 1 / (1 + inf) is 0; it
  // underflows to 0 for very positive x: no NaN anywhere.
  return AsFloat(*this).Mul(-kLog2E).Exp2().Add(1).Reciprocal();
}

Tensor Tensor::Tanh() const { return AsFloat(*this).Mul(2).Sigmoid().Mul(2).Sub(1); }

Tensor Tensor::Gelu(bool tanh_approx) const {
  Tensor x = AsFloat(*this);
  if (tanh_approx) {
    Tensor inner = x.Add(x.Mul(x).Mul(x).Mul(0.044715)).Mul(std::sqrt(2.0 / std::numbers::pi));
    return x.Mul(0.5).Mul(inner.Tanh().Add(1));
  }
  return x.Mul(0.5).Mul(x.Mul(1.0 / std::numbers::sqrt2).Erf().Add(1));
}

Tensor Tensor::Silu() const { return AsFloat(*this).Mul(Sigmoid()); }

Tensor Tensor::Softplus(double beta) const {
  // log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): the exponent is never positive.
  Tensor z = AsFloat(*this).Mul(beta);
  return z.Relu().Add(z.Abs().Neg().Exp().Add(1).Log()).Mul(1.0 / beta);
}

Tensor Tensor::Elu(double alpha) const {
  Tensor x = AsFloat(*this);
  return x.Gt(0).Where(x, x.Exp().Sub(1).Mul(alpha));
}

Tensor Tensor::Selu() const {
  constexpr double kAlpha = 1.6732632423543772848170429916717;
  constexpr double kScale = 1.0507009873554804934193349852946;
  return Elu(kAlpha).Mul(kScale);
}

Tensor Tensor::HardSigmoid(double alpha, double beta) const {
  return AsFloat(*this).Mul(alpha).Add(beta).Clip(0, 1);
}

Tensor Tensor::HardSwish() const { return AsFloat(*this).Mul(HardSigmoid()); }

Tensor Tensor::Mish() const { return AsFloat(*this).Mul(Softplus().Tanh()); }

}  // namespace uop
