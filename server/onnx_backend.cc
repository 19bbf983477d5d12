#include "server/onnx_backend.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/onnx/onnx_model.h"
#include "runtime/onnx/onnx_types.h"
#include "server/data_type.h"

namespace uop::server {
namespace {

using onnx_import::HostTensor;
using onnx_import::HostValue;
using onnx_import::OnnxModel;

inference::DataType FromOnnx(int32_t onnx_type) {
  using namespace onnx_import;  // NOLINT: the kOnnx* constants
  switch (onnx_type) {
    case kOnnxFloat:
      return inference::TYPE_FP32;
    case kOnnxUInt8:
      return inference::TYPE_UINT8;
    case kOnnxInt8:
      return inference::TYPE_INT8;
    case kOnnxUInt16:
      return inference::TYPE_UINT16;
    case kOnnxInt16:
      return inference::TYPE_INT16;
    case kOnnxInt32:
      return inference::TYPE_INT32;
    case kOnnxInt64:
      return inference::TYPE_INT64;
    case kOnnxString:
      return inference::TYPE_STRING;
    case kOnnxBool:
      return inference::TYPE_BOOL;
    case kOnnxFloat16:
      return inference::TYPE_FP16;
    case kOnnxDouble:
      return inference::TYPE_FP64;
    case kOnnxUInt32:
      return inference::TYPE_UINT32;
    case kOnnxUInt64:
      return inference::TYPE_UINT64;
    case kOnnxBFloat16:
      return inference::TYPE_BF16;
    default:
      return inference::TYPE_INVALID;
  }
}

int32_t ToOnnx(inference::DataType type) {
  using namespace onnx_import;  // NOLINT
  switch (type) {
    case inference::TYPE_FP32:
      return kOnnxFloat;
    case inference::TYPE_UINT8:
      return kOnnxUInt8;
    case inference::TYPE_INT8:
      return kOnnxInt8;
    case inference::TYPE_UINT16:
      return kOnnxUInt16;
    case inference::TYPE_INT16:
      return kOnnxInt16;
    case inference::TYPE_INT32:
      return kOnnxInt32;
    case inference::TYPE_INT64:
      return kOnnxInt64;
    case inference::TYPE_STRING:
      return kOnnxString;
    case inference::TYPE_BOOL:
      return kOnnxBool;
    case inference::TYPE_FP16:
      return kOnnxFloat16;
    case inference::TYPE_FP64:
      return kOnnxDouble;
    case inference::TYPE_UINT32:
      return kOnnxUInt32;
    case inference::TYPE_UINT64:
      return kOnnxUInt64;
    case inference::TYPE_BF16:
      return kOnnxBFloat16;
    default:
      return kOnnxUndefined;
  }
}

absl::StatusOr<TensorSpec> SpecOf(const onnx_import::ValueInfo& info) {
  if (info.type.kind != onnx_import::ValueType::Kind::kTensor) {
    return absl::InvalidArgumentError(absl::StrCat(
        "graph input/output '", info.name, "' is not a tensor (sequences and optionals cannot be ",
        "served over KServe v2)"));
  }
  TensorSpec spec;
  spec.name = info.name;
  spec.dtype = FromOnnx(info.type.elem_type);
  if (spec.dtype == inference::TYPE_INVALID) {
    return absl::InvalidArgumentError(
        absl::StrCat("graph input/output '", info.name, "' has element type ",
                     onnx_import::OnnxTypeName(info.type.elem_type), ", which KServe v2 lacks"));
  }
  if (info.type.has_shape) {
    for (const onnx_import::Dim& d : info.type.dims)
      spec.dims.push_back(d.value >= 0 ? d.value : -1);
  } else {
    spec.dims = {-1};  // unknown rank; the config must say
  }
  return spec;
}

// KServe's BYTES encoding: per element a 4-byte little-endian length + bytes.
absl::StatusOr<std::vector<std::string>> DecodeBytes(absl::string_view data, int64_t count,
                                                     const std::string& name) {
  std::vector<std::string> out;
  out.reserve(count);
  size_t pos = 0;
  for (int64_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    if (data.size() - pos < 4) break;
    std::memcpy(&len, data.data() + pos, 4);
    pos += 4;
    if (data.size() - pos < len) break;
    out.emplace_back(data.substr(pos, len));
    pos += len;
  }
  if (static_cast<int64_t>(out.size()) != count || pos != data.size()) {
    return absl::InvalidArgumentError(absl::StrCat("input '", name,
                                                   "': BYTES data does not hold exactly ", count,
                                                   " length-prefixed elements"));
  }
  return out;
}

std::string EncodeBytes(const std::vector<std::string>& strings) {
  std::string out;
  for (const std::string& s : strings) {
    uint32_t len = static_cast<uint32_t>(s.size());
    out.append(reinterpret_cast<const char*>(&len), 4);
    out.append(s);
  }
  return out;
}

int64_t TensorBytes(const HostTensor& t) {
  if (!t.is_string) return static_cast<int64_t>(t.bytes.size());
  int64_t n = 0;
  for (const std::string& s : t.strings) n += static_cast<int64_t>(s.size());
  return n;
}

// The bytes of every stored constant of `graph` and of its subgraphs:
// initializers and the tensors of Constant nodes' (and other) attributes.
int64_t StoredConstantBytes(const onnx_import::Graph& graph) {
  int64_t n = 0;
  for (const auto& init : graph.initializers) {
    if (init.value) n += TensorBytes(*init.value);
  }
  for (const onnx_import::Node& node : graph.nodes) {
    for (const onnx_import::Attribute& a : node.attrs) {
      if (a.t) n += TensorBytes(*a.t);
      for (const auto& t : a.tensors)
        if (t) n += TensorBytes(*t);
      if (a.g) n += StoredConstantBytes(*a.g);
      for (const auto& g : a.graphs)
        if (g) n += StoredConstantBytes(*g);
    }
  }
  return n;
}

// Where a borrowed run's outputs go: the caller's destination (shared
// memory) when it named one for the output, else the output's own `data`.
class ResponseSink final : public onnx_import::OutputSink {
 public:
  ResponseSink(absl::Span<const OutputDestination> destinations, std::vector<OutputTensor>* outputs)
      : destinations_(destinations), outputs_(outputs) {}

  absl::StatusOr<absl::Span<uint8_t>> Allocate(size_t index, uop::DType dtype,
                                               const uop::Shape& shape, size_t nbytes) override {
    OutputTensor& out = (*outputs_)[index];
    out.dtype = FromOnnx(onnx_import::OnnxFromDType(dtype));
    out.shape.assign(shape.begin(), shape.end());
    for (const OutputDestination& d : destinations_) {
      if (d.name != out.name) continue;
      if (nbytes > d.bytes.size()) {
        return absl::InvalidArgumentError(absl::StrCat("output '", out.name, "': ", nbytes,
                                                       " bytes do not fit its shared memory (",
                                                       d.bytes.size(), " bytes)"));
      }
      out.data.clear();
      out.in_destination = static_cast<int64_t>(nbytes);
      return absl::MakeSpan(reinterpret_cast<uint8_t*>(d.bytes.data()), nbytes);
    }
    out.in_destination = -1;
    out.data.resize(nbytes);
    return absl::MakeSpan(reinterpret_cast<uint8_t*>(out.data.data()), nbytes);
  }

  absl::Status TakeValue(size_t index, HostValue value) override {
    OutputTensor& out = (*outputs_)[index];
    if (!value.is_tensor() || !value.tensor().is_string) {
      return absl::InternalError(
          absl::StrCat("output '", out.name, "' is a ", value.Describe(), ", not a tensor"));
    }
    out.dtype = inference::TYPE_STRING;
    out.shape = value.tensor().shape;
    out.data = EncodeBytes(value.tensor().strings);
    out.in_destination = -1;
    return absl::OkStatus();
  }

 private:
  absl::Span<const OutputDestination> destinations_;
  std::vector<OutputTensor>* outputs_;
};

class OnnxBackend final : public ModelBackend {
 public:
  OnnxBackend(std::unique_ptr<OnnxModel> model, std::vector<TensorSpec> inputs,
              std::vector<TensorSpec> outputs, int64_t device_bytes)
      : model_(std::move(model)),
        inputs_(std::move(inputs)),
        outputs_(std::move(outputs)),
        device_bytes_(device_bytes) {}

  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  int64_t DeviceBytes() const override { return device_bytes_; }

  absl::Status Run(absl::Span<const InputTensor> inputs,
                   std::vector<OutputTensor>* outputs) override {
    return RunInto(inputs, {}, outputs);
  }

  // Numeric inputs are borrowed: a warm run copies each one from the
  // request's bytes (message or shared memory) straight into the model's
  // device buffer, and each output from its device buffer straight into the
  // response's bytes or the output's shared memory.
  absl::Status RunInto(absl::Span<const InputTensor> inputs,
                       absl::Span<const OutputDestination> destinations,
                       std::vector<OutputTensor>* outputs) override {
    outputs->clear();
    outputs->resize(outputs_.size());
    for (size_t i = 0; i < outputs_.size(); ++i) (*outputs)[i].name = outputs_[i].name;
    for (const InputTensor& in : inputs) {
      if (in.dtype == inference::TYPE_STRING) return RunOwned(inputs, outputs);
    }
    views_.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const InputTensor& in = inputs[i];
      ASSIGN_OR_RETURN(uop::DType dtype, onnx_import::DTypeFromOnnx(ToOnnx(in.dtype)));
      views_[i] = onnx_import::InputView{
          in.name, dtype, in.shape,
          absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(in.data.data()), in.data.size())};
    }
    ResponseSink sink(destinations, outputs);
    return model_->RunBorrowed(views_, sink);
  }

 private:
  // Inputs with BYTES (strings) go through the importer's owned tensors.
  absl::Status RunOwned(absl::Span<const InputTensor> inputs, std::vector<OutputTensor>* outputs) {
    std::vector<std::pair<std::string, HostValue>> feed(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const InputTensor& in = inputs[i];
      auto& [name, value] = feed[i];
      name = in.name;
      if (in.dtype == inference::TYPE_STRING) {
        ASSIGN_OR_RETURN(int64_t count, ElementCount(in.shape));
        ASSIGN_OR_RETURN(std::vector<std::string> strings, DecodeBytes(in.data, count, in.name));
        value = HostValue::Tensor(HostTensor::Strings(std::move(strings), in.shape));
        continue;
      }
      HostTensor t;
      ASSIGN_OR_RETURN(t.dtype, onnx_import::DTypeFromOnnx(ToOnnx(in.dtype)));
      t.shape = in.shape;
      t.bytes.assign(in.data.begin(), in.data.end());
      value = HostValue::Tensor(std::move(t));
    }
    ASSIGN_OR_RETURN(std::vector<HostValue> results, model_->Run(feed));
    if (results.size() != outputs_.size()) {
      return absl::InternalError(absl::StrCat("the model returned ", results.size(),
                                              " outputs, it declares ", outputs_.size()));
    }
    ResponseSink sink({}, outputs);
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].is_tensor() || results[i].tensor().is_string) {
        RETURN_IF_ERROR(sink.TakeValue(i, std::move(results[i])));
        continue;
      }
      const HostTensor& t = results[i].tensor();
      ASSIGN_OR_RETURN(absl::Span<uint8_t> dst, sink.Allocate(i, t.dtype, t.shape, t.bytes.size()));
      if (!t.bytes.empty()) std::memcpy(dst.data(), t.bytes.data(), t.bytes.size());
    }
    return absl::OkStatus();
  }

  std::unique_ptr<OnnxModel> model_;
  std::vector<onnx_import::InputView> views_;  // kept: no allocation per run
  std::vector<TensorSpec> inputs_;
  std::vector<TensorSpec> outputs_;
  int64_t device_bytes_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ModelBackend>> LoadOnnxBackend(
    const ModelFiles& files, const inference::ModelConfig& /*config*/) {
  onnx_import::LoadOptions options;
  options.max_model_bytes = files.max_bytes;
  // The instance's device: its weights and kernels live there (Load opens
  // it and fails naming it when it is missing).
  if (files.device != "CPU") options.device = files.device;
  absl::StatusOr<std::unique_ptr<OnnxModel>> model =
      files.bytes.empty() ? OnnxModel::Load(files.version_dir + "/" + files.file_name, options)
                          : OnnxModel::FromBytes(files.bytes, options);
  if (!model.ok()) {
    return absl::Status(model.status().code(),
                        absl::StrCat("the ONNX model does not import: ", model.status().message()));
  }
  std::vector<TensorSpec> inputs, outputs;
  for (size_t i = 0; i < (*model)->inputs().size(); ++i) {
    if ((*model)->InputHasDefault(i)) continue;  // an initializer; callers may leave it out
    ASSIGN_OR_RETURN(inputs.emplace_back(), SpecOf((*model)->inputs()[i]));
  }
  for (const auto& info : (*model)->outputs()) {
    ASSIGN_OR_RETURN(outputs.emplace_back(), SpecOf(info));
  }
  // On a GPU the weights are the instance's resident memory (charged to the
  // GPU's budget); on the CPU nothing is charged.
  const int64_t device_bytes =
      files.device == "CPU" ? 0 : StoredConstantBytes((*model)->def().graph);
  return std::make_unique<OnnxBackend>(std::move(*model), std::move(inputs), std::move(outputs),
                                       device_bytes);
}

void RegisterOnnxBackend(BackendRegistry& registry) {
  for (const char* name : {"onnxruntime", "onnxruntime_onnx", "uop"}) {
    registry.Register(name, LoadOnnxBackend);
  }
}

}  // namespace uop::server
