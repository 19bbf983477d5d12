// The reference realizer: a plain interpreter of tensor-level graphs, the
// oracle every backend is compared against.
//
// It is written to be obviously correct, not fast. Each node is computed
// element by element with the scalar semantics of runtime/uop/const_fold.h
// (EvalScalar): integers exactly in 64 bits and wrapped to their dtype,
// floats in double and rounded to their dtype after every node, so a value
// equals what a device computes up to the rounding of transcendental
// functions and the order of float reductions. Movement ops are index maps
// onto the data of the nearest computed node, never copies.
//
//   Tensor::SetRealizer(std::make_shared<ReferenceRealizer>());  // the default
//   ASSIGN_OR_RETURN(HostArray v, ReferenceEvaluate(graph));    // no side effects
//
// Semantics beyond EvalScalar:
// * REDUCE_AXIS accumulates floats in double and rounds once at the end;
//   integers wrap (exact in any order). Empty reductions give the identity:
//   0 for ADD, 1 for MUL, -inf (floats) or the dtype's minimum for MAX.
// * Where EvalScalar declines an element (integer IDIV/MOD by zero, shift
//   amounts outside [0, width)) the element is 0. Devices differ there;
//   differential tests should avoid such inputs.
// * PAD fills with zero. COPY, CONTIGUOUS and DETACH are identities (all
//   devices are the host here).
// * BUFFER reads see the storage's contents from before the realize; an
//   ASSIGN's users see the buffer as that ASSIGN left it; writes reach the
//   storages only when the whole sink succeeded. Two ASSIGNs to one buffer in
//   one sink apply in dependency (then topological) order.
// * float16/bfloat16 results are rounded through float (double rounding in
//   rare ties); signaling NaN payloads are quieted by BITCAST to floats.
//
// Not handled (Unimplemented): symbolic shapes (DEFINE_VAR/BIND), kernel-level
// nodes (VIEW, KERNEL, BUFFER_VIEW) and vector dtypes.
#ifndef UOP_RUNTIME_TENSOR_REFERENCE_EVAL_H_
#define UOP_RUNTIME_TENSOR_REFERENCE_EVAL_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/tensor/realizer.h"
#include "runtime/uop/uop.h"

namespace uop {

// The row-major contents of one evaluated node.
struct HostArray {
  DType dtype;
  Shape shape;
  std::vector<uint8_t> bytes;  // numel * dtype.itemsize(), little-endian

  int64_t numel() const;
  // Element i converted to double (uint64/int64 past 2^53 round).
  double AsDouble(int64_t i) const;
  // Element i as a canonical int64 (uint64 as its bit pattern); floats
  // truncate, NaN and out-of-range floats give INT64_MIN.
  int64_t AsInt(int64_t i) const;
};

// Evaluates `root` (a tensor-level node with a shape, or a scalar CONST)
// without touching any storage: ASSIGNs inside write private copies.
absl::StatusOr<HostArray> ReferenceEvaluate(const UOpPtr& root);

class ReferenceRealizer final : public Realizer {
 public:
  absl::string_view name() const override { return "reference"; }
  // Serialized by a process-wide lock: the reference is not meant to be fast.
  absl::Status Realize(const UOpPtr& sink) override;
  // Host bytes are the only copy the reference knows: OK when host_valid.
  absl::Status CopyToHost(Storage& storage) override;
};

}  // namespace uop

#endif  // UOP_RUNTIME_TENSOR_REFERENCE_EVAL_H_
