// Function bodies from the ONNX operator schemas (libonnx): for an op the
// registry has no handler for, the loader inlines the body the ONNX standard
// defines it by (e.g. Celu, MeanVarianceNormalization), so such ops still run,
// built from ops that do have handlers.
//
//   if (const onnx::FunctionProto* f = SchemaFunction("", "Celu", 13)) Inline(*f);
//
// Only bodies that do not depend on the node's input types are used
// (context-dependent bodies need types the loader does not know yet).
#ifndef UOP_RUNTIME_ONNX_SCHEMA_FUNCTIONS_H_
#define UOP_RUNTIME_ONNX_SCHEMA_FUNCTIONS_H_

#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "onnx/onnx_pb.h"

namespace uop::onnx_import {

struct SchemaFunctionBody {
  const onnx::FunctionProto* body = nullptr;  // lives as long as the process
  // The schema's attributes that have default values (used when a call omits
  // an attribute the body refers to).
  std::vector<onnx::AttributeProto> defaults;
};

// The schema's function body of (domain, op_type) at `opset`, or nullopt.
std::optional<SchemaFunctionBody> SchemaFunction(absl::string_view domain,
                                                 absl::string_view op_type, int opset);

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_SCHEMA_FUNCTIONS_H_
