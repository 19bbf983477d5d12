// A model case in ONNX's test layout (<dir>/model.onnx and
// <dir>/test_data_set_0/{input,output}_N.pb, like the dev models in
// ../shared/models): its fixed inputs and reference outputs as arrays, and
// the compile options that make an artifact of exactly those shapes.
//
//   ASSIGN_OR_RETURN(ModelCase c, ReadModelCase("/models/silero_vad_v5"));
//   ASSIGN_OR_RETURN(Artifact a, CompileOnnx(c.model, c.Options("CPU")));
#ifndef UOP_CLIENT_UOPRUN_MODEL_CASE_H_
#define UOP_CLIENT_UOPRUN_MODEL_CASE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "client/lib/npy.h"
#include "client/uoprun/compile.h"

namespace uop::uoprun {

struct ModelCase {
  std::string model;  // path of model.onnx
  // By the graph's input / output names, in the graph's order.
  std::vector<std::pair<std::string, client::NpyArray>> inputs, outputs;

  // Shapes from the test inputs; integer scalars (a sample rate, a flag) are
  // bound, because models use them to pick their graph.
  CompileOptions Options(const std::string& device) const;
  // The test inputs the artifact still takes (the ones not bound).
  std::vector<std::pair<std::string, client::NpyArray>> RuntimeInputs() const;
};

absl::StatusOr<ModelCase> ReadModelCase(const std::string& dir);

}  // namespace uop::uoprun

#endif  // UOP_CLIENT_UOPRUN_MODEL_CASE_H_
