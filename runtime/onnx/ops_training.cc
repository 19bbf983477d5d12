// Optimizer steps of the ai.onnx.preview.training domain: Adagrad, Momentum,
// Adam. The learning rate R and step count T are scalars read at import (the
// bias corrections are computed in double precision); the updates are tensor
// ops over any number of (X, G, state...) groups.
#include <cmath>

#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

// The number of optimized tensors when `per` inputs each follow R and T.
absl::StatusOr<int> Groups(const OpContext& ctx, int per) {
  const int n = ctx.num_inputs() - 2;
  if (n <= 0 || n % per != 0)
    return ctx.Error(ctx.num_inputs(), " inputs are not R, T and ", per, " per tensor");
  return n / per;
}

absl::Status Adagrad(OpContext& ctx) {
  ASSIGN_OR_RETURN(int n, Groups(ctx, 3));
  ASSIGN_OR_RETURN(double r, ctx.DoubleInput(0));
  ASSIGN_OR_RETURN(double t, ctx.DoubleInput(1));
  const double decay = ctx.Float("decay_factor", 0.0f), eps = ctx.Float("epsilon", 0.0f),
               norm = ctx.Float("norm_coefficient", 0.0f);
  const double rate = r / (1 + t * decay);
  for (int i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(Tensor x, ctx.Input(2 + i));
    ASSIGN_OR_RETURN(Tensor g, ctx.Input(2 + n + i));
    ASSIGN_OR_RETURN(Tensor h, ctx.Input(2 + 2 * n + i));
    Tensor greg = x.Mul(norm).Add(g);
    Tensor hn = h.Add(greg.Square());
    ctx.Set(i, x.Sub(greg.Mul(rate).Div(hn.Sqrt().Add(eps))).Cast(x.dtype()));
    ctx.Set(n + i, hn.Cast(h.dtype()));
  }
  return absl::OkStatus();
}

absl::Status Momentum(OpContext& ctx) {
  ASSIGN_OR_RETURN(int n, Groups(ctx, 3));
  ASSIGN_OR_RETURN(double r, ctx.DoubleInput(0));
  ASSIGN_OR_RETURN(double t, ctx.DoubleInput(1));
  const double alpha = ctx.Float("alpha", 0.0f), beta = ctx.Float("beta", 0.0f),
               norm = ctx.Float("norm_coefficient", 0.0f);
  const std::string mode = ctx.Str("mode", "standard");
  if (mode != "standard" && mode != "nesterov") return ctx.Error("unknown mode '", mode, "'");
  const double b = t > 0 ? beta : 1.0;
  for (int i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(Tensor x, ctx.Input(2 + i));
    ASSIGN_OR_RETURN(Tensor g, ctx.Input(2 + n + i));
    ASSIGN_OR_RETURN(Tensor v, ctx.Input(2 + 2 * n + i));
    Tensor greg = x.Mul(norm).Add(g);
    Tensor vn = v.Mul(alpha).Add(greg.Mul(b));
    Tensor step = mode == "standard" ? vn : greg.Add(vn.Mul(alpha));
    ctx.Set(i, x.Sub(step.Mul(r)).Cast(x.dtype()));
    ctx.Set(n + i, vn.Cast(v.dtype()));
  }
  return absl::OkStatus();
}

absl::Status Adam(OpContext& ctx) {
  ASSIGN_OR_RETURN(int n, Groups(ctx, 4));
  ASSIGN_OR_RETURN(double r, ctx.DoubleInput(0));
  ASSIGN_OR_RETURN(double t, ctx.DoubleInput(1));
  const double alpha = ctx.Float("alpha", 0.9f), beta = ctx.Float("beta", 0.999f),
               eps = ctx.Float("epsilon", 1e-6f), norm = ctx.Float("norm_coefficient", 0.0f),
               post = ctx.Float("norm_coefficient_post", 0.0f);
  const double rate = t > 0 ? r * std::sqrt(1 - std::pow(beta, t)) / (1 - std::pow(alpha, t)) : r;
  for (int i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(Tensor x, ctx.Input(2 + i));
    ASSIGN_OR_RETURN(Tensor g, ctx.Input(2 + n + i));
    ASSIGN_OR_RETURN(Tensor v, ctx.Input(2 + 2 * n + i));
    ASSIGN_OR_RETURN(Tensor h, ctx.Input(2 + 3 * n + i));
    Tensor greg = x.Mul(norm).Add(g);
    Tensor vn = v.Mul(alpha).Add(greg.Mul(1 - alpha));
    Tensor hn = h.Mul(beta).Add(greg.Square().Mul(1 - beta));
    Tensor xn = x.Sub(vn.Div(hn.Sqrt().Add(eps)).Mul(rate)).Mul(1 - post);
    ctx.Set(i, xn.Cast(x.dtype()));
    ctx.Set(n + i, vn.Cast(v.dtype()));
    ctx.Set(2 * n + i, hn.Cast(h.dtype()));
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterTrainingOps(OpRegistry& r) {
  r.Add(kTrainingDomain, "Adagrad", 1, Adagrad);
  r.Add(kTrainingDomain, "Momentum", 1, Momentum);
  r.Add(kTrainingDomain, "Adam", 1, Adam);
}

}  // namespace uop::onnx_import
