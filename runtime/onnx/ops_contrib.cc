// Operators of the com.microsoft domain that onnxruntime's exporters and
// graph optimizers write into models (fused activations, fused layer norms,
// attention, 4-bit weights, quantized elementwise ops), and ORT's fused norms
// that appear in the default domain before opset 17. Semantics follow
// onnxruntime's contrib op documentation.
#include <cmath>

#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

Tensor ExactGelu(const Tensor& x) {
  return InFloat32(x, [](const Tensor& f) { return f.Gelu(false); });
}
Tensor TanhGelu(const Tensor& x) {
  return InFloat32(x, [](const Tensor& f) { return f.Gelu(true); });
}

absl::Status Gelu(OpContext& ctx) { return UnaryOp(ctx, ExactGelu); }

absl::Status FastGelu(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::optional<Tensor> bias, ctx.OptInput(1));
  ctx.Set(0, TanhGelu(bias ? x.Add(*bias) : x));
  return absl::OkStatus();
}

absl::Status BiasGelu(OpContext& ctx) {
  return BinaryOp(ctx, [](const Tensor& a, const Tensor& b) { return ExactGelu(a.Add(b)); });
}

absl::Status QuickGelu(OpContext& ctx) {
  const double alpha = ctx.Float("alpha", 1.702f);
  return UnaryOp(ctx, [&](const Tensor& x) { return x.Mul(x.Mul(alpha).Sigmoid()); });
}

absl::Status BiasAdd(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor bias, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor skip, ctx.Input(2));
  ctx.Set(0, x.Add(bias).Add(skip));
  return absl::OkStatus();
}

// op(A) of FusedMatMul: transposes of the last two axes (trans) or of the
// batch axes with the row axis (transBatch: [B..., M, K] -> [M, B..., K]).
Tensor FusedOperand(const Tensor& x, bool trans, bool trans_batch) {
  Tensor t = x;
  if (trans_batch && t.ndim() > 2) {
    std::vector<int64_t> order;
    order.push_back(t.ndim() - 2);
    for (int64_t a = 0; a < t.ndim() - 2; ++a) order.push_back(a);
    order.push_back(t.ndim() - 1);
    t = t.Permute(order);
  }
  return trans && t.ndim() >= 2 ? t.Transpose(-2, -1) : t;
}

absl::Status FusedMatMul(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor a, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor b, ctx.Input(1));
  const double alpha = ctx.Float("alpha", 1.0f);
  a = FusedOperand(a, ctx.Int("transA", 0) != 0, ctx.Int("transBatchA", 0) != 0);
  b = FusedOperand(b, ctx.Int("transB", 0) != 0, ctx.Int("transBatchB", 0) != 0);
  Tensor y = a.Matmul(b);
  if (alpha != 1.0) y = y.Mul(alpha).Cast(y.dtype());
  ctx.Set(0, ctx.Shared(0, y));
  return absl::OkStatus();
}

absl::StatusOr<Tensor> Activation(const OpContext& ctx, const std::string& name,
                                  const std::vector<float>& p, const Tensor& x) {
  if (name.empty()) return x;
  if (name == "Relu") return x.Relu();
  if (name == "Tanh") return x.Tanh();
  if (name == "Sigmoid") return x.Sigmoid();
  if (name == "LeakyRelu") return x.Lt(0).Where(x.Mul(p.empty() ? 0.01 : p[0]), x);
  if (name == "Clip" && p.size() == 2)
    return x.Maximum(Scalar(p[0], x.dtype())).Minimum(Scalar(p[1], x.dtype()));
  if (name == "HardSigmoid" && p.size() == 2)
    return x.Mul(p[0]).Add(p[1]).Maximum(0.0).Minimum(1.0).Cast(x.dtype());
  return ctx.Unsupported("FusedConv activation '", name, "' with ", p.size(), " parameters");
}

absl::Status FusedConv(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor w, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> b, ctx.OptInput(2));
  ASSIGN_OR_RETURN(std::optional<Tensor> z, ctx.OptInput(3));
  if (x.ndim() < 3 || w.ndim() != x.ndim())
    return ctx.Error("needs (N, C, *spatial) input and weight");
  const size_t n = x.ndim() - 2;
  ConvOptions o;
  o.groups = ctx.Int("group", 1);
  o.stride = ctx.Ints("strides", std::vector<int64_t>(n, 1));
  o.dilation = ctx.Ints("dilations", std::vector<int64_t>(n, 1));
  const std::string auto_pad = ctx.Str("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID")
    return ctx.Unsupported("FusedConv auto_pad ", auto_pad);
  std::vector<int64_t> pads = ctx.Ints("pads", std::vector<int64_t>(2 * n, 0));
  if (auto_pad == "VALID") pads.assign(2 * n, 0);
  if (pads.size() != 2 * n) return ctx.Error(pads.size(), " pads for ", n, " spatial axes");
  for (size_t a = 0; a < n; ++a) o.padding.push_back({pads[a], pads[a + n]});
  Tensor y = x.Contiguous().Conv(w, b, o);
  if (z) y = y.Add(*z);
  ASSIGN_OR_RETURN(y,
                   Activation(ctx, ctx.Str("activation", ""), ctx.Floats("activation_params"), y));
  ctx.Set(0, ctx.Shared(0, y));
  return absl::OkStatus();
}

// Normalization over the last axis, as layer norm (center) or RMS norm.
struct Normed {
  Tensor y, mean, inv;
};
Normed NormLast(const Tensor& x, double eps, bool center) {
  Tensor f = x.Cast(DType::Float32());
  Normed r;
  Tensor c = f;
  if (center) {
    r.mean = f.Mean({-1}, true);
    c = f.Sub(r.mean);
  }
  r.inv = c.Square().Mean({-1}, true).Add(eps).Sqrt().Reciprocal();
  r.y = c.Mul(r.inv).Cast(x.dtype());
  return r;
}

// SkipLayerNormalization / SkipSimplifiedLayerNormalization:
// out = norm(input + skip + bias) * gamma (+ beta); output 3 is the sum.
template <bool kCenter>
absl::Status SkipNorm(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor skip, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor gamma, ctx.Input(2));
  std::optional<Tensor> beta, bias;
  if (kCenter) {
    ASSIGN_OR_RETURN(beta, ctx.OptInput(3));
    ASSIGN_OR_RETURN(bias, ctx.OptInput(4));
  } else {
    ASSIGN_OR_RETURN(bias, ctx.OptInput(3));
  }
  const double eps = ctx.Float("epsilon", 1e-12f);
  Tensor sum = x.Add(skip);
  if (bias) sum = sum.Add(*bias);
  Normed r = NormLast(sum, eps, kCenter);
  Tensor y = r.y.Mul(gamma);
  if (beta) y = y.Add(*beta);
  ctx.Set(0, y);
  if (kCenter && ctx.Wants(1)) ctx.Set(1, r.mean);
  if (ctx.Wants(2)) ctx.Set(2, r.inv);
  if (ctx.Wants(3)) ctx.Set(3, sum);
  return absl::OkStatus();
}

// SimplifiedLayerNormalization (RMS norm) over the axes from `axis` on.
absl::Status SimplifiedLayerNorm(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor scale, ctx.Input(1));
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", -1), x.ndim()));
  const double eps = ctx.Float("epsilon", 1e-5f);
  std::vector<int64_t> axes;
  for (int64_t a = axis; a < x.ndim(); ++a) axes.push_back(a);
  Tensor f = x.Cast(DType::Float32());
  Tensor inv = f.Square().Mean(axes, true).Add(eps).Sqrt().Reciprocal();
  ctx.Set(0, f.Mul(inv).Cast(x.dtype()).Mul(scale));
  if (ctx.Wants(1)) ctx.Set(1, inv);
  return absl::OkStatus();
}

// softmax(q k^T * scale + mask) v over [B, N, S, H] heads.
Tensor Sdpa(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
            const std::optional<Tensor>& additive_mask) {
  Tensor s = q.Matmul(k.Transpose(-2, -1)).Mul(scale);
  if (additive_mask) s = s.Add(*additive_mask);
  return InFloat32(s, [](const Tensor& f) { return f.Softmax(-1); }).Cast(v.dtype()).Matmul(v);
}

// [B, S, N*H] -> [B, N, S, H]
Tensor Heads(const Tensor& x, int64_t heads) {
  if (!x.ok()) return x;
  if (x.ndim() != 3 || heads <= 0 || x.shape()[2] % heads != 0)
    return Tensor::Error(absl::InvalidArgumentError(absl::StrCat(
        "attention input ", ShapeToString(x.shape()), " does not split into ", heads, " heads")));
  const int64_t b = x.shape()[0], s = x.shape()[1], h = x.shape()[2] / heads;
  return x.Reshape({b, s, heads, h}).Permute({0, 2, 1, 3});
}
Tensor MergeHeads(const Tensor& x) {
  if (!x.ok()) return x;
  if (x.ndim() != 4)
    return Tensor::Error(absl::InvalidArgumentError(
        absl::StrCat("attention heads ", ShapeToString(x.shape()), " are not [B, N, S, H]")));
  const int64_t b = x.shape()[0], n = x.shape()[1], s = x.shape()[2], h = x.shape()[3];
  return x.Permute({0, 2, 1, 3}).Reshape({b, s, n * h});
}

// An additive attention mask from a key padding mask [B, S_kv] (1 keeps),
// broadcast to [B, 1, 1, S_kv], plus a causal mask when asked.
std::optional<Tensor> AttentionMask(const std::optional<Tensor>& key_mask, bool causal, int64_t sq,
                                    int64_t skv, double filter) {
  std::optional<Tensor> m;
  if (key_mask) {
    Tensor km = key_mask->Cast(DType::Bool());
    m = km.Reshape({km.shape()[0], 1, 1, skv}).Where(0.0f, static_cast<float>(filter));
  }
  if (causal) {
    Tensor r = Tensor::Arange(0, sq, 1, DType::Int64()).Reshape({sq, 1}).Add(skv - sq);
    Tensor c = Tensor::Arange(0, skv, 1, DType::Int64()).Reshape({1, skv});
    Tensor cm = c.Le(r).Where(0.0f, static_cast<float>(filter));
    m = m ? m->Add(cm) : cm;
  }
  return m;
}

absl::Status Attention(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor w, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> bias, ctx.OptInput(2));
  ASSIGN_OR_RETURN(std::optional<Tensor> mask, ctx.OptInput(3));
  if (ctx.Has(4)) return ctx.Unsupported("Attention with past state is not supported");
  if (ctx.Has(5)) return ctx.Unsupported("Attention with relative_position_bias is not supported");
  ASSIGN_OR_RETURN(int64_t heads, ctx.RequiredInt("num_heads"));
  if (x.ndim() != 3 || w.ndim() != 2 || heads <= 0)
    return ctx.Error("input [B, S, D], weights [D, 3H] and num_heads expected");
  std::vector<int64_t> sizes = ctx.Ints("qkv_hidden_sizes");
  const int64_t total = w.shape()[1];
  if (sizes.empty()) sizes = {total / 3, total / 3, total / 3};
  if (sizes.size() != 3 || sizes[0] + sizes[1] + sizes[2] != total || sizes[0] % heads ||
      sizes[2] % heads)
    return ctx.Error("qkv_hidden_sizes do not split weights of width ", total);
  Tensor qkv = x.Matmul(w);
  if (bias) qkv = qkv.Add(*bias);
  RETURN_IF_ERROR(qkv.status());
  std::vector<Tensor> parts = qkv.Split(sizes, 2);
  if (parts.size() != 3)
    return ctx.Error("cannot split ", ShapeToString(qkv.shape()), " into q, k, v");
  for (const Tensor& t : parts) RETURN_IF_ERROR(t.status());
  const int64_t s = x.shape()[1], head = sizes[0] / heads;
  const double scale = ctx.HasAttr("scale") ? ctx.Float("scale", 1.0f) : 1.0 / std::sqrt(head);
  std::optional<Tensor> key_mask;
  if (mask) {
    if (mask->ndim() != 2) return ctx.Unsupported("Attention mask_index of rank ", mask->ndim());
    key_mask = *mask;
  }
  std::optional<Tensor> additive = AttentionMask(key_mask, ctx.Int("unidirectional", 0) != 0, s, s,
                                                 ctx.Float("mask_filter_value", -10000.0f));
  Tensor y =
      Sdpa(Heads(parts[0], heads), Heads(parts[1], heads), Heads(parts[2], heads), scale, additive);
  ctx.Set(0, MergeHeads(y));
  return absl::OkStatus();
}

absl::Status MultiHeadAttention(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor q, ctx.Input(0));
  ASSIGN_OR_RETURN(std::optional<Tensor> k, ctx.OptInput(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> v, ctx.OptInput(2));
  ASSIGN_OR_RETURN(std::optional<Tensor> bias, ctx.OptInput(3));
  ASSIGN_OR_RETURN(std::optional<Tensor> mask, ctx.OptInput(4));
  for (int i = 5; i < ctx.num_inputs(); ++i)
    if (ctx.Has(i)) return ctx.Unsupported("MultiHeadAttention input ", i, " is not supported");
  ASSIGN_OR_RETURN(int64_t heads, ctx.RequiredInt("num_heads"));
  if (!k || !v || q.ndim() != 3 || k->ndim() != 3 || v->ndim() != 3 || heads <= 0)
    return ctx.Unsupported("MultiHeadAttention needs separate [B, S, D] query, key and value");
  const int64_t dq = q.shape()[2], dv = v->shape()[2];
  if (bias) {
    if (bias->shape() != Shape{2 * dq + dv})
      return ctx.Error("bias ", ShapeToString(bias->shape()), " must be (", 2 * dq + dv, ",)");
    std::vector<Tensor> b = bias->Split({dq, dq, dv}, 0);
    q = q.Add(b[0]);
    *k = k->Add(b[1]);
    *v = v->Add(b[2]);
  }
  RETURN_IF_ERROR(q.status());
  RETURN_IF_ERROR(k->status());
  RETURN_IF_ERROR(v->status());
  const int64_t sq = q.shape()[1], skv = k->shape()[1];
  const double scale = ctx.HasAttr("scale") ? ctx.Float("scale", 1.0f)
                                            : 1.0 / std::sqrt(static_cast<double>(dq / heads));
  std::optional<Tensor> key_mask;
  if (mask) {
    if (mask->ndim() != 2) return ctx.Unsupported("key_padding_mask of rank ", mask->ndim());
    key_mask = *mask;
  }
  std::optional<Tensor> additive = AttentionMask(key_mask, ctx.Int("unidirectional", 0) != 0, sq,
                                                 skv, ctx.Float("mask_filter_value", -10000.0f));
  ctx.Set(0,
          MergeHeads(Sdpa(Heads(q, heads), Heads(*k, heads), Heads(*v, heads), scale, additive)));
  return absl::OkStatus();
}

// MatMulNBits: A [..., K] times a 4-bit (or 2..8-bit) block-quantized B
// stored as [N, blocks, bytes] with per-block scales and zero points.
absl::Status MatMulNBits(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor a, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor packed, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor scales, ctx.Input(2));
  ASSIGN_OR_RETURN(std::optional<Tensor> zp, ctx.OptInput(3));
  if (ctx.Has(4)) return ctx.Unsupported("MatMulNBits g_idx is not supported");
  ASSIGN_OR_RETURN(std::optional<Tensor> bias, ctx.OptInput(5));
  ASSIGN_OR_RETURN(int64_t k, ctx.RequiredInt("K"));
  ASSIGN_OR_RETURN(int64_t n, ctx.RequiredInt("N"));
  ASSIGN_OR_RETURN(int64_t block, ctx.RequiredInt("block_size"));
  const int64_t bits = ctx.Int("bits", 4);
  if (bits != 4 && bits != 8) return ctx.Unsupported("MatMulNBits with ", bits, " bits");
  if (block <= 0 || k <= 0 || n <= 0) return ctx.Error("bad K, N or block_size");
  const int64_t blocks = (k + block - 1) / block;
  const int64_t per_byte = 8 / bits;
  if (packed.numel() != n * blocks * block / per_byte)
    return ctx.Error("B ", ShapeToString(packed.shape()), " does not hold ", n, " x ", blocks,
                     " blocks of ", block);
  Tensor bytes = packed.Cast(DType::UInt8()).Reshape({n, blocks, block / per_byte, 1});
  Tensor q;
  if (bits == 4) {
    Tensor lo = bytes.BitwiseAnd(0x0F), hi = bytes.RShift(4);
    q = Tensor::Cat({lo, hi}, 3).Reshape({n, blocks, block});
  } else {
    q = bytes.Reshape({n, blocks, block});
  }
  Tensor qf = q.Cast(DType::Float32());
  Tensor zero = Tensor::Full({}, static_cast<double>(1 << (bits - 1)), DType::Float32());
  if (zp) {
    if (zp->dtype().is_float()) {
      zero = zp->Cast(DType::Float32()).Reshape({n, blocks, 1});
    } else if (bits == 4) {
      // Two 4-bit zero points per byte, per row of N.
      const int64_t zbytes = (blocks + 1) / 2;
      Tensor zb = zp->Cast(DType::UInt8()).Reshape({n, zbytes, 1});
      Tensor z = Tensor::Cat({zb.BitwiseAnd(0x0F), zb.RShift(4)}, 2).Reshape({n, zbytes * 2});
      zero = z.Slice(1, 0, blocks).Cast(DType::Float32()).Reshape({n, blocks, 1});
    } else {
      zero = zp->Cast(DType::Float32()).Reshape({n, blocks, 1});
    }
  }
  Tensor w = qf.Sub(zero)
                 .Mul(scales.Cast(DType::Float32()).Reshape({n, blocks, 1}))
                 .Reshape({n, blocks * block})
                 .Slice(1, 0, k)
                 .Cast(a.dtype());
  // The dequantized weight is constant when B is: realized once at import.
  if (ctx.In(1).is_const() && ctx.In(2).is_const() && (!zp || ctx.In(3).is_const())) {
    w = w.T().Contiguous();
    RETURN_IF_ERROR(w.Realize());
  } else {
    w = w.T();
  }
  Tensor y = a.Matmul(w);
  if (bias) y = y.Add(*bias);
  ctx.Set(0, y);
  return absl::OkStatus();
}

// Dynamic uint8 quantization of A (per tensor), as DynamicQuantizeLinear.
struct Quantized {
  Tensor q, scale, zero;
};
Quantized DynamicQuantize(const Tensor& x) {
  Tensor f = x.Cast(DType::Float32());
  Tensor lo = f.Min().Minimum(0.0f), hi = f.Max().Maximum(0.0f);
  Tensor scale = hi.Sub(lo).Div(255.0f);
  Tensor safe = scale.Eq(0.0f).Where(1.0f, scale);
  Tensor zero = lo.Neg().Div(safe).Round().Maximum(0.0f).Minimum(255.0f);
  Tensor q = f.Div(safe).Round().Add(zero).Maximum(0.0f).Minimum(255.0f);
  return {q, scale, zero};
}

// Y = A_float x B_int: A is quantized on the fly (DynamicQuantizeMatMul) or
// given with its scale (MatMulIntegerToFloat); products accumulate in int32.
template <bool kDynamic>
absl::Status QuantizedMatMul(OpContext& ctx) {
  Tensor aq, a_scale, a_zero;
  int bi;
  if (kDynamic) {
    ASSIGN_OR_RETURN(Tensor a, ctx.Input(0));
    Quantized q = DynamicQuantize(a);
    aq = q.q.Cast(DType::Int32());
    a_scale = q.scale;
    a_zero = q.zero.Cast(DType::Int32());
    bi = 1;
  } else {
    ASSIGN_OR_RETURN(Tensor a, ctx.Input(0));
    ASSIGN_OR_RETURN(a_scale, ctx.Input(2));
    aq = a.Cast(DType::Int32());
    a_zero = Tensor::Zeros({}, DType::Int32());
    if (ctx.Has(4)) {
      ASSIGN_OR_RETURN(Tensor z, ctx.Input(4));
      a_zero = z.Cast(DType::Int32());
    }
    bi = 1;
  }
  ASSIGN_OR_RETURN(Tensor b, ctx.Input(bi));
  ASSIGN_OR_RETURN(Tensor b_scale, ctx.Input(kDynamic ? 2 : 3));
  Tensor b_zero = Tensor::Zeros({}, DType::Int32());
  const int bz = kDynamic ? 3 : 5;
  if (ctx.Has(bz)) {
    ASSIGN_OR_RETURN(Tensor z, ctx.Input(bz));
    b_zero = z.Cast(DType::Int32());
  }
  Tensor acc = aq.Sub(a_zero).Matmul(b.Cast(DType::Int32()).Sub(b_zero), DType::Int32());
  Tensor y = acc.Cast(DType::Float32())
                 .Mul(a_scale.Cast(DType::Float32()))
                 .Mul(b_scale.Cast(DType::Float32()));
  const int bias_at = kDynamic ? 4 : 6;
  if (ctx.Has(bias_at)) {
    ASSIGN_OR_RETURN(Tensor bias, ctx.Input(bias_at));
    y = y.Add(bias);
  }
  ctx.Set(0, y);
  return absl::OkStatus();
}

Tensor Dequant(const Tensor& x, const Tensor& scale, const Tensor& zero) {
  return x.Cast(DType::Float32())
      .Sub(zero.Cast(DType::Float32()))
      .Mul(scale.Cast(DType::Float32()));
}
Tensor Requant(const Tensor& f, const Tensor& scale, const Tensor& zero) {
  const DType d = zero.dtype();
  return f.Div(scale.Cast(DType::Float32()))
      .Round()
      .Add(zero.Cast(DType::Float32()))
      .Maximum(d.min_value())
      .Minimum(d.max_value())
      .Cast(d);
}

// QLinearAdd / QLinearMul: dequantize both, combine, requantize.
template <bool kMul>
absl::Status QLinearBinary(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor a, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor as, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor b, ctx.Input(3));
  ASSIGN_OR_RETURN(Tensor bs, ctx.Input(4));
  ASSIGN_OR_RETURN(Tensor cs, ctx.Input(6));
  Tensor az = ctx.Has(2) ? ctx.In(2).tensor() : Tensor::Zeros({}, a.dtype());
  Tensor bz = ctx.Has(5) ? ctx.In(5).tensor() : Tensor::Zeros({}, b.dtype());
  Tensor cz = ctx.Has(7) ? ctx.In(7).tensor() : Tensor::Zeros({}, a.dtype());
  Tensor fa = Dequant(a, as, az), fb = Dequant(b, bs, bz);
  ctx.Set(0, Requant(kMul ? fa.Mul(fb) : fa.Add(fb), cs, cz));
  return absl::OkStatus();
}

// QLinearSigmoid / QLinearLeakyRelu: X, X_scale, X_zp, Y_scale, Y_zp.
template <bool kSigmoid>
absl::Status QLinearUnary(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor xs, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor ys, ctx.Input(3));
  Tensor xz = ctx.Has(2) ? ctx.In(2).tensor() : Tensor::Zeros({}, x.dtype());
  Tensor yz = ctx.Has(4) ? ctx.In(4).tensor() : Tensor::Zeros({}, x.dtype());
  Tensor f = Dequant(x, xs, xz);
  const double alpha = ctx.Float("alpha", 0.01f);
  Tensor g = kSigmoid ? f.Sigmoid() : f.Lt(0).Where(f.Mul(alpha), f);
  ctx.Set(0, Requant(g, ys, yz));
  return absl::OkStatus();
}

absl::Status QLinearGlobalAveragePool(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor xs, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor xz, ctx.Input(2));
  ASSIGN_OR_RETURN(Tensor ys, ctx.Input(3));
  ASSIGN_OR_RETURN(Tensor yz, ctx.Input(4));
  if (x.ndim() < 3) return ctx.Error("input must be (N, C, *spatial) or channels-last");
  const bool last = ctx.Int("channels_last", 0) != 0;
  std::vector<int64_t> axes;
  for (int64_t a = last ? 1 : 2; a < (last ? x.ndim() - 1 : x.ndim()); ++a) axes.push_back(a);
  ctx.Set(0, Requant(Dequant(x, xs, xz).Mean(axes, true), ys, yz));
  return absl::OkStatus();
}

absl::Status QLinearConcat(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor ys, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor yz, ctx.Input(1));
  if ((ctx.num_inputs() - 2) % 3 != 0 || ctx.num_inputs() < 5)
    return ctx.Error("inputs must be Y_scale, Y_zero_point, then (X, scale, zero_point) triples");
  std::vector<Tensor> parts;
  for (int i = 2; i < ctx.num_inputs(); i += 3) {
    ASSIGN_OR_RETURN(Tensor x, ctx.Input(i));
    ASSIGN_OR_RETURN(Tensor s, ctx.Input(i + 1));
    ASSIGN_OR_RETURN(Tensor z, ctx.Input(i + 2));
    parts.push_back(Dequant(x, s, z));
  }
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", 0), parts[0].ndim()));
  ctx.Set(0, Requant(parts.size() == 1 ? parts[0] : Tensor::Cat(parts, axis), ys, yz));
  return absl::OkStatus();
}

}  // namespace

void RegisterContribOps(OpRegistry& r) {
  auto ms = [&](const char* name, OpFn fn) { r.Add(kMsDomain, name, 1, fn); };
  ms("Gelu", Gelu);
  ms("FastGelu", FastGelu);
  ms("BiasGelu", BiasGelu);
  ms("QuickGelu", QuickGelu);
  ms("BiasAdd", BiasAdd);
  ms("FusedMatMul", FusedMatMul);
  ms("FusedConv", FusedConv);
  ms("SkipLayerNormalization", SkipNorm<true>);
  ms("SkipSimplifiedLayerNormalization", SkipNorm<false>);
  ms("SimplifiedLayerNormalization", SimplifiedLayerNorm);
  ms("Attention", Attention);
  ms("MultiHeadAttention", MultiHeadAttention);
  ms("MatMulNBits", MatMulNBits);
  ms("DynamicQuantizeMatMul", QuantizedMatMul<true>);
  ms("MatMulIntegerToFloat", QuantizedMatMul<false>);
  ms("QLinearAdd", QLinearBinary<false>);
  ms("QLinearMul", QLinearBinary<true>);
  ms("QLinearSigmoid", QLinearUnary<true>);
  ms("QLinearLeakyRelu", QLinearUnary<false>);
  ms("QLinearGlobalAveragePool", QLinearGlobalAveragePool);
  ms("QLinearConcat", QLinearConcat);
  // onnxruntime registers its RMS norm in the default domain.
  r.Add(kOnnxDomain, "SimplifiedLayerNormalization", 1, SimplifiedLayerNorm);
}

}  // namespace uop::onnx_import
