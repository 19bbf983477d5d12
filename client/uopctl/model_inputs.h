// The inputs of one request, from uopctl's flags and the model's metadata:
// -i NAME=SPEC (tensor_input.h) for each input, --shape NAME=D0,D1 for
// dynamic dimensions, and a default SPEC for inputs not named.
//
//   ASSIGN_OR_RETURN(auto tensors, ResolveInputs(metadata, {"A=a.npy"}, {}, "random"));
#ifndef UOP_CLIENT_UOPCTL_MODEL_INPUTS_H_
#define UOP_CLIENT_UOPCTL_MODEL_INPUTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/lib/infer_tensor.h"
#include "client/lib/npy.h"
#include "proto/grpc_service.pb.h"

namespace uop::uopctl {

// One tensor per model input, in the metadata's order. `default_spec` ""
// makes a missing input an error listing every missing one. Every error is
// an InvalidArgument (a usage error).
absl::StatusOr<std::vector<client::NpyArray>> ResolveInputs(
    const inference::ModelMetadataResponse& metadata, const std::vector<std::string>& inputs,
    const std::vector<std::string>& shapes, const std::string& default_spec);

// The model's input names, in the metadata's order.
std::vector<std::string> InputNames(const inference::ModelMetadataResponse& metadata);

// The tensors as request inputs (copies of the data).
absl::StatusOr<std::vector<client::InferInput>> ToInferInputs(
    const inference::ModelMetadataResponse& metadata, const std::vector<client::NpyArray>& tensors);

}  // namespace uop::uopctl

#endif  // UOP_CLIENT_UOPCTL_MODEL_INPUTS_H_
