#include "runtime/nn/loss.h"

#include "absl/strings/str_cat.h"

namespace uop::nn {

Tensor CrossEntropy(const Tensor& logits, const Tensor& labels) {
  if (!logits.ok()) return logits;
  if (!labels.ok()) return labels;
  const bool indices = labels.ndim() == 1 && labels.dtype().is_int() && logits.ndim() == 2 &&
                       labels.shape()[0] == logits.shape()[0];
  const bool probabilities = labels.shape() == logits.shape() && labels.dtype() == logits.dtype();
  if (logits.ndim() != 2 || (!indices && !probabilities))
    return Tensor::Error(absl::InvalidArgumentError(absl::StrCat(
        "CrossEntropy: needs logits (N, C) and integer labels (N,) or probabilities (N, C), got ",
        ShapeToString(logits.shape()), " and ", labels.dtype().ToString(), " ",
        ShapeToString(labels.shape()))));
  Tensor target = indices ? labels.OneHot(logits.shape()[1], logits.dtype()) : labels;
  return logits.LogSoftmax(1).Mul(target).Sum({1}).Mean().Neg();
}

Tensor MseLoss(const Tensor& prediction, const Tensor& target) {
  return prediction.Sub(target).Square().Mean();
}

}  // namespace uop::nn
