// Quantization: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
// MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv. Integer products
// accumulate exactly in int32; requantization rounds half to even and
// saturates to the output type, like the ONNX reference.
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

// A per-tensor (scalar) or per-axis (1-D) parameter shaped to broadcast
// against a rank-`rank` tensor along `axis` (negative counts from the end).
Tensor AlongAxis(const Tensor& p, int64_t axis, int64_t rank) {
  if (p.ndim() == 0 || p.numel() == 1) return p.Reshape({});
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank)
    return Tensor::Error(absl::InvalidArgumentError(
        absl::StrCat("axis ", axis, " is out of range for rank ", rank)));
  Shape s(rank, 1);
  s[axis] = p.numel();
  return p.Reshape(s);
}

// A quantization parameter for `x`: per tensor, per axis, or (opset 21,
// block_size > 0) per block of `block` elements along the axis, each scale
// repeated over its block.
Tensor QuantParam(const Tensor& p, const Tensor& x, int64_t axis, int64_t block) {
  if (block <= 0) return AlongAxis(p, axis, x.ndim());
  if (axis < 0) axis += x.ndim();
  if (axis < 0 || axis >= x.ndim() || p.ndim() != x.ndim())
    return Tensor::Error(
        absl::InvalidArgumentError(absl::StrCat("blocked parameters ", ShapeToString(p.shape()),
                                                " do not match ", ShapeToString(x.shape()))));
  Shape s = p.shape(), e = p.shape();
  s.insert(s.begin() + axis + 1, 1);
  e.insert(e.begin() + axis + 1, block);
  Shape r = p.shape();
  r[axis] *= block;
  return p.Reshape(s).Expand(e).Reshape(r).Slice(axis, 0, x.shape()[axis]);
}

Tensor Saturate(const Tensor& x, DType d) {
  return x.Maximum(d.min_value()).Minimum(d.max_value()).Cast(d);
}

absl::Status QuantizeLinear(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor scale, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> zp, ctx.OptInput(2));
  const int64_t axis = ctx.Int("axis", 1), block = ctx.Int("block_size", 0);
  const DType out = zp ? zp->dtype() : DType::UInt8();
  Tensor q = x.Cast(DType::Float32())
                 .Div(QuantParam(scale, x, axis, block).Cast(DType::Float32()))
                 .Round();
  if (zp) q = q.Add(QuantParam(*zp, x, axis, block).Cast(DType::Float32()));
  ctx.Set(0, Saturate(q, out));
  return absl::OkStatus();
}

absl::Status DequantizeLinear(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor scale, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> zp, ctx.OptInput(2));
  const int64_t axis = ctx.Int("axis", 1), block = ctx.Int("block_size", 0);
  Tensor v = x.Cast(DType::Int32());
  if (zp) v = v.Sub(QuantParam(*zp, x, axis, block).Cast(DType::Int32()));
  ctx.Set(0, v.Cast(scale.dtype()).Mul(QuantParam(scale, x, axis, block)));
  return absl::OkStatus();
}

absl::Status DynamicQuantizeLinear(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  Tensor lo = x.Min().Minimum(0.0f), hi = x.Max().Maximum(0.0f);
  Tensor scale = hi.Sub(lo).Div(255.0f);
  Tensor zp = Saturate(lo.Neg().Div(scale).Round(), DType::UInt8());
  Tensor y = Saturate(x.Div(scale).Round().Add(zp.Cast(DType::Float32())), DType::UInt8());
  ctx.Set(0, y);
  ctx.Set(1, scale);
  ctx.Set(2, zp);
  return absl::OkStatus();
}

// x - zero_point as int32 (zero point per tensor, or per row/column as given).
Tensor Centered(const Tensor& x, const std::optional<Tensor>& zp, int64_t axis) {
  Tensor v = x.Cast(DType::Int32());
  if (!zp) return v;
  return v.Sub(AlongAxis(*zp, axis, x.ndim()).Cast(DType::Int32()));
}

absl::Status MatMulInteger(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor a, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor b, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> azp, ctx.OptInput(2));
  ASSIGN_OR_RETURN(std::optional<Tensor> bzp, ctx.OptInput(3));
  // A's zero point is per row (axis -2 of a matrix), B's per column (axis -1).
  Tensor ac = Centered(a, azp, std::max<int64_t>(a.ndim() - 2, 0));
  Tensor bc = Centered(b, bzp, b.ndim() - 1);
  ctx.Set(0, ac.Matmul(bc, DType::Int32()));
  return absl::OkStatus();
}

ConvOptions ReadConv(const OpContext& ctx, const Tensor& x, const Tensor& w) {
  const size_t n = x.ndim() - 2;
  ConvOptions o;
  o.groups = ctx.Int("group", 1);
  o.stride = ctx.Ints("strides", std::vector<int64_t>(n, 1));
  o.dilation = ctx.Ints("dilations", std::vector<int64_t>(n, 1));
  const std::string auto_pad = ctx.Str("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (size_t a = 0; a < n; ++a) {
      const int64_t in = x.shape()[2 + a], k = w.shape()[2 + a];
      const int64_t out = (in + o.stride[a] - 1) / o.stride[a];
      const int64_t total =
          std::max<int64_t>(0, (out - 1) * o.stride[a] + (k - 1) * o.dilation[a] + 1 - in);
      const int64_t small = total / 2;
      o.padding.push_back(auto_pad == "SAME_UPPER" ? std::pair{small, total - small}
                                                   : std::pair{total - small, small});
    }
  } else if (auto_pad != "VALID") {
    std::vector<int64_t> p = ctx.Ints("pads", std::vector<int64_t>(2 * n, 0));
    for (size_t a = 0; a < n && p.size() == 2 * n; ++a) o.padding.push_back({p[a], p[a + n]});
  }
  o.acc_dtype = DType::Int32();
  return o;
}

absl::Status ConvInteger(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor w, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> xzp, ctx.OptInput(2));
  ASSIGN_OR_RETURN(std::optional<Tensor> wzp, ctx.OptInput(3));
  if (x.ndim() < 3 || w.ndim() != x.ndim())
    return ctx.Error("needs (N, C, *spatial) input and weight");
  ctx.Set(0, Centered(x, xzp, 1).Conv(Centered(w, wzp, 0), std::nullopt, ReadConv(ctx, x, w)));
  return absl::OkStatus();
}

// Requantizes an int32 accumulator: round(acc * (a_scale * b_scale / y_scale)) + y_zp.
Tensor Requantize(const Tensor& acc, const Tensor& multiplier, const Tensor& yzp) {
  Tensor q = acc.Cast(DType::Float32()).Mul(multiplier).Round().Add(yzp.Cast(DType::Float32()));
  return Saturate(q, yzp.dtype());
}

absl::Status QLinearMatMul(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor a, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor as, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor azp, ctx.Input(2));
  ASSIGN_OR_RETURN(Tensor b, ctx.Input(3));
  ASSIGN_OR_RETURN(Tensor bs, ctx.Input(4));
  ASSIGN_OR_RETURN(Tensor bzp, ctx.Input(5));
  ASSIGN_OR_RETURN(Tensor ys, ctx.Input(6));
  ASSIGN_OR_RETURN(Tensor yzp, ctx.Input(7));
  Tensor acc = Centered(a, azp, std::max<int64_t>(a.ndim() - 2, 0))
                   .Matmul(Centered(b, bzp, b.ndim() - 1), DType::Int32());
  Tensor mult = AlongAxis(as, std::max<int64_t>(a.ndim() - 2, 0), a.ndim())
                    .Cast(DType::Float32())
                    .Mul(AlongAxis(bs, b.ndim() - 1, b.ndim()).Cast(DType::Float32()))
                    .Div(ys.Cast(DType::Float32()));
  ctx.Set(0, Requantize(acc, mult, yzp));
  return absl::OkStatus();
}

absl::Status QLinearConv(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor xs, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor xzp, ctx.Input(2));
  ASSIGN_OR_RETURN(Tensor w, ctx.Input(3));
  ASSIGN_OR_RETURN(Tensor ws, ctx.Input(4));
  ASSIGN_OR_RETURN(Tensor wzp, ctx.Input(5));
  ASSIGN_OR_RETURN(Tensor ys, ctx.Input(6));
  ASSIGN_OR_RETURN(Tensor yzp, ctx.Input(7));
  ASSIGN_OR_RETURN(std::optional<Tensor> bias, ctx.OptInput(8));
  if (x.ndim() < 3 || w.ndim() != x.ndim())
    return ctx.Error("needs (N, C, *spatial) input and weight");
  Tensor acc = Centered(x, xzp, 1).Conv(Centered(w, wzp, 0), std::nullopt, ReadConv(ctx, x, w));
  Shape cs(x.ndim(), 1);
  cs[1] = w.shape()[0];
  if (bias) acc = acc.Add(bias->Cast(DType::Int32()).Reshape(cs));
  Tensor wscale = ws.numel() == 1 ? ws.Reshape({}) : ws.Reshape(cs);
  Tensor mult = xs.Reshape({})
                    .Cast(DType::Float32())
                    .Mul(wscale.Cast(DType::Float32()))
                    .Div(ys.Cast(DType::Float32()));
  ctx.Set(0, Requantize(acc, mult, yzp));
  return absl::OkStatus();
}

}  // namespace

void RegisterQuantOps(OpRegistry& r) {
  auto add = [&](const char* name, int since, OpFn fn) { r.Add(kOnnxDomain, name, since, fn); };
  add("QuantizeLinear", 10, QuantizeLinear);
  add("DequantizeLinear", 10, DequantizeLinear);
  add("DynamicQuantizeLinear", 11, DynamicQuantizeLinear);
  add("MatMulInteger", 10, MatMulInteger);
  add("ConvInteger", 10, ConvInteger);
  add("QLinearMatMul", 10, QLinearMatMul);
  add("QLinearConv", 10, QLinearConv);
}

}  // namespace uop::onnx_import
