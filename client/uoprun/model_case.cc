#include "client/uoprun/model_case.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "client/uoprun/tensor_io.h"
#include "runtime/base/status_macros.h"
#include "runtime/onnx/model.h"
#include "runtime/onnx/tensor_proto.h"

namespace uop::uoprun {
namespace {

bool IsBoundScalar(const client::NpyArray& a) {
  return a.shape.empty() && a.datatype != client::Datatype::kFp32 &&
         a.datatype != client::Datatype::kFp64 && a.datatype != client::Datatype::kFp16;
}

absl::StatusOr<client::NpyArray> ReadTensorFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, onnx_import::ReadFileBytes(path));
  ASSIGN_OR_RETURN(onnx_import::HostValue v,
                   onnx_import::ParseValueFile(bytes, onnx_import::ValueFileKind::kTensor));
  const onnx_import::HostTensor& t = v.tensor();
  if (t.is_string) return absl::InvalidArgumentError(absl::StrCat(path, ": a string tensor"));
  ASSIGN_OR_RETURN(client::Datatype d, ToDatatype(t.dtype));
  return client::NpyArray{d, std::vector<int64_t>(t.shape.begin(), t.shape.end()),
                          std::string(t.bytes.begin(), t.bytes.end())};
}

}  // namespace

absl::StatusOr<ModelCase> ReadModelCase(const std::string& dir) {
  ModelCase c;
  c.model = dir + "/model.onnx";
  ASSIGN_OR_RETURN(std::shared_ptr<const onnx_import::ModelDef> def,
                   onnx_import::LoadModelFile(c.model));
  for (size_t i = 0; i < def->graph.inputs.size(); ++i) {
    const std::string file = absl::StrCat(dir, "/test_data_set_0/input_", i, ".pb");
    if (access(file.c_str(), R_OK) != 0) break;  // the rest take their defaults
    ASSIGN_OR_RETURN(client::NpyArray a, ReadTensorFile(file));
    c.inputs.emplace_back(def->graph.inputs[i].name, std::move(a));
  }
  for (size_t i = 0; i < def->graph.outputs.size(); ++i) {
    const std::string file = absl::StrCat(dir, "/test_data_set_0/output_", i, ".pb");
    ASSIGN_OR_RETURN(client::NpyArray a, ReadTensorFile(file));
    c.outputs.emplace_back(def->graph.outputs[i].name, std::move(a));
  }
  return c;
}

CompileOptions ModelCase::Options(const std::string& device) const {
  CompileOptions o;
  o.device = device;
  for (const auto& [name, a] : inputs) {
    if (IsBoundScalar(a)) {
      o.bound[name] = BoundInput{.array = a};
    } else {
      o.shapes[name] = a.shape;
    }
  }
  return o;
}

std::vector<std::pair<std::string, client::NpyArray>> ModelCase::RuntimeInputs() const {
  std::vector<std::pair<std::string, client::NpyArray>> out;
  for (const auto& [name, a] : inputs) {
    if (!IsBoundScalar(a)) out.emplace_back(name, a);
  }
  return out;
}

}  // namespace uop::uoprun
