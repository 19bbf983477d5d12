// spec.h, tensor level: the rules of VerifyTensorGraph.
#include <memory>
#include <string>
#include <vector>

#include "runtime/base/status_macros.h"
#include "runtime/uop/spec.h"
#include "runtime/uop/spec_common.h"

namespace uop {
namespace {

using spec_internal::CheckConst;
using spec_internal::CheckDefineVar;
using spec_internal::CheckReduceArg;
using spec_internal::CheckSrcCount;
using spec_internal::CheckVoid;
using spec_internal::Fail;
using spec_internal::RuleTable;
using spec_internal::ShapeString;
using spec_internal::SpecCtx;
using spec_internal::SrcString;
using spec_internal::Unchecked;
using spec_internal::ViewArg;

using Status = absl::Status;
const Status kOk = absl::OkStatus();

// Tensor-level graph (spec.h): one rule per op that may appear before
// scheduling.

// Element count of a shape (a missing shape is a scalar); -1 when the
// product overflows int64.
int64_t Numel(const Shape* s) {
  int64_t n = 1;
  if (s == nullptr) return 1;
  for (int64_t d : *s)
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return -1;
  return n;
}

// Elementwise ops: the shared dtype rules, and one shape for all sources.
Status TensorElementwise(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(spec_internal::CheckElementwise(u, c));
  const Shape* first = u.src(0)->shape();
  for (size_t i = 1; i < u.num_srcs(); ++i) {
    const Shape* s = u.src(i)->shape();
    bool same = (first == nullptr) == (s == nullptr) && (first == nullptr || *first == *s);
    if (!same)
      return Fail(c, u, "sources of one shape, got ", ShapeString(first), " and ", ShapeString(s),
                  " (", SrcString(u, i), ")");
  }
  return kOk;
}

const std::vector<int64_t>* IntsArg(const UOp& u) { return u.arg().get_if<std::vector<int64_t>>(); }

// Movement ops: one source of the same dtype, and an arg that fits its shape.
Status TensorMovement(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 1));
  const UOp& src = *u.src(0);
  if (src.dtype() != u.dtype()) return Fail(c, u, "the source's dtype, got ", SrcString(u, 0));
  const Shape* in = src.shape();
  const size_t rank = in ? in->size() : 0;
  if (in == nullptr && u.op() != Op::kReshape)
    return Fail(c, u, "a source with a shape, got ", SrcString(u, 0));
  switch (u.op()) {
    case Op::kReshape: {
      const auto* shape = IntsArg(u);
      if (shape == nullptr) return Fail(c, u, "arg = the new shape");
      int64_t want = Numel(in), got = Numel(shape);
      if (got < 0) return Fail(c, u, "non-negative sizes");
      if (got != want)
        return Fail(c, u, want, " elements (the source's shape ", ShapeString(in), "), got ", got);
      return kOk;
    }
    case Op::kExpand: {
      const auto* shape = IntsArg(u);
      if (shape == nullptr || shape->size() != rank)
        return Fail(c, u, "arg = a new shape of rank ", rank, " (source ", ShapeString(in), ")");
      for (size_t a = 0; a < rank; ++a) {
        if ((*shape)[a] < 0) return Fail(c, u, "non-negative sizes");
        if ((*in)[a] != (*shape)[a] && (*in)[a] != 1)
          return Fail(c, u, "axis ", a, " to stay ", (*in)[a], " (only size-1 axes expand), got ",
                      (*shape)[a]);
      }
      return kOk;
    }
    case Op::kPermute: {
      const auto* order = IntsArg(u);
      std::vector<bool> seen(rank, false);
      bool ok = order != nullptr && order->size() == rank;
      for (size_t a = 0; ok && a < rank; ++a) {
        int64_t p = (*order)[a];
        ok = p >= 0 && p < static_cast<int64_t>(rank) && !seen[p];
        if (ok) seen[p] = true;
      }
      if (!ok) return Fail(c, u, "arg = a permutation of 0..", rank - 1);
      return kOk;
    }
    case Op::kPad:
    case Op::kShrink: {
      const auto* pairs = u.arg().get_if<PairList>();
      if (pairs == nullptr || pairs->size() != rank)
        return Fail(c, u, "one pair per axis of ", ShapeString(in));
      for (size_t a = 0; a < rank; ++a) {
        auto [b, e] = (*pairs)[a];
        if (u.op() == Op::kPad && (b < 0 || e < 0))
          return Fail(c, u, "non-negative padding, got (", b, ", ", e, ") on axis ", a);
        if (u.op() == Op::kShrink && !(0 <= b && b <= e && e <= (*in)[a]))
          return Fail(c, u, "0 <= begin <= end <= ", (*in)[a], " on axis ", a, ", got (", b, ", ",
                      e, ")");
      }
      return kOk;
    }
    case Op::kFlip: {
      const auto* flags = IntsArg(u);
      bool ok = flags != nullptr && flags->size() == rank;
      for (size_t a = 0; ok && a < rank; ++a) ok = (*flags)[a] == 0 || (*flags)[a] == 1;
      if (!ok) return Fail(c, u, "arg = one 0/1 flag per axis of ", ShapeString(in));
      return kOk;
    }
    default:
      return Fail(c, u, "a movement op");
  }
}

Status TensorReduce(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 1));
  const Shape* in = u.src(0)->shape();
  if (in == nullptr) return Fail(c, u, "a source with a shape, got ", SrcString(u, 0));
  return CheckReduceArg(u, c, in->size());
}

Status TensorBuffer(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 1));
  const auto* b = u.arg().get_if<BufferArg>();
  if (b == nullptr || b->size < 0) return Fail(c, u, "a BufferArg with size >= 0");
  if (u.src(0)->op() != Op::kDevice) return Fail(c, u, "src[0] a DEVICE, got ", SrcString(u, 0));
  DType d = u.dtype();
  if (d.is_ptr() || d.is_void() || d.count() != 1) return Fail(c, u, "a scalar element dtype");
  return kOk;
}

Status TensorDevice(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 0));
  const auto* name = u.arg().get_if<std::string>();
  if (name == nullptr || name->empty()) return Fail(c, u, "arg = a device name");
  return kOk;
}

// CONTIGUOUS, DETACH: one source, same dtype.
Status TensorUnaryPassThrough(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 1));
  if (u.src(0)->dtype() != u.dtype())
    return Fail(c, u, "the source's dtype, got ", SrcString(u, 0));
  return kOk;
}

Status TensorCopy(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 2));
  if (u.src(1)->op() != Op::kDevice) return Fail(c, u, "src[1] a DEVICE, got ", SrcString(u, 1));
  if (u.src(0)->dtype() != u.dtype())
    return Fail(c, u, "the source's dtype, got ", SrcString(u, 0));
  return kOk;
}

Status TensorAssign(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 2));
  const UOp &target = *u.src(0), &value = *u.src(1);
  if (target.dtype() != value.dtype() || u.dtype() != target.dtype())
    return Fail(c, u, "target and value of one dtype, got ", SrcString(u, 0), " and ",
                SrcString(u, 1));
  if ((target.shape() == nullptr) != (value.shape() == nullptr) ||
      (target.shape() && *target.shape() != *value.shape()))
    return Fail(c, u, "target and value of one shape, got ", ShapeString(target.shape()), " and ",
                ShapeString(value.shape()));
  return kOk;
}

Status TensorBind(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 2));
  const UOp &var = *u.src(0), &val = *u.src(1);
  if (var.op() != Op::kDefineVar || !val.is_const())
    return Fail(c, u, "BIND(DEFINE_VAR, CONST), got ", SrcString(u, 0), " and ", SrcString(u, 1));
  const auto* v = var.arg().get_if<VarArg>();
  if (v && (val.const_int() < v->min || val.const_int() > v->max))
    return Fail(c, u, "a value in [", v->min, ", ", v->max, "], got ", val.const_int());
  return kOk;
}

Status TensorView(const UOp& u, SpecCtx& c) {
  if (u.num_srcs() > 1) return Fail(c, u, "at most one source");
  return ViewArg(u, c);
}

const RuleTable& TensorRules() {
  static const RuleTable* t = new RuleTable(
      {
          {Op::kSink, CheckVoid},                     // SINK(tensors...)
          {Op::kNoop, Unchecked},                     // NOOP: anything
          {Op::kConst, CheckConst},                   // CONST: no sources, arg of the dtype's kind
          {Op::kDefineVar, CheckDefineVar},           // DEFINE_VAR: int, VarArg{min <= max}
          {Op::kBind, TensorBind},                    // BIND(DEFINE_VAR, CONST within its bounds)
          {Op::kDevice, TensorDevice},                // DEVICE: arg = name
          {Op::kBuffer, TensorBuffer},                // BUFFER(DEVICE): BufferArg{size >= 0}
          {Op::kBufferView, Unchecked},               // BUFFER_VIEW: owned by the engine
          {Op::kView, TensorView},                    // VIEW: arg = ShapeTracker
          {Op::kCopy, TensorCopy},                    // COPY(value, DEVICE)
          {Op::kContiguous, TensorUnaryPassThrough},  // CONTIGUOUS(x): same dtype
          {Op::kDetach, TensorUnaryPassThrough},      // DETACH(x): same dtype
          {Op::kAssign, TensorAssign},                // ASSIGN(target, value): same dtype, shape
          {Op::kKernelCall, Unchecked},               // KERNEL: owned by the scheduler
          {Op::kReshape, TensorMovement},             // keeps the element count
          {Op::kPermute, TensorMovement},             // a permutation of the axes
          {Op::kExpand, TensorMovement},              // only size-1 axes grow
          {Op::kPad, TensorMovement},                 // non-negative (before, after)
          {Op::kShrink, TensorMovement},              // 0 <= begin <= end <= size
          {Op::kFlip, TensorMovement},                // one 0/1 flag per axis
          {Op::kReduceAxis, TensorReduce},            // ReduceArg{ADD|MUL|MAX, axes in range}
      },
      /*elementwise=*/TensorElementwise);
  return *t;
}

}  // namespace

absl::Status VerifyTensorGraph(const UOpPtr& root) {
  SpecCtx c{"VerifyTensorGraph"};
  return spec_internal::VerifyGraph(root, TensorRules(), c);
}

}  // namespace uop
