#include "runtime/nn/norm.h"

#include <numeric>

namespace uop::nn {
namespace {

// A constant as a realized buffer of its own on its device: Assign and
// optimizers need buffers, not constant graphs.
Tensor Materialized(const Tensor& t) {
  Tensor c = t;
  absl::Status s = c.Realize();
  return s.ok() ? c : Tensor::Error(s);
}

}  // namespace

BatchNorm::BatchNorm(int64_t num_features, const BatchNormOptions& options)
    : options_(options), num_features_(num_features) {
  const DType d = options.dtype;
  if (options.affine) {
    weight = Materialized(Tensor::Ones({num_features}, d, options.device));
    bias = Materialized(Tensor::Zeros({num_features}, d, options.device));
  }
  running_mean = Materialized(Tensor::Zeros({num_features}, d, options.device));
  running_var = Materialized(Tensor::Ones({num_features}, d, options.device));
}

Tensor BatchNorm::operator()(const Tensor& x, bool training) {
  if (!x.ok()) return x;
  if (x.ndim() < 2 || x.shape()[1] != num_features_)
    return Tensor::Error(
        absl::InvalidArgumentError(absl::StrCat("BatchNorm: input ", ShapeToString(x.shape()),
                                                " needs ", num_features_, " channels on axis 1")));
  const Tensor scale = weight ? *weight : Tensor::Ones({num_features_}, x.dtype(), x.device());
  const Tensor shift = bias ? *bias : Tensor::Zeros({num_features_}, x.dtype(), x.device());
  if (!training) return x.BatchNorm(scale, shift, running_mean, running_var, options_.eps);
  std::vector<int64_t> axes = {0};
  for (int64_t a = 2; a < x.ndim(); ++a) axes.push_back(a);
  Shape per_channel(x.ndim(), 1);
  per_channel[1] = num_features_;
  Tensor mean = x.Mean(axes, /*keepdim=*/true);
  Tensor centered = x.Sub(mean);
  Tensor var = centered.Square().Mean(axes, /*keepdim=*/true);
  Tensor y = centered.Mul(var.Add(options_.eps).Rsqrt())
                 .Mul(scale.Reshape(per_channel))
                 .Add(shift.Reshape(per_channel));
  const double n = static_cast<double>(x.numel() / num_features_);
  const double m = options_.momentum;
  Tensor batch_mean = mean.Reshape({num_features_}).Detach();
  Tensor unbiased = var.Reshape({num_features_}).Mul(n / std::max(n - 1, 1.0)).Detach();
  running_mean.Assign(running_mean.Mul(1 - m).Add(batch_mean.Mul(m)));
  running_var.Assign(running_var.Mul(1 - m).Add(unbiased.Mul(m)));
  return y;
}

void BatchNorm::Collect(const std::string& prefix, std::vector<NamedTensor>* params,
                        std::vector<NamedTensor>* buffers) {
  if (weight) params->push_back({prefix + "weight", &*weight});
  if (bias) params->push_back({prefix + "bias", &*bias});
  buffers->push_back({prefix + "running_mean", &running_mean});
  buffers->push_back({prefix + "running_var", &running_var});
}

LayerNorm::LayerNorm(const Shape& normalized_shape, const LayerNormOptions& options)
    : shape_(normalized_shape), eps_(options.eps) {
  if (options.affine) {
    weight = Materialized(Tensor::Ones(normalized_shape, options.dtype, options.device));
    bias = Materialized(Tensor::Zeros(normalized_shape, options.dtype, options.device));
  }
}

Tensor LayerNorm::operator()(const Tensor& x) const {
  if (!x.ok()) return x;
  const int64_t k = static_cast<int64_t>(shape_.size());
  bool match = x.ndim() >= k && k > 0;
  for (int64_t i = 0; match && i < k; ++i) match = x.shape()[x.ndim() - k + i] == shape_[i];
  if (!match)
    return Tensor::Error(
        absl::InvalidArgumentError(absl::StrCat("LayerNorm: input ", ShapeToString(x.shape()),
                                                " does not end in ", ShapeToString(shape_))));
  return x.LayerNorm(-k, weight, bias, eps_);
}

void LayerNorm::Collect(const std::string& prefix, std::vector<NamedTensor>* params,
                        std::vector<NamedTensor>*) {
  if (weight) params->push_back({prefix + "weight", &*weight});
  if (bias) params->push_back({prefix + "bias", &*bias});
}

}  // namespace uop::nn
