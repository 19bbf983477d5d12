// Tensor elements as text: JSON values -> raw bytes of a datatype (inputs),
// raw bytes -> printable values and JSON (outputs).
//
//   ASSIGN_OR_RETURN(NpyArray t, TensorFromJson(json, Datatype::kFp32, {-1, 4}));
//   std::string line = FormatTensor(output, /*max_elements=*/16);  // "C FP32[4] = [11, 22, ...]"
#ifndef UOP_CLIENT_UOPCTL_TENSOR_TEXT_H_
#define UOP_CLIENT_UOPCTL_TENSOR_TEXT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/lib/infer_tensor.h"
#include "client/lib/npy.h"
#include "runtime/base/json.h"

namespace uop::uopctl {

// A tensor from JSON: a (nested) array of values, whose nesting gives the
// shape, or an object {"data": [...], "shape": [...], "datatype": "..."}
// (KServe's JSON tensor; "shape" and "datatype" optional). `datatype` is the
// model's; `declared` its shape (-1: any size). InvalidArgument naming what
// does not fit: ragged arrays, a value out of the datatype's range, a shape
// that contradicts the declared one.
absl::StatusOr<client::NpyArray> TensorFromJson(const JsonValue& json, client::Datatype datatype,
                                                const std::vector<int64_t>& declared);

// Element `i` of `raw` in `datatype` as text ("1.5", "-3", "true", a quoted string).
std::string ElementText(client::Datatype datatype, absl::string_view raw, int64_t i);
// "NAME DTYPE[shape] = [v0, v1, ...]" with at most `max_elements` values
// (the first and the last ones, "..." between); 0: all.
std::string FormatTensor(const client::OutputTensor& t, int64_t max_elements);
// {"name": ..., "datatype": ..., "shape": [...], "data": [...]} (KServe JSON).
std::string TensorJson(const client::OutputTensor& t);

}  // namespace uop::uopctl

#endif  // UOP_CLIENT_UOPCTL_TENSOR_TEXT_H_
