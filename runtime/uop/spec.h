// IR validity ("spec"): what a well-formed graph looks like at each level of
// docs/compiler.md, checked node by node. Run between passes in debug builds
// and in tests, so a pass that builds a malformed node fails where it
// happened instead of in a renderer three passes later.
//
//   RETURN_IF_ERROR(VerifyTensorGraph(sink));     // tensor API -> scheduler
//   RETURN_IF_ERROR(VerifyKernelAst(kernel.ast)); // scheduler -> codegen
//   RETURN_IF_ERROR(VerifyLoweredKernel(lowered));
//   RETURN_IF_ERROR(VerifyLinearKernel(program)); // linearizer -> renderer
//
// Each level is a table of per-op rules (spec.cc): one entry per op that may
// appear at that level, saying what its sources, dtype and arg must be.
// Elementwise ops share one set of dtype rules at every level:
// * binary/ternary ALU sources have the node's dtype, except: comparisons
//   produce bool (of the sources' vector width), WHERE's condition is bool;
// * EXP2, LOG2, SIN, SQRT, RECIP and FDIV are float-only; IDIV, MOD, AND,
//   OR, XOR, SHL, SHR are integer (or bool, for the logical ones) only;
//   THREEFRY is uint64;
// * CAST converts anything to anything; BITCAST keeps the byte size.
// Tensor-level elementwise sources also share one shape.
//
// An error is InvalidArgument and names the check, the op, the offending node
// (ShortString) and what was expected, e.g.
//   "VerifyTensorGraph: RESHAPE float32 (2, 4): expected 6 elements (the
//    source's shape (2, 3)), got 8".
#ifndef UOP_RUNTIME_UOP_SPEC_H_
#define UOP_RUNTIME_UOP_SPEC_H_

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "runtime/uop/uop.h"

namespace uop {

// Tensor-level graph: BUFFER(DEVICE) with BufferArg; movement ops whose args
// fit their source's shape (reshape keeps the element count, permute is a
// permutation, pad is non-negative, shrink stays within bounds, expand only
// grows axes of size 1); REDUCE_AXIS over valid axes with ADD, MUL or MAX;
// elementwise sources of one shape and dtype.
absl::Status VerifyTensorGraph(const UOpPtr& root);

// Kernel AST: SINK(STORE(DEFINE_GLOBAL, VIEW, value)...), values built from
// LOAD(DEFINE_GLOBAL, VIEW), CONST (optionally CONST(VIEW), a constant
// masked by padding), DEFINE_VAR, ALU, CAST/BITCAST and REDUCE_AXIS. Every
// VIEW has the same rank; DEFINE_GLOBAL slots are unique.
absl::Status VerifyKernelAst(const UOpPtr& sink);

// Lowered kernel DAG (codegen's IR, docs/compiler.md "Lowered kernel"):
// INDEX(buffer pointer, int index[, bool valid]) (a vector index addresses
// one element per lane and its valid has its width; a scalar index may have a
// lane mask), LOAD(INDEX[, alt], deps),
// STORE(INDEX, value, deps), RANGE(int end), ENDRANGE(RANGE, ...), SPECIAL,
// DEFINE_REG, VECTORIZE, GEP and ALU dtype consistency.
absl::Status VerifyLoweredKernel(const UOpPtr& sink);

// A linearized program: every op obeys the lowered rules, each source comes
// before its user, ENDRANGEs close the innermost open RANGE, every RANGE is
// closed, and a SINK (if any) is last.
absl::Status VerifyLinearKernel(absl::Span<const UOpPtr> program);

}  // namespace uop

#endif  // UOP_RUNTIME_UOP_SPEC_H_
