// Optimizers: SGD (momentum, Nesterov, weight decay), Adam and AdamW, each
// step one small fused schedule that updates the parameters in place.
//
//   Mlp mlp;
//   ASSIGN_OR_RETURN(std::unique_ptr<Optimizer> opt,
//                    Adam::Create(mlp.ParameterPointers(), {.lr = 1e-3}));
//   Tensor loss = CrossEntropy(mlp(x), labels);
//   ASSIGN_OR_RETURN(std::vector<Tensor> grads, Gradient(loss, opt->parameter_tensors()));
//   ASSIGN_OR_RETURN(std::vector<Tensor> updates, opt->Step(grads));   // lazy ASSIGNs
//   updates.push_back(loss);
//   RETURN_IF_ERROR(RealizeTensors(updates));          // forward + backward + update
//
// Why it fuses: Create packs every parameter into ONE flat buffer and makes
// each parameter tensor (the caller's, through the pointers given) a view of
// it, and each optimizer keeps its state in one flat buffer too. A step is
// then one ASSIGN per flat buffer, each one elementwise kernel whatever the
// number of parameters (docs/gradient.md; counted in optim_schedule_test):
//   SGD: 1 kernel (parameters); with momentum or Nesterov: 2 (buffer, parameters);
//   Adam / AdamW: 2 (the state [m, v, beta1^t, beta2^t] in one buffer, then
//   the parameters).
// The state ASSIGN reads its buffer only through the view it writes
// (S' = S * a + G * c with per-region constants a, c), so the scheduler
// needs no hazard copy.
//
// The learning rate and Adam's beta powers are buffers, not constants, so a
// JIT-captured step keeps replaying after SetLearningRate and as t grows.
// Parameters must share one float dtype and device. Step returns lazy
// tensors: nothing runs until they are realized.
#ifndef UOP_RUNTIME_NN_OPTIM_H_
#define UOP_RUNTIME_NN_OPTIM_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/tensor/tensor.h"

namespace uop::nn {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // The update from one gradient per parameter (same order, shapes and
  // device): lazy ASSIGNs of the parameters and of the optimizer state.
  absl::StatusOr<std::vector<Tensor>> Step(absl::Span<const Tensor> grads);
  // The same from each parameter's grad() (Backward, gradient.h).
  absl::StatusOr<std::vector<Tensor>> Step();
  // Clears grad() of every parameter.
  void ZeroGrad();
  // Writes the learning-rate buffer (realizes one tiny kernel).
  absl::Status SetLearningRate(double lr);

  // The parameters as they are now (views of the flat buffer), e.g. as
  // Gradient targets.
  std::vector<Tensor> parameter_tensors() const;
  const Tensor& flat_parameters() const { return flat_; }
  int64_t num_elements() const { return n_; }

 protected:
  Optimizer() = default;
  // Validates and packs `params`, makes the learning-rate buffer.
  absl::Status Init(absl::string_view name, std::vector<Tensor*> params, double lr);
  // A realized zero buffer of `n` elements of the parameters' dtype.
  absl::StatusOr<Tensor> ZeroState(int64_t n) const;
  // The lazy ASSIGNs for the flat gradient `grad` ((n,), parameter dtype).
  virtual std::vector<Tensor> Update(const Tensor& grad) = 0;

  std::string name_;
  std::vector<Tensor*> params_;
  Tensor flat_;  // (n,), every parameter
  Tensor lr_;    // (1,)
  int64_t n_ = 0;
};

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0;  // torch semantics without dampening: buf = momentum * buf + g
  bool nesterov = false;
  double weight_decay = 0;  // L2: g += weight_decay * p
};

// p -= lr * step, with step = g, buf, or g + momentum * buf (Nesterov).
class Sgd final : public Optimizer {
 public:
  static absl::StatusOr<std::unique_ptr<Sgd>> Create(std::vector<Tensor*> params,
                                                     const SgdOptions& options = {});

 private:
  std::vector<Tensor> Update(const Tensor& grad) override;
  SgdOptions options_;
  Tensor momentum_;  // (n,) when momentum != 0
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // Adam: L2 added to g; AdamW: decoupled p *= 1 - lr * wd
};

// torch.optim.Adam / AdamW: m, v moving averages with bias correction,
// p -= lr * m_hat / (sqrt(v_hat) + eps).
class Adam final : public Optimizer {
 public:
  static absl::StatusOr<std::unique_ptr<Adam>> Create(std::vector<Tensor*> params,
                                                      const AdamOptions& options = {});
  // AdamW: decoupled weight decay (default 0.01 like torch).
  static absl::StatusOr<std::unique_ptr<Adam>> CreateW(std::vector<Tensor*> params,
                                                       const AdamOptions& options = {
                                                           .weight_decay = 0.01});

  // Views of the state buffer (for tests and checkpoints): m, v and
  // (beta1^t, beta2^t) after t steps.
  Tensor m() const;
  Tensor v() const;
  Tensor beta_powers() const;

 private:
  static absl::StatusOr<std::unique_ptr<Adam>> Make(std::vector<Tensor*> params,
                                                    const AdamOptions& options, bool decoupled);
  std::vector<Tensor> Update(const Tensor& grad) override;
  AdamOptions options_;
  bool decoupled_ = false;
  Tensor state_;  // (2n + 2,): m, v, beta1^t, beta2^t
};

// Realizes tensors in one realize (a thin wrapper over Tensor::RealizeAll).
absl::Status RealizeTensors(std::vector<Tensor>& tensors);

}  // namespace uop::nn

#endif  // UOP_RUNTIME_NN_OPTIM_H_
