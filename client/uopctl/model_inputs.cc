#include "client/uopctl/model_inputs.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/lib/flags.h"
#include "client/uopctl/tensor_input.h"
#include "runtime/base/status_macros.h"

namespace uop::uopctl {

absl::StatusOr<std::vector<client::NpyArray>> ResolveInputs(
    const inference::ModelMetadataResponse& metadata, const std::vector<std::string>& inputs,
    const std::vector<std::string>& shapes, const std::string& default_spec) {
  auto known = [&](const std::string& name) {
    for (const auto& in : metadata.inputs()) {
      if (in.name() == name) return true;
    }
    return false;
  };
  auto names = [&] { return absl::StrJoin(InputNames(metadata), ", "); };
  std::map<std::string, std::string> specs;
  for (const std::string& i : inputs) {
    ASSIGN_OR_RETURN(auto nv, client::SplitNameValue("input", i));
    if (!known(nv.first)) {
      return absl::InvalidArgumentError(absl::StrCat("flag --input: model '", metadata.name(),
                                                     "' has no input '", nv.first,
                                                     "' (inputs: ", names(), ")"));
    }
    specs[nv.first] = nv.second;
  }
  std::map<std::string, std::vector<int64_t>> dims;
  for (const std::string& s : shapes) {
    ASSIGN_OR_RETURN(auto nv, client::SplitNameValue("shape", s));
    if (!known(nv.first)) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --shape: no input '", nv.first, "' (inputs: ", names(), ")"));
    }
    absl::StatusOr<std::vector<int64_t>> d = client::ParseDims(nv.second);
    if (!d.ok())
      return absl::InvalidArgumentError(absl::StrCat("flag --shape: ", d.status().message()));
    dims[nv.first] = *d;
  }
  std::vector<std::string> missing;
  for (const auto& in : metadata.inputs()) {
    if (!specs.count(in.name()) && default_spec.empty()) missing.push_back(in.name());
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no data for input(s) ", absl::StrJoin(missing, ", "),
                     ": give -i NAME=FILE.npy|FILE.json|[values]|zeros|random for each"));
  }
  std::vector<client::NpyArray> tensors;
  for (const auto& in : metadata.inputs()) {
    auto spec = specs.find(in.name());
    auto d = dims.find(in.name());
    absl::StatusOr<client::NpyArray> t =
        LoadInput(in, spec != specs.end() ? spec->second : default_spec,
                  d != dims.end() ? &d->second : nullptr);
    if (!t.ok()) return absl::InvalidArgumentError(t.status().message());
    tensors.push_back(std::move(*t));
  }
  return tensors;
}

std::vector<std::string> InputNames(const inference::ModelMetadataResponse& metadata) {
  std::vector<std::string> names;
  for (const auto& in : metadata.inputs()) names.push_back(in.name());
  return names;
}

absl::StatusOr<std::vector<client::InferInput>> ToInferInputs(
    const inference::ModelMetadataResponse& metadata,
    const std::vector<client::NpyArray>& tensors) {
  std::vector<client::InferInput> out;
  for (size_t i = 0; i < tensors.size(); ++i) {
    ASSIGN_OR_RETURN(client::InferInput in,
                     client::InferInput::FromRaw(metadata.inputs(i).name(), tensors[i].datatype,
                                                 tensors[i].shape, tensors[i].data));
    out.push_back(std::move(in));
  }
  return out;
}

}  // namespace uop::uopctl
