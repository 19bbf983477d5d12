// Rewrites ops a target does not compute natively into ones it does.
//
// * EXP2, LOG2, SIN become polynomial arithmetic with bit-level range
//   reduction, so kernels need no libm, vectorize, and give the same results
//   on every backend. float16/bfloat16 are computed in float32.
//   Accuracy (tested against libm over wide ranges): a few ulp for float32
//   and float64; SIN reduces its argument with a three-part pi/2
//   (Cody-Waite), exact for |x| < 2^20 * pi/2 and degrading slowly beyond.
// * THREEFRY becomes 32-bit integer arithmetic matching Threefry2x32()
//   in runtime/uop/const_fold.h bit for bit.
// * MULACC becomes MUL + ADD for renderers without it.
//
//   UOpPtr lowered = GraphRewrite(kernel, DecompositionRules());
#ifndef UOP_RUNTIME_CODEGEN_DECOMPOSE_H_
#define UOP_RUNTIME_CODEGEN_DECOMPOSE_H_

#include "runtime/uop/matcher.h"

namespace uop {

const PatternMatcher& DecompositionRules();

// The building blocks, exposed for tests: each takes a float value (scalar or
// vector) and returns the decomposed expression of the same dtype.
UOpPtr Exp2Poly(const UOpPtr& x);
UOpPtr Log2Poly(const UOpPtr& x);
UOpPtr SinPoly(const UOpPtr& x);
UOpPtr ThreefryInts(const UOpPtr& x, const UOpPtr& key);

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_DECOMPOSE_H_
