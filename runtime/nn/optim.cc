#include "runtime/nn/optim.h"

#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop::nn {
namespace {

// A constant vector that is `a` on [0, n), `b` on [n, 2n), `c` at 2n and
// `d` at 2n + 1: padded constants, so kernels see masked constants and load
// nothing.
Tensor Regions(int64_t n, double a, double b, double c, double d, DType dtype,
               const std::string& device) {
  return Tensor::Cat({Tensor::Full({n}, a, dtype, device), Tensor::Full({n}, b, dtype, device),
                      Tensor::Full({1}, c, dtype, device), Tensor::Full({1}, d, dtype, device)});
}

}  // namespace

absl::Status RealizeTensors(std::vector<Tensor>& tensors) {
  std::vector<Tensor*> ptrs;
  for (Tensor& t : tensors) ptrs.push_back(&t);
  return Tensor::RealizeAll(ptrs);
}

absl::Status Optimizer::Init(absl::string_view name, std::vector<Tensor*> params, double lr) {
  name_ = std::string(name);
  if (params.empty()) return absl::InvalidArgumentError(absl::StrCat(name, ": no parameters"));
  absl::flat_hash_set<Tensor*> seen;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor* p = params[i];
    if (p == nullptr)
      return absl::InvalidArgumentError(absl::StrCat(name, ": parameter ", i, " is null"));
    RETURN_IF_ERROR(p->status());
    if (!seen.insert(p).second)
      return absl::InvalidArgumentError(absl::StrCat(name, ": parameter ", i, " is given twice"));
    if (!p->dtype().is_float())
      return absl::InvalidArgumentError(absl::StrCat(name, ": parameter ", i, " has dtype ",
                                                     p->dtype().ToString(), ", not a float"));
    if (p->dtype() != params[0]->dtype() || p->device() != params[0]->device())
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": parameter ", i, " is ", p->dtype().ToString(), " on ", p->device(),
                       ", parameter 0 is ", params[0]->dtype().ToString(), " on ",
                       params[0]->device(), "; use one optimizer per dtype and device"));
  }
  std::vector<Tensor> flat_parts;
  for (Tensor* p : params) flat_parts.push_back(p->Flatten());
  const DType d = params[0]->dtype();
  const std::string& device = params[0]->device();
  // Realizing a graph gives it a fresh buffer on its device. (No
  // CONTIGUOUS: a CONTIGUOUS of constants would be computed on the
  // scheduler's default device, not the parameters'.)
  flat_ = Tensor::Cat(flat_parts);
  lr_ = Tensor::Full({1}, lr, d, device);
  RETURN_IF_ERROR(Tensor::RealizeAll({&flat_, &lr_}));
  n_ = flat_.numel();
  // Each parameter becomes a view of the flat buffer (keeping its mark).
  int64_t offset = 0;
  for (Tensor* p : params) {
    const int64_t k = p->numel();
    const bool marked = p->requires_grad();
    Shape shape = p->shape();
    *p = flat_.Shrink({{offset, offset + k}}).Reshape(shape);
    if (marked) p->RequiresGrad();
    offset += k;
  }
  params_ = std::move(params);
  return absl::OkStatus();
}

absl::StatusOr<Tensor> Optimizer::ZeroState(int64_t n) const {
  Tensor z = Tensor::Zeros({n}, flat_.dtype(), flat_.device());
  RETURN_IF_ERROR(z.Realize());
  return z;
}

absl::StatusOr<std::vector<Tensor>> Optimizer::Step(absl::Span<const Tensor> grads) {
  if (grads.size() != params_.size())
    return absl::InvalidArgumentError(
        absl::StrCat(name_, ": ", grads.size(), " gradients for ", params_.size(), " parameters"));
  std::vector<Tensor> parts;
  for (size_t i = 0; i < grads.size(); ++i) {
    RETURN_IF_ERROR(grads[i].status());
    if (grads[i].shape() != params_[i]->shape() || grads[i].device() != flat_.device())
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ": gradient ", i, " is ", ShapeToString(grads[i].shape()), " on ",
                       grads[i].device(), ", parameter ", i, " is ",
                       ShapeToString(params_[i]->shape()), " on ", flat_.device()));
    parts.push_back(grads[i].Cast(flat_.dtype()).Flatten());
  }
  Tensor grad = Tensor::Cat(parts);
  RETURN_IF_ERROR(grad.status());
  std::vector<Tensor> updates = Update(grad);
  for (const Tensor& u : updates) RETURN_IF_ERROR(u.status());
  return updates;
}

absl::StatusOr<std::vector<Tensor>> Optimizer::Step() {
  std::vector<Tensor> grads;
  for (size_t i = 0; i < params_.size(); ++i) {
    std::optional<Tensor> g = params_[i]->grad();
    if (!g)
      return absl::FailedPreconditionError(absl::StrCat(
          name_, ": parameter ", i, " has no grad (mark it RequiresGrad() and call Backward)"));
    grads.push_back(*g);
  }
  return Step(grads);
}

void Optimizer::ZeroGrad() {
  for (Tensor* p : params_) p->SetGrad(std::nullopt);
}

absl::Status Optimizer::SetLearningRate(double lr) {
  Tensor t = lr_;
  t.Assign(Tensor::Full({1}, lr, lr_.dtype(), lr_.device()));
  return t.Realize();
}

std::vector<Tensor> Optimizer::parameter_tensors() const {
  std::vector<Tensor> out;
  for (Tensor* p : params_) out.push_back(*p);
  return out;
}

// ---------------------------------------------------------------------- SGD

absl::StatusOr<std::unique_ptr<Sgd>> Sgd::Create(std::vector<Tensor*> params,
                                                 const SgdOptions& options) {
  if (!(options.lr >= 0) || !(options.momentum >= 0) || !(options.weight_decay >= 0))
    return absl::InvalidArgumentError(absl::StrCat("SGD: lr ", options.lr, ", momentum ",
                                                   options.momentum, " and weight_decay ",
                                                   options.weight_decay, " must be non-negative"));
  if (options.nesterov && options.momentum == 0)
    return absl::InvalidArgumentError("SGD: Nesterov momentum needs momentum > 0");
  std::unique_ptr<Sgd> sgd(new Sgd());
  sgd->options_ = options;
  RETURN_IF_ERROR(sgd->Init("SGD", std::move(params), options.lr));
  if (options.momentum != 0) {
    ASSIGN_OR_RETURN(sgd->momentum_, sgd->ZeroState(sgd->n_));
  }
  return sgd;
}

std::vector<Tensor> Sgd::Update(const Tensor& grad) {
  const Tensor lr = lr_.Expand({n_});
  Tensor g = options_.weight_decay != 0 ? grad.Add(flat_.Mul(options_.weight_decay)) : grad;
  std::vector<Tensor> out;
  Tensor step = g;
  if (options_.momentum != 0) {
    Tensor buf = momentum_;
    buf.Assign(momentum_.Mul(options_.momentum).Add(g));
    step = options_.nesterov ? g.Add(buf.Mul(options_.momentum)) : buf;
    out.push_back(buf);
  }
  Tensor p = flat_;
  p.Assign(flat_.Sub(lr.Mul(step)));
  out.insert(out.begin(), p);
  return out;
}

// --------------------------------------------------------------------- Adam

absl::StatusOr<std::unique_ptr<Adam>> Adam::Make(std::vector<Tensor*> params, const AdamOptions& o,
                                                 bool decoupled) {
  const char* name = decoupled ? "AdamW" : "Adam";
  if (!(o.lr >= 0) || !(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1) ||
      !(o.eps >= 0) || !(o.weight_decay >= 0))
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": needs lr >= 0, betas in [0, 1), eps >= 0, weight_decay >= 0; got lr ", o.lr,
        ", betas (", o.beta1, ", ", o.beta2, "), eps ", o.eps, ", weight_decay ", o.weight_decay));
  std::unique_ptr<Adam> adam(new Adam());
  adam->options_ = o;
  adam->decoupled_ = decoupled;
  RETURN_IF_ERROR(adam->Init(name, std::move(params), o.lr));
  // [m = 0, v = 0, beta1^0 = 1, beta2^0 = 1].
  const int64_t n = adam->n_;
  const DType d = adam->flat_.dtype();
  const std::string& dev = adam->flat_.device();
  adam->state_ = Regions(n, 0, 0, 1, 1, d, dev);
  RETURN_IF_ERROR(adam->state_.Realize());
  return adam;
}

absl::StatusOr<std::unique_ptr<Adam>> Adam::Create(std::vector<Tensor*> params,
                                                   const AdamOptions& options) {
  return Make(std::move(params), options, /*decoupled=*/false);
}

absl::StatusOr<std::unique_ptr<Adam>> Adam::CreateW(std::vector<Tensor*> params,
                                                    const AdamOptions& options) {
  return Make(std::move(params), options, /*decoupled=*/true);
}

Tensor Adam::m() const { return state_.Shrink({{0, n_}}); }
Tensor Adam::v() const { return state_.Shrink({{n_, 2 * n_}}); }
Tensor Adam::beta_powers() const { return state_.Shrink({{2 * n_, 2 * n_ + 2}}); }

std::vector<Tensor> Adam::Update(const Tensor& grad) {
  const AdamOptions& o = options_;
  const DType d = flat_.dtype();
  const std::string& dev = flat_.device();
  Tensor g = !decoupled_ && o.weight_decay != 0 ? grad.Add(flat_.Mul(o.weight_decay)) : grad;
  // S' = S * a + G * c over [m | v | beta1^t | beta2^t]: m' = b1 m + (1 - b1) g,
  // v' = b2 v + (1 - b2) g^2, beta^t' = beta^t * beta. S is read only through
  // the view the ASSIGN writes, so this is one kernel without a hazard copy.
  Tensor gg = Tensor::Cat({g, g.Square(), Tensor::Zeros({2}, d, dev)});
  Tensor a = Regions(n_, o.beta1, o.beta2, o.beta1, o.beta2, d, dev);
  Tensor c = Regions(n_, 1 - o.beta1, 1 - o.beta2, 0, 0, d, dev);
  Tensor s = state_;
  s.Assign(state_.Mul(a).Add(gg.Mul(c)));
  Tensor m = s.Shrink({{0, n_}}), v = s.Shrink({{n_, 2 * n_}});
  // Bias corrections 1 - beta^t, read as two broadcast scalars.
  Tensor bc1 = 1 - s.Shrink({{2 * n_, 2 * n_ + 1}}).Expand({n_});
  Tensor bc2 = 1 - s.Shrink({{2 * n_ + 1, 2 * n_ + 2}}).Expand({n_});
  Tensor update = m.Div(bc1).Div(v.Div(bc2).Sqrt().Add(o.eps));
  const Tensor lr = lr_.Expand({n_});
  Tensor base =
      decoupled_ && o.weight_decay != 0 ? flat_.Sub(lr.Mul(o.weight_decay).Mul(flat_)) : flat_;
  Tensor p = flat_;
  p.Assign(base.Sub(lr.Mul(update)));
  return {p, s};
}

}  // namespace uop::nn
