// BatchNorm (training and eval) and LayerNorm, with torch.nn's semantics.
//
//   BatchNorm bn(16);
//   Tensor y = bn(x, /*training=*/true);   // batch statistics; running stats updated lazily
//   Tensor z = bn(x, /*training=*/false);  // running statistics
//
// Training-mode BatchNorm normalizes with the batch mean and biased variance
// and makes running_mean / running_var lazy ASSIGNs:
//   running = (1 - momentum) * running + momentum * batch_stat
// (the unbiased variance for running_var). The constructor realizes these
// constants into buffers (with the installed realizer). They are buffers (Module::Buffers),
// so realize them with the step (a JIT-captured step returns them as outputs).
#ifndef UOP_RUNTIME_NN_NORM_H_
#define UOP_RUNTIME_NN_NORM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/nn/module.h"
#include "runtime/tensor/tensor.h"

namespace uop::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;  // learnable weight (ones) and bias (zeros)
  DType dtype = DType::Float32();
  std::string device = "CPU";
};

// Normalizes over every axis but 1 (the channels) of (batch, channels, ...).
class BatchNorm : public Module {
 public:
  explicit BatchNorm(int64_t num_features, const BatchNormOptions& options = {});
  Tensor operator()(const Tensor& x, bool training);
  void Collect(const std::string& prefix, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override;

  std::optional<Tensor> weight, bias;
  Tensor running_mean, running_var;

 private:
  BatchNormOptions options_;
  int64_t num_features_;
};

struct LayerNormOptions {
  double eps = 1e-5;
  bool affine = true;
  DType dtype = DType::Float32();
  std::string device = "CPU";
};

// Normalizes over the trailing axes given by `normalized_shape`.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(const Shape& normalized_shape, const LayerNormOptions& options = {});
  Tensor operator()(const Tensor& x) const;
  void Collect(const std::string& prefix, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override;

  std::optional<Tensor> weight, bias;

 private:
  Shape shape_;
  double eps_;
};

}  // namespace uop::nn

#endif  // UOP_RUNTIME_NN_NORM_H_
