// Jit: capture the kernels one call of a tensor function runs, with their
// buffer bindings, and replay them for later calls with new inputs: no graph
// building, scheduling or compiling after the capture.
//
//   Jit jit(engine, [&](const std::vector<Tensor>& in) {
//     return std::vector<Tensor>{in[0].Matmul(w).Relu()};
//   });
//   for (...) ASSIGN_OR_RETURN(std::vector<Tensor> out, jit.Call({x}));
//
// Call 1 runs the function normally; call 2 runs it again while recording
// every launch; call 3 on only replays. Outputs of replays are the captured
// output tensors, overwritten in place (copy them to keep a result).
//
// Refused with a clear error (the footguns of capturing):
// * an input that is not a tensor backed by its own buffer (a constant or a
//   broadcast view would be baked into the kernels as data);
// * inputs whose shape or dtype differ from the first call's;
// * a function that reads tensor data on the host while capturing (its
//   control flow would depend on values the replay does not see);
// * a function that builds a different graph on call 2 than on call 1
//   (values baked in as constants, or data-dependent shapes).
#ifndef UOP_RUNTIME_ENGINE_JIT_H_
#define UOP_RUNTIME_ENGINE_JIT_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/engine/engine.h"
#include "runtime/tensor/tensor.h"

namespace uop {

class Jit {
 public:
  using Fn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
  Jit(std::shared_ptr<Engine> engine, Fn fn);
  ~Jit();

  absl::StatusOr<std::vector<Tensor>> Call(const std::vector<Tensor>& inputs);

  bool captured() const { return captured_; }

  // What the capture recorded (valid once captured()): the launches, the
  // storage id bound to each input, the output tensors, and the
  // intermediate arenas (id -> device, bytes). For ahead-of-time artifacts.
  struct ArenaInfo {
    Device* device;
    int64_t bytes;
  };
  const std::vector<RecordedLaunch>& launches() const;
  const std::vector<int64_t>& input_storage_ids() const { return input_ids_; }
  const std::vector<Shape>& input_shapes() const { return shapes_; }
  const std::vector<Tensor>& outputs() const { return outputs_; }
  const std::vector<std::pair<int64_t, ArenaInfo>>& arenas() const;
  // Launches each replay runs.
  size_t num_launches() const;

 private:
  class CaptureRecorder;
  absl::Status CheckInputs(const std::vector<Tensor>& inputs);
  absl::StatusOr<std::vector<std::shared_ptr<Storage>>> InputStorages(std::vector<Tensor>& inputs);
  absl::StatusOr<std::vector<Tensor>> RunRecorded(const std::vector<Tensor>& inputs,
                                                  CaptureRecorder* recorder);

  std::shared_ptr<Engine> engine_;
  Fn fn_;
  int calls_ = 0;
  bool captured_ = false;
  std::vector<Shape> shapes_;
  std::vector<DType> dtypes_;
  std::unique_ptr<CaptureRecorder> warmup_;
  std::unique_ptr<CaptureRecorder> capture_;
  std::vector<Tensor> outputs_;
  std::vector<int64_t> input_ids_;
  // Where each input's buffer is bound: (launch, slot, input index).
  struct Binding {
    size_t launch;
    size_t slot;
    size_t input;
  };
  std::vector<Binding> bindings_;
};

}  // namespace uop

#endif  // UOP_RUNTIME_ENGINE_JIT_H_
