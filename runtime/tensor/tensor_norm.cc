// Softmax and normalization layers.
#include <numeric>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_internal.h"

namespace uop {
namespace {
using T = TensorOps;
}  // namespace

Tensor Tensor::Softmax(int64_t axis) const {
  if (!ok()) return *this;
  Tensor x = Cast(DefaultFloatFor(dtype()));
  Tensor e = x.Sub(x.Max({axis}, /*keepdim=*/true)).Exp();
  return e.Div(e.Sum({axis}, /*keepdim=*/true));
}

Tensor Tensor::LogSoftmax(int64_t axis) const {
  if (!ok()) return *this;
  Tensor x = Cast(DefaultFloatFor(dtype()));
  Tensor shifted = x.Sub(x.Max({axis}, /*keepdim=*/true));
  return shifted.Sub(shifted.Exp().Sum({axis}, /*keepdim=*/true).Log());
}

Tensor Tensor::LayerNorm(int64_t axis, const std::optional<Tensor>& weight,
                         const std::optional<Tensor>& bias, double eps) const {
  if (!ok()) return *this;
  absl::StatusOr<int64_t> a = T::NormAxis("LayerNorm", axis, ndim());
  if (!a.ok()) return Error(a.status());
  std::vector<int64_t> axes(ndim() - *a);
  std::iota(axes.begin(), axes.end(), *a);
  Tensor x = Cast(DefaultFloatFor(dtype()));
  Tensor centered = x.Sub(x.Mean(axes, /*keepdim=*/true));
  Tensor var = centered.Square().Mean(axes, /*keepdim=*/true);
  Tensor y = centered.Mul(var.Add(eps).Rsqrt());
  if (weight) y = y.Mul(*weight);
  if (bias) y = y.Add(*bias);
  return y;
}

Tensor Tensor::BatchNorm(const Tensor& scale, const Tensor& bias, const Tensor& mean,
                         const Tensor& var, double eps) const {
  TENSOR_RETURN_IF_ERROR(this, &scale, &bias, &mean, &var);
  if (ndim() < 2)
    return T::Fail("BatchNorm", "input ", ShapeToString(shape()), " needs a channel axis 1");
  const int64_t c = shape()[1];
  const std::pair<const char*, const Tensor*> params[] = {
      {"scale", &scale}, {"bias", &bias}, {"mean", &mean}, {"var", &var}};
  for (const auto& [name, t] : params)
    if (t->shape() != Shape{c})
      return T::Fail("BatchNorm", name, " has shape ", ShapeToString(t->shape()), ", expected (", c,
                     ",) for input ", ShapeToString(shape()));
  Shape per_channel(ndim(), 1);
  per_channel[1] = c;
  auto bc = [&](const Tensor& t) { return t.Reshape(per_channel); };
  Tensor inv_std = bc(var).Add(eps).Rsqrt();
  return Sub(bc(mean)).Mul(inv_std.Mul(bc(scale))).Add(bc(bias));
}

}  // namespace uop
