// Ahead-of-time compilation for uoprun: a model becomes an Artifact
// (runtime/engine/artifact.h) holding its compiled kernels, launch list,
// memory plan and weights, so running it later needs no compiler.
//
// Two front ends share one path: CompileFunction captures any function of
// tensors (a Tensor-API model) with the JIT on the target device;
// CompileOnnx imports an ONNX model and hands its forward pass to
// CompileFunction.
//
//   CompileOptions o{.device = "CPU"};
//   o.shapes["x"] = {1, 3, 320, 320};          // fix symbolic dims
//   o.bound["sr"] = BoundInput{.scalar = 16000};  // bake a control input in
//   ASSIGN_OR_RETURN(Artifact a, CompileOnnx("model.onnx", o));
//   RETURN_IF_ERROR(WriteArtifactFile("model.uop", a));
//
// What cannot be compiled ahead of time is refused with the reason: inputs
// with unknown dimensions (give `shapes`), models whose graph depends on
// input values (bind those inputs), random ops, non-tensor outputs.
#ifndef UOP_CLIENT_UOPRUN_COMPILE_H_
#define UOP_CLIENT_UOPRUN_COMPILE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/lib/npy.h"
#include "client/uoprun/artifact_file.h"
#include "runtime/engine/artifact.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/jit.h"

namespace uop::uoprun {

struct TensorSpec {
  std::string name;
  DType dtype = DType::Float32();
  std::vector<int64_t> shape;
};

// A model input whose value is fixed at compile time (it stops being an
// input of the artifact): an array, or one number filling the declared shape.
struct BoundInput {
  std::optional<client::NpyArray> array;
  double scalar = 0;
};

struct CompileOptions {
  std::string device = "CPU";
  // Shapes for inputs, replacing the declared ones (required where a
  // declared dimension is symbolic or unknown).
  std::map<std::string, std::vector<int64_t>> shapes;
  std::map<std::string, BoundInput> bound;
  // Capture with these input values instead of zeros (some models take
  // different paths for all-zero data only in their values, never their kernels).
  std::map<std::string, client::NpyArray> example_inputs;
  EngineOptions engine = {.cache_dir = "-"};
};

// Captures `fn` on `options.device` for inputs of `inputs` and returns its artifact.
absl::StatusOr<Artifact> CompileFunction(const Jit::Fn& fn, const std::vector<TensorSpec>& inputs,
                                         const std::vector<std::string>& output_names,
                                         const CompileOptions& options);

// A model's forward pass as a function of tensors: what CompileOnnx captures
// (also usable with a Jit directly, e.g. to compare against a bare replay).
struct TensorFunction {
  Jit::Fn fn;
  std::vector<TensorSpec> inputs;
  std::vector<std::string> outputs;
};
absl::StatusOr<TensorFunction> OnnxFunction(const std::string& path, const CompileOptions& options);

// OnnxFunction + CompileFunction; errors are prefixed with the path.
absl::StatusOr<Artifact> CompileOnnx(const std::string& path, const CompileOptions& options);

// "CPU", "cpu", "CPU:0" -> the tensor device name the Tensor API uses ("CPU",
// "CUDA:1"); NotFound when no such device exists here.
absl::StatusOr<std::string> TensorDeviceName(const std::string& device);

}  // namespace uop::uoprun

#endif  // UOP_CLIENT_UOPRUN_COMPILE_H_
