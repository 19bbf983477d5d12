#include "runtime/onnx/schema_functions.h"

#include <string>

#include "onnx/defs/schema.h"

namespace uop::onnx_import {

std::optional<SchemaFunctionBody> SchemaFunction(absl::string_view domain,
                                                 absl::string_view op_type, int opset) {
  // libonnx reports misuse by throwing; a missing schema is just "none".
  try {
    const onnx::OpSchema* schema =
        onnx::OpSchemaRegistry::Schema(std::string(op_type), opset, std::string(domain));
    if (schema == nullptr || !schema->HasFunction()) return std::nullopt;
    SchemaFunctionBody out;
    out.body = schema->GetFunction();
    if (out.body == nullptr) return std::nullopt;
    for (const auto& [name, attr] : schema->attributes()) {
      if (attr.default_value.type() == onnx::AttributeProto::UNDEFINED) continue;
      onnx::AttributeProto a = attr.default_value;
      a.set_name(name);
      out.defaults.push_back(std::move(a));
    }
    return out;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace uop::onnx_import
