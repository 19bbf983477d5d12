// The ONNX model backend: runtime/onnx's OnnxModel behind the ModelBackend
// seam (backend.h). Registered as "onnxruntime" (Triton's backend name, so
// existing config.pbtxt files work), "onnxruntime_onnx" (Triton's platform
// name) and "uop".
//
//   registry.Register("onnxruntime", LoadOnnxBackend);
//
// Loading parses and validates the whole model (unsupported operators are
// one InvalidArgument listing them) before anything is compiled. Runs go
// through the Engine installed in the process (Engine::Install), which
// compiles each new input shape once and replays it afterwards.
//
// Placement: an instance on a GPU (ModelFiles::device, e.g. "CUDA:1") loads
// its OnnxModel with LoadOptions::device set to that GPU, so its weights,
// buffers and kernels live there; instances on different GPUs replay at the
// same time. DeviceBytes() is the model's stored constants (initializers and
// Constant tensors, subgraphs included) for a GPU instance, 0 on the CPU.
//
// NOTE: OnnxModel copies inputs into its own host tensors; a zero-copy input
// path needs an OnnxModel::Run that takes borrowed bytes.
#ifndef UOP_SERVER_ONNX_BACKEND_H_
#define UOP_SERVER_ONNX_BACKEND_H_

#include <memory>

#include "absl/status/statusor.h"
#include "server/backend.h"

namespace uop::server {

absl::StatusOr<std::unique_ptr<ModelBackend>> LoadOnnxBackend(const ModelFiles& files,
                                                              const inference::ModelConfig& config);

// Registers LoadOnnxBackend under every name above.
void RegisterOnnxBackend(BackendRegistry& registry);

}  // namespace uop::server

#endif  // UOP_SERVER_ONNX_BACKEND_H_
