// Value bounds (vmin/vmax) of integer and bool UOps, computed once when a
// node is created from its sources' bounds.
//
// Sound, not always tight: the true value of the node is always inside
// [min, max]. Arithmetic is done in 128 bits and saturated to the dtype's
// range, so constants past int32 and indices past 2^31 are handled exactly
// and overflow never produces a wrong (too narrow) range.
#ifndef UOP_RUNTIME_UOP_BOUNDS_H_
#define UOP_RUNTIME_UOP_BOUNDS_H_

#include <cstdint>

namespace uop {

class UOp;

struct Bounds {
  int64_t min;
  int64_t max;
};

Bounds ComputeBounds(const UOp& u);

// C semantics of integer division and remainder (truncate toward zero),
// which is what IDIV and MOD mean in this IR on every backend.
inline int64_t CDiv(int64_t a, int64_t b) { return a / b; }
inline int64_t CMod(int64_t a, int64_t b) { return a % b; }
// Floor division and the matching non-negative remainder (for b > 0).
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace uop

#endif  // UOP_RUNTIME_UOP_BOUNDS_H_
