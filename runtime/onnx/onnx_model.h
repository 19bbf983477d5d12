// OnnxModel: an ONNX model ready to run — the importer's public API.
//
//   Engine::Install();                                   // run kernels on the CPU
//   ASSIGN_OR_RETURN(std::unique_ptr<OnnxModel> m, OnnxModel::Load("net/model.onnx"));
//   ASSIGN_OR_RETURN(std::vector<HostValue> out,
//                    m->Run({{"x", HostValue::Tensor(HostTensor::FromVector<float>(v, {1, 3}))}}));
//
// Load validates the whole model and fails before anything is compiled
// (model.h: malformed protobuf, unsupported operators listed in one error).
//
// Run checks every input against the graph's declaration (name, dtype, rank,
// fixed dims, and symbolic dims bound consistently across inputs: "batch" must
// be one number in every input that names it) and returns InvalidArgument
// naming the input and the expected vs given dtype/shape.
//
// Warm runs: the first Run for a set of input shapes builds the tensor graph
// (folding constants, evaluator.h), realizes it through the installed
// realizer and, when that is the Engine, records the kernel launches. Later
// Runs with the same shapes copy the new inputs into the recorded input
// buffers and replay the launches: no graph building, scheduling or
// compilation. A run is recorded only when replaying it is exact: no random
// ops, only tensor outputs, and every import-time read of input data (an If
// condition on an input, a NonZero) depended on small inputs (<= 64
// elements) whose values become part of the plan's key. Otherwise each Run
// builds the graph again (still correct, just slower).
//
// Threads: while a run is being recorded no other thread may realize tensors
// through the same Engine (the Engine's recorder is process-wide), so runs
// that build take one process-wide lock exclusively. Replays share it: two
// models (two instances of one model on two GPUs) replay at the same time.
// Runs of one OnnxModel take turns (a replay writes the plan's inputs).
#ifndef UOP_RUNTIME_ONNX_ONNX_MODEL_H_
#define UOP_RUNTIME_ONNX_ONNX_MODEL_H_

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/onnx/evaluator.h"
#include "runtime/onnx/host_value.h"
#include "runtime/onnx/model.h"

namespace uop::onnx_import {

struct OnnxModelStats {
  uint64_t runs = 0;
  uint64_t replays = 0;      // runs served by replaying recorded launches
  uint64_t captures = 0;     // plans recorded
  uint64_t uncacheable = 0;  // runs that could not be recorded
};

class OnnxModel {
 public:
  static absl::StatusOr<std::unique_ptr<OnnxModel>> Load(const std::string& path,
                                                         const LoadOptions& options = {});
  static absl::StatusOr<std::unique_ptr<OnnxModel>> FromBytes(absl::string_view bytes,
                                                              const LoadOptions& options = {});
  explicit OnnxModel(std::shared_ptr<const ModelDef> def);
  ~OnnxModel();

  const ModelDef& def() const { return *def_; }
  // Inputs the caller must give (graph inputs without an initializer), then
  // those with a default (an initializer of the same name).
  const std::vector<ValueInfo>& inputs() const { return def_->graph.inputs; }
  const std::vector<ValueInfo>& outputs() const { return def_->graph.outputs; }
  bool InputHasDefault(size_t i) const;

  // Runs the model; outputs in the graph's output order.
  absl::StatusOr<std::vector<HostValue>> Run(
      const std::vector<std::pair<std::string, HostValue>>& inputs);

  OnnxModelStats stats() const;

  OnnxModel(const OnnxModel&) = delete;
  OnnxModel& operator=(const OnnxModel&) = delete;

 private:
  struct Plan;
  absl::Status CheckInputs(const std::vector<const HostValue*>& by_index) const;
  absl::StatusOr<std::vector<HostValue>> BuildAndRun(const std::vector<const HostValue*>& by_index,
                                                     const std::string& shape_key);
  absl::StatusOr<std::vector<HostValue>> Replay(Plan& plan,
                                                const std::vector<const HostValue*>& by_index);

  std::shared_ptr<const ModelDef> def_;
  ConstantCache constants_;
  std::vector<bool> has_default_;
  mutable std::mutex run_mu_;  // guards plans_ and stats_
  std::vector<std::unique_ptr<Plan>> plans_;
  OnnxModelStats stats_;
};

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_ONNX_MODEL_H_
