// Dense layers and activations over an axis: MatMul, Gemm, Softmax,
// LogSoftmax, Hardmax (with the 2-D coercion of opsets before 13), Dropout.
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

absl::Status MatMul(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor a, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor b, ctx.Input(1));
  ctx.Set(0, ctx.Shared(0, a.Matmul(b)));
  return absl::OkStatus();
}

absl::Status Gemm(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor a, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor b, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> c, ctx.OptInput(2));
  if (a.ndim() != 2 || b.ndim() != 2)
    return ctx.Error("A and B must be 2-D, got ", ShapeToString(a.shape()), " and ",
                     ShapeToString(b.shape()));
  const double alpha = ctx.Float("alpha", 1.0f), beta = ctx.Float("beta", 1.0f);
  if (ctx.Int("transA", 0)) a = a.T();
  if (ctx.Int("transB", 0)) b = b.T();
  Tensor y = a.Matmul(b);
  if (alpha != 1.0) y = y.Mul(alpha);
  if (c && beta != 0.0) y = y.Add(beta == 1.0 ? *c : c->Mul(beta));
  ctx.Set(0, ctx.Shared(0, y.Cast(a.dtype())));
  return absl::OkStatus();
}

// Applies `f` along `axis`; before opset 13 the input is first viewed as 2-D
// (dims before axis, dims from axis on) and `f` runs over the second.
template <typename F>
absl::Status OverAxis(OpContext& ctx, F f) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  const bool legacy = ctx.opset() < 13;
  int64_t axis = ctx.Int("axis", legacy ? 1 : -1);
  if (x.ndim() == 0) {
    ctx.Set(0, f(x.Reshape({1}), 0).Reshape({}));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(axis, NormAxis(ctx, axis, x.ndim()));
  if (!legacy) {
    ctx.Set(0, f(x, axis));
    return absl::OkStatus();
  }
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < x.ndim(); ++k) (k < axis ? outer : inner) *= x.shape()[k];
  ctx.Set(0, f(x.Reshape({outer, inner}), 1).Reshape(x.shape()));
  return absl::OkStatus();
}

absl::Status Softmax(OpContext& ctx) {
  return OverAxis(ctx, [](const Tensor& x, int64_t axis) {
    return InFloat32(x, [&](const Tensor& f) { return f.Softmax(axis); });
  });
}

absl::Status LogSoftmax(OpContext& ctx) {
  return OverAxis(ctx, [](const Tensor& x, int64_t axis) {
    return InFloat32(x, [&](const Tensor& f) { return f.LogSoftmax(axis); });
  });
}

absl::Status Hardmax(OpContext& ctx) {
  return OverAxis(ctx, [](const Tensor& x, int64_t axis) {
    const int64_t n = x.shape()[axis];
    Tensor idx = x.ArgMax(axis, /*keepdim=*/true);
    Shape s(x.ndim(), 1);
    s[axis] = n;
    Tensor range = Tensor::Arange(0, n, 1, idx.dtype()).Reshape(s);
    return range.Eq(idx).Cast(x.dtype());
  });
}

absl::Status Dropout(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  double ratio = ctx.Float("ratio", 0.5f);
  bool training = false;
  if (ctx.opset() >= 12) {
    if (ctx.Has(1)) {
      ASSIGN_OR_RETURN(ratio, ctx.DoubleInput(1));
    }
    if (ctx.Has(2)) {
      ASSIGN_OR_RETURN(int64_t t, ctx.IntInput(2));
      training = t != 0;
    }
  } else if (ctx.opset() < 7) {
    training = ctx.Int("is_test", 0) == 0;
  }
  if (!training || ratio == 0.0) {
    ctx.Set(0, x);
    if (ctx.Wants(1))
      ctx.Set(1, Value::FromTensor(Tensor::Full(x.shape(), true, DType::Bool()), true));
    return absl::OkStatus();
  }
  if (ratio < 0 || ratio >= 1) return ctx.Error("ratio ", ratio, " must be in [0, 1)");
  ctx.eval().NoteRandom();
  RandOptions opts;
  if (ctx.HasAttr("seed")) opts.seed = static_cast<uint64_t>(ctx.Int("seed", 0));
  Tensor keep = Tensor::Rand(x.shape(), DType::Float32(), opts).Ge(ratio);
  ctx.Set(0, keep.Where(x.Div(1.0 - ratio).Cast(x.dtype()), x.ZerosLike()));
  if (ctx.Wants(1)) ctx.Set(1, keep);
  return absl::OkStatus();
}

}  // namespace

void RegisterNnOps(OpRegistry& r) {
  auto add = [&](const char* name, int since, OpFn fn) { r.Add(kOnnxDomain, name, since, fn); };
  add("MatMul", 1, MatMul);
  add("Gemm", 1, Gemm);
  add("Softmax", 1, Softmax);
  add("LogSoftmax", 1, LogSoftmax);
  add("Hardmax", 1, Hardmax);
  add("Dropout", 1, Dropout);
}

}  // namespace uop::onnx_import
