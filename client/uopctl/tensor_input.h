// Where `uopctl infer` and `uopctl perf` get input data: one SPEC per input,
// resolved against the model's metadata (datatype and declared shape).
//
//   SPEC               the data
//   FILE.npy           a NumPy array (dtype and shape must fit the input)
//   FILE.json          JSON: nested arrays, or {"data": [...], "shape": [...]}
//   [1, 2, 3] / {...}  the same JSON inline
//   zeros | random     generated for the input's shape
//   FILE (other)       raw little-endian bytes for the input's shape
//
//   ASSIGN_OR_RETURN(NpyArray t, LoadInput(meta.inputs(0), "x.npy", nullptr));
//
// A shape with -1 dimensions needs them from the data (.npy, JSON) or from
// `shape` (--shape NAME=D0,D1). Errors name the input and the file.
#ifndef UOP_CLIENT_UOPCTL_TENSOR_INPUT_H_
#define UOP_CLIENT_UOPCTL_TENSOR_INPUT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/lib/npy.h"
#include "proto/grpc_service.pb.h"

namespace uop::uopctl {

using TensorMetadata = inference::ModelMetadataResponse::TensorMetadata;

absl::StatusOr<client::NpyArray> LoadInput(const TensorMetadata& meta, const std::string& spec,
                                           const std::vector<int64_t>* shape);

}  // namespace uop::uopctl

#endif  // UOP_CLIENT_UOPCTL_TENSOR_INPUT_H_
