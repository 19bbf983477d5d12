// Reductions: ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare
// (axes as an attribute before opset 13/18, as an input after) and
// ArgMax/ArgMin.
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

enum class Kind { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

template <Kind K, int kAxesInputSince>
absl::Status Reduce(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  const bool keepdims = ctx.Int("keepdims", 1) != 0;
  std::vector<int64_t> axes;
  bool have_axes;
  if (ctx.opset() >= kAxesInputSince) {
    have_axes = ctx.Has(1);
    if (have_axes) {
      ASSIGN_OR_RETURN(axes, ctx.IntsInput(1));
    }
  } else {
    have_axes = ctx.HasAttr("axes");
    axes = ctx.Ints("axes");
  }
  if (axes.empty()) {
    if (ctx.Int("noop_with_empty_axes", 0) != 0) {
      Tensor y = x;
      if constexpr (K == Kind::kL1) y = x.Abs();
      if constexpr (K == Kind::kL2) y = x.Abs();
      if constexpr (K == Kind::kSumSquare) y = x.Square();
      if constexpr (K == Kind::kLogSum) y = x.Log();
      ctx.Set(0, y);
      return absl::OkStatus();
    }
    for (int64_t k = 0; k < x.ndim(); ++k) axes.push_back(k);
  }
  (void)have_axes;
  ASSIGN_OR_RETURN(axes, NormAxes(ctx, axes, x.ndim()));
  const DType d = x.dtype();
  Tensor y;
  switch (K) {
    case Kind::kSum:
      y = x.Sum(axes, keepdims);
      break;
    case Kind::kMean:
      y = x.Mean(axes, keepdims);
      break;
    case Kind::kMax:
      y = x.Max(axes, keepdims);
      break;
    case Kind::kMin:
      y = x.Min(axes, keepdims);
      break;
    case Kind::kProd:
      y = x.Prod(axes, keepdims);
      break;
    case Kind::kL1:
      y = x.Abs().Sum(axes, keepdims);
      break;
    case Kind::kL2:
      y = InFloat32(x, [&](const Tensor& f) { return f.Square().Sum(axes, keepdims).Sqrt(); });
      break;
    case Kind::kLogSum:
      y = InFloat32(x, [&](const Tensor& f) { return f.Sum(axes, keepdims).Log(); });
      break;
    case Kind::kLogSumExp:
      y = InFloat32(x, [&](const Tensor& f) { return f.LogSumExp(axes, keepdims); });
      break;
    case Kind::kSumSquare:
      y = x.Square().Sum(axes, keepdims);
      break;
  }
  ctx.Set(0, y.Cast(d));
  return absl::OkStatus();
}

template <bool kMax>
absl::Status ArgReduce(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", 0), x.ndim()));
  const bool keepdims = ctx.Int("keepdims", 1) != 0;
  const bool last = ctx.Int("select_last_index", 0) != 0;
  Tensor src = last ? x.Flip({axis}) : x;
  Tensor idx =
      (kMax ? src.ArgMax(axis, keepdims) : src.ArgMin(axis, keepdims)).Cast(DType::Int64());
  if (last) idx = idx.Neg().Add(x.shape()[axis] - 1);
  ctx.Set(0, idx);
  return absl::OkStatus();
}

}  // namespace

void RegisterReduceOps(OpRegistry& r) {
  auto add = [&](const char* name, int since, OpFn fn) { r.Add(kOnnxDomain, name, since, fn); };
  add("ReduceSum", 1, Reduce<Kind::kSum, 13>);
  add("ReduceMean", 1, Reduce<Kind::kMean, 18>);
  add("ReduceMax", 1, Reduce<Kind::kMax, 18>);
  add("ReduceMin", 1, Reduce<Kind::kMin, 18>);
  add("ReduceProd", 1, Reduce<Kind::kProd, 18>);
  add("ReduceL1", 1, Reduce<Kind::kL1, 18>);
  add("ReduceL2", 1, Reduce<Kind::kL2, 18>);
  add("ReduceLogSum", 1, Reduce<Kind::kLogSum, 18>);
  add("ReduceLogSumExp", 1, Reduce<Kind::kLogSumExp, 18>);
  add("ReduceSumSquare", 1, Reduce<Kind::kSumSquare, 18>);
  add("ArgMax", 1, ArgReduce<true>);
  add("ArgMin", 1, ArgReduce<false>);
}

}  // namespace uop::onnx_import
