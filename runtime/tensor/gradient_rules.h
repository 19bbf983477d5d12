// The derivative of every tensor-level op: one entry per Op (runtime/uop/ops.h)
// in a table, each rule a graph rewrite from (node, gradient of the node) to
// the gradients of its sources, built from the same primitive UOps as the
// forward graph. Gradient() (gradient.h) walks the graph and applies them.
//
//   GradEntry e = GradEntryOf(Op::kMul);     // kind kRule
//   SrcGrads g = e.rule(mul_node, grad, ctx);   // {grad * b, grad * a}
//
// Every op with the kTensor trait must be classified (a rule, a leaf, or a
// stop); a static_assert in gradient_rules.cc makes a new tensor op without an
// entry a compile error.
//
// Numerical conventions (docs/gradient.md):
// * "Strong zero": where a local derivative can be infinite or NaN (EXP2,
//   LOG2, SQRT, RECIP, FDIV, POW, and MUL by a factor that may be non-finite),
//   the product with the incoming gradient g is WHERE(g != 0, g * d, 0), so a
//   zero gradient stays zero instead of becoming 0 * inf = NaN (a masked
//   sqrt(-1), a saturated sigmoid, x * log(x) at 0 under a WHERE).
// * WHERE and MAX route gradients with WHERE masks, never by multiplying with
//   a 0/1 mask. Ties of MAX (binary and REDUCE_AXIS) split the gradient
//   evenly among the tied inputs; so relu'(0) = 0.5 and max of [3, 3] sends
//   half to each.
// * TRUNC (floor, ceil, round) has derivative 0.
#ifndef UOP_RUNTIME_TENSOR_GRADIENT_RULES_H_
#define UOP_RUNTIME_TENSOR_GRADIENT_RULES_H_

#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "runtime/uop/ops.h"
#include "runtime/uop/uop.h"

namespace uop {

// What Gradient does at a node of each op.
enum class GradKind : uint8_t {
  kUnclassified,  // not a tensor-level op; differentiating through it is an error
  kRule,          // differentiable: `rule` gives the gradient of each source
  kLeaf,          // no sources to differentiate (CONST, BUFFER, DEVICE, DEFINE_VAR)
  kStop,          // passes no gradient: DETACH, comparisons, integer and bit ops, BITCAST
};

// The gradient of each source of one node, in source order; null where the
// source gets none (a WHERE's condition, a CAST from an integer).
using SrcGrads = absl::InlinedVector<UOpPtr, 3>;

// What a rule may ask about the forward graph.
class GradContext {
 public:
  virtual ~GradContext() = default;
  // False only when `u` is surely finite. Buffers are assumed to hold finite
  // data; EXP2, LOG2, SQRT, RECIP, FDIV, POW and non-finite constants may
  // produce inf or NaN, and so may everything computed from them.
  virtual bool MayBeNonFinite(const UOp* u) const = 0;
};

// `grad` has `node`'s dtype and shape; each returned gradient has its
// source's dtype and shape.
using GradRule = SrcGrads (*)(const UOp& node, const UOpPtr& grad, const GradContext& ctx);

struct GradEntry {
  GradKind kind = GradKind::kUnclassified;
  GradRule rule = nullptr;  // set exactly for kRule
};

// The table entry of `op`.
GradEntry GradEntryOf(Op op);

// A float constant of `dtype` broadcast to `shape` the way the Tensor API
// builds constants (CONST reshaped to all-ones and expanded).
UOpPtr GradConst(DType dtype, const Shape& shape, double value);

}  // namespace uop

#endif  // UOP_RUNTIME_TENSOR_GRADIENT_RULES_H_
