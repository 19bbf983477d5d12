// Control flow: If, Loop, Scan. Subgraphs run through the evaluator, so their
// nodes fold and build lazy tensors like the main graph's; loops are unrolled
// into the tensor graph (their trip counts and conditions are read at import).
#include "absl/strings/str_cat.h"
#include "runtime/onnx/onnx_types.h"
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

absl::StatusOr<bool> ReadCondition(OpContext& ctx, int input) {
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> h, ctx.HostInput(input));
  if (h->is_string || h->numel() != 1)
    return ctx.Error("condition must be one boolean, got ", h->Describe());
  return h->AsDouble(0) != 0;
}

// Whether two branch results can be merged elementwise by a Where.
bool Mergeable(const std::vector<Value>& a, const std::vector<Value>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_tensor() || !b[i].is_tensor()) return false;
    if (a[i].tensor().shape() != b[i].tensor().shape() ||
        a[i].tensor().dtype() != b[i].tensor().dtype())
      return false;
  }
  return true;
}

absl::Status If(OpContext& ctx) {
  ASSIGN_OR_RETURN(const Graph* then_g, ctx.GraphAttr("then_branch"));
  ASSIGN_OR_RETURN(const Graph* else_g, ctx.GraphAttr("else_branch"));
  const Value& cond = ctx.In(0);
  if (!cond.is_tensor()) return ctx.Error("condition must be a tensor");
  // A condition on large runtime data: run both branches and select, which
  // keeps the run free of host reads, when their results line up.
  if (!cond.is_const() && !ctx.eval().DependsOnlySmallInputs(cond.tensor())) {
    absl::StatusOr<std::vector<Value>> a = ctx.eval().RunGraph(*then_g, {});
    absl::StatusOr<std::vector<Value>> b = a.ok() ? ctx.eval().RunGraph(*else_g, {}) : a.status();
    if (a.ok() && b.ok() && Mergeable(*a, *b)) {
      Tensor c = cond.tensor().Cast(DType::Bool()).Reshape({});
      for (size_t i = 0; i < a->size(); ++i)
        ctx.Set(static_cast<int>(i), c.Where((*a)[i].tensor(), (*b)[i].tensor()));
      return absl::OkStatus();
    }
  }
  ASSIGN_OR_RETURN(bool c, ReadCondition(ctx, 0));
  ASSIGN_OR_RETURN(std::vector<Value> outs, ctx.eval().RunGraph(c ? *then_g : *else_g, {}));
  if (static_cast<int>(outs.size()) < ctx.num_outputs())
    return ctx.Error("the ", c ? "then" : "else", " branch has ", outs.size(),
                     " outputs, the node ", ctx.num_outputs());
  for (int i = 0; i < ctx.num_outputs(); ++i) ctx.Set(i, outs[i]);
  return absl::OkStatus();
}

// The per-iteration values of a scan output stacked along `axis`; an empty
// list becomes an empty tensor of the body's declared element type.
Value StackScan(const std::vector<Value>& items, int64_t axis, bool reverse) {
  std::vector<Tensor> ts;
  for (const Value& v : items) ts.push_back(v.tensor().Unsqueeze(axis));
  if (reverse) std::reverse(ts.begin(), ts.end());
  return Value::FromTensor(ts.size() == 1 ? ts[0] : Tensor::Cat(ts, axis));
}

absl::Status Loop(OpContext& ctx) {
  ASSIGN_OR_RETURN(const Graph* body, ctx.GraphAttr("body"));
  const int n_carried = ctx.num_inputs() - 2;
  if (n_carried < 0) return ctx.Error("needs the M and cond inputs (each may be empty)");
  const int n_scan = static_cast<int>(body->outputs.size()) - 1 - n_carried;
  if (n_scan < 0 || static_cast<int>(body->inputs.size()) != 2 + n_carried)
    return ctx.Error("body takes ", body->inputs.size(), " inputs and gives ", body->outputs.size(),
                     " outputs for ", n_carried, " loop-carried values");
  int64_t trip = INT64_MAX;
  if (ctx.Has(0)) {
    ASSIGN_OR_RETURN(trip, ctx.IntInput(0));
  }
  bool cond = true;
  if (ctx.Has(1)) {
    ASSIGN_OR_RETURN(cond, ReadCondition(ctx, 1));
  }
  std::vector<Value> carried;
  for (int i = 0; i < n_carried; ++i) carried.push_back(ctx.In(2 + i));
  std::vector<std::vector<Value>> scans(n_scan);
  constexpr int64_t kMaxIterations = 1 << 16;
  for (int64_t it = 0; it < trip && cond; ++it) {
    if (it >= kMaxIterations) return ctx.Error("more than ", kMaxIterations, " iterations");
    std::vector<Value> in;
    in.push_back(HostConstantOf<int64_t>({it}, {}));
    in.push_back(HostConstantOf<bool>({cond}, {}));
    for (const Value& v : carried) in.push_back(v);
    ASSIGN_OR_RETURN(std::vector<Value> out, ctx.eval().RunGraph(*body, in));
    // The body's condition output decides the next iteration.
    if (!out[0].is_tensor()) return ctx.Error("body condition must be a tensor");
    ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> c, ctx.eval().ReadHost(out[0]));
    if (c->numel() != 1) return ctx.Error("body condition must be one boolean");
    cond = c->AsDouble(0) != 0;
    for (int i = 0; i < n_carried; ++i) carried[i] = out[1 + i];
    for (int i = 0; i < n_scan; ++i) scans[i].push_back(out[1 + n_carried + i]);
  }
  for (int i = 0; i < n_carried; ++i) ctx.Set(i, carried[i]);
  for (int i = 0; i < n_scan; ++i) {
    if (!ctx.Wants(n_carried + i)) continue;
    if (scans[i].empty()) {
      // No iteration ran: an empty stack of the body's declared type.
      const ValueType& t = body->outputs[1 + n_carried + i].type;
      DType d = DType::Float32();
      if (t.elem_type) {
        absl::StatusOr<DType> dt = DTypeFromOnnx(t.elem_type);
        if (dt.ok()) d = *dt;
      }
      Shape s = {0};
      for (const Dim& dim : t.dims) s.push_back(std::max<int64_t>(dim.value, 0));
      ctx.Set(n_carried + i, Tensor::Zeros(s, d));
      continue;
    }
    if (!scans[i][0].is_tensor()) return ctx.Error("scan outputs must be tensors");
    ctx.Set(n_carried + i, StackScan(scans[i], 0, false));
  }
  return absl::OkStatus();
}

// One Scan over states and scan inputs already laid out with the scan axis
// given per input; returns final states then scan outputs.
absl::StatusOr<std::vector<Value>> RunScan(OpContext& ctx, const Graph& body,
                                           const std::vector<Value>& states,
                                           const std::vector<Tensor>& inputs,
                                           const std::vector<int64_t>& in_axes,
                                           const std::vector<int64_t>& in_dirs,
                                           const std::vector<int64_t>& out_axes,
                                           const std::vector<int64_t>& out_dirs) {
  const size_t n_state = states.size(), n_in = inputs.size();
  if (body.inputs.size() != n_state + n_in)
    return ctx.Error("body takes ", body.inputs.size(), " inputs for ", n_state, " states and ",
                     n_in, " scan inputs");
  if (body.outputs.size() < n_state) return ctx.Error("body has fewer outputs than states");
  const size_t n_out = body.outputs.size() - n_state;
  int64_t steps = -1;
  for (size_t i = 0; i < n_in; ++i) {
    RETURN_IF_ERROR(inputs[i].status());
    if (in_axes[i] < 0 || in_axes[i] >= inputs[i].ndim())
      return ctx.Error("scan axis ", in_axes[i], " is out of range for ",
                       ShapeToString(inputs[i].shape()));
    const int64_t len = inputs[i].shape()[in_axes[i]];
    if (steps >= 0 && len != steps) return ctx.Error("scan inputs differ in length");
    steps = len;
  }
  if (steps < 0) return ctx.Error("needs at least one scan input");
  std::vector<Value> state = states;
  std::vector<std::vector<Value>> outs(n_out);
  for (int64_t t = 0; t < steps; ++t) {
    std::vector<Value> in = state;
    for (size_t i = 0; i < n_in; ++i) {
      const int64_t pos = in_dirs[i] ? steps - 1 - t : t;
      in.push_back(Value::FromTensor(inputs[i].Select(in_axes[i], pos)));
    }
    ASSIGN_OR_RETURN(std::vector<Value> out, ctx.eval().RunGraph(body, in));
    for (size_t i = 0; i < n_state; ++i) state[i] = out[i];
    for (size_t i = 0; i < n_out; ++i) outs[i].push_back(out[n_state + i]);
  }
  std::vector<Value> result = state;
  for (size_t i = 0; i < n_out; ++i) {
    if (outs[i].empty()) return ctx.Error("scan over zero steps");
    result.push_back(StackScan(outs[i], out_axes[i], out_dirs[i] != 0));
  }
  return result;
}

absl::Status Scan(OpContext& ctx) {
  ASSIGN_OR_RETURN(const Graph* body, ctx.GraphAttr("body"));
  ASSIGN_OR_RETURN(int64_t n_in, ctx.RequiredInt("num_scan_inputs"));
  const bool v8 = ctx.opset() < 9;  // opset 8: a leading batch axis and sequence_lens
  const int first = v8 ? 1 : 0;
  if (n_in < 1 || n_in > ctx.num_inputs() - first)
    return ctx.Error("num_scan_inputs ", n_in, " does not fit ", ctx.num_inputs(), " inputs");
  const int n_state = ctx.num_inputs() - first - static_cast<int>(n_in);
  if (static_cast<size_t>(n_state) > body->outputs.size())
    return ctx.Error("body has ", body->outputs.size(), " outputs for ", n_state, " states");
  const size_t n_out = body->outputs.size() - n_state;
  std::vector<int64_t> in_axes = ctx.Ints("scan_input_axes", std::vector<int64_t>(n_in, 0));
  std::vector<int64_t> in_dirs =
      ctx.Ints(v8 ? "directions" : "scan_input_directions", std::vector<int64_t>(n_in, 0));
  std::vector<int64_t> out_axes = ctx.Ints("scan_output_axes", std::vector<int64_t>(n_out, 0));
  std::vector<int64_t> out_dirs =
      ctx.Ints("scan_output_directions", std::vector<int64_t>(n_out, 0));
  if (in_axes.size() != static_cast<size_t>(n_in) || in_dirs.size() != static_cast<size_t>(n_in) ||
      out_axes.size() != n_out || out_dirs.size() != n_out)
    return ctx.Error("scan axes/directions lists do not match the inputs and outputs");
  std::vector<Value> states;
  for (int i = 0; i < n_state; ++i) states.push_back(ctx.In(first + i));
  std::vector<Tensor> inputs;
  for (int i = 0; i < n_in; ++i) {
    ASSIGN_OR_RETURN(Tensor x, ctx.Input(first + n_state + i));
    inputs.push_back(x);
  }
  if (!v8) {
    for (int64_t i = 0; i < n_in; ++i) {
      ASSIGN_OR_RETURN(in_axes[i], NormAxis(ctx, in_axes[i], inputs[i].ndim()));
    }
    for (size_t i = 0; i < n_out; ++i) {
      const int64_t rank =
          body->outputs[n_state + i].type.has_shape
              ? static_cast<int64_t>(body->outputs[n_state + i].type.dims.size()) + 1
              : out_axes[i] + 1;
      ASSIGN_OR_RETURN(out_axes[i], NormAxis(ctx, out_axes[i], rank));
    }
    ASSIGN_OR_RETURN(std::vector<Value> r,
                     RunScan(ctx, *body, states, inputs, in_axes, in_dirs, out_axes, out_dirs));
    for (int i = 0; i < ctx.num_outputs() && i < static_cast<int>(r.size()); ++i) ctx.Set(i, r[i]);
    return absl::OkStatus();
  }
  // Opset 8: every input has a batch axis 0; each batch is its own scan along axis 1.
  if (ctx.Has(0)) return ctx.Unsupported("sequence_lens of Scan-8 is not supported");
  for (const Tensor& t : inputs)
    if (t.ndim() < 2) return ctx.Error("Scan-8 inputs need a batch and a sequence axis");
  const int64_t batch = inputs[0].shape()[0];
  std::vector<std::vector<Value>> per_batch;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Value> st;
    for (const Value& s : states) st.push_back(Value::FromTensor(s.tensor().Select(0, b)));
    std::vector<Tensor> in;
    for (const Tensor& x : inputs) in.push_back(x.Select(0, b));
    ASSIGN_OR_RETURN(std::vector<Value> r,
                     RunScan(ctx, *body, st, in, std::vector<int64_t>(n_in, 0), in_dirs,
                             std::vector<int64_t>(n_out, 0), out_dirs));
    per_batch.push_back(std::move(r));
  }
  for (int i = 0; i < ctx.num_outputs(); ++i) {
    std::vector<Value> items;
    for (const std::vector<Value>& r : per_batch) items.push_back(r[i]);
    ctx.Set(i, StackScan(items, 0, false));
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterControlFlowOps(OpRegistry& r) {
  r.Add(kOnnxDomain, "If", 1, If);
  r.Add(kOnnxDomain, "Loop", 1, Loop);
  r.Add(kOnnxDomain, "Scan", 8, Scan);
}

}  // namespace uop::onnx_import
