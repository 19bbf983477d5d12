// OpContext: what an op handler sees of the node it implements — its inputs
// (as Values), attributes with defaults, numbers read at import, and where its
// outputs go.
//
//   absl::Status Gemm(OpContext& ctx) {
//     ASSIGN_OR_RETURN(Tensor a, ctx.Input(0));
//     float alpha = ctx.Float("alpha", 1.0f);
//     if (ctx.Int("transA", 0)) a = a.T();
//     ...
//     ctx.Set(0, y);
//     return absl::OkStatus();
//   }
//
// Errors: return ctx.Error("message"); the evaluator prefixes the node's op
// type and name. An error Tensor set as an output surfaces the same way.
#ifndef UOP_RUNTIME_ONNX_OP_CONTEXT_H_
#define UOP_RUNTIME_ONNX_OP_CONTEXT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "runtime/onnx/evaluator.h"
#include "runtime/onnx/ir.h"
#include "runtime/onnx/value.h"

namespace uop::onnx_import {

class OpContext {
 public:
  OpContext(Evaluator& eval, const Node& node, std::vector<Value*> inputs)
      : eval_(eval), node_(node), inputs_(std::move(inputs)), outputs_(node.outputs.size()) {}

  const Node& node() const { return node_; }
  int opset() const { return node_.opset; }
  Evaluator& eval() { return eval_; }

  // ------------------------------------------------------------------ inputs
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  // Whether input i was given (not omitted, not past the end).
  bool Has(int i) const { return i < num_inputs() && inputs_[i]->present(); }
  // Input i (an absent Value when not given).
  const Value& In(int i) const;
  Value& MutableIn(int i) { return *inputs_[i]; }
  // Input i as a tensor; an error when missing or not a tensor.
  absl::StatusOr<Tensor> Input(int i) const;
  // Input i as a tensor, or nullopt when omitted.
  absl::StatusOr<std::optional<Tensor>> OptInput(int i) const;
  // The contents of input i on the host (see Evaluator::ReadHost).
  absl::StatusOr<std::shared_ptr<const HostTensor>> HostInput(int i);
  absl::StatusOr<std::vector<int64_t>> IntsInput(int i);
  absl::StatusOr<std::vector<double>> DoublesInput(int i);
  // A scalar (one-element) input as int64 / double.
  absl::StatusOr<int64_t> IntInput(int i);
  absl::StatusOr<double> DoubleInput(int i);

  // -------------------------------------------------------------- attributes
  const Attribute* Attr(const char* name) const { return node_.FindAttr(name); }
  bool HasAttr(const char* name) const { return Attr(name) != nullptr; }
  int64_t Int(const char* name, int64_t dflt) const;
  float Float(const char* name, float dflt) const;
  std::string Str(const char* name, const std::string& dflt) const;
  std::vector<int64_t> Ints(const char* name, std::vector<int64_t> dflt = {}) const;
  std::vector<float> Floats(const char* name, std::vector<float> dflt = {}) const;
  std::vector<std::string> Strs(const char* name) const;
  // A required attribute; an error naming it when missing.
  absl::StatusOr<int64_t> RequiredInt(const char* name) const;
  absl::StatusOr<const Graph*> GraphAttr(const char* name) const;

  // OK when a result of `elements` elements is within the model's limit
  // (LoadOptions::max_tensor_elements); ResourceExhausted otherwise. Handlers
  // that allocate on the host from attribute or input numbers check first.
  absl::Status CheckElements(int64_t elements) const;

  // ----------------------------------------------------------------- outputs
  int num_outputs() const { return static_cast<int>(node_.outputs.size()); }
  // Whether output i is used (named) by the model.
  bool Wants(int i) const { return i < num_outputs() && node_.outputs[i] != kNoValue; }
  // How many node inputs and graph outputs read output i.
  int OutputUses(int i) const { return Wants(i) ? eval_.model().use_counts[node_.outputs[i]] : 0; }
  // `y`, materialized when output i is read more than once: an expensive
  // result (a convolution, a matmul) is then computed once, not in every
  // kernel that reads it.
  Tensor Shared(int i, const Tensor& y) const { return OutputUses(i) > 1 ? y.Contiguous() : y; }
  void Set(int i, Tensor t) {
    if (i < num_outputs()) outputs_[i] = Value::FromTensor(std::move(t));
  }
  void Set(int i, Value v) {
    if (i < num_outputs()) outputs_[i] = std::move(v);
  }
  std::vector<Value>& outputs() { return outputs_; }

  // An InvalidArgument with the message (the evaluator adds the node label).
  template <typename... Args>
  absl::Status Error(const Args&... args) const {
    return absl::InvalidArgumentError(absl::StrCat(args...));
  }
  template <typename... Args>
  absl::Status Unsupported(const Args&... args) const {
    return absl::UnimplementedError(absl::StrCat(args...));
  }

 private:
  Evaluator& eval_;
  const Node& node_;
  std::vector<Value*> inputs_;
  std::vector<Value> outputs_;
};

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_OP_CONTEXT_H_
