// The importer's own form of an ONNX graph: what the loader (model.h) makes
// from a ModelProto and the evaluator (evaluator.h) runs.
//
// Value names are resolved once at load: every value (graph input,
// initializer, node output) of the model, subgraphs included, has a dense id,
// so running a graph indexes vectors instead of hashing strings. Subgraphs
// (If/Loop/Scan bodies) refer to outer values by the outer ids. Calls of
// model-local functions are inlined at load, so nodes are only operators.
//
//   const Graph& g = model.graph();
//   for (const Node& n : g.nodes) n.op_type, n.inputs[0] (an id, or kNoValue)
#ifndef UOP_RUNTIME_ONNX_IR_H_
#define UOP_RUNTIME_ONNX_IR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/onnx/host_value.h"

namespace uop::onnx_import {

inline constexpr int kNoValue = -1;  // an omitted optional input/output ("")

struct Graph;
class OpHandler;

enum class AttrType : uint8_t {
  kUndefined,
  kFloat,
  kInt,
  kString,
  kTensor,
  kGraph,
  kFloats,
  kInts,
  kStrings,
  kTensors,
  kGraphs,
  kSparseTensor,
  kTypeProto,
};

struct Attribute {
  std::string name;
  AttrType type = AttrType::kUndefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  std::shared_ptr<const HostTensor> t;
  std::shared_ptr<const Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<std::shared_ptr<const HostTensor>> tensors;
  std::vector<std::shared_ptr<const Graph>> graphs;
  int32_t type_elem = 0;  // kTypeProto: the tensor element type
};

// One dimension of a declared shape: a number, a symbol ("batch") or unknown.
struct Dim {
  int64_t value = -1;  // -1 when symbolic or unknown
  std::string param;   // the symbol, if any
};

struct ValueType {
  enum class Kind : uint8_t { kUnknown, kTensor, kSequence, kOptional };
  Kind kind = Kind::kUnknown;
  int32_t elem_type = 0;  // ONNX element type of the tensor (or of the sequence's tensors)
  bool has_shape = false;
  std::vector<Dim> dims;
  Kind inner = Kind::kUnknown;  // for optionals: what they may hold
};

struct ValueInfo {
  std::string name;
  int id = kNoValue;
  ValueType type;
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" for ai.onnx
  int opset = 0;       // the version of `domain` this node is read with
  std::vector<int> inputs;
  std::vector<int> outputs;
  std::vector<Attribute> attrs;
  const OpHandler* handler = nullptr;  // set at load

  const Attribute* FindAttr(const std::string& name) const {
    for (const Attribute& a : attrs)
      if (a.name == name) return &a;
    return nullptr;
  }
  // "Conv 'conv1'" (or just "Conv" when unnamed), for messages.
  std::string Label() const { return name.empty() ? op_type : op_type + " '" + name + "'"; }
};

struct Graph {
  std::string name;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  struct Initializer {
    int id;
    std::shared_ptr<const HostTensor> value;
  };
  std::vector<Initializer> initializers;
  std::vector<Node> nodes;  // in a valid execution order
};

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_IR_H_
