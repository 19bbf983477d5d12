// Constant folding: evaluates one elementwise op on constant sources with the
// exact semantics of the target dtype, so a folded graph computes the same
// bits as the kernel it replaces.
//
//   UOpPtr a = UOp::Const(DType::Int8(), int64_t{100});
//   ConstFold(Op::kAdd, DType::Int8(), {a, a})->const_int() == -56   // wraps in 8 bits
//   ConstFold(Op::kIdiv, DType::Int32(), {seven, zero}) == nullptr   // x/0 is not folded
//
// Semantics (the contract every backend implements, see docs/compiler.md):
// * Integers wrap in the dtype's width (int8..int64, uint8..uint64; index is
//   int64). IDIV and MOD truncate toward zero (C); INT_MIN / -1 wraps to
//   INT_MIN with remainder 0. Division or modulo by zero is never folded.
// * SHL/SHR fold only for shift amounts in [0, width); SHR is arithmetic for
//   signed types and logical for unsigned ones.
// * Bools: ADD/MUL/SUB/MAX compute as integers and convert back (so ADD is OR,
//   MUL is AND, SUB is XOR); NEG is logical not.
// * Floats compute in double and round once to the dtype (float32 through
//   `float`, float16/bfloat16 through the round-to-nearest-even conversions
//   in dtype.h). MAX propagates NaN and prefers +0.0 over -0.0. MULACC rounds
//   after the multiply and after the add (no fused rounding).
// * POW on integers is exact repeated multiplication (wrapping). A negative
//   exponent follows truncated real division, like C and numpy's integer pow:
//   1**-n = 1, (-1)**-n = +-1 by parity, 0**-n is a division by zero (not
//   folded), every other base gives 0.
// * THREEFRY(x, key): Threefry-2x32 with 20 rounds (Salmon et al., "Parallel
//   random numbers: as easy as 1, 2, 3", SC'11; Random123's threefry2x32_R20).
//   The counter is x's two 32-bit words (low word first), the key is key's two
//   words (low first); key schedule ks = {k0, k1, k0 ^ k1 ^ 0x1BD11BDA};
//   rotation constants {13, 15, 26, 6} then {17, 29, 16, 24}, alternating per
//   group of four rounds; after group g (1..5) the key ks[g%3], ks[(g+1)%3] + g
//   is injected. The result packs the two output words as (y1 << 32) | y0.
// * CAST float -> int truncates toward zero. NaN and +-inf give the type's
//   minimum; other out-of-range values wrap like an int64 (or, past INT64_MAX,
//   a uint64) narrowed to the type, else the minimum: the rule of
//   CastToDouble in dtype.h, computed exactly in integers. int -> float rounds
//   to nearest; anything -> bool is `!= 0`.
// * BITCAST reinterprets the bits between types of the same size.
// * Vector dtypes are not folded.
#ifndef UOP_RUNTIME_UOP_CONST_FOLD_H_
#define UOP_RUNTIME_UOP_CONST_FOLD_H_

#include <cstdint>
#include <optional>

#include "absl/types/span.h"
#include "runtime/dtype/dtype.h"
#include "runtime/uop/ops.h"
#include "runtime/uop/uop.h"

namespace uop {

// One scalar value of a known dtype, as CONST stores it: bools and integers in
// `i` (canonical: narrower types sign- or zero-extended, uint64 as its bit
// pattern), floats in `f` (already rounded to the dtype).
struct Scalar {
  DType dtype;
  int64_t i = 0;
  double f = 0.0;

  // `v` wrapped into `d`'s width (bool: v != 0).
  static Scalar Int(DType d, int64_t v);
  // `v` rounded to `d`'s precision.
  static Scalar Float(DType d, double v);
  // The value of a scalar CONST node, or nullopt for anything else.
  static std::optional<Scalar> FromConst(const UOp& c);
};

// `bits` (a 64-bit two's-complement pattern) narrowed to `d`'s width:
// sign-extended for signed types, zero-extended for unsigned ones, 0/1 for bool.
int64_t WrapToDType(uint64_t bits, DType d);

// Evaluates `op` producing `dtype` (the target type for CAST/BITCAST).
// Returns nullopt when the op cannot or must not be folded (division by zero,
// out-of-range shift, vector types, float-only op on integers, ...).
std::optional<Scalar> EvalScalar(Op op, DType dtype, absl::Span<const Scalar> srcs);

// Threefry-2x32-20 of a 64-bit counter and key, packed as described above.
uint64_t Threefry2x32(uint64_t x, uint64_t key);

// The CONST that `op` on constant `srcs` produces, or nullptr when a source
// is not a scalar CONST or EvalScalar cannot fold.
UOpPtr ConstFold(Op op, DType dtype, absl::Span<const UOpPtr> srcs);
// ConstFold of an existing node's op, dtype and sources.
UOpPtr ConstFold(const UOp& u);

}  // namespace uop

#endif  // UOP_RUNTIME_UOP_CONST_FOLD_H_
