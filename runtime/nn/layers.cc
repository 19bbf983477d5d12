#include "runtime/nn/layers.h"

#include <cmath>

namespace uop::nn {
namespace {

// A second, independent stream for the bias from the same seed.
std::optional<uint64_t> Next(std::optional<uint64_t> seed) {
  return seed ? std::optional<uint64_t>(*seed + 0x9E3779B97F4A7C15ull) : std::nullopt;
}

}  // namespace

Tensor UniformInit(const Shape& shape, double bound, std::optional<uint64_t> seed, DType dtype,
                   const std::string& device) {
  RandOptions opts;
  opts.seed = seed;
  opts.device = device;
  return Tensor::Rand(shape, dtype, opts).Mul(2 * bound).Sub(bound);
}

Linear::Linear(int64_t in_features, int64_t out_features, const LinearOptions& o) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(in_features, 1)));
  weight = UniformInit({out_features, in_features}, bound, o.seed, o.dtype, o.device);
  if (o.bias) bias = UniformInit({out_features}, bound, Next(o.seed), o.dtype, o.device);
}

Tensor Linear::operator()(const Tensor& x) const { return x.Linear(weight, bias); }

void Linear::Collect(const std::string& prefix, std::vector<NamedTensor>* params,
                     std::vector<NamedTensor>*) {
  params->push_back({prefix + "weight", &weight});
  if (bias) params->push_back({prefix + "bias", &*bias});
}

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, const std::vector<int64_t>& kernel,
               const Conv2dOptions& o) {
  conv_.stride = o.stride;
  conv_.padding = o.padding;
  conv_.dilation = o.dilation;
  conv_.groups = o.groups;
  Shape shape = {out_channels, o.groups > 0 ? in_channels / o.groups : in_channels};
  int64_t fan_in = shape[1];
  for (int64_t k : kernel) {
    shape.push_back(k);
    fan_in *= k;
  }
  const double bound = 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(fan_in, 1)));
  weight = UniformInit(shape, bound, o.seed, o.dtype, o.device);
  if (o.bias) bias = UniformInit({out_channels}, bound, Next(o.seed), o.dtype, o.device);
}

Tensor Conv2d::operator()(const Tensor& x) const { return x.Conv2d(weight, bias, conv_); }

void Conv2d::Collect(const std::string& prefix, std::vector<NamedTensor>* params,
                     std::vector<NamedTensor>*) {
  params->push_back({prefix + "weight", &weight});
  if (bias) params->push_back({prefix + "bias", &*bias});
}

Embedding::Embedding(int64_t vocab, int64_t dim, const EmbeddingOptions& o) {
  RandOptions opts;
  opts.seed = o.seed;
  opts.device = o.device;
  weight = Tensor::Randn({vocab, dim}, o.dtype, opts);
}

void Embedding::Collect(const std::string& prefix, std::vector<NamedTensor>* params,
                        std::vector<NamedTensor>*) {
  params->push_back({prefix + "weight", &weight});
}

}  // namespace uop::nn
