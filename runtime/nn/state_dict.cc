#include "runtime/nn/state_dict.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/nn/safetensors.h"

namespace uop::nn {
namespace {

std::vector<std::pair<std::string, Tensor>> Entries(Module& module) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const NamedTensor& t : module.State()) out.push_back({t.name, *t.tensor});
  return out;
}

absl::Status Load(Module& module, const SafetensorsFile& file, bool strict) {
  absl::flat_hash_map<std::string, const SafeTensor*> by_name;
  for (const SafeTensor& t : file.tensors) by_name[t.name] = &t;
  std::vector<NamedTensor> state = module.State();
  // Validate everything first, so a bad file changes nothing.
  size_t matched = 0;
  for (const NamedTensor& t : state) {
    auto it = by_name.find(t.name);
    if (it == by_name.end())
      return absl::InvalidArgumentError(absl::StrCat("state dict: missing \"", t.name, "\""));
    const SafeTensor& s = *it->second;
    if (s.dtype != t.tensor->dtype() || s.shape != t.tensor->shape())
      return absl::InvalidArgumentError(
          absl::StrCat("state dict: \"", t.name, "\" is ", s.dtype.ToString(), " ",
                       ShapeToString(s.shape), " in the file, ", t.tensor->dtype().ToString(), " ",
                       ShapeToString(t.tensor->shape()), " in the module"));
    ++matched;
  }
  if (strict && matched != file.tensors.size()) {
    absl::flat_hash_map<std::string, bool> known;
    for (const NamedTensor& t : state) known[t.name] = true;
    for (const SafeTensor& f : file.tensors)
      if (!known.contains(f.name))
        return absl::InvalidArgumentError(
            absl::StrCat("state dict: unexpected \"", f.name, "\" (the module has no such entry)"));
  }
  std::vector<Tensor*> written;
  for (const NamedTensor& t : state) {
    Tensor value = by_name.at(t.name)->ToTensor(t.tensor->device());
    Tensor probe = *t.tensor;
    if (probe.Assign(value).ok()) {
      t.tensor->Assign(value);  // in place: views of the buffer stay valid
      written.push_back(t.tensor);
    } else {
      const bool marked = t.tensor->requires_grad();
      *t.tensor = value;
      if (marked) t.tensor->RequiresGrad();
    }
  }
  return Tensor::RealizeAll(written);
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> StateDictBytes(Module& module) {
  return SerializeSafetensors(Entries(module));
}

absl::Status LoadStateDictBytes(Module& module, absl::Span<const uint8_t> bytes, bool strict) {
  ASSIGN_OR_RETURN(SafetensorsFile file, ParseSafetensors(bytes));
  return Load(module, file, strict);
}

absl::Status SaveStateDict(Module& module, const std::string& path) {
  return SaveSafetensors(path, Entries(module));
}

absl::Status LoadStateDict(Module& module, const std::string& path, bool strict) {
  ASSIGN_OR_RETURN(SafetensorsFile file, LoadSafetensors(path));
  return Load(module, file, strict);
}

}  // namespace uop::nn
