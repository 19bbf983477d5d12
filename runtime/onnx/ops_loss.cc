// Losses: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss with class
// weights, ignore_index and every reduction.
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

// loss[n, d...] = -x[n, t, d...] * w[t] for targets t (0 where t is ignored),
// reduced as asked. x is [N, C, d...], target [N, d...].
absl::StatusOr<Tensor> Nll(const OpContext& ctx, const Tensor& x, const Tensor& target,
                           const std::optional<Tensor>& weight) {
  if (x.ndim() < 2 || target.ndim() != x.ndim() - 1)
    return ctx.Error("input ", ShapeToString(x.shape()), " and target ",
                     ShapeToString(target.shape()), " must be [N, C, d...] and [N, d...]");
  const std::string reduction = ctx.Str("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return ctx.Error("unknown reduction '", reduction, "'");
  Tensor t = target.Cast(DType::Int64());
  Tensor valid = Tensor::Full(t.shape(), true, DType::Bool());
  if (ctx.HasAttr("ignore_index")) {
    valid = t.Ne(ctx.Int("ignore_index", 0));
    t = valid.Where(t, t.ZerosLike());
  }
  Tensor picked = x.Gather(1, t.Unsqueeze(1)).Squeeze({1}).Neg();
  Tensor w = valid.Cast(x.dtype());
  if (weight) w = w.Mul(weight->Take(0, t));
  Tensor loss = picked.Mul(w);
  if (reduction == "none") return loss;
  if (reduction == "sum") return loss.Sum();
  return loss.Sum().Div(w.Sum()).Cast(x.dtype());
}

absl::Status NllLoss(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor target, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> weight, ctx.OptInput(2));
  ASSIGN_OR_RETURN(Tensor loss, Nll(ctx, x, target, weight));
  ctx.Set(0, loss);
  return absl::OkStatus();
}

absl::Status SoftmaxCrossEntropy(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor scores, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor labels, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<Tensor> weight, ctx.OptInput(2));
  if (scores.ndim() < 2) return ctx.Error("scores must be [N, C, d...]");
  Tensor log_prob = InFloat32(scores, [](const Tensor& s) { return s.LogSoftmax(1); });
  ASSIGN_OR_RETURN(Tensor loss, Nll(ctx, log_prob, labels, weight));
  ctx.Set(0, loss);
  if (ctx.Wants(1)) ctx.Set(1, log_prob);
  return absl::OkStatus();
}

}  // namespace

void RegisterLossOps(OpRegistry& r) {
  r.Add(kOnnxDomain, "NegativeLogLikelihoodLoss", 12, NllLoss);
  r.Add(kOnnxDomain, "SoftmaxCrossEntropyLoss", 12, SoftmaxCrossEntropy);
}

}  // namespace uop::onnx_import
