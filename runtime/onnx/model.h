// Loading an ONNX model: ModelProto bytes -> ModelDef, the importer's
// validated, immutable form of the model (ir.h).
//
//   ASSIGN_OR_RETURN(std::shared_ptr<const ModelDef> m, LoadModelFile("net/model.onnx"));
//   m->graph.inputs[0].name; m->opsets.at("") == 13
//
// What the loader does, in order, so that running never meets a bad model:
// * parses the protobuf with a size limit and a nesting limit (a truncated or
//   malformed file is an InvalidArgument, never a crash);
// * reads initializers of every dtype (raw or typed data, float16/bfloat16,
//   sparse initializers made dense) and external data files, which must stay
//   inside the model's folder (tensor_proto.h);
// * resolves every value name to a dense id through lexical scopes
//   (subgraphs see outer values), puts nodes in execution order and rejects
//   uses of undefined values and values defined twice;
// * inlines calls of model-local functions (and, for ops without a native
//   handler, the ONNX schema's function body);
// * resolves each node's handler for the opset its domain is imported with,
//   and fails with ONE error listing every unsupported (op, domain, opset)
//   with node names, before anything is compiled.
#ifndef UOP_RUNTIME_ONNX_MODEL_H_
#define UOP_RUNTIME_ONNX_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/onnx/ir.h"

namespace onnx {
class ModelProto;
}

namespace uop::onnx_import {

struct LoadOptions {
  // Largest model file (protobuf's own hard limit is 2 GiB).
  int64_t max_model_bytes = (int64_t{2} << 30) - 1;
  // Largest single initializer, external data included.
  int64_t max_tensor_bytes = int64_t{16} << 30;
  // Deepest nesting of subgraphs and of function calls.
  int max_depth = 32;
  // Largest tensor a node may produce while running (elements): a model
  // asking for more is an error, not an allocation failure.
  int64_t max_tensor_elements = int64_t{1} << 33;
  // Where OnnxModel builds and runs the model's kernels ("CUDA:1", "NV",
  // ...; empty: the CPU). Load opens the device and fails naming it when it
  // is not there.
  std::string device;
};

struct ModelDef {
  LoadOptions options;  // as loaded
  int64_t ir_version = 0;
  std::string producer;
  // Imported opset version per canonical domain ("" is ai.onnx).
  absl::flat_hash_map<std::string, int> opsets;
  Graph graph;
  // Value id -> name (inlined function values are "<call node>/<name>").
  std::vector<std::string> value_names;
  // Value id -> how many node inputs and graph outputs read it (subgraphs
  // included): handlers materialize expensive results read more than once.
  std::vector<int> use_counts;
  int num_values() const { return static_cast<int>(value_names.size()); }
};

// `base_dir` is where external data may be read from (empty: refused).
absl::StatusOr<std::shared_ptr<const ModelDef>> LoadModelBytes(absl::string_view bytes,
                                                               const LoadOptions& options = {},
                                                               const std::string& base_dir = "");
absl::StatusOr<std::shared_ptr<const ModelDef>> LoadModelFile(const std::string& path,
                                                              const LoadOptions& options = {});
absl::StatusOr<std::shared_ptr<const ModelDef>> ConvertModel(const onnx::ModelProto& proto,
                                                             const LoadOptions& options = {},
                                                             const std::string& base_dir = "");

// Parses ModelProto bytes with the size and nesting limits.
absl::Status ParseModelProto(absl::string_view bytes, const LoadOptions& options,
                             onnx::ModelProto* proto);

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_MODEL_H_
