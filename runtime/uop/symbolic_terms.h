// Internals of the symbolic rules (symbolic.h): an integer expression seen as
// a linear sum `c1*t1 + c2*t2 + ... + k`, overflow-checked rebuilding of such
// sums, and the folders for division, modulo and comparison by constants
// that work on them.
//
// Soundness contract (what the randomized test checks): for every assignment
// of the variables under which the original expression evaluates without
// int64 (or int32...) overflow, the folded expression evaluates to the same
// value, also without overflow. Bounds are the tool: a node's vmin/vmax hold
// for every such assignment, and every node these helpers build has its exact
// range checked against its dtype before it is used.
//
// Integer division and modulo truncate toward zero (C). Identities that are
// only true for floor division are applied only where the values involved
// are provably all non-negative (floor == trunc there) or all non-positive
// (the mirrored identity holds).
#ifndef UOP_RUNTIME_UOP_SYMBOLIC_TERMS_H_
#define UOP_RUNTIME_UOP_SYMBOLIC_TERMS_H_

#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "runtime/uop/uop.h"

namespace uop::symbolic_internal {

using i128 = __int128;

// Signed integer or index scalar: the dtypes whose overflow is undefined, so
// the index algebra may assume none happens.
bool IsSignedIndexLike(DType d);
bool FitsIn(i128 v, DType d);
i128 FloorDiv128(i128 a, i128 b);  // b != 0
i128 CeilDiv128(i128 a, i128 b);   // b != 0

// Exact range of coef * [node.vmin, node.vmax].
struct Range128 {
  i128 lo, hi;
};
Range128 ScaledRange(const UOp& node, int64_t coef);

struct Term {
  const UOp* node;  // borrowed from the expression being analyzed
  int64_t coef;
};

// x == sum(coef_i * node_i) + constant, as integers.
class LinearSum {
 public:
  static constexpr int kMaxTerms = 24;

  // Flattens ADD/SUB/NEG and multiplication by CONST; with `distribute`,
  // also (a + b) * c into a*c + b*c. Repeated nodes are merged into one term
  // (counted in merges()). Returns false when a coefficient or the constant
  // overflows int64, or the sum has more than kMaxTerms terms.
  bool Decompose(const UOp& x, bool distribute);

  absl::InlinedVector<Term, 8> terms;
  int64_t constant = 0;
  int merges() const { return merges_; }
  // Number of CONST leaves met while flattening.
  int const_leaves() const { return const_leaves_; }

 private:
  bool Add(const UOp& x, int64_t coef, bool distribute, int depth);
  int merges_ = 0;
  int const_leaves_ = 0;
};

// Builds `sum(coef_i * node_i) + constant` left to right in dtype `d`, the
// constant last. Build() returns nullptr when some partial sum or product
// could leave d's range.
class SumBuilder {
 public:
  explicit SumBuilder(DType d) : dtype_(d) {}
  void Add(const UOp* node, int64_t coef);
  void AddConst(i128 k);
  UOpPtr Build();

 private:
  DType dtype_;
  UOpPtr acc_;
  i128 lo_ = 0, hi_ = 0, constant_ = 0;
  bool ok_ = true;
};

// x // c (is_mod false) or x % c for a constant c > 1 and a signed integer
// x: remainder-within-range splitting, two-valued terms, common factors,
// moving multiples of c out. nullptr when nothing applies.
UOpPtr FoldDivModConst(const UOp& x, int64_t c, bool is_mod, bool allow_nested = true);

// x < d and d < x for a constant d: constants moved to the right, common
// factors divided out, single terms solved. nullptr when nothing applies.
UOpPtr FoldLtConst(const UOp& x, int64_t d);
UOpPtr FoldConstLt(int64_t d, const UOp& x);

// An ADD chain with repeated terms, scattered constants or a nested sum on
// the right, rebuilt as the left-deep chain sum(coef_i * term_i) + k
// (x + x -> x*2, x*a + x*b -> x*(a+b), a + (b + c) -> (a + b) + c).
UOpPtr CombineLikeTerms(const UOp& add);

}  // namespace uop::symbolic_internal

#endif  // UOP_RUNTIME_UOP_SYMBOLIC_TERMS_H_
