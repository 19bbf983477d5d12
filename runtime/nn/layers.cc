#include "runtime/nn/layers.h"

#include <atomic>
#include <cmath>
#include <numbers>

namespace uop::nn {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The key of one initializer: the seed, or the next value of a process-wide
// counter (so unseeded layers differ, in construction order).
uint64_t KeyOf(std::optional<uint64_t> seed) {
  static std::atomic<uint64_t> next{0x5eed};
  return SplitMix64(seed ? *seed : next.fetch_add(1));
}

// A second, independent stream for the bias from the same seed.
std::optional<uint64_t> Next(std::optional<uint64_t> seed) {
  return seed ? std::optional<uint64_t>(*seed + 0x9E3779B97F4A7C15ull) : std::nullopt;
}

// Uniform doubles in [0, 1) from a counter-based stream: element i depends
// only on the key and i.
double Uniform01(uint64_t key, uint64_t i) {
  return static_cast<double>(SplitMix64(key ^ SplitMix64(i)) >> 11) * 0x1.0p-53;
}

int64_t Numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n = d < 0 ? -1 : (n < 0 ? n : n * d);
  return n;
}

// Host values as a realized buffer on `device`: float32 and float64
// directly, other dtypes cast there (lazily).
Tensor OnDevice(const std::vector<double>& v, const Shape& shape, DType dtype,
                const std::string& device) {
  if (dtype == DType::Float32())
    return Tensor::FromVector(std::vector<float>(v.begin(), v.end()), shape, device);
  return Tensor::FromVector(v, shape, device).Cast(dtype);
}

}  // namespace

Tensor UniformInit(const Shape& shape, double bound, std::optional<uint64_t> seed, DType dtype,
                   const std::string& device) {
  const int64_t n = Numel(shape);
  if (n < 0) return Tensor::Zeros(shape, dtype, device);  // the error tensor for the shape
  const uint64_t key = KeyOf(seed);
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = (2 * Uniform01(key, i) - 1) * bound;
  return OnDevice(v, shape, dtype, device);
}

Tensor NormalInit(const Shape& shape, std::optional<uint64_t> seed, DType dtype,
                  const std::string& device) {
  const int64_t n = Numel(shape);
  if (n < 0) return Tensor::Zeros(shape, dtype, device);
  const uint64_t key = KeyOf(seed);
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) {
    // Box-Muller; 1 - u is in (0, 1], so the log is finite.
    double u1 = Uniform01(key, 2 * i), u2 = Uniform01(key, 2 * i + 1);
    v[i] = std::sqrt(-2 * std::log(1 - u1)) * std::cos(2 * std::numbers::pi * u2);
  }
  return OnDevice(v, shape, dtype, device);
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
  weight = NormalInit({vocab, dim}, o.seed, o.dtype, o.device);
}

void Embedding::Collect(const std::string& prefix, std::vector<NamedTensor>* params,
                        std::vector<NamedTensor>*) {
  params->push_back({prefix + "weight", &weight});
}

}  // namespace uop::nn
