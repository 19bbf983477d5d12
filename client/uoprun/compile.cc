#include "client/uoprun/compile.h"

#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/uoprun/tensor_io.h"
#include "drivers/device_registry.h"
#include "runtime/base/status_macros.h"
#include "runtime/onnx/evaluator.h"
#include "runtime/onnx/model.h"
#include "runtime/onnx/onnx_types.h"

namespace uop::uoprun {
namespace {

using onnx_import::Evaluator;
using onnx_import::HostTensor;
using onnx_import::ModelDef;
using onnx_import::Value;
using onnx_import::ValueInfo;

// Installs a realizer for the lifetime of the scope, restoring the previous one.
class RealizerScope {
 public:
  explicit RealizerScope(std::shared_ptr<Realizer> r) : previous_(Tensor::GetRealizer()) {
    Tensor::SetRealizer(std::move(r));
  }
  ~RealizerScope() { Tensor::SetRealizer(previous_); }

 private:
  std::shared_ptr<Realizer> previous_;
};

// `value` as one element of `dtype`, little endian.
absl::StatusOr<std::string> ScalarBytes(DType dtype, double value) {
  ASSIGN_OR_RETURN(client::Datatype d, ToDatatype(dtype));
  std::string b(client::DatatypeSize(d), '\0');
  auto put = [&](auto v) { std::memcpy(b.data(), &v, sizeof(v)); };
  switch (d) {
    case client::Datatype::kBool:
      put(static_cast<uint8_t>(value != 0));
      break;
    case client::Datatype::kInt8:
      put(static_cast<int8_t>(value));
      break;
    case client::Datatype::kInt16:
      put(static_cast<int16_t>(value));
      break;
    case client::Datatype::kInt32:
      put(static_cast<int32_t>(value));
      break;
    case client::Datatype::kInt64:
      put(static_cast<int64_t>(value));
      break;
    case client::Datatype::kUint8:
      put(static_cast<uint8_t>(value));
      break;
    case client::Datatype::kUint16:
      put(static_cast<uint16_t>(value));
      break;
    case client::Datatype::kUint32:
      put(static_cast<uint32_t>(value));
      break;
    case client::Datatype::kUint64:
      put(static_cast<uint64_t>(value));
      break;
    case client::Datatype::kFp16:
      put(FloatToHalf(static_cast<float>(value)));
      break;
    case client::Datatype::kBf16:
      put(FloatToBFloat16(static_cast<float>(value)));
      break;
    case client::Datatype::kFp32:
      put(static_cast<float>(value));
      break;
    case client::Datatype::kFp64:
      put(value);
      break;
    case client::Datatype::kBytes:
      break;
  }
  return b;
}

std::string DimsString(const ValueInfo& info) {
  std::vector<std::string> dims;
  for (const onnx_import::Dim& d : info.type.dims) {
    dims.push_back(d.value >= 0 ? absl::StrCat(d.value) : (d.param.empty() ? "?" : d.param));
  }
  return absl::StrCat("[", absl::StrJoin(dims, ", "), "]");
}

// The shape input `info` is compiled for: the declared one, or the one given.
absl::StatusOr<std::vector<int64_t>> ResolveShape(const ValueInfo& info,
                                                  const CompileOptions& options) {
  const auto& dims = info.type.dims;
  auto given = options.shapes.find(info.name);
  if (given != options.shapes.end()) {
    bool fits = !info.type.has_shape || given->second.size() == dims.size();
    for (size_t i = 0; fits && info.type.has_shape && i < dims.size(); ++i) {
      fits = dims[i].value < 0 || dims[i].value == given->second[i];
    }
    for (int64_t d : given->second) fits = fits && d >= 0;
    if (!fits) {
      return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "' is declared ",
                                                     DimsString(info), ", --shape gives ",
                                                     client::ShapeString(given->second)));
    }
    return given->second;
  }
  if (!info.type.has_shape) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", info.name, "' has no declared shape: give --shape ", info.name, "=D0,D1,..."));
  }
  std::vector<int64_t> shape;
  for (const onnx_import::Dim& d : dims) {
    if (d.value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", info.name, "' has dynamic dimensions ", DimsString(info),
                       ": give --shape ", info.name, "=D0,D1,... (an artifact has fixed shapes)"));
    }
    shape.push_back(d.value);
  }
  return shape;
}

absl::StatusOr<std::shared_ptr<const HostTensor>> BoundTensor(const ValueInfo& info, DType dtype,
                                                              const BoundInput& bound,
                                                              const CompileOptions& options) {
  auto h = std::make_shared<HostTensor>();
  h->dtype = dtype;
  if (bound.array) {
    ASSIGN_OR_RETURN(DType given, ToDType(bound.array->datatype));
    if (given != dtype) {
      return absl::InvalidArgumentError(absl::StrCat("bound input '", info.name, "' is ",
                                                     dtype.ToString(), ", the file holds ",
                                                     given.ToString()));
    }
    h->shape = Shape(bound.array->shape.begin(), bound.array->shape.end());
    h->bytes.assign(bound.array->data.begin(), bound.array->data.end());
    return h;
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, ResolveShape(info, options));
  ASSIGN_OR_RETURN(int64_t n, client::ElementCount(shape));
  ASSIGN_OR_RETURN(std::string one, ScalarBytes(dtype, bound.scalar));
  h->shape = Shape(shape.begin(), shape.end());
  for (int64_t i = 0; i < n; ++i) h->bytes.insert(h->bytes.end(), one.begin(), one.end());
  return h;
}

}  // namespace

absl::StatusOr<std::string> TensorDeviceName(const std::string& device) {
  ASSIGN_OR_RETURN(Device * d, DeviceRegistry::Global().Get(device));
  std::string name = d->name();
  if (absl::EndsWith(name, ":0")) name.resize(name.size() - 2);
  return name;
}

absl::StatusOr<Artifact> CompileFunction(const Jit::Fn& fn, const std::vector<TensorSpec>& inputs,
                                         const std::vector<std::string>& output_names,
                                         const CompileOptions& options) {
  ASSIGN_OR_RETURN(std::string device, TensorDeviceName(options.device));
  auto engine = std::make_shared<Engine>(options.engine);
  RealizerScope scope(engine);
  std::vector<Tensor> args;
  std::vector<std::string> input_names;
  for (const TensorSpec& spec : inputs) {
    ASSIGN_OR_RETURN(int64_t n, client::ElementCount(spec.shape));
    std::vector<uint8_t> bytes(n * spec.dtype.itemsize());
    if (auto ex = options.example_inputs.find(spec.name); ex != options.example_inputs.end()) {
      ASSIGN_OR_RETURN(client::Datatype d, ToDatatype(spec.dtype));
      if (ex->second.datatype != d || ex->second.shape != spec.shape) {
        return absl::InvalidArgumentError(absl::StrCat(
            "example input '", spec.name, "' is ", client::DatatypeName(ex->second.datatype),
            client::ShapeString(ex->second.shape), ", the input is ", client::DatatypeName(d),
            client::ShapeString(spec.shape)));
      }
      bytes.assign(ex->second.data.begin(), ex->second.data.end());
    }
    args.push_back(
        Tensor::FromBytes(bytes, spec.dtype, Shape(spec.shape.begin(), spec.shape.end()), device));
    input_names.push_back(spec.name);
  }
  Jit jit(engine, fn);
  // Call 1 warms up (compiles), call 2 records the launches.
  for (int call = 0; call < 2; ++call) {
    absl::StatusOr<std::vector<Tensor>> outs = jit.Call(args);
    if (!outs.ok()) return outs.status();
    if (!output_names.empty() && outs->size() != output_names.size()) {
      return absl::InternalError(absl::StrCat("the function returned ", outs->size(),
                                              " outputs, expected ", output_names.size()));
    }
  }
  return Artifact::FromJit(jit, *engine, input_names, output_names);
}

absl::StatusOr<TensorFunction> OnnxFunction(const std::string& path,
                                            const CompileOptions& options) {
  ASSIGN_OR_RETURN(std::string device, TensorDeviceName(options.device));
  if (device != "CPU") {
    // Its initializers and constants are CPU tensors; a graph mixing them
    // with inputs on another device would fail deep inside, node by node.
    return absl::UnimplementedError(absl::StrCat(
        "the ONNX importer builds its graphs on the CPU; models compile for --device cpu "
        "(functions built with the Tensor API compile for ",
        device, ")"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const ModelDef> def, onnx_import::LoadModelFile(path));
  const onnx_import::Graph& g = def->graph;
  for (const auto& [name, unused] : options.shapes) {
    bool known = false;
    for (const ValueInfo& in : g.inputs) known |= in.name == name;
    if (!known) return absl::InvalidArgumentError(absl::StrCat("--shape: no input '", name, "'"));
  }
  for (const auto& [name, unused] : options.bound) {
    bool known = false;
    for (const ValueInfo& in : g.inputs) known |= in.name == name;
    if (!known) return absl::InvalidArgumentError(absl::StrCat("--bind: no input '", name, "'"));
  }
  // Graph inputs become artifact inputs, bound constants, or (for inputs
  // with an initializer of the same name) their defaults.
  std::vector<TensorSpec> specs;
  std::vector<int> runtime_index(g.inputs.size(), -1);
  std::vector<Value> fixed(g.inputs.size());
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const ValueInfo& info = g.inputs[i];
    if (info.type.kind != onnx_import::ValueType::Kind::kTensor) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", info.name, "' is not a tensor; artifacts take tensors only"));
    }
    absl::StatusOr<DType> dtype = onnx_import::DTypeFromOnnx(info.type.elem_type);
    if (!dtype.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", info.name, "': ", dtype.status().message()));
    }
    if (auto b = options.bound.find(info.name); b != options.bound.end()) {
      ASSIGN_OR_RETURN(auto host, BoundTensor(info, *dtype, b->second, options));
      fixed[i] = Value::Constant(std::move(host));
      continue;
    }
    bool has_default = false;
    for (const auto& init : g.initializers) has_default |= init.id == info.id;
    if (has_default && !options.shapes.count(info.name)) continue;
    ASSIGN_OR_RETURN(std::vector<int64_t> shape, ResolveShape(info, options));
    runtime_index[i] = static_cast<int>(specs.size());
    specs.push_back({info.name, *dtype, std::move(shape)});
  }
  std::vector<std::string> output_names;
  for (const ValueInfo& o : g.outputs) output_names.push_back(o.name);

  // The evaluator of the latest call stays alive with the function: its
  // values own the weights (and constants realized on the device) that the
  // recorded launches read, so they must outlive the capture.
  auto evaluator = std::make_shared<std::unique_ptr<Evaluator>>();
  Jit::Fn fn = [def, fixed, runtime_index, evaluator](const std::vector<Tensor>& in) {
    std::vector<Value> values = fixed;
    for (size_t i = 0; i < runtime_index.size(); ++i) {
      if (runtime_index[i] >= 0) values[i] = Value::FromTensor(in[runtime_index[i]]);
    }
    *evaluator = std::make_unique<Evaluator>(*def);
    Evaluator& ev = **evaluator;
    absl::StatusOr<std::vector<Value>> outs = ev.RunMain(std::move(values));
    if (!outs.ok()) return std::vector<Tensor>{Tensor::Error(outs.status())};
    if (ev.used_random()) {
      return std::vector<Tensor>{Tensor::Error(absl::FailedPreconditionError(
          "the model draws random numbers; an artifact would replay the same ones"))};
    }
    std::vector<Tensor> tensors;
    for (size_t i = 0; i < outs->size(); ++i) {
      if (!(*outs)[i].is_tensor()) {
        return std::vector<Tensor>{Tensor::Error(absl::InvalidArgumentError(
            absl::StrCat("output '", def->graph.outputs[i].name, "' is ", (*outs)[i].Describe(),
                         "; artifacts hold tensors only")))};
      }
      // An output that is a constant or a view gets its own buffer.
      tensors.push_back((*outs)[i].tensor().Contiguous());
    }
    return tensors;
  };
  return TensorFunction{std::move(fn), std::move(specs), std::move(output_names)};
}

absl::StatusOr<Artifact> CompileOnnx(const std::string& path, const CompileOptions& options) {
  absl::StatusOr<TensorFunction> f = OnnxFunction(path, options);
  absl::StatusOr<Artifact> a =
      f.ok() ? CompileFunction(f->fn, f->inputs, f->outputs, options) : f.status();
  if (!a.ok())
    return absl::Status(a.status().code(), absl::StrCat(path, ": ", a.status().message()));
  return a;
}

}  // namespace uop::uoprun
