#include "runtime/nn/module.h"

namespace uop::nn {

std::vector<NamedTensor> Module::Parameters() {
  std::vector<NamedTensor> params, buffers;
  Collect("", &params, &buffers);
  return params;
}

std::vector<NamedTensor> Module::Buffers() {
  std::vector<NamedTensor> params, buffers;
  Collect("", &params, &buffers);
  return buffers;
}

std::vector<NamedTensor> Module::State() {
  std::vector<NamedTensor> params, buffers;
  Collect("", &params, &buffers);
  params.insert(params.end(), buffers.begin(), buffers.end());
  return params;
}

std::vector<Tensor*> Module::ParameterPointers() {
  std::vector<Tensor*> out;
  for (const NamedTensor& t : Parameters()) out.push_back(t.tensor);
  return out;
}

absl::Status RealizeState(Module& module) {
  std::vector<Tensor*> tensors;
  for (const NamedTensor& t : module.State()) tensors.push_back(t.tensor);
  return Tensor::RealizeAll(tensors);
}

}  // namespace uop::nn
