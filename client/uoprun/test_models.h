// Small Tensor-API models for uoprun's tests, each with a plain-loop
// reference of what it computes.
//
//   TestModel m = MlpModel(/*batch=*/2, /*in=*/8, /*hidden=*/16, /*out=*/4);
//   ASSIGN_OR_RETURN(Artifact a, CompileFunction(m.fn, m.inputs, m.outputs, {}));
//   std::vector<std::vector<float>> want = m.reference(x);   // per output
#ifndef UOP_CLIENT_UOPRUN_TEST_MODELS_H_
#define UOP_CLIENT_UOPRUN_TEST_MODELS_H_

#include <functional>
#include <string>
#include <vector>

#include "client/uoprun/compile.h"

namespace uop::uoprun {

struct TestModel {
  Jit::Fn fn;
  std::vector<TensorSpec> inputs;
  std::vector<std::string> outputs;
  std::function<std::vector<std::vector<float>>(const std::vector<float>& x)> reference;
};

// "x" float32[batch, in] -> "hidden_sum" = sum over hidden of relu(x w1 + b1)
// (float32[batch]) and "y" = relu(x w1 + b1) w2 (float32[batch, out]), with
// its weights on `device`.
TestModel MlpModel(int batch, int in, int hidden, int out, const std::string& device = "CPU");

}  // namespace uop::uoprun

#endif  // UOP_CLIENT_UOPRUN_TEST_MODELS_H_
