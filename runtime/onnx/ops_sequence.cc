// Sequences and optionals: SequenceConstruct/Empty/At/Insert/Erase/Length,
// SplitToSequence, ConcatFromSequence, SequenceMap, Optional,
// OptionalHasElement, OptionalGetElement. A sequence is a list of Values at
// import; its tensors are ordinary lazy tensors.
#include "runtime/onnx/onnx_types.h"
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

absl::StatusOr<const std::vector<Value>*> SeqInput(const OpContext& ctx, int i) {
  const Value& v = ctx.In(i);
  if (v.kind() != Value::Kind::kSequence)
    return ctx.Error("input ", i, " must be a sequence, got ", v.Describe());
  return &v.items();
}

bool AllConst(const std::vector<Value>& items) {
  for (const Value& v : items)
    if (!v.is_const()) return false;
  return true;
}

absl::StatusOr<int64_t> Position(OpContext& ctx, int input, int64_t size, bool insert) {
  ASSIGN_OR_RETURN(int64_t p, ctx.IntInput(input));
  const int64_t hi = insert ? size : size - 1;
  if (p < -size || p > hi)
    return ctx.Error("position ", p, " is out of range for ", size, " items");
  return p < 0 ? p + size : p;
}

absl::Status SequenceConstruct(OpContext& ctx) {
  std::vector<Value> items;
  for (int i = 0; i < ctx.num_inputs(); ++i) items.push_back(ctx.In(i));
  ctx.Set(0, Value::Sequence(items, AllConst(items)));
  return absl::OkStatus();
}

absl::Status SequenceEmpty(OpContext& ctx) {
  ctx.Set(0, Value::Sequence({}, true));
  return absl::OkStatus();
}

absl::Status SequenceAt(OpContext& ctx) {
  ASSIGN_OR_RETURN(const std::vector<Value>* seq, SeqInput(ctx, 0));
  ASSIGN_OR_RETURN(int64_t p, Position(ctx, 1, static_cast<int64_t>(seq->size()), false));
  ctx.Set(0, (*seq)[p]);
  return absl::OkStatus();
}

absl::Status SequenceInsert(OpContext& ctx) {
  ASSIGN_OR_RETURN(const std::vector<Value>* seq, SeqInput(ctx, 0));
  std::vector<Value> items = *seq;
  int64_t p = static_cast<int64_t>(items.size());
  if (ctx.Has(2)) {
    ASSIGN_OR_RETURN(p, Position(ctx, 2, p, true));
  }
  items.insert(items.begin() + p, ctx.In(1));
  ctx.Set(0, Value::Sequence(items, AllConst(items)));
  return absl::OkStatus();
}

absl::Status SequenceErase(OpContext& ctx) {
  ASSIGN_OR_RETURN(const std::vector<Value>* seq, SeqInput(ctx, 0));
  std::vector<Value> items = *seq;
  if (items.empty()) return ctx.Error("cannot erase from an empty sequence");
  int64_t p = static_cast<int64_t>(items.size()) - 1;
  if (ctx.Has(1)) {
    ASSIGN_OR_RETURN(p, Position(ctx, 1, p + 1, false));
  }
  items.erase(items.begin() + p);
  ctx.Set(0, Value::Sequence(items, AllConst(items)));
  return absl::OkStatus();
}

absl::Status SequenceLength(OpContext& ctx) {
  ASSIGN_OR_RETURN(const std::vector<Value>* seq, SeqInput(ctx, 0));
  ctx.Set(0, HostConstantOf<int64_t>({static_cast<int64_t>(seq->size())}, {}));
  return absl::OkStatus();
}

absl::Status SplitToSequence(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", 0), x.ndim()));
  const bool keepdims = ctx.Int("keepdims", 1) != 0;
  const int64_t n = x.shape()[axis];
  std::vector<int64_t> sizes;
  bool squeeze = false;
  if (ctx.Has(1)) {
    ASSIGN_OR_RETURN(std::vector<int64_t> split, ctx.IntsInput(1));
    if (ctx.In(1).shape().empty()) {  // a scalar: pieces of that size
      if (split[0] <= 0) return ctx.Error("split size must be positive");
      for (int64_t left = n; left > 0; left -= split[0]) sizes.push_back(std::min(split[0], left));
    } else {
      sizes = split;
    }
  } else {
    sizes.assign(n, 1);
    squeeze = !keepdims;
  }
  std::vector<Value> items;
  for (const Tensor& t : x.Split(sizes, axis))
    items.push_back(Value::FromTensor(squeeze ? t.Squeeze({axis}) : t));
  ctx.Set(0, Value::Sequence(items, ctx.In(0).is_const()));
  return absl::OkStatus();
}

absl::Status ConcatFromSequence(OpContext& ctx) {
  ASSIGN_OR_RETURN(const std::vector<Value>* seq, SeqInput(ctx, 0));
  if (seq->empty()) return ctx.Error("cannot concatenate an empty sequence");
  const bool new_axis = ctx.Int("new_axis", 0) != 0;
  const int64_t rank = (*seq)[0].tensor().ndim() + (new_axis ? 1 : 0);
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", 0), rank));
  std::vector<Tensor> ts;
  for (const Value& v : *seq) {
    if (!v.is_tensor()) return ctx.Error("sequence items must be tensors");
    ts.push_back(new_axis ? v.tensor().Unsqueeze(axis) : v.tensor());
  }
  ctx.Set(0, ts.size() == 1 ? ts[0] : Tensor::Cat(ts, axis));
  return absl::OkStatus();
}

absl::Status SequenceMap(OpContext& ctx) {
  ASSIGN_OR_RETURN(const Graph* body, ctx.GraphAttr("body"));
  ASSIGN_OR_RETURN(const std::vector<Value>* first, SeqInput(ctx, 0));
  const size_t n = first->size();
  std::vector<std::vector<Value>> outs(ctx.num_outputs());
  for (size_t k = 0; k < n; ++k) {
    std::vector<Value> in;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Value& v = ctx.In(i);
      if (v.kind() == Value::Kind::kSequence) {
        if (v.items().size() != n) return ctx.Error("input sequences differ in length");
        in.push_back(v.items()[k]);
      } else {
        in.push_back(v);
      }
    }
    ASSIGN_OR_RETURN(std::vector<Value> out, ctx.eval().RunGraph(*body, in));
    for (int i = 0; i < ctx.num_outputs() && i < static_cast<int>(out.size()); ++i)
      outs[i].push_back(out[i]);
  }
  for (int i = 0; i < ctx.num_outputs(); ++i)
    ctx.Set(i, Value::Sequence(outs[i], AllConst(outs[i])));
  return absl::OkStatus();
}

absl::Status Optional(OpContext& ctx) {
  ctx.Set(0, ctx.Has(0) ? ctx.In(0) : Value::None());
  return absl::OkStatus();
}

absl::Status OptionalHasElement(OpContext& ctx) {
  const bool has = ctx.Has(0) && ctx.In(0).kind() != Value::Kind::kNone;
  ctx.Set(0, HostConstantOf<bool>({has}, {}));
  return absl::OkStatus();
}

absl::Status OptionalGetElement(OpContext& ctx) {
  if (!ctx.Has(0) || ctx.In(0).kind() == Value::Kind::kNone)
    return ctx.Error("the optional is empty");
  ctx.Set(0, ctx.In(0));
  return absl::OkStatus();
}

}  // namespace

void RegisterSequenceOps(OpRegistry& r) {
  auto add = [&](const char* name, int since, OpFn fn) { r.Add(kOnnxDomain, name, since, fn); };
  add("SequenceConstruct", 11, SequenceConstruct);
  add("SequenceEmpty", 11, SequenceEmpty);
  add("SequenceAt", 11, SequenceAt);
  add("SequenceInsert", 11, SequenceInsert);
  add("SequenceErase", 11, SequenceErase);
  add("SequenceLength", 11, SequenceLength);
  add("SplitToSequence", 11, SplitToSequence);
  add("ConcatFromSequence", 11, ConcatFromSequence);
  add("SequenceMap", 17, SequenceMap);
  add("Optional", 15, Optional);
  add("OptionalHasElement", 15, OptionalHasElement);
  add("OptionalGetElement", 15, OptionalGetElement);
}

}  // namespace uop::onnx_import
