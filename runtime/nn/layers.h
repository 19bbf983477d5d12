// Linear, Conv2d and Embedding layers (torch.nn semantics and default
// initialization). Parameters start as host-initialized buffers (cast
// lazily when the dtype is not float64).
//
//   Linear fc(784, 128, {.seed = 1});
//   Tensor y = fc(x).Relu();                       // x: (batch, 784)
//   Conv2d conv(3, 16, {3, 3}, {.padding = {{1, 1}}, .seed = 2});
//   Tensor z = conv(images);                       // (batch, 16, h, w)
//
// Bad sizes are not checked here: they surface as error tensors from the
// initializers and from Forward (tensor.h's error model).
#ifndef UOP_RUNTIME_NN_LAYERS_H_
#define UOP_RUNTIME_NN_LAYERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/nn/module.h"
#include "runtime/tensor/tensor.h"

namespace uop::nn {

// Initializers: values drawn on the host from a counter-based stream of
// the seed (element i depends only on the seed and i), uploaded as a buffer
// on `device` and cast to `dtype` there, so initializing runs no kernel and
// works on any device. Without a seed, each call takes the next stream of
// a process-wide counter.
// Uniform in [-bound, bound): the init of Linear and Conv2d (bound =
// 1 / sqrt(fan_in), torch's kaiming_uniform with a = sqrt(5)).
Tensor UniformInit(const Shape& shape, double bound, std::optional<uint64_t> seed, DType dtype,
                   const std::string& device);
// Standard normal: the init of Embedding.
Tensor NormalInit(const Shape& shape, std::optional<uint64_t> seed, DType dtype,
                  const std::string& device);

struct LinearOptions {
  bool bias = true;
  std::optional<uint64_t> seed;  // none: the next stream of a process-wide counter
  DType dtype = DType::Float32();
  std::string device = "CPU";
};

// y = x W^T + b with W (out, in) and b (out,).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, const LinearOptions& options = {});
  Tensor operator()(const Tensor& x) const;
  void Collect(const std::string& prefix, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override;

  Tensor weight;
  std::optional<Tensor> bias;
};

struct Conv2dOptions {
  std::vector<int64_t> stride;    // default 1
  PairList padding;               // (before, after) per spatial axis, default 0
  std::vector<int64_t> dilation;  // default 1
  int64_t groups = 1;
  bool bias = true;
  std::optional<uint64_t> seed;
  DType dtype = DType::Float32();
  std::string device = "CPU";
};

// 2-d convolution of (batch, in, h, w) with W (out, in / groups, kh, kw).
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, const std::vector<int64_t>& kernel,
         const Conv2dOptions& options = {});
  Tensor operator()(const Tensor& x) const;
  void Collect(const std::string& prefix, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override;

  Tensor weight;
  std::optional<Tensor> bias;

 private:
  ConvOptions conv_;
};

struct EmbeddingOptions {
  std::optional<uint64_t> seed;
  DType dtype = DType::Float32();
  std::string device = "CPU";
};

// Rows of a (vocab, dim) table picked by integer indices; N(0, 1) init.
class Embedding : public Module {
 public:
  Embedding(int64_t vocab, int64_t dim, const EmbeddingOptions& options = {});
  Tensor operator()(const Tensor& indices) const { return weight.Embedding(indices); }
  void Collect(const std::string& prefix, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override;

  Tensor weight;
};

}  // namespace uop::nn

#endif  // UOP_RUNTIME_NN_LAYERS_H_
