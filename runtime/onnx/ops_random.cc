// Random generators: RandomUniform(Like), RandomNormal(Like), Bernoulli,
// Multinomial. They draw from the Tensor API's counter-based generator: with a
// `seed` attribute the numbers depend on the seed alone (and are the same on
// every backend); without one each run draws fresh numbers. These ops are
// registered as nondeterministic, so they are never folded and runs using
// them are never replayed.
#include "runtime/onnx/onnx_types.h"
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

RandOptions Seeded(const OpContext& ctx) {
  RandOptions o;
  if (const Attribute* a = ctx.Attr("seed")) {
    const float f = a->type == AttrType::kFloat ? a->f : static_cast<float>(a->i);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    o.seed = bits;
  }
  return o;
}

// The output dtype: the `dtype` attribute, else `fallback`.
absl::StatusOr<DType> OutType(const OpContext& ctx, DType fallback) {
  if (!ctx.HasAttr("dtype")) return fallback;
  return DTypeFromOnnx(static_cast<int32_t>(ctx.Int("dtype", 1)));
}

absl::StatusOr<Shape> ShapeOf(OpContext& ctx, bool like) {
  if (!like) return ctx.Ints("shape");
  if (!ctx.Has(0)) return ctx.Error("input 0 is required");
  return ctx.In(0).shape();
}

template <bool kNormal, bool kLike>
absl::Status Random(OpContext& ctx) {
  ASSIGN_OR_RETURN(Shape shape, ShapeOf(ctx, kLike));
  DType fallback = kLike && ctx.In(0).is_tensor() ? ctx.In(0).tensor().dtype() : DType::Float32();
  ASSIGN_OR_RETURN(DType d, OutType(ctx, fallback));
  if (!d.is_float()) return ctx.Error("random values must be a float type, got ", d.ToString());
  Tensor y;
  if (kNormal) {
    y = Tensor::Randn(shape, DType::Float32(), Seeded(ctx))
            .Mul(ctx.Float("scale", 1.0f))
            .Add(ctx.Float("mean", 0.0f));
  } else {
    const double lo = ctx.Float("low", 0.0f), hi = ctx.Float("high", 1.0f);
    y = Tensor::Rand(shape, DType::Float32(), Seeded(ctx)).Mul(hi - lo).Add(lo);
  }
  ctx.Set(0, y.Cast(d));
  return absl::OkStatus();
}

absl::Status Bernoulli(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor p, ctx.Input(0));
  ASSIGN_OR_RETURN(DType d, OutType(ctx, p.dtype()));
  Tensor u = Tensor::Rand(p.shape(), DType::Float32(), Seeded(ctx));
  ctx.Set(0, u.Lt(p.Cast(DType::Float32())).Cast(d));
  return absl::OkStatus();
}

absl::Status Multinomial(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor logits, ctx.Input(0));
  if (logits.ndim() != 2) return ctx.Error("input must be [batch, classes]");
  const int64_t samples = ctx.Int("sample_size", 1), batch = logits.shape()[0],
                classes = logits.shape()[1];
  ASSIGN_OR_RETURN(DType d, OutType(ctx, DType::Int32()));
  // Inverse-CDF sampling: count the cumulative probabilities below a uniform.
  Tensor prob = logits.Cast(DType::Float32()).Softmax(1);
  Tensor cdf = prob.CumSum(1).Reshape({batch, 1, classes});
  Tensor u = Tensor::Rand({batch, samples, 1}, DType::Float32(), Seeded(ctx));
  Tensor idx = cdf.Le(u).Cast(DType::Int32()).Sum({2}).Minimum(classes - 1);
  ctx.Set(0, idx.Cast(d));
  return absl::OkStatus();
}

}  // namespace

void RegisterRandomOps(OpRegistry& r) {
  auto add = [&](const char* name, int since, OpFn fn) {
    r.Add(kOnnxDomain, name, since, fn, kOpNondeterministic);
  };
  add("RandomUniform", 1, Random<false, false>);
  add("RandomNormal", 1, Random<true, false>);
  add("RandomUniformLike", 1, Random<false, true>);
  add("RandomNormalLike", 1, Random<true, true>);
  add("Bernoulli", 15, Bernoulli);
  add("Multinomial", 7, Multinomial);
}

}  // namespace uop::onnx_import
