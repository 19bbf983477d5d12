// Dropout with a seeded, replayable random stream.
//
//   Dropout drop(0.1, /*seed=*/7);
//   Tensor y = drop(x, /*training=*/true);   // zeroes ~10%, scales the rest by 1/0.9
//
// The mask is Threefry-2x32 of the element index under a 64-bit key that
// lives in a buffer (the module's one buffer, "key"). Each training call
// reads the key and makes it a lazy ASSIGN of key + 1, so successive calls
// draw new masks, the sequence depends only on the seed, and a JIT-captured
// step replays it (the key is data, not a constant baked into the kernels):
// realize the key with the step, like BatchNorm's running statistics.
// In eval (training = false) and for p = 0 it is the identity; p = 1 gives
// zeros; p outside [0, 1] is an error tensor.
#ifndef UOP_RUNTIME_NN_DROPOUT_H_
#define UOP_RUNTIME_NN_DROPOUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/nn/module.h"
#include "runtime/tensor/tensor.h"

namespace uop::nn {

class Dropout : public Module {
 public:
  Dropout(double p, uint64_t seed, const std::string& device = "CPU");
  Tensor operator()(const Tensor& x, bool training);
  void Collect(const std::string& prefix, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override;

  Tensor key;  // uint64 (1,)

 private:
  double p_;
};

}  // namespace uop::nn

#endif  // UOP_RUNTIME_NN_DROPOUT_H_
