#include "runtime/onnx/registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace uop::onnx_import {

absl::string_view CanonicalDomain(absl::string_view domain) {
  return domain == "ai.onnx" ? absl::string_view("") : domain;
}

const OpRegistry& OpRegistry::Global() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry();
    RegisterElementwiseOps(*r);
    RegisterReduceOps(*r);
    RegisterIndexOps(*r);
    RegisterShapeOps(*r);
    RegisterNnOps(*r);
    RegisterConvOps(*r);
    RegisterNormOps(*r);
    RegisterControlFlowOps(*r);
    RegisterSequenceOps(*r);
    RegisterQuantOps(*r);
    RegisterRnnOps(*r);
    RegisterResizeOps(*r);
    RegisterDataDependentOps(*r);
    RegisterMathOps(*r);
    RegisterLossOps(*r);
    RegisterTrainingOps(*r);
    RegisterRandomOps(*r);
    RegisterSignalOps(*r);
    RegisterStringOps(*r);
    RegisterVisionOps(*r);
    RegisterContribOps(*r);
    return r;
  }();
  return *registry;
}

void OpRegistry::Add(absl::string_view domain, absl::string_view op_type, int since, OpFn fn,
                     unsigned flags) {
  std::vector<OpHandler>& list = ops_[{std::string(CanonicalDomain(domain)), std::string(op_type)}];
  list.push_back(
      OpHandler{std::string(CanonicalDomain(domain)), std::string(op_type), since, fn, flags});
  std::sort(list.begin(), list.end(),
            [](const OpHandler& a, const OpHandler& b) { return a.since < b.since; });
}

const OpHandler* OpRegistry::Find(absl::string_view domain, absl::string_view op_type,
                                  int opset) const {
  auto it = ops_.find(std::make_pair(std::string(CanonicalDomain(domain)), std::string(op_type)));
  if (it == ops_.end()) return nullptr;
  const OpHandler* best = nullptr;
  for (const OpHandler& h : it->second)
    if (h.since <= opset) best = &h;
  return best;
}

bool OpRegistry::Knows(absl::string_view domain, absl::string_view op_type) const {
  return ops_.contains(std::make_pair(std::string(CanonicalDomain(domain)), std::string(op_type)));
}

std::vector<std::string> OpRegistry::List() const {
  std::vector<std::string> out;
  for (const auto& [key, list] : ops_) out.push_back(absl::StrCat(key.first, ":", key.second));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace uop::onnx_import
