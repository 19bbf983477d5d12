// Evaluator: runs an imported graph (ir.h) node by node, building the lazy
// Tensor graph of one run.
//
// Each node's handler (registry.h) maps the ONNX op onto Tensor ops; nothing
// is computed there unless an op needs numbers at import (a Reshape's shape,
// a Loop's trip count): those are read from constants, which are folded as
// the graph is walked:
// * a deterministic node whose inputs are all constant has constant outputs;
//   small ones (<= kHostFoldLimit elements) are evaluated on the host by the
//   reference interpreter and become host-known buffers, so shape
//   arithmetic (Shape -> Gather -> Concat -> Reshape) never reaches a kernel;
// * a larger constant (a transposed or dequantized weight) is realized once,
//   through the installed realizer, when a non-constant node first uses it.
// Reading a value that depends on graph inputs (NonZero, an If condition on an
// input) realizes it; the evaluator records which graph inputs such reads
// depended on, so a caller caching the run (onnx_model.h) knows what to guard.
//
//   Evaluator ev(model);
//   ASSIGN_OR_RETURN(std::vector<Value> outs, ev.RunMain(std::move(inputs)));
#ifndef UOP_RUNTIME_ONNX_EVALUATOR_H_
#define UOP_RUNTIME_ONNX_EVALUATOR_H_

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "runtime/onnx/model.h"
#include "runtime/onnx/value.h"

namespace uop::onnx_import {

inline constexpr int64_t kHostFoldLimit = 4096;
// Inputs up to this many elements may steer the graph (If conditions, shapes
// read from data); a cached run keys on their values (onnx_model.h).
inline constexpr int64_t kSmallInputElements = 64;

// Values of the model's stored constants (initializers, Constant nodes), made
// once and shared by every run of a model, so that building the graph for
// another input shape neither copies the weights again nor gives each plan
// its own copy.
class ConstantCache {
 public:
  Value Get(const std::shared_ptr<const HostTensor>& host);

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<const HostTensor*, Value> values_ ABSL_GUARDED_BY(mu_);
};

class Evaluator {
 public:
  // `cache` (optional) outlives the evaluator.
  explicit Evaluator(const ModelDef& model, ConstantCache* cache = nullptr);

  // Binds the main graph's inputs (one Value per graph input, in order; an
  // absent Value takes the initializer of the same name) and runs it.
  absl::StatusOr<std::vector<Value>> RunMain(std::vector<Value> inputs);
  // Runs a subgraph (If/Loop/Scan body) with values for its inputs; outer
  // values come from the current environment.
  absl::StatusOr<std::vector<Value>> RunGraph(const Graph& graph, const std::vector<Value>& inputs);

  // The contents of a tensor value on the host: known constants directly,
  // other constants by host evaluation, input-dependent values by realizing
  // them (recorded, see the header comment).
  absl::StatusOr<std::shared_ptr<const HostTensor>> ReadHost(const Value& v);
  // A constant value's tensor realized into a buffer (once), for use by
  // runtime nodes.
  absl::Status MaterializeConst(Value& v);

  // Whether `t` reads no graph input larger than kSmallInputElements.
  bool DependsOnlySmallInputs(const Tensor& t) const;

  // Graph inputs (indices into the main graph's input list) whose contents
  // some host read depended on.
  const absl::flat_hash_set<int>& host_read_inputs() const { return host_read_inputs_; }
  // Whether a random op ran (its results differ between runs).
  bool used_random() const { return used_random_; }
  void NoteRandom() { used_random_ = true; }

  const ModelDef& model() const { return model_; }
  // The Value of a stored constant (through the cache when there is one).
  Value ConstantValue(const std::shared_ptr<const HostTensor>& host);

 private:
  absl::Status RunNode(const Node& node);
  absl::Status FoldOutputs(const Node& node, std::vector<Value>& outs);

  const ModelDef& model_;
  ConstantCache* cache_;
  std::vector<Value> env_;
  // Storages of the main graph's inputs, by input index.
  std::vector<std::pair<const Storage*, int>> input_storages_;
  absl::flat_hash_set<int> host_read_inputs_;
  bool used_random_ = false;
  int depth_ = 0;
};

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_EVALUATOR_H_
