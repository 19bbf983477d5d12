// The differential op catalog for the CUDA backend: tensor programs covering
// every op family (elementwise float/int/bool, casts, 16-bit floats,
// reductions with and without shared memory, movement, matmul, convolution,
// pooling, random, indexing). The GPU test realizes each on "CUDA" through
// the Engine and compares with the reference interpreter; the toolkit test
// renders and NVRTC-compiles every kernel they schedule (no GPU needed).
//
//   for (const OpCase& c : OpCases()) {
//     std::vector<Tensor> in = MakeInputs(c, "CUDA");
//     Tensor out = c.fn(in);
//   }
#ifndef UOP_DRIVERS_CUDA_CUDA_OP_CASES_H_
#define UOP_DRIVERS_CUDA_CUDA_OP_CASES_H_

#include <functional>
#include <string>
#include <vector>

#include "runtime/tensor/tensor.h"

namespace uop::cuda::testing {

struct OpInput {
  Shape shape;
  DType dtype = DType::Float32();
  // Values are uniform in [lo, hi) (integers: rounded; `nonzero` avoids 0,
  // for divisors).
  double lo = -2, hi = 2;
  bool nonzero = false;
};

struct OpCase {
  std::string name;
  std::vector<OpInput> inputs;
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  double atol = 1e-4, rtol = 1e-4;  // against the float64 reference
};

const std::vector<OpCase>& OpCases();

// The case's inputs on `device`, the same values for every device.
std::vector<Tensor> MakeInputs(const OpCase& c, const std::string& device);

}  // namespace uop::cuda::testing

#endif  // UOP_DRIVERS_CUDA_CUDA_OP_CASES_H_
