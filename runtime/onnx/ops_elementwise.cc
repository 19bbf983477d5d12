// Elementwise operators: arithmetic, comparisons, logic, bit ops, unary math
// and activations, the variadic Sum/Mean/Max/Min, Where, Clip, Cast.
#include <cmath>
#include <numbers>

#include "runtime/onnx/onnx_types.h"
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

absl::Status Div(OpContext& ctx) {
  return BinaryOp(ctx, [](const Tensor& a, const Tensor& b) {
    if (a.dtype().is_int() && b.dtype().is_int()) return a.IntDiv(b);  // truncates, like C
    return a.Div(b).Cast(Promote(a.dtype(), b.dtype()));
  });
}

absl::Status Pow(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor y, ctx.Input(1));
  // The result has the base's type (opset 12 allows mixed types).
  const DType d = x.dtype();
  // A constant scalar exponent (x^2 in spectrograms, x^0.5, x^-1): Tensor's
  // Pow(Number) multiplies out small integral powers instead of the general
  // exp2(y * log2|x|) with sign fix-ups.
  const Value& e = ctx.In(1);
  if (d.is_float() && e.is_const() && e.host() && e.host()->numel() == 1 &&
      x.shape().size() >= y.shape().size()) {
    const double exponent = e.host()->AsDouble(0);
    ctx.Set(0, InFloat32(x, [&](const Tensor& xf) { return xf.Pow(Number(exponent)); }));
    return absl::OkStatus();
  }
  if (d.is_float()) {
    ctx.Set(0, InFloat32(x, [&](const Tensor& xf) { return xf.Pow(y.Cast(xf.dtype())); }));
  } else if (y.dtype().is_float()) {
    ctx.Set(0, x.Cast(y.dtype()).Pow(y).Cast(d));
  } else {
    ctx.Set(0, x.Pow(y.Cast(d)));
  }
  return absl::OkStatus();
}

absl::Status Mod(OpContext& ctx) {
  const bool fmod = ctx.Int("fmod", 0) != 0;
  ASSIGN_OR_RETURN(Tensor a, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor b, ctx.Input(1));
  if (!fmod && a.dtype().is_float())
    return ctx.Error("fmod=0 is only defined for integer inputs, got ", a.dtype().ToString());
  ctx.Set(0, fmod ? a.Fmod(b) : a.Mod(b));
  return absl::OkStatus();
}

absl::Status BitShift(OpContext& ctx) {
  const std::string dir = ctx.Str("direction", "");
  if (dir != "LEFT" && dir != "RIGHT")
    return ctx.Error("direction must be LEFT or RIGHT, got '", dir, "'");
  return BinaryOp(ctx, [&](const Tensor& a, const Tensor& b) {
    return dir == "LEFT" ? a.LShift(b) : a.RShift(b);
  });
}

// Sum, Mean, Max, Min over any number of broadcasting inputs.
template <int kKind>
absl::Status Variadic(OpContext& ctx) {
  if (ctx.num_inputs() == 0) return ctx.Error("needs at least one input");
  ASSIGN_OR_RETURN(Tensor acc, ctx.Input(0));
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    ASSIGN_OR_RETURN(Tensor x, ctx.Input(i));
    if (kKind == 0 || kKind == 1) acc = acc.Add(x);
    if (kKind == 2) acc = acc.Maximum(x);
    if (kKind == 3) acc = acc.Minimum(x);
  }
  if (kKind == 1) acc = acc.Div(ctx.num_inputs()).Cast(acc.dtype());
  ctx.Set(0, acc);
  return absl::OkStatus();
}

absl::Status Clip(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  if (ctx.opset() < 11) {
    float lo = ctx.Float("min", -std::numeric_limits<float>::infinity());
    float hi = ctx.Float("max", std::numeric_limits<float>::infinity());
    ctx.Set(0, x.Maximum(Scalar(lo, x.dtype())).Minimum(Scalar(hi, x.dtype())));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::optional<Tensor> lo, ctx.OptInput(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> hi, ctx.OptInput(2));
  Tensor y = x;
  if (lo) y = y.Maximum(lo->Cast(x.dtype()));
  if (hi) y = y.Minimum(hi->Cast(x.dtype()));
  ctx.Set(0, y);
  return absl::OkStatus();
}

absl::Status Where(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor c, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor y, ctx.Input(2));
  ctx.Set(0, c.Cast(DType::Bool()).Where(x, y));
  return absl::OkStatus();
}

absl::Status PRelu(OpContext& ctx) {
  return BinaryOp(ctx, [](const Tensor& x, const Tensor& slope) {
    return x.Lt(0).Where(x.Mul(slope.Cast(x.dtype())), x);
  });
}

absl::Status Shrink(OpContext& ctx) {
  const double bias = ctx.Float("bias", 0.0f), lambd = ctx.Float("lambd", 0.5f);
  return UnaryOp(ctx, [&](const Tensor& x) {
    Tensor zero = x.ZerosLike();
    return x.Lt(-lambd).Where(x.Add(bias), x.Gt(lambd).Where(x.Sub(bias), zero)).Cast(x.dtype());
  });
}

// NOTE: float64 -> float16/bfloat16 goes through float32: the CPU backend
// lowers a direct conversion to a compiler-rt call (__truncdfhf2) that kernels
// cannot link. The double rounding differs from a direct one only in rare ties.
Tensor CastTo(const Tensor& x, DType d) {
  if (x.dtype() == DType::Float64() && (d == DType::Float16() || d == DType::BFloat16()))
    return x.Cast(DType::Float32()).Cast(d);
  return x.Cast(d);
}

absl::Status Cast(OpContext& ctx) {
  ASSIGN_OR_RETURN(int64_t to, ctx.RequiredInt("to"));
  const Value& in = ctx.In(0);
  if (to == kOnnxString || in.kind() == Value::Kind::kStrings)
    return CastStrings(ctx, static_cast<int32_t>(to));
  ASSIGN_OR_RETURN(DType d, DTypeFromOnnx(static_cast<int32_t>(to)));
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ctx.Set(0, CastTo(x, d));
  return absl::OkStatus();
}

absl::Status CastLike(OpContext& ctx) {
  if (ctx.In(1).kind() == Value::Kind::kStrings) return CastStrings(ctx, kOnnxString);
  if (ctx.In(0).kind() == Value::Kind::kStrings) {
    ASSIGN_OR_RETURN(Tensor like, ctx.Input(1));
    return CastStrings(ctx, OnnxFromDType(like.dtype()));
  }
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor like, ctx.Input(1));
  ctx.Set(0, CastTo(x, like.dtype()));
  return absl::OkStatus();
}

absl::Status Identity(OpContext& ctx) {
  ctx.Set(0, ctx.In(0));
  return absl::OkStatus();
}

// Unary float math in float32 for half types.
template <Tensor (*F)(const Tensor&)>
absl::Status FloatUnary(OpContext& ctx) {
  return UnaryOp(ctx, [](const Tensor& x) { return InFloat32(x, F); });
}

Tensor AtanT(const Tensor& x) { return Atan(x); }
Tensor AsinT(const Tensor& x) { return Atan(x.Div(x.Square().Neg().Add(1).Sqrt())); }
Tensor AcosT(const Tensor& x) { return AsinT(x).Neg().Add(std::numbers::pi / 2); }
Tensor SinhT(const Tensor& x) { return x.Exp().Sub(x.Neg().Exp()).Mul(0.5); }
Tensor CoshT(const Tensor& x) { return x.Exp().Add(x.Neg().Exp()).Mul(0.5); }
Tensor AsinhT(const Tensor& x) {
  Tensor a = x.Abs();
  Tensor r = a.Add(a.Square().Add(1).Sqrt()).Log();
  return x.Lt(0).Where(r.Neg(), r);
}
Tensor AcoshT(const Tensor& x) { return x.Add(x.Square().Sub(1).Sqrt()).Log(); }
Tensor AtanhT(const Tensor& x) { return x.Add(1).Div(x.Neg().Add(1)).Log().Mul(0.5); }
Tensor SoftsignT(const Tensor& x) { return x.Div(x.Abs().Add(1)); }
Tensor SigmoidT(const Tensor& x) { return x.Sigmoid(); }
Tensor TanhT(const Tensor& x) { return x.Tanh(); }
Tensor SoftplusT(const Tensor& x) { return x.Softplus(); }
Tensor ErfT(const Tensor& x) { return x.Erf(); }
Tensor ExpT(const Tensor& x) { return x.Exp(); }
Tensor LogT(const Tensor& x) { return x.Log(); }
Tensor SqrtT(const Tensor& x) { return x.Sqrt(); }
Tensor SinT(const Tensor& x) { return x.Sin(); }
Tensor CosT(const Tensor& x) { return x.Cos(); }
Tensor TanT(const Tensor& x) { return x.Tan(); }
Tensor MishT(const Tensor& x) { return x.Mish(); }
Tensor HardSwishT(const Tensor& x) { return x.HardSwish(); }

absl::Status Reciprocal(OpContext& ctx) {
  return UnaryOp(ctx, [](const Tensor& x) { return x.Reciprocal().Cast(x.dtype()); });
}

absl::Status Gelu(OpContext& ctx) {
  const std::string approx = ctx.Str("approximate", "none");
  return UnaryOp(ctx, [&](const Tensor& x) {
    return InFloat32(x, [&](const Tensor& f) { return f.Gelu(approx == "tanh"); });
  });
}

absl::Status Elu(OpContext& ctx) {
  const double alpha = ctx.Float("alpha", 1.0f);
  return UnaryOp(ctx, [&](const Tensor& x) {
    return x.Gt(0).Where(x, x.Exp().Sub(1).Mul(alpha)).Cast(x.dtype());
  });
}

absl::Status Celu(OpContext& ctx) {
  const double alpha = ctx.Float("alpha", 1.0f);
  return UnaryOp(ctx, [&](const Tensor& x) {
    Tensor neg = x.Div(alpha).Exp().Sub(1).Mul(alpha).Minimum(0.0);
    return x.Maximum(0.0).Add(neg).Cast(x.dtype());
  });
}

absl::Status Selu(OpContext& ctx) {
  const double alpha = ctx.Float("alpha", 1.67326319217681884765625f);
  const double gamma = ctx.Float("gamma", 1.05070102214813232421875f);
  return UnaryOp(ctx, [&](const Tensor& x) {
    return x.Gt(0).Where(x, x.Exp().Sub(1).Mul(alpha)).Mul(gamma).Cast(x.dtype());
  });
}

absl::Status LeakyRelu(OpContext& ctx) {
  const double alpha = ctx.Float("alpha", 0.01f);
  return UnaryOp(ctx, [&](const Tensor& x) { return x.Lt(0).Where(x.Mul(alpha), x); });
}

absl::Status ThresholdedRelu(OpContext& ctx) {
  const double alpha = ctx.Float("alpha", 1.0f);
  return UnaryOp(ctx, [&](const Tensor& x) { return x.Gt(alpha).Where(x, x.ZerosLike()); });
}

absl::Status HardSigmoid(OpContext& ctx) {
  const double alpha = ctx.Float("alpha", 0.2f), beta = ctx.Float("beta", 0.5f);
  return UnaryOp(ctx, [&](const Tensor& x) {
    return x.Mul(alpha).Add(beta).Maximum(0.0).Minimum(1.0).Cast(x.dtype());
  });
}

absl::Status IsInf(OpContext& ctx) {
  const bool pos = ctx.Int("detect_positive", 1) != 0, neg = ctx.Int("detect_negative", 1) != 0;
  return UnaryOp(ctx, [&](const Tensor& x) { return x.IsInf(pos, neg); });
}

absl::Status Round(OpContext& ctx) {
  return UnaryOp(ctx, [](const Tensor& x) { return x.Round(); });
}

}  // namespace

void RegisterElementwiseOps(OpRegistry& r) {
  auto add = [&](const char* name, int since, OpFn fn) { r.Add(kOnnxDomain, name, since, fn); };
  add("Add", 1, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.Add(b); });
  });
  add("Sub", 1, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.Sub(b); });
  });
  add("Mul", 1, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.Mul(b); });
  });
  add("Div", 1, Div);
  add("Pow", 1, Pow);
  add("Mod", 10, Mod);
  add("BitShift", 11, BitShift);
  add("Sum", 1, Variadic<0>);
  add("Mean", 1, Variadic<1>);
  add("Max", 1, Variadic<2>);
  add("Min", 1, Variadic<3>);
  add("Equal", 1, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.Eq(b); });
  });
  add("Less", 1, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.Lt(b); });
  });
  add("LessOrEqual", 12, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.Le(b); });
  });
  add("Greater", 1, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.Gt(b); });
  });
  add("GreaterOrEqual", 12, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.Ge(b); });
  });
  add("And", 1, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.LogicalAnd(b); });
  });
  add("Or", 1, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.LogicalOr(b); });
  });
  add("Xor", 1, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.LogicalXor(b); });
  });
  add("Not", 1,
      [](OpContext& c) { return UnaryOp(c, [](const Tensor& x) { return x.LogicalNot(); }); });
  add("BitwiseAnd", 18, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.BitwiseAnd(b); });
  });
  add("BitwiseOr", 18, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.BitwiseOr(b); });
  });
  add("BitwiseXor", 18, [](OpContext& c) {
    return BinaryOp(c, [](const Tensor& a, const Tensor& b) { return a.BitwiseXor(b); });
  });
  add("BitwiseNot", 18,
      [](OpContext& c) { return UnaryOp(c, [](const Tensor& x) { return x.BitwiseNot(); }); });

  add("Abs", 1, [](OpContext& c) { return UnaryOp(c, [](const Tensor& x) { return x.Abs(); }); });
  add("Neg", 1, [](OpContext& c) { return UnaryOp(c, [](const Tensor& x) { return x.Neg(); }); });
  add("Sign", 9, [](OpContext& c) { return UnaryOp(c, [](const Tensor& x) { return x.Sign(); }); });
  add("Floor", 1,
      [](OpContext& c) { return UnaryOp(c, [](const Tensor& x) { return x.Floor(); }); });
  add("Ceil", 1, [](OpContext& c) { return UnaryOp(c, [](const Tensor& x) { return x.Ceil(); }); });
  add("Round", 11, Round);
  add("IsNaN", 9,
      [](OpContext& c) { return UnaryOp(c, [](const Tensor& x) { return x.IsNan(); }); });
  add("IsInf", 10, IsInf);
  add("Reciprocal", 1, Reciprocal);
  add("Relu", 1, [](OpContext& c) { return UnaryOp(c, [](const Tensor& x) { return x.Relu(); }); });
  add("Exp", 1, FloatUnary<ExpT>);
  add("Log", 1, FloatUnary<LogT>);
  add("Sqrt", 1, FloatUnary<SqrtT>);
  add("Sin", 7, FloatUnary<SinT>);
  add("Cos", 7, FloatUnary<CosT>);
  add("Tan", 7, FloatUnary<TanT>);
  add("Asin", 7, FloatUnary<AsinT>);
  add("Acos", 7, FloatUnary<AcosT>);
  add("Atan", 7, FloatUnary<AtanT>);
  add("Sinh", 9, FloatUnary<SinhT>);
  add("Cosh", 9, FloatUnary<CoshT>);
  add("Asinh", 9, FloatUnary<AsinhT>);
  add("Acosh", 9, FloatUnary<AcoshT>);
  add("Atanh", 9, FloatUnary<AtanhT>);
  add("Erf", 9, FloatUnary<ErfT>);
  add("Sigmoid", 1, FloatUnary<SigmoidT>);
  add("Tanh", 1, FloatUnary<TanhT>);
  add("Softplus", 1, FloatUnary<SoftplusT>);
  add("Softsign", 1, FloatUnary<SoftsignT>);
  add("Mish", 18, FloatUnary<MishT>);
  add("HardSwish", 14, FloatUnary<HardSwishT>);
  add("Gelu", 20, Gelu);
  add("Elu", 1, Elu);
  add("Celu", 12, Celu);
  add("Selu", 1, Selu);
  add("LeakyRelu", 1, LeakyRelu);
  add("ThresholdedRelu", 10, ThresholdedRelu);
  add("HardSigmoid", 1, HardSigmoid);
  add("PRelu", 1, PRelu);
  add("Shrink", 9, Shrink);
  add("Clip", 1, Clip);
  add("Where", 9, Where);
  add("Cast", 1, Cast);
  add("CastLike", 15, CastLike);
  add("Identity", 1, Identity);
}

}  // namespace uop::onnx_import
