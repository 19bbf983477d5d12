#include "runtime/onnx/op_context.h"

#include "runtime/base/status_macros.h"

namespace uop::onnx_import {

const Value& OpContext::In(int i) const {
  static const Value* absent = new Value();
  return i < num_inputs() ? *inputs_[i] : *absent;
}

absl::StatusOr<Tensor> OpContext::Input(int i) const {
  const Value& v = In(i);
  if (!v.present()) return Error("input ", i, " is required");
  if (!v.is_tensor()) return Error("input ", i, " must be a tensor, got ", v.Describe());
  return v.tensor();
}

absl::StatusOr<std::optional<Tensor>> OpContext::OptInput(int i) const {
  const Value& v = In(i);
  if (!v.present()) return std::optional<Tensor>();
  if (!v.is_tensor()) return Error("input ", i, " must be a tensor, got ", v.Describe());
  return std::optional<Tensor>(v.tensor());
}

absl::StatusOr<std::shared_ptr<const HostTensor>> OpContext::HostInput(int i) {
  const Value& v = In(i);
  if (!v.present()) return Error("input ", i, " is required");
  if (v.kind() == Value::Kind::kStrings) return v.host();
  if (!v.is_tensor()) return Error("input ", i, " must be a tensor, got ", v.Describe());
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> h, eval_.ReadHost(v));
  inputs_[i]->set_host(h);
  return h;
}

absl::StatusOr<std::vector<int64_t>> OpContext::IntsInput(int i) {
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> h, HostInput(i));
  if (h->is_string) return Error("input ", i, " must be numeric");
  std::vector<int64_t> out(h->numel());
  for (int64_t k = 0; k < h->numel(); ++k) out[k] = h->AsInt(k);
  return out;
}

absl::StatusOr<std::vector<double>> OpContext::DoublesInput(int i) {
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> h, HostInput(i));
  if (h->is_string) return Error("input ", i, " must be numeric");
  std::vector<double> out(h->numel());
  for (int64_t k = 0; k < h->numel(); ++k) out[k] = h->AsDouble(k);
  return out;
}

absl::StatusOr<int64_t> OpContext::IntInput(int i) {
  ASSIGN_OR_RETURN(std::vector<int64_t> v, IntsInput(i));
  if (v.size() != 1) return Error("input ", i, " must have one element, has ", v.size());
  return v[0];
}

absl::StatusOr<double> OpContext::DoubleInput(int i) {
  ASSIGN_OR_RETURN(std::vector<double> v, DoublesInput(i));
  if (v.size() != 1) return Error("input ", i, " must have one element, has ", v.size());
  return v[0];
}

absl::Status OpContext::CheckElements(int64_t elements) const {
  const int64_t limit = eval_.model().options.max_tensor_elements;
  if (elements < 0 || elements > limit)
    return absl::ResourceExhaustedError(
        absl::StrCat("a result of ", elements, " elements is over the limit of ", limit));
  return absl::OkStatus();
}

int64_t OpContext::Int(const char* name, int64_t dflt) const {
  const Attribute* a = Attr(name);
  if (!a) return dflt;
  if (a->type == AttrType::kFloat) return static_cast<int64_t>(a->f);
  return a->i;
}

float OpContext::Float(const char* name, float dflt) const {
  const Attribute* a = Attr(name);
  if (!a) return dflt;
  if (a->type == AttrType::kInt) return static_cast<float>(a->i);
  return a->f;
}

std::string OpContext::Str(const char* name, const std::string& dflt) const {
  const Attribute* a = Attr(name);
  return a ? a->s : dflt;
}

std::vector<int64_t> OpContext::Ints(const char* name, std::vector<int64_t> dflt) const {
  const Attribute* a = Attr(name);
  if (!a) return dflt;
  if (a->type == AttrType::kInt) return {a->i};
  return a->ints;
}

std::vector<float> OpContext::Floats(const char* name, std::vector<float> dflt) const {
  const Attribute* a = Attr(name);
  if (!a) return dflt;
  if (a->type == AttrType::kFloat) return {a->f};
  return a->floats;
}

std::vector<std::string> OpContext::Strs(const char* name) const {
  const Attribute* a = Attr(name);
  return a ? a->strings : std::vector<std::string>{};
}

absl::StatusOr<int64_t> OpContext::RequiredInt(const char* name) const {
  const Attribute* a = Attr(name);
  if (!a) return Error("attribute '", name, "' is required");
  return a->i;
}

absl::StatusOr<const Graph*> OpContext::GraphAttr(const char* name) const {
  const Attribute* a = Attr(name);
  if (!a || !a->g) return Error("graph attribute '", name, "' is required");
  return a->g.get();
}

}  // namespace uop::onnx_import
