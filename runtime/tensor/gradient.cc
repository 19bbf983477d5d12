// The backward walk: reverse topological order over the loss graph, one
// rule application per node on a path to a target, gradients of shared nodes
// summed.
#include "runtime/tensor/gradient.h"

#include <cmath>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/tensor/gradient_rules.h"

namespace uop {
namespace {

std::string Describe(const UOp& u) {
  return absl::StrCat(u.dtype().ToString(), " ", u.shape() ? ShapeToString(*u.shape()) : "()");
}

// The forward graph indexed by topological position, with what rules ask.
class Walk final : public GradContext {
 public:
  explicit Walk(const UOpPtr& root) : order_(root->Toposort()) {
    index_.reserve(order_.size());
    for (size_t i = 0; i < order_.size(); ++i) index_[order_[i]] = static_cast<int32_t>(i);
    nonfinite_.resize(order_.size());
    for (size_t i = 0; i < order_.size(); ++i) nonfinite_[i] = ComputeNonFinite(*order_[i]);
  }

  bool MayBeNonFinite(const UOp* u) const override {
    int32_t i = IndexOf(u);
    return i < 0 || nonfinite_[i];
  }

  int32_t IndexOf(const UOp* u) const {
    auto it = index_.find(u);
    return it == index_.end() ? -1 : it->second;
  }
  const std::vector<const UOp*>& order() const { return order_; }

 private:
  bool ComputeNonFinite(const UOp& u) const {
    if (!u.dtype().is_float()) return false;
    switch (u.op()) {
      case Op::kConst:
        return !std::isfinite(u.const_float());
      case Op::kBuffer:
        return false;  // assumed: data is finite
      case Op::kExp2:
      case Op::kLog2:
      case Op::kSqrt:
      case Op::kRecip:
      case Op::kFdiv:
      case Op::kPow:
        return true;
      case Op::kWhere:
        return nonfinite_[IndexOf(u.src(1).get())] || nonfinite_[IndexOf(u.src(2).get())];
      default:
        for (const UOpPtr& s : u.src())
          if (s->dtype().is_float() && nonfinite_[IndexOf(s.get())]) return true;
        return false;
    }
  }

  std::vector<const UOp*> order_;
  absl::flat_hash_map<const UOp*, int32_t> index_;
  std::vector<uint8_t> nonfinite_;
};

absl::Status NotDifferentiable(size_t target, const UOp& u, absl::string_view blocker) {
  return absl::InvalidArgumentError(absl::StrCat(
      "Gradient: target ", target, " (", Describe(u), ") reaches the loss only through ", blocker,
      ", which has no gradient (use GradientOptions::allow_unused for zeros)"));
}

absl::Status CheckFloat(absl::string_view what, const Tensor& t) {
  RETURN_IF_ERROR(t.status());
  if (!t.dtype().is_float())
    return absl::InvalidArgumentError(absl::StrCat("Gradient: ", what, " has dtype ",
                                                   t.dtype().ToString(),
                                                   "; only float tensors have gradients"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<UOpPtr>> GradientGraph(const UOpPtr& root, const UOpPtr& root_grad,
                                                  absl::Span<const UOpPtr> targets,
                                                  const GradientOptions& options) {
  Walk walk(root);
  const std::vector<const UOp*>& order = walk.order();
  const size_t n = order.size();
  std::vector<int32_t> target_index(targets.size(), -1);
  std::vector<uint8_t> in_path(n, 0);
  for (size_t t = 0; t < targets.size(); ++t) {
    target_index[t] = walk.IndexOf(targets[t].get());
    if (target_index[t] >= 0) {
      in_path[target_index[t]] = 1;
    } else if (!options.allow_unused) {
      return absl::InvalidArgumentError(absl::StrCat("Gradient: target ", t, " (",
                                                     Describe(*targets[t]),
                                                     ") is not part of the loss's graph"));
    }
  }
  // A node is on a path when a target is it or below it.
  for (size_t i = 0; i < n; ++i)
    for (const UOpPtr& s : order[i]->src())
      if (in_path[walk.IndexOf(s.get())]) in_path[i] = 1;

  std::vector<UOpPtr> grads(n);
  // Why a node on a path got no gradient (an op name), for the error.
  std::vector<absl::string_view> blocked(n);
  grads[n - 1] = root_grad;
  for (size_t i = n; i-- > 0;) {
    if (!in_path[i]) continue;
    const UOp& u = *order[i];
    if (!grads[i]) {
      for (const UOpPtr& s : u.src()) {
        int32_t j = walk.IndexOf(s.get());
        if (in_path[j] && blocked[j].empty()) blocked[j] = blocked[i];
      }
      continue;
    }
    GradEntry entry = GradEntryOf(u.op());
    if (entry.kind == GradKind::kUnclassified)
      return absl::UnimplementedError(absl::StrCat("Gradient: cannot differentiate through ",
                                                   OpName(u.op()), " (not a tensor-level op)"));
    SrcGrads sg;
    if (entry.kind == GradKind::kRule) sg = entry.rule(u, grads[i], walk);
    for (size_t k = 0; k < u.num_srcs(); ++k) {
      const UOp& s = *u.src(k);
      int32_t j = walk.IndexOf(&s);
      if (!in_path[j]) continue;
      const UOpPtr* g = k < sg.size() && sg[k] ? &sg[k] : nullptr;
      if (!g || !s.dtype().is_float()) {
        // Name the op that turned floats into something without a gradient
        // (CMPLT below a CAST to float), else this one (DETACH, BITCAST).
        if (blocked[j].empty())
          blocked[j] = OpName(!s.dtype().is_float() && s.num_srcs() > 0 ? s.op() : u.op());
        continue;
      }
      grads[j] = grads[j] ? grads[j] + *g : *g;
    }
  }

  std::vector<UOpPtr> out(targets.size());
  for (size_t t = 0; t < targets.size(); ++t) {
    int32_t i = target_index[t];
    if (i >= 0 && grads[i]) {
      out[t] = grads[i];
      continue;
    }
    if (!options.allow_unused)
      return NotDifferentiable(t, *targets[t], blocked[i].empty() ? "DETACH" : blocked[i]);
    out[t] = GradConst(targets[t]->dtype(), *targets[t]->shape(), 0);
  }
  return out;
}

absl::StatusOr<std::vector<Tensor>> Gradient(const Tensor& loss, absl::Span<const Tensor> targets,
                                             const Tensor& grad_output,
                                             const GradientOptions& options) {
  RETURN_IF_ERROR(CheckFloat("the loss", loss));
  RETURN_IF_ERROR(CheckFloat("grad_output", grad_output));
  std::vector<UOpPtr> nodes;
  for (size_t t = 0; t < targets.size(); ++t) {
    RETURN_IF_ERROR(CheckFloat(absl::StrCat("target ", t), targets[t]));
    nodes.push_back(targets[t].uop());
  }
  if (grad_output.device() != loss.device())
    return absl::InvalidArgumentError(absl::StrCat(
        "Gradient: grad_output is on ", grad_output.device(), ", the loss on ", loss.device()));
  Tensor seed = grad_output.Cast(loss.dtype()).Expand(loss.shape());
  RETURN_IF_ERROR(seed.status());
  ASSIGN_OR_RETURN(std::vector<UOpPtr> grads,
                   GradientGraph(loss.uop(), seed.uop(), nodes, options));
  StorageRefs refs = StorageRefs::Merge(loss.storages(), seed.storages());
  std::vector<Tensor> out;
  for (size_t t = 0; t < targets.size(); ++t)
    out.push_back(Tensor::FromUOp(grads[t], targets[t].device(),
                                  StorageRefs::Merge(refs, targets[t].storages())));
  return out;
}

absl::StatusOr<std::vector<Tensor>> Gradient(const Tensor& loss, absl::Span<const Tensor> targets,
                                             const GradientOptions& options) {
  RETURN_IF_ERROR(CheckFloat("the loss", loss));
  if (loss.numel() != 1)
    return absl::InvalidArgumentError(
        absl::StrCat("Gradient: the loss has shape ", ShapeToString(loss.shape()),
                     "; reduce it to one element or pass grad_output"));
  return Gradient(loss, targets, loss.OnesLike(), options);
}

absl::Status Backward(const Tensor& loss, const Tensor& grad_output) {
  RETURN_IF_ERROR(CheckFloat("the loss", loss));
  std::vector<std::shared_ptr<GradSlot>> slots;
  std::vector<Tensor> targets;
  {
    absl::flat_hash_map<const UOp*, bool> in_graph;
    for (const UOp* u : loss.uop()->Toposort()) in_graph[u] = true;
    for (std::shared_ptr<GradSlot>& s : Tensor::LiveGradSlots()) {
      UOpPtr node;
      {
        std::lock_guard<std::mutex> lock(s->mu);
        node = s->node;
      }
      if (!node || !in_graph.contains(node.get()) || !node->dtype().is_float()) continue;
      targets.push_back(Tensor::FromUOp(node, loss.device()));
      slots.push_back(std::move(s));
    }
  }
  if (targets.empty())
    return absl::FailedPreconditionError(
        "Backward: no float tensor marked RequiresGrad() is part of the loss's graph");
  GradientOptions options;
  options.allow_unused = true;  // marked tensors behind a DETACH get zeros
  ASSIGN_OR_RETURN(std::vector<Tensor> grads, Gradient(loss, targets, grad_output, options));
  for (size_t i = 0; i < slots.size(); ++i) {
    std::lock_guard<std::mutex> lock(slots[i]->mu);
    std::optional<Tensor>& g = slots[i]->grad;
    g = g ? g->Add(grads[i]) : grads[i];
  }
  return absl::OkStatus();
}

absl::Status Backward(const Tensor& loss) {
  RETURN_IF_ERROR(CheckFloat("the loss", loss));
  if (loss.numel() != 1)
    return absl::InvalidArgumentError(
        absl::StrCat("Backward: the loss has shape ", ShapeToString(loss.shape()),
                     "; reduce it to one element or pass grad_output"));
  return Backward(loss, loss.OnesLike());
}

}  // namespace uop
