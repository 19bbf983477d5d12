// Normalizations: BatchNormalization (inference and training mode),
// InstanceNormalization, LayerNormalization, GroupNormalization, LRN,
// MeanVarianceNormalization, LpNormalization.
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

// (C,) -> (1, C, 1, ...) for a rank-`rank` input.
Tensor PerChannel(const Tensor& v, int64_t rank) {
  Shape s(rank, 1);
  s[1] = v.numel();
  return v.Reshape(s);
}

absl::Status BatchNorm(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor scale, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor bias, ctx.Input(2));
  ASSIGN_OR_RETURN(Tensor mean, ctx.Input(3));
  ASSIGN_OR_RETURN(Tensor var, ctx.Input(4));
  if (x.ndim() < 2)
    return ctx.Error("input must have a channel axis, got ", ShapeToString(x.shape()));
  const double eps = ctx.Float("epsilon", 1e-5f);
  const double momentum = ctx.Float("momentum", 0.9f);
  const bool training = ctx.Int("training_mode", 0) != 0 || (ctx.opset() < 14 && ctx.Wants(1));
  const int64_t r = x.ndim();
  const DType d = x.dtype();
  if (training) {
    std::vector<int64_t> axes = {0};
    for (int64_t a = 2; a < r; ++a) axes.push_back(a);
    Tensor xf = x.Cast(DType::Float32());
    Tensor bmean = xf.Mean(axes, true);
    Tensor bvar = xf.Sub(bmean).Square().Mean(axes, true);
    Tensor y = xf.Sub(bmean)
                   .Div(bvar.Add(eps).Sqrt())
                   .Mul(PerChannel(scale, r).Cast(DType::Float32()))
                   .Add(PerChannel(bias, r).Cast(DType::Float32()));
    ctx.Set(0, y.Cast(d));
    Tensor m = bmean.Reshape({x.shape()[1]}), v = bvar.Reshape({x.shape()[1]});
    if (ctx.Wants(1))
      ctx.Set(
          1, mean.Cast(DType::Float32()).Mul(momentum).Add(m.Mul(1 - momentum)).Cast(mean.dtype()));
    if (ctx.Wants(2))
      ctx.Set(2,
              var.Cast(DType::Float32()).Mul(momentum).Add(v.Mul(1 - momentum)).Cast(var.dtype()));
    return absl::OkStatus();
  }
  // y = x * (scale / sqrt(var + eps)) + (bias - mean * scale / sqrt(var + eps)):
  // per-channel factors are constants folded at import for constant weights.
  Tensor inv = scale.Cast(DType::Float32()).Div(var.Cast(DType::Float32()).Add(eps).Sqrt());
  Tensor shift = bias.Cast(DType::Float32()).Sub(mean.Cast(DType::Float32()).Mul(inv));
  ctx.Set(0, x.Mul(PerChannel(inv, r).Cast(d)).Add(PerChannel(shift, r).Cast(d)));
  return absl::OkStatus();
}

absl::Status InstanceNorm(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor scale, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor bias, ctx.Input(2));
  if (x.ndim() < 3)
    return ctx.Error("input must be (N, C, *spatial), got ", ShapeToString(x.shape()));
  const double eps = ctx.Float("epsilon", 1e-5f);
  std::vector<int64_t> axes;
  for (int64_t a = 2; a < x.ndim(); ++a) axes.push_back(a);
  Tensor y = InFloat32(x, [&](const Tensor& f) {
    Tensor mean = f.Mean(axes, true);
    Tensor c = f.Sub(mean);
    Tensor var = c.Square().Mean(axes, true);
    return c.Div(var.Add(eps).Sqrt())
        .Mul(PerChannel(scale, x.ndim()).Cast(f.dtype()))
        .Add(PerChannel(bias, x.ndim()).Cast(f.dtype()));
  });
  ctx.Set(0, y);
  return absl::OkStatus();
}

absl::Status LayerNorm(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor scale, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> bias, ctx.OptInput(2));
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", -1), x.ndim()));
  const double eps = ctx.Float("epsilon", 1e-5f);
  const DType d = x.dtype();
  std::vector<int64_t> axes;
  for (int64_t a = axis; a < x.ndim(); ++a) axes.push_back(a);
  const DType stash = ctx.Int("stash_type", 1) == 1 ? DType::Float32() : d;
  Tensor xf = x.Cast(stash);
  Tensor mean = xf.Mean(axes, true);
  Tensor c = xf.Sub(mean);
  Tensor inv = c.Square().Mean(axes, true).Add(eps).Sqrt().Reciprocal();
  Tensor y = c.Mul(inv).Cast(d).Mul(scale);
  if (bias) y = y.Add(*bias);
  ctx.Set(0, y);
  if (ctx.Wants(1)) ctx.Set(1, mean);
  if (ctx.Wants(2)) ctx.Set(2, inv);
  return absl::OkStatus();
}

absl::Status GroupNorm(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor scale, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor bias, ctx.Input(2));
  ASSIGN_OR_RETURN(int64_t groups, ctx.RequiredInt("num_groups"));
  if (x.ndim() < 2 || groups <= 0 || x.shape()[1] % groups != 0)
    return ctx.Error("channels of ", ShapeToString(x.shape()), " are not divisible by num_groups ",
                     groups);
  const double eps = ctx.Float("epsilon", 1e-5f);
  const int64_t n = x.shape()[0], c = x.shape()[1];
  Tensor g = x.Cast(DType::Float32()).Reshape({n, groups, -1});
  Tensor mean = g.Mean({2}, true);
  Tensor cent = g.Sub(mean);
  Tensor norm = cent.Div(cent.Square().Mean({2}, true).Add(eps).Sqrt());
  Tensor y;
  if (scale.numel() == groups && groups != c) {  // opset 18: per-group scale and bias
    y = norm.Mul(scale.Reshape({1, groups, 1}).Cast(DType::Float32()))
            .Add(bias.Reshape({1, groups, 1}).Cast(DType::Float32()))
            .Reshape(x.shape());
  } else {
    y = norm.Reshape(x.shape())
            .Mul(PerChannel(scale, x.ndim()).Cast(DType::Float32()))
            .Add(PerChannel(bias, x.ndim()).Cast(DType::Float32()));
  }
  ctx.Set(0, y.Cast(x.dtype()));
  return absl::OkStatus();
}

absl::Status Lrn(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(int64_t size, ctx.RequiredInt("size"));
  if (x.ndim() < 3 || size < 1) return ctx.Error("needs (N, C, *spatial) input and size >= 1");
  const double alpha = ctx.Float("alpha", 1e-4f), beta = ctx.Float("beta", 0.75f),
               bias = ctx.Float("bias", 1.0f);
  const int64_t before = (size - 1) / 2, after = size - 1 - before, c = x.shape()[1];
  PairList pads(x.ndim(), {0, 0});
  pads[1] = {before, after};
  Tensor sq = x.Cast(DType::Float32()).Square().Pad(pads);
  Tensor sum = sq.Slice(1, 0, c);
  for (int64_t k = 1; k < size; ++k) sum = sum.Add(sq.Slice(1, k, k + c));
  ctx.Set(0,
          x.Cast(DType::Float32()).Div(sum.Mul(alpha / size).Add(bias).Pow(beta)).Cast(x.dtype()));
  return absl::OkStatus();
}

absl::Status Mvn(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> axes, NormAxes(ctx, ctx.Ints("axes", {0, 2, 3}), x.ndim()));
  Tensor mean = x.Mean(axes, true);
  Tensor var = x.Square().Mean(axes, true).Sub(mean.Square());
  ctx.Set(0, x.Sub(mean).Div(var.Sqrt().Add(1e-9)).Cast(x.dtype()));
  return absl::OkStatus();
}

absl::Status LpNorm(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", -1), x.ndim()));
  const int64_t p = ctx.Int("p", 2);
  if (p != 1 && p != 2) return ctx.Error("p must be 1 or 2, got ", p);
  Tensor norm = p == 1 ? x.Abs().Sum({axis}, true) : x.Square().Sum({axis}, true).Sqrt();
  ctx.Set(0, x.Div(norm).Cast(x.dtype()));
  return absl::OkStatus();
}

}  // namespace

void RegisterNormOps(OpRegistry& r) {
  auto add = [&](const char* name, int since, OpFn fn) { r.Add(kOnnxDomain, name, since, fn); };
  add("BatchNormalization", 1, BatchNorm);
  add("InstanceNormalization", 1, InstanceNorm);
  // Opset 17's op; onnxruntime's identical fused op appears in older opsets.
  add("LayerNormalization", 1, LayerNorm);
  add("GroupNormalization", 18, GroupNorm);
  add("LRN", 1, Lrn);
  add("MeanVarianceNormalization", 9, Mvn);
  add("LpNormalization", 1, LpNorm);
}

}  // namespace uop::onnx_import
