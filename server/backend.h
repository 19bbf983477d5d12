// The model backend seam: what the server needs from something that runs a
// model, and nothing more (load -> describe -> run). The ONNX backend
// (onnx_backend.h) is the real one; tests plug in their own.
//
//   BackendRegistry registry;
//   registry.Register("onnxruntime", LoadOnnxBackend);
//   ASSIGN_OR_RETURN(std::unique_ptr<ModelBackend> b, registry.Load("onnxruntime", files));
//   b->inputs()[0].name;                         // what the model declares
//   RETURN_IF_ERROR(b->Run(inputs, &outputs));   // one (possibly batched) execution
//
// A backend compiles lazily per input shape; the model manager warms each
// shape it will serve (every batch-size bucket) before calling a model READY,
// so requests only replay warm schedules.
#ifndef UOP_SERVER_BACKEND_H_
#define UOP_SERVER_BACKEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/model_config.pb.h"

namespace uop::server {

// A tensor the model declares: dims of -1 are variable (symbolic in ONNX).
struct TensorSpec {
  std::string name;
  inference::DataType dtype = inference::TYPE_INVALID;
  std::vector<int64_t> dims;
};

// One input of one execution: borrowed, row-major little-endian bytes (from a
// request message or a shared-memory region; never copied on the way here).
struct InputTensor {
  std::string name;
  inference::DataType dtype = inference::TYPE_INVALID;
  std::vector<int64_t> shape;
  absl::string_view data;
};

// One output of one execution, owned.
struct OutputTensor {
  std::string name;
  inference::DataType dtype = inference::TYPE_INVALID;
  std::vector<int64_t> shape;
  std::string data;
  // >= 0: the backend wrote this many bytes straight into the caller's
  // OutputDestination for this output (RunInto) and `data` is empty.
  int64_t in_destination = -1;
};

// A caller's buffer for one output (a registered shared-memory region): a
// backend that can writes the output there instead of into
// OutputTensor::data. The output must fit (InvalidArgument naming it if not).
struct OutputDestination {
  std::string name;
  absl::Span<char> bytes;
};

class ModelBackend {
 public:
  virtual ~ModelBackend() = default;

  // What the model file declares, in the model's order.
  virtual const std::vector<TensorSpec>& inputs() const = 0;
  virtual const std::vector<TensorSpec>& outputs() const = 0;

  // Runs once. `inputs` come in inputs() order with concrete shapes (batch
  // dimension included) and sizes already checked by the caller; `outputs`
  // is filled in outputs() order. Thread-compatible: the scheduler runs one
  // call at a time per backend object.
  virtual absl::Status Run(absl::Span<const InputTensor> inputs,
                           std::vector<OutputTensor>* outputs) = 0;

  // Run, writing the outputs named in `destinations` into those buffers
  // (OutputTensor::in_destination says which were). The default ignores them:
  // every output comes back in `data` and the caller copies it.
  virtual absl::Status RunInto(absl::Span<const InputTensor> inputs,
                               absl::Span<const OutputDestination> /*destinations*/,
                               std::vector<OutputTensor>* outputs) {
    return Run(inputs, outputs);
  }

  // Device memory this instance holds while loaded (weights, warm buffers),
  // for the per-GPU memory budget; 0: unknown (the model file's size is
  // charged instead).
  virtual int64_t DeviceBytes() const { return 0; }
};

// Where a model version's files are. `bytes`, when not empty, is the model
// file's content (a model submitted over gRPC before it is written anywhere).
struct ModelFiles {
  std::string version_dir;  // <repo>/<model>/<version>
  std::string file_name;    // default_model_filename, e.g. "model.onnx"
  std::string bytes;
  int64_t max_bytes = int64_t{1} << 30;
  // The device this instance runs on: "CPU" or a GPU such as "CUDA:1"
  // (device_placement.h). A loader that cannot run there says so.
  std::string device = "CPU";
};

using BackendLoader = std::function<absl::StatusOr<std::unique_ptr<ModelBackend>>(
    const ModelFiles& files, const inference::ModelConfig& config)>;

// Backend name -> loader. The config's `backend` or `platform` picks one.
class BackendRegistry {
 public:
  void Register(std::string name, BackendLoader loader);

  // The backend a config asks for: `backend`, else `platform`, else the
  // default (the first registered). NotFound naming the known backends.
  absl::StatusOr<const BackendLoader*> Find(const inference::ModelConfig& config) const;

  // Backend names in registration order (for messages).
  std::vector<std::string> Names() const;

 private:
  std::vector<std::pair<std::string, BackendLoader>> loaders_;
};

}  // namespace uop::server

#endif  // UOP_SERVER_BACKEND_H_
