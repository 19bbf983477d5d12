// Affine index expressions with bounds: the arithmetic behind
// ShapeTracker::ToIndexed and RealStrides.
//
// An Affine is sum(coef * leaf) + constant over "leaves": the caller's index
// UOps and opaque div/mod subexpressions that did not fold. Each leaf carries
// sound bounds, which may be narrower than the UOp's own vmin/vmax because
// only elements inside the outermost view's mask matter (everything else is
// invalid and its index is never used). With those bounds, unraveling a flat
// index through a view's shape usually folds to plain affine terms:
//
//   IndexExprBuilder b;
//   Affine flat;                                   // 4*i + 2 with i in [0, 3]
//   b.AddScaled(&flat, b.Leaf(b.AddLeaf(i, 0, 3)), 4);
//   flat.constant = 2;
//   b.FloorDiv(flat, 4)  -> i     (the +2 never carries)
//   b.FloorMod(flat, 4)  -> 2
//
// Bounds need only hold for the elements of interest (valid ones). There
// every leaf must be non-negative (indices are, and so are quotients and
// remainders of non-negative flat indices), and so must the dividend of
// FloorDiv/FloorMod. Floor and truncating division then agree, so results
// that do not fold are emitted as IDIV/MOD.
#ifndef UOP_RUNTIME_SHAPE_INDEX_EXPR_H_
#define UOP_RUNTIME_SHAPE_INDEX_EXPR_H_

#include <cstdint>
#include <optional>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "runtime/uop/uop.h"

namespace uop {
namespace shape_internal {

using i128 = __int128;

struct AffineTerm {
  int leaf;  // index into the builder's leaves
  int64_t coef;
};

struct Affine {
  absl::InlinedVector<AffineTerm, 8> terms;
  int64_t constant = 0;
};

class IndexExprBuilder {
 public:
  // Registers `u` as a leaf with bounds [lo, hi] (intersected with any
  // earlier registration of the same node) and returns its id.
  int AddLeaf(const UOpPtr& u, int64_t lo, int64_t hi);
  // Narrows a leaf's bounds (intersection). Empty bounds mean no element of
  // interest exists; Empty() reports it.
  void Narrow(int leaf, int64_t lo, int64_t hi);
  bool Empty() const { return empty_; }

  const UOpPtr& leaf_uop(int leaf) const { return leaves_[leaf].uop; }
  // Whether `a` uses a div/mod leaf (an expression that did not fold).
  bool HasOpaque(const Affine& a) const;
  int num_leaves() const { return static_cast<int>(leaves_.size()); }

  Affine Leaf(int leaf) const { return Affine{{AffineTerm{leaf, 1}}, 0}; }
  // dst += k * src, merging terms of the same leaf.
  void AddScaled(Affine* dst, const Affine& src, int64_t k) const;
  // Sound range of `a` over the leaves' bounds.
  std::pair<i128, i128> Range(const Affine& a) const;

  // `a` with terms over single-valued leaves (constants, or narrowed to one
  // value) moved into the constant.
  Affine Fold(const Affine& a) const;

  // floor(a / k) and a mod k (floor) for k > 0; may add opaque leaves.
  Affine FloorDiv(const Affine& a, int64_t k);
  Affine FloorMod(const Affine& a, int64_t k);

  // Rewrites the check `a >= bound` (lower) or `a < bound` (upper) into an
  // equivalent one on fewer terms when a = g*x + small with 0 <= small < g
  // and the small part can never decide the check, e.g. 5*i + j >= 5 with j
  // in [0, 4] becomes i >= 1. Returns whether it changed anything.
  bool ReduceBound(Affine* a, int64_t* bound, bool lower) const;

  // The expression (folded) as UOps of dtype index: terms in order, `x` for
  // a coefficient of 1, the constant last and only when non-zero.
  UOpPtr ToUOp(const Affine& a) const;

 private:
  struct LeafInfo {
    UOpPtr uop;
    i128 lo, hi;
    // For opaque leaves: IDIV or MOD of `operand` by `divisor`, kept so
    // later divisions and modulos can see through them. kNoop for inputs.
    Op op = Op::kNoop;
    Affine operand;
    int64_t divisor = 0;
  };
  // Rewrites that look through opaque leaves of `a` (see FloorDiv/FloorMod).
  std::optional<Affine> DivThroughLeaves(const Affine& a, int64_t k);
  Affine ModThroughLeaves(const Affine& a, int64_t k) const;
  // Splits a = k*q + r with r's coefficients in [0, k) (or [-k/2, k/2) when
  // symmetric) and its constant in [0, k).
  void SplitModulus(const Affine& a, int64_t k, bool symmetric, Affine* q, Affine* r) const;
  // (q, r) with a = k*q + r: q = 0; r's coefficients in [0, k); in [-k/2, k/2).
  absl::InlinedVector<std::pair<Affine, Affine>, 3> Decompositions(const Affine& a,
                                                                   int64_t k) const;
  // Splits a = g*x + r with x the terms g divides (integer coefficients) and
  // r the others plus a constant; true when some choice of that constant
  // puts r in [0, g) over the bounds.
  bool SplitSmall(const Affine& a, int64_t g, Affine* x, Affine* r) const;
  // f(a) as an Affine when `a` is one term over a leaf with exactly two
  // values (f evaluated at both); nullopt otherwise.
  template <typename F>
  std::optional<Affine> TwoPointLine(const Affine& a, F f) const;
  // The leaf `operand op divisor` (op IDIV or MOD) for an expression that
  // did not fold, with bounds [lo, hi]; one leaf per distinct expression.
  Affine Opaque(Op op, const Affine& operand, int64_t divisor, i128 lo, i128 hi);

  absl::InlinedVector<LeafInfo, 8> leaves_;
  bool empty_ = false;
};

}  // namespace shape_internal
}  // namespace uop

#endif  // UOP_RUNTIME_SHAPE_INDEX_EXPR_H_
