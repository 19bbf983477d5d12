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
// Borrowed runs (RunBorrowed): the caller keeps the input bytes and says where
// each output goes (an OutputSink: a response buffer, a shared-memory
// region). A warm replay then copies each input once, from the caller's bytes
// straight into the plan's device buffer, and each output once, from its
// device buffer straight into the span the sink gives: no host staging. A run
// that has to build (the first for a shape, or an uncacheable model) stages
// the inputs into host tensors like Run does and copies the outputs into the
// sink afterwards; OnnxModelStats::host_copy_bytes counts those host copies.
//
//   std::vector<InputView> in = {{"x", DType::Float32(), shape, bytes}};
//   RETURN_IF_ERROR(m->RunBorrowed(in, sink));  // sink.Allocate(i, ...) per output
//
// Borrowed inputs are numeric tensors (string and sequence inputs go through
// Run); a string or sequence output reaches OutputSink::TakeValue.
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
#include "absl/types/span.h"
#include "runtime/onnx/evaluator.h"
#include "runtime/onnx/host_value.h"
#include "runtime/onnx/model.h"

namespace uop::onnx_import {

struct OnnxModelStats {
  uint64_t runs = 0;
  uint64_t replays = 0;      // runs served by replaying recorded launches
  uint64_t captures = 0;     // plans recorded
  uint64_t uncacheable = 0;  // runs that could not be recorded
  // Replays: bytes copied from the given inputs into device buffers and from
  // device buffers into the outputs (one transfer per tensor).
  uint64_t bytes_to_device = 0;
  uint64_t bytes_from_device = 0;
  // Bytes copied from one host buffer to another on the way: borrowed inputs
  // staged into host tensors for a building run, outputs of a building run
  // handed to a sink, outputs that are an input passed through or were
  // computed on the host. 0 for a warm borrowed replay of device outputs.
  uint64_t host_copy_bytes = 0;
};

// One input the caller keeps: read during RunBorrowed only, never retained.
struct InputView {
  absl::string_view name;
  DType dtype;
  absl::Span<const int64_t> shape;
  absl::Span<const uint8_t> bytes;  // numel * itemsize, row-major
};

// Where a borrowed run's outputs go. Called under the model's run lock, in
// the graph's output order; must not call back into the model.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  // Numeric tensor output `index` (of OnnxModel::outputs()) of `dtype` and
  // `shape`: the span its `nbytes` bytes are written into, exactly `nbytes`
  // long and valid until RunBorrowed returns. An error fails the run.
  virtual absl::StatusOr<absl::Span<uint8_t>> Allocate(size_t index, DType dtype,
                                                       const Shape& shape, size_t nbytes) = 0;
  // Any other output (a string tensor, a sequence, an absent optional).
  // Default: Unimplemented naming the output's kind.
  virtual absl::Status TakeValue(size_t index, HostValue value);
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

  // Runs the model on borrowed inputs (see the top of this file), with the
  // same checks as Run; outputs go to `sink`.
  absl::Status RunBorrowed(absl::Span<const InputView> inputs, OutputSink& sink);

  OnnxModelStats stats() const;

  OnnxModel(const OnnxModel&) = delete;
  OnnxModel& operator=(const OnnxModel&) = delete;

 private:
  struct Plan;
  struct Given;  // one input, owned (a HostValue) or borrowed (an InputView)
  absl::Status CheckInputs(const std::vector<Given>& by_index) const;
  // Checks the inputs and finds their plan (null: none recorded); `key` is
  // the shape key. Called under run_mu_.
  absl::StatusOr<Plan*> Prepare(const std::vector<Given>& by_index, std::string* key);
  absl::StatusOr<std::vector<HostValue>> BuildAndRunLocked(
      const std::vector<const HostValue*>& by_index, const std::string& shape_key);
  absl::StatusOr<std::vector<HostValue>> BuildAndRun(const std::vector<const HostValue*>& by_index,
                                                     const std::string& shape_key);
  absl::Status Replay(Plan& plan, const std::vector<Given>& by_index, OutputSink& sink);

  std::shared_ptr<const ModelDef> def_;
  ConstantCache constants_;
  std::vector<bool> has_default_;
  mutable std::mutex run_mu_;  // guards plans_ and stats_
  std::vector<std::unique_ptr<Plan>> plans_;
  OnnxModelStats stats_;
};

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_ONNX_MODEL_H_
