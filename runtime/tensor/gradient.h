// Gradients as graph rewrites: d loss / d target for tensors of the lazy
// graph, like torch.autograd.grad, computed by walking the loss's UOp graph
// backwards and applying one rule per op (gradient_rules.h). The result is an
// ordinary lazy graph made of the same primitive ops: nothing is realized to
// build it, the scheduler fuses it with the forward pass, and it can be
// differentiated again (higher-order derivatives, Hessian-vector products).
//
//   Tensor w = Tensor::Randn({3, 4}, DType::Float32(), {.seed = 1});
//   Tensor loss = x.Matmul(w).Relu().Sum();
//   ASSIGN_OR_RETURN(std::vector<Tensor> g, Gradient(loss, {w}));   // g[0]: (3, 4), lazy
//   // Hessian-vector product: the gradient of <g, v>.
//   ASSIGN_OR_RETURN(std::vector<Tensor> hv, Gradient((g[0] * v).Sum(), {w}));
//
// Targets are found by their graph node: a target is any tensor whose node
// appears in the loss's graph (a parameter, an input, an intermediate
// result). There is no global no-grad state: DETACH (Tensor::Detach) is the
// one way to stop gradients.
//
// Errors (absl::Status, nothing aborts): a loss or target that is not a
// float tensor; a loss with more than one element and no grad_output; a
// target that is not part of the loss's graph, or that reaches the loss only
// through ops without a gradient (comparisons, integer ops, BITCAST,
// DETACH), named in the message; unless GradientOptions::allow_unused, which
// gives such targets zeros.
//
// Numerics: see gradient_rules.h (strong zeros instead of 0 * inf, ties split
// evenly for max/min, derivative 0 for floor/ceil/round/trunc) and
// docs/gradient.md.
#ifndef UOP_RUNTIME_TENSOR_GRADIENT_H_
#define UOP_RUNTIME_TENSOR_GRADIENT_H_

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/tensor/tensor.h"
#include "runtime/uop/uop.h"

namespace uop {

struct GradientOptions {
  // Targets the loss does not depend on get zeros instead of an error.
  bool allow_unused = false;
};

// The gradient of `loss` (one element) with respect to each target, in
// order, each with its target's shape and dtype.
absl::StatusOr<std::vector<Tensor>> Gradient(const Tensor& loss, absl::Span<const Tensor> targets,
                                             const GradientOptions& options = {});
// With the gradient of the loss given (a vector-Jacobian product):
// `grad_output` has the loss's shape (broadcastable) and device.
absl::StatusOr<std::vector<Tensor>> Gradient(const Tensor& loss, absl::Span<const Tensor> targets,
                                             const Tensor& grad_output,
                                             const GradientOptions& options = {});

// The UOp-level walk: the gradient graph of each target node, given the
// gradient `root_grad` of `root` (same shape and dtype). Errors name
// targets by their index.
absl::StatusOr<std::vector<UOpPtr>> GradientGraph(const UOpPtr& root, const UOpPtr& root_grad,
                                                  absl::Span<const UOpPtr> targets,
                                                  const GradientOptions& options = {});

// Adds d loss / d t to t.grad() for every tensor t marked RequiresGrad()
// whose node is in the loss's graph (torch's backward). Fails when no marked
// tensor is part of the graph. The gradients are lazy: realize them, or
// realize what is computed from them (an optimizer step).
absl::Status Backward(const Tensor& loss);
absl::Status Backward(const Tensor& loss, const Tensor& grad_output);

}  // namespace uop

#endif  // UOP_RUNTIME_TENSOR_GRADIENT_H_
