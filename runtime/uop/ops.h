// The op enum of the one IR, from tensor graphs down to linear kernel code.
//
// Adding an op: one line in UOP_OPS (name, printed name, traits); the name
// table and trait table are generated from it and a static_assert keeps the
// count honest. Then: its validity rule (spec.cc), each renderer's entry, and
// a differential test case.
#ifndef UOP_RUNTIME_UOP_OPS_H_
#define UOP_RUNTIME_UOP_OPS_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace uop {

// Traits of an op, combined as a bit set.
enum OpTrait : uint32_t {
  kTraitNone = 0,
  kUnary = 1 << 0,         // elementwise, one source
  kBinary = 1 << 1,        // elementwise, two sources
  kTernary = 1 << 2,       // elementwise, three sources
  kCommutative = 1 << 3,   // f(a, b) == f(b, a)
  kAssociative = 1 << 4,   // f(f(a, b), c) == f(a, f(b, c)) (on integers; floats approximately)
  kMovement = 1 << 5,      // tensor-level view change, no compute
  kCompare = 1 << 6,       // returns bool
  kIdempotent = 1 << 7,    // f(a, a) == a
  kTensor = 1 << 8,        // appears in tensor graphs (before scheduling)
  kKernel = 1 << 9,        // appears in lowered kernel code
  kBuffer = 1 << 10,       // names or defines memory
  kElementwise = 1 << 11,  // per-element but not ALU algebra (CAST, BITCAST)
};

// X(enumerator, printed name, traits)
#define UOP_OPS(X)                                                                        \
  /* structure */                                                                         \
  X(kSink, "SINK", kTensor | kKernel)                                                     \
  X(kNoop, "NOOP", kTensor | kKernel)                                                     \
  X(kGroup, "GROUP", kKernel)                                                             \
  /* constants and variables */                                                           \
  X(kConst, "CONST", kTensor | kKernel)                                                   \
  X(kVConst, "VCONST", kKernel)                                                           \
  X(kDefineVar, "DEFINE_VAR", kTensor | kKernel)                                          \
  X(kBind, "BIND", kTensor)                                                               \
  /* memory at tensor level */                                                            \
  X(kDevice, "DEVICE", kTensor)                                                           \
  X(kBuffer, "BUFFER", kTensor | kBuffer)                                                 \
  X(kBufferView, "BUFFER_VIEW", kTensor | kBuffer)                                        \
  X(kView, "VIEW", kTensor | kKernel)                                                     \
  X(kCopy, "COPY", kTensor)                                                               \
  X(kContiguous, "CONTIGUOUS", kTensor)                                                   \
  X(kDetach, "DETACH", kTensor)                                                           \
  X(kAssign, "ASSIGN", kTensor | kKernel)                                                 \
  X(kKernelCall, "KERNEL", kTensor)                                                       \
  /* movement (free views) */                                                             \
  X(kReshape, "RESHAPE", kTensor | kMovement)                                             \
  X(kPermute, "PERMUTE", kTensor | kMovement)                                             \
  X(kExpand, "EXPAND", kTensor | kMovement)                                               \
  X(kPad, "PAD", kTensor | kMovement)                                                     \
  X(kShrink, "SHRINK", kTensor | kMovement)                                               \
  X(kFlip, "FLIP", kTensor | kMovement)                                                   \
  /* reductions */                                                                        \
  X(kReduceAxis, "REDUCE_AXIS", kTensor | kKernel)                                        \
  X(kReduce, "REDUCE", kKernel)                                                           \
  /* unary ALU */                                                                         \
  X(kExp2, "EXP2", kUnary | kTensor | kKernel)                                            \
  X(kLog2, "LOG2", kUnary | kTensor | kKernel)                                            \
  X(kSin, "SIN", kUnary | kTensor | kKernel)                                              \
  X(kSqrt, "SQRT", kUnary | kTensor | kKernel)                                            \
  X(kRecip, "RECIP", kUnary | kTensor | kKernel)                                          \
  X(kNeg, "NEG", kUnary | kTensor | kKernel)                                              \
  X(kTrunc, "TRUNC", kUnary | kTensor | kKernel)                                          \
  X(kCast, "CAST", kElementwise | kTensor | kKernel)                                      \
  X(kBitcast, "BITCAST", kElementwise | kTensor | kKernel)                                \
  /* binary ALU */                                                                        \
  X(kAdd, "ADD", kBinary | kCommutative | kAssociative | kTensor | kKernel)               \
  X(kSub, "SUB", kBinary | kTensor | kKernel)                                             \
  X(kMul, "MUL", kBinary | kCommutative | kAssociative | kTensor | kKernel)               \
  X(kFdiv, "FDIV", kBinary | kTensor | kKernel)                                           \
  X(kIdiv, "IDIV", kBinary | kTensor | kKernel)                                           \
  X(kMod, "MOD", kBinary | kTensor | kKernel)                                             \
  X(kMax, "MAX", kBinary | kCommutative | kAssociative | kIdempotent | kTensor | kKernel) \
  X(kPow, "POW", kBinary | kTensor | kKernel)                                             \
  X(kCmpLt, "CMPLT", kBinary | kCompare | kTensor | kKernel)                              \
  X(kCmpNe, "CMPNE", kBinary | kCommutative | kCompare | kTensor | kKernel)               \
  X(kCmpEq, "CMPEQ", kBinary | kCommutative | kCompare | kTensor | kKernel)               \
  X(kAnd, "AND", kBinary | kCommutative | kAssociative | kIdempotent | kTensor | kKernel) \
  X(kOr, "OR", kBinary | kCommutative | kAssociative | kIdempotent | kTensor | kKernel)   \
  X(kXor, "XOR", kBinary | kCommutative | kAssociative | kTensor | kKernel)               \
  X(kShl, "SHL", kBinary | kTensor | kKernel)                                             \
  X(kShr, "SHR", kBinary | kTensor | kKernel)                                             \
  X(kThreefry, "THREEFRY", kBinary | kTensor | kKernel)                                   \
  /* ternary ALU */                                                                       \
  X(kWhere, "WHERE", kTernary | kTensor | kKernel)                                        \
  X(kMulAcc, "MULACC", kTernary | kKernel)                                                \
  /* kernel level: arguments, loops, memory access */                                     \
  X(kDefineGlobal, "DEFINE_GLOBAL", kKernel | kBuffer)                                    \
  X(kDefineLocal, "DEFINE_LOCAL", kKernel | kBuffer)                                      \
  X(kDefineReg, "DEFINE_REG", kKernel | kBuffer)                                          \
  X(kRange, "RANGE", kKernel)                                                             \
  X(kEndRange, "ENDRANGE", kKernel)                                                       \
  X(kSpecial, "SPECIAL", kKernel)                                                         \
  X(kIndex, "INDEX", kKernel)                                                             \
  X(kLoad, "LOAD", kKernel)                                                               \
  X(kStore, "STORE", kKernel)                                                             \
  X(kGep, "GEP", kKernel)                                                                 \
  X(kVectorize, "VECTORIZE", kKernel)                                                     \
  X(kBarrier, "BARRIER", kKernel)                                                         \
  X(kIf, "IF", kKernel)                                                                   \
  X(kEndIf, "ENDIF", kKernel)                                                             \
  X(kWmma, "WMMA", kKernel)                                                               \
  X(kCustom, "CUSTOM", kKernel)

enum class Op : uint8_t {
#define UOP_X(name, str, traits) name,
  UOP_OPS(UOP_X)
#undef UOP_X
};

inline constexpr int kNumOps = 0
#define UOP_X(name, str, traits) +1
    UOP_OPS(UOP_X)
#undef UOP_X
    ;

absl::string_view OpName(Op op);
uint32_t OpTraits(Op op);
inline bool HasTrait(Op op, OpTrait t) { return (OpTraits(op) & t) != 0; }
inline bool IsAlu(Op op) { return HasTrait(op, static_cast<OpTrait>(kUnary | kBinary | kTernary)); }
inline bool IsMovement(Op op) { return HasTrait(op, kMovement); }
// ALU ops plus CAST and BITCAST: everything that maps elements one to one.
inline bool IsElementwise(Op op) {
  return HasTrait(op, static_cast<OpTrait>(kUnary | kBinary | kTernary | kElementwise));
}

}  // namespace uop

#endif  // UOP_RUNTIME_UOP_OPS_H_
