#include "runtime/nn/loss.h"

#include "absl/strings/str_cat.h"

namespace uop::nn {

Tensor CrossEntropy(const Tensor& logits, const Tensor& labels) {
  if (!logits.ok()) return logits;
  if (!labels.ok()) return labels;
  if (logits.ndim() != 2 || labels.ndim() != 1 || labels.shape()[0] != logits.shape()[0] ||
      !labels.dtype().is_int())
    return Tensor::Error(absl::InvalidArgumentError(
        absl::StrCat("CrossEntropy: needs logits (N, C) and integer labels (N,), got ",
                     ShapeToString(logits.shape()), " and ", labels.dtype().ToString(), " ",
                     ShapeToString(labels.shape()))));
  Tensor onehot = labels.OneHot(logits.shape()[1], logits.dtype());
  return logits.LogSoftmax(1).Mul(onehot).Sum({1}).Mean().Neg();
}

Tensor MseLoss(const Tensor& prediction, const Tensor& target) {
  return prediction.Sub(target).Square().Mean();
}

}  // namespace uop::nn
