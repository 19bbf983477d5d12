#include "runtime/onnx/evaluator.h"

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/onnx/op_context.h"
#include "runtime/onnx/registry.h"
#include "runtime/tensor/reference_eval.h"

namespace uop::onnx_import {
namespace {

// Whether `t` reads nothing but its own realized buffer (possibly reshaped):
// realizing it again would copy for nothing.
bool IsBufferView(const Tensor& t) {
  const UOp* u = t.uop().get();
  while (u && IsMovement(u->op()) && u->num_srcs() == 1) u = u->src(0).get();
  return u && (u->op() == Op::kBuffer || u->op() == Op::kConst);
}

// Whether a constant's graph computes something from buffers (a dequantized
// or scaled weight) rather than being a view or a broadcast constant, which
// stay lazy because they cost nothing in a kernel.
bool ComputesFromBuffers(const Tensor& t) {
  bool reads_buffer = false, computes = false;
  for (const UOp* u : t.uop()->Toposort()) {
    Op op = u->op();
    if (op == Op::kBuffer)
      reads_buffer = true;
    else if (!IsMovement(op) && op != Op::kConst && op != Op::kDevice)
      computes = true;
  }
  return reads_buffer && computes;
}

// Whether `shape` has at most `limit` elements (without overflowing).
bool WithinElements(const Shape& shape, int64_t limit) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return false;
    if (d != 0 && n > limit / d) {
      for (int64_t e : shape)
        if (e == 0) return true;
      return false;
    }
    n *= d;
  }
  return n <= limit;
}

std::string Prefix(const Node& node, absl::string_view msg) {
  return absl::StrCat(node.Label(), ": ", msg);
}

}  // namespace

Value ConstantCache::Get(const std::shared_ptr<const HostTensor>& host) {
  absl::MutexLock lock(&mu_);
  auto it = values_.find(host.get());
  if (it != values_.end()) return it->second;
  Value v = Value::Constant(host);
  values_.emplace(host.get(), v);
  return v;
}

Evaluator::Evaluator(const ModelDef& model, ConstantCache* cache) : model_(model), cache_(cache) {}

Value Evaluator::ConstantValue(const std::shared_ptr<const HostTensor>& host) {
  return cache_ ? cache_->Get(host) : Value::Constant(host);
}

absl::StatusOr<std::vector<Value>> Evaluator::RunMain(std::vector<Value> inputs) {
  const Graph& g = model_.graph;
  if (inputs.size() != g.inputs.size())
    return absl::InvalidArgumentError(
        absl::StrCat("the model has ", g.inputs.size(), " inputs, given ", inputs.size()));
  env_.assign(model_.num_values(), Value());
  for (const Graph::Initializer& init : g.initializers) env_[init.id] = ConstantValue(init.value);
  input_storages_.clear();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ValueInfo& info = g.inputs[i];
    if (!inputs[i].present()) {
      if (!env_[info.id].present())
        return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "' is missing"));
      continue;
    }
    if (inputs[i].is_tensor())
      for (const std::shared_ptr<Storage>& s : inputs[i].tensor().storages().storages())
        input_storages_.push_back({s.get(), static_cast<int>(i)});
    env_[info.id] = std::move(inputs[i]);
  }
  for (const Node& node : g.nodes) RETURN_IF_ERROR(RunNode(node));
  std::vector<Value> outs;
  outs.reserve(g.outputs.size());
  for (const ValueInfo& o : g.outputs) outs.push_back(env_[o.id]);
  return outs;
}

absl::StatusOr<std::vector<Value>> Evaluator::RunGraph(const Graph& g,
                                                       const std::vector<Value>& inputs) {
  if (inputs.size() > g.inputs.size())
    return absl::InvalidArgumentError(absl::StrCat(
        "subgraph '", g.name, "' takes ", g.inputs.size(), " inputs, given ", inputs.size()));
  if (++depth_ > 64) {
    --depth_;
    return absl::InvalidArgumentError("subgraphs nested too deeply at run time");
  }
  for (const Graph::Initializer& init : g.initializers) env_[init.id] = ConstantValue(init.value);
  for (size_t i = 0; i < inputs.size(); ++i) env_[g.inputs[i].id] = inputs[i];
  absl::Status st = absl::OkStatus();
  for (const Node& node : g.nodes) {
    st = RunNode(node);
    if (!st.ok()) break;
  }
  --depth_;
  RETURN_IF_ERROR(st);
  std::vector<Value> outs;
  outs.reserve(g.outputs.size());
  for (const ValueInfo& o : g.outputs) outs.push_back(env_[o.id]);
  return outs;
}

bool Evaluator::DependsOnlySmallInputs(const Tensor& t) const {
  for (const std::shared_ptr<Storage>& s : t.storages().storages())
    for (const auto& [storage, index] : input_storages_)
      if (storage == s.get() && s->size() > kSmallInputElements) return false;
  return true;
}

absl::Status Evaluator::MaterializeConst(Value& v) {
  if (!v.is_tensor() || !v.is_const() || v.host() || IsBufferView(v.tensor()))
    return absl::OkStatus();
  if (!ComputesFromBuffers(v.tensor())) return absl::OkStatus();
  return v.mutable_tensor().Realize();
}

absl::StatusOr<std::shared_ptr<const HostTensor>> Evaluator::ReadHost(const Value& v) {
  if (v.host()) return v.host();
  if (!v.is_tensor())
    return absl::InvalidArgumentError(absl::StrCat("expected a tensor, got ", v.Describe()));
  const Tensor& t = v.tensor();
  RETURN_IF_ERROR(t.status());
  auto h = std::make_shared<HostTensor>();
  h->dtype = t.dtype();
  h->shape = t.shape();
  if (v.is_const()) {
    absl::StatusOr<HostArray> a = ReferenceEvaluate(t.uop());
    if (a.ok()) {
      h->bytes = std::move(a->bytes);
      return std::shared_ptr<const HostTensor>(std::move(h));
    }
  } else {
    for (const std::shared_ptr<Storage>& s : t.storages().storages())
      for (const auto& [storage, index] : input_storages_)
        if (storage == s.get()) host_read_inputs_.insert(index);
  }
  ASSIGN_OR_RETURN(h->bytes, t.ToBytes());
  return std::shared_ptr<const HostTensor>(std::move(h));
}

absl::Status Evaluator::FoldOutputs(const Node& node, std::vector<Value>& outs) {
  for (Value& v : outs) {
    if (!v.is_const() || !v.is_tensor() || v.host() || !v.tensor().ok()) continue;
    if (v.tensor().numel() > kHostFoldLimit) continue;
    absl::StatusOr<HostArray> a = ReferenceEvaluate(v.tensor().uop());
    if (!a.ok()) continue;  // left lazy; realized when a runtime node needs it
    auto h = std::make_shared<HostTensor>();
    h->dtype = a->dtype;
    h->shape = v.tensor().shape();
    h->bytes = std::move(a->bytes);
    v = Value::Constant(std::move(h));
  }
  return absl::OkStatus();
}

absl::Status Evaluator::RunNode(const Node& node) {
  static Value* const kAbsent = new Value();
  if (!node.handler)
    return absl::UnimplementedError(
        Prefix(node, absl::StrCat("no handler for opset ", node.opset)));
  std::vector<Value*> inputs;
  inputs.reserve(node.inputs.size());
  bool all_const = node.handler->deterministic();
  for (int id : node.inputs) {
    Value* v = id == kNoValue ? kAbsent : &env_[id];
    if (id != kNoValue && !v->present())
      return absl::InternalError(
          Prefix(node, absl::StrCat("input '", model_.value_names[id], "' has no value")));
    if (v->present() && !v->is_const()) all_const = false;
    inputs.push_back(v);
  }
  bool has_subgraph = false;
  for (const Attribute& a : node.attrs)
    if (a.type == AttrType::kGraph || a.type == AttrType::kGraphs) has_subgraph = true;
  if (!all_const) {
    for (Value* v : inputs) {
      absl::Status st = MaterializeConst(*v);
      if (!st.ok()) return absl::Status(st.code(), Prefix(node, st.message()));
    }
  }
  // A handler that draws random numbers (Dropout in training mode) reports it
  // through NoteRandom; its outputs are then not constants either.
  const bool random_before = used_random_;
  used_random_ = false;
  OpContext ctx(*this, node, std::move(inputs));
  absl::Status st = node.handler->fn(ctx);
  if (used_random_ || !node.handler->deterministic()) all_const = false;
  used_random_ = used_random_ || random_before || !node.handler->deterministic();
  if (!st.ok()) return absl::Status(st.code(), Prefix(node, st.message()));
  std::vector<Value>& outs = ctx.outputs();
  for (size_t i = 0; i < outs.size(); ++i) {
    if (node.outputs[i] == kNoValue) continue;
    if (!outs[i].present())
      return absl::InternalError(Prefix(node, absl::StrCat("produced no output ", i)));
    if (outs[i].is_tensor() && !outs[i].tensor().ok()) {
      const absl::Status& e = outs[i].tensor().status();
      return absl::Status(e.code(), Prefix(node, e.message()));
    }
    if (outs[i].is_tensor() &&
        !WithinElements(outs[i].tensor().shape(), model_.options.max_tensor_elements))
      return absl::ResourceExhaustedError(Prefix(
          node, absl::StrCat("output ", i, " ", ShapeToString(outs[i].tensor().shape()),
                             " has more than ", model_.options.max_tensor_elements, " elements")));
  }
  if (all_const && !has_subgraph) {
    for (Value& v : outs)
      if (v.present() && !v.is_const()) {
        if (v.is_tensor())
          v = Value::FromTensor(v.tensor(), true);
        else if (v.kind() == Value::Kind::kStrings)
          v = Value::Strings(v.host(), true);
        else if (v.kind() == Value::Kind::kSequence)
          v = Value::Sequence(v.items(), true);
      }
  }
  RETURN_IF_ERROR(FoldOutputs(node, outs));
  for (size_t i = 0; i < outs.size(); ++i)
    if (node.outputs[i] != kNoValue) env_[node.outputs[i]] = std::move(outs[i]);
  return absl::OkStatus();
}

}  // namespace uop::onnx_import
