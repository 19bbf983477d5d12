// Loss functions over logits and targets, built from Tensor ops (so their
// gradients come from the rules of their primitives).
//
//   Tensor loss = CrossEntropy(logits, labels);   // logits (N, C) float, labels (N,) int
#ifndef UOP_RUNTIME_NN_LOSS_H_
#define UOP_RUNTIME_NN_LOSS_H_

#include "runtime/tensor/tensor.h"

namespace uop::nn {

// Mean over the batch of -log_softmax(logits)[label]; labels outside
// [0, C) contribute 0 (their one-hot row is empty). `labels` is either
// integer class indices (N,) or class probabilities (N, C) of the logits'
// dtype (e.g. one-hot rows made on the host), like torch's cross_entropy.
Tensor CrossEntropy(const Tensor& logits, const Tensor& labels);

// Mean of (prediction - target)^2 (shapes broadcast).
Tensor MseLoss(const Tensor& prediction, const Tensor& target);

}  // namespace uop::nn

#endif  // UOP_RUNTIME_NN_LOSS_H_
