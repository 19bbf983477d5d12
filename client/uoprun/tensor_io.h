// Moving tensor data between .npy files and an artifact's inputs and
// outputs: dtype mapping, checks that a file matches the tensor it feeds,
// and comparing an output with a reference.
//
//   ASSIGN_OR_RETURN(NpyArray x, ReadNpyFile("x.npy"));
//   RETURN_IF_ERROR(CheckMatches(x, artifact.inputs[0]));        // dtype and shape
//   ASSIGN_OR_RETURN(Comparison c, CompareWithReference(out, artifact.outputs[0], ref));
#ifndef UOP_CLIENT_UOPRUN_TENSOR_IO_H_
#define UOP_CLIENT_UOPRUN_TENSOR_IO_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "client/lib/datatype.h"
#include "client/lib/npy.h"
#include "runtime/dtype/dtype.h"
#include "runtime/engine/artifact.h"

namespace uop::uoprun {

absl::StatusOr<client::Datatype> ToDatatype(DType dtype);
absl::StatusOr<DType> ToDType(client::Datatype datatype);

// InvalidArgument naming the tensor and the expected vs given dtype/shape.
absl::Status CheckMatches(const client::NpyArray& array, const ArtifactTensor& tensor);

// The bytes of `tensor` as an .npy array (for writing outputs).
absl::StatusOr<client::NpyArray> ToNpy(const ArtifactTensor& tensor,
                                       absl::Span<const uint8_t> bytes);

struct Comparison {
  int64_t elements = 0;
  int64_t mismatches = 0;  // |got - want| > atol + rtol * |want|, or NaN where the other is not
  double max_abs_error = 0;
  int64_t first_mismatch = -1;
};
// Element-wise comparison of `got` (the tensor's bytes) with `reference`.
absl::StatusOr<Comparison> CompareWithReference(absl::Span<const uint8_t> got,
                                                const ArtifactTensor& tensor,
                                                const client::NpyArray& reference, double rtol,
                                                double atol);

}  // namespace uop::uoprun

#endif  // UOP_CLIENT_UOPRUN_TENSOR_IO_H_
