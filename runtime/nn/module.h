// Module: what an nn building block exposes to optimizers, state dicts and
// training loops: its named parameters (trained) and buffers (state that is
// not trained, e.g. BatchNorm's running statistics or Dropout's RNG key).
//
//   struct Mlp : Module {
//     Linear fc1{4, 16}, fc2{16, 3};
//     void Collect(const std::string& p, std::vector<NamedTensor>* params,
//                  std::vector<NamedTensor>* buffers) override {
//       fc1.Collect(p + "fc1.", params, buffers);
//       fc2.Collect(p + "fc2.", params, buffers);
//     }
//   };
//   Mlp mlp;
//   for (const NamedTensor& t : mlp.Parameters()) ...   // "fc1.weight", "fc1.bias", ...
//
// Modules hand out pointers to their tensors (an optimizer updates them in
// place), so they can be neither copied nor moved. There is no global
// training/eval mode: layers that differ take `training` as an argument.
#ifndef UOP_RUNTIME_NN_MODULE_H_
#define UOP_RUNTIME_NN_MODULE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runtime/tensor/tensor.h"

namespace uop::nn {

struct NamedTensor {
  std::string name;
  Tensor* tensor;
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Appends this module's parameters and buffers, names prefixed by `prefix`.
  virtual void Collect(const std::string& prefix, std::vector<NamedTensor>* params,
                       std::vector<NamedTensor>* buffers) = 0;

  std::vector<NamedTensor> Parameters();
  std::vector<NamedTensor> Buffers();
  // Parameters, then buffers: the entries of a state dict.
  std::vector<NamedTensor> State();
  // The parameters alone, as an optimizer takes them.
  std::vector<Tensor*> ParameterPointers();
};

// Realizes every parameter and buffer in one realize (their initializers
// are lazy graphs until then).
absl::Status RealizeState(Module& module);

}  // namespace uop::nn

#endif  // UOP_RUNTIME_NN_MODULE_H_
