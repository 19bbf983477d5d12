#include "runtime/uop/spec.h"

#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "runtime/base/status_macros.h"
#include "runtime/uop/spec_common.h"

namespace uop {
namespace {

using spec_internal::CheckConst;
using spec_internal::CheckDefineGlobal;
using spec_internal::CheckDefineVar;
using spec_internal::CheckSrcCount;
using spec_internal::CheckVoid;
using spec_internal::Fail;
using spec_internal::RuleTable;
using spec_internal::ShapeString;
using spec_internal::SpecCtx;
using spec_internal::SrcString;

using Status = absl::Status;
const Status kOk = absl::OkStatus();

// Element count of a shape (a missing shape is a scalar); -1 when the
// product overflows int64.
int64_t Numel(const Shape* s) {
  int64_t n = 1;
  if (s == nullptr) return 1;
  for (int64_t d : *s)
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return -1;
  return n;
}

bool IsReduceOp(Op op) { return op == Op::kAdd || op == Op::kMul || op == Op::kMax; }

Status CheckReduceArg(const UOp& u, SpecCtx& c, size_t rank) {
  const auto* r = u.arg().get_if<ReduceArg>();
  if (r == nullptr) return Fail(c, u, "a ReduceArg");
  if (!IsReduceOp(r->op)) return Fail(c, u, "reduce op ADD, MUL or MAX, got ", OpName(r->op));
  std::vector<int64_t> seen;
  for (int64_t a : r->axes) {
    if (a < 0 || a >= static_cast<int64_t>(rank))
      return Fail(c, u, "reduce axes in [0, ", rank, "), got ", a);
    if (std::find(seen.begin(), seen.end(), a) != seen.end())
      return Fail(c, u, "each reduce axis once, got ", a, " twice");
    seen.push_back(a);
  }
  if (u.src(0)->dtype() != u.dtype())
    return Fail(c, u, "the source's dtype, got ", SrcString(u, 0));
  return kOk;
}

// ---------------------------------------------------------------------------
// Tensor-level graph

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

Status AnyVoid(const UOp& u, SpecCtx& c) { return CheckVoid(u, c); }
Status Unchecked(const UOp&, SpecCtx&) { return kOk; }

Status ViewArg(const UOp& u, SpecCtx& c) {
  const auto* obj = u.arg().get_if<std::shared_ptr<const ArgObject>>();
  if (obj == nullptr || *obj == nullptr || (*obj)->Shape() == nullptr)
    return Fail(c, u, "arg = a ShapeTracker (an ArgObject with a shape)");
  return kOk;
}

Status TensorView(const UOp& u, SpecCtx& c) {
  if (u.num_srcs() > 1) return Fail(c, u, "at most one source");
  return ViewArg(u, c);
}

const RuleTable& TensorRules() {
  static const RuleTable* t = new RuleTable(
      {
          {Op::kSink, AnyVoid},                       // SINK(tensors...)
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

// ---------------------------------------------------------------------------
// Kernel AST

// Every VIEW of a kernel has one rank.
Status AstView(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 0));
  RETURN_IF_ERROR(ViewArg(u, c));
  int rank = static_cast<int>(u.shape()->size());
  if (c.view_rank < 0) c.view_rank = rank;
  if (rank != c.view_rank)
    return Fail(c, u, "rank ", c.view_rank, " like the kernel's other VIEWs");
  return kOk;
}

Status AstBufferAccess(const UOp& u, SpecCtx& c, size_t n) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, n));
  if (u.src(0)->op() != Op::kDefineGlobal)
    return Fail(c, u, "src[0] a DEFINE_GLOBAL, got ", SrcString(u, 0));
  if (u.src(1)->op() != Op::kView) return Fail(c, u, "src[1] a VIEW, got ", SrcString(u, 1));
  return kOk;
}

// LOAD(DEFINE_GLOBAL, VIEW): the buffer's element dtype.
Status AstLoad(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(AstBufferAccess(u, c, 2));
  if (u.dtype() != u.src(0)->dtype().Base())
    return Fail(c, u, "dtype ", u.src(0)->dtype().Base().ToString(), " of ", SrcString(u, 0));
  return kOk;
}

// STORE(DEFINE_GLOBAL, VIEW, value): void, value of the buffer's dtype.
Status AstStore(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(AstBufferAccess(u, c, 3));
  RETURN_IF_ERROR(CheckVoid(u, c));
  if (u.src(2)->dtype() != u.src(0)->dtype().Base())
    return Fail(c, u, "a value of dtype ", u.src(0)->dtype().Base().ToString(), ", got ",
                SrcString(u, 2));
  return kOk;
}

Status AstSink(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckVoid(u, c));
  if (u.num_srcs() == 0) return Fail(c, u, "at least one STORE");
  for (size_t i = 0; i < u.num_srcs(); ++i)
    if (u.src(i)->op() != Op::kStore) return Fail(c, u, "STORE sources, got ", SrcString(u, i));
  return kOk;
}

// CONST, or CONST(VIEW): a constant masked where padding makes it invalid.
Status AstConst(const UOp& u, SpecCtx& c) {
  if (u.num_srcs() == 1 && u.src(0)->op() == Op::kView) {
    if (u.dtype().is_float() ? !u.arg().is<double>() : !u.arg().is<int64_t>())
      return Fail(c, u, "an arg of the dtype's kind");
    return kOk;
  }
  return CheckConst(u, c);
}

Status AstReduce(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 1));
  return CheckReduceArg(u, c, c.view_rank < 0 ? 0 : c.view_rank);
}

const RuleTable& AstRules() {
  static const RuleTable* t = new RuleTable(
      {
          {Op::kSink, AstSink},                    // SINK(STORE...)
          {Op::kStore, AstStore},                  // STORE(DEFINE_GLOBAL, VIEW, value)
          {Op::kLoad, AstLoad},                    // LOAD(DEFINE_GLOBAL, VIEW)
          {Op::kDefineGlobal, CheckDefineGlobal},  // global pointer, unique slot >= 0
          {Op::kView, AstView},                    // ShapeTracker, one rank per kernel
          {Op::kConst, AstConst},                  // CONST or CONST(VIEW)
          {Op::kDefineVar, CheckDefineVar},        // symbolic launch value
          {Op::kReduceAxis, AstReduce},            // ReduceArg, axes < the views' rank
      },
      /*elementwise=*/spec_internal::CheckElementwise);
  return *t;
}

// ---------------------------------------------------------------------------
// Lowered kernel

bool IsIntScalar(DType d) { return d.is_int() && d.count() == 1 && !d.is_ptr(); }

Status LoweredDefine(const UOp& u, SpecCtx& c, AddrSpace space, const char* what) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 0));
  if (!u.dtype().is_ptr() || u.dtype().addrspace() != space) return Fail(c, u, what);
  if (!u.arg().is<int64_t>()) return Fail(c, u, "arg = an int64 id");
  return kOk;
}
Status LoweredDefineReg(const UOp& u, SpecCtx& c) {
  return LoweredDefine(u, c, AddrSpace::kReg, "a register pointer dtype");
}
Status LoweredDefineLocal(const UOp& u, SpecCtx& c) {
  return LoweredDefine(u, c, AddrSpace::kLocal, "a local pointer dtype");
}

// RANGE(end) and SPECIAL(end): an integer loop/thread index below `end`.
Status LoweredLoopIndex(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 1));
  if (!IsIntScalar(u.dtype())) return Fail(c, u, "an integer dtype");
  if (!IsIntScalar(u.src(0)->dtype())) return Fail(c, u, "an integer end, got ", SrcString(u, 0));
  if (u.op() == Op::kRange && !u.arg().is<int64_t>()) return Fail(c, u, "arg = an int64 loop id");
  if (u.op() == Op::kSpecial) {
    const auto* name = u.arg().get_if<std::string>();
    if (name == nullptr || name->empty()) return Fail(c, u, "arg = a name");
  }
  return kOk;
}

Status LoweredEndRange(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckVoid(u, c));
  if (u.num_srcs() == 0 || u.src(0)->op() != Op::kRange)
    return Fail(c, u, "src[0] a RANGE", u.num_srcs() ? ", got " + SrcString(u, 0) : "");
  return kOk;
}

// INDEX(buffer, idx[, valid]): a pointer like the buffer's. A vector idx
// addresses one element per lane (gather/scatter) and its valid has the same
// width; a scalar idx with a vector valid is a masked contiguous access.
Status LoweredIndex(const UOp& u, SpecCtx& c) {
  if (u.num_srcs() != 2 && u.num_srcs() != 3) return Fail(c, u, "2 or 3 sources");
  DType buf = u.src(0)->dtype(), idx = u.src(1)->dtype();
  if (!buf.is_ptr()) return Fail(c, u, "src[0] a pointer, got ", SrcString(u, 0));
  if (!idx.is_int() || idx.is_ptr()) return Fail(c, u, "an integer index, got ", SrcString(u, 1));
  if (u.num_srcs() == 3) {
    DType valid = u.src(2)->dtype();
    if (!valid.is_bool() || valid.is_ptr() || (idx.count() > 1 && valid.count() != idx.count()))
      return Fail(c, u, "a bool valid (of the index's width for a vector index), got ",
                  SrcString(u, 2));
  }
  if (u.dtype() != buf) return Fail(c, u, "dtype ", buf.ToString(), " of ", SrcString(u, 0));
  return kOk;
}

// src[0] of LOAD and STORE: a pointer-typed INDEX.
Status CheckAccessPointer(const UOp& u, SpecCtx& c) {
  if (u.num_srcs() == 0) return Fail(c, u, "an INDEX source");
  if (u.src(0)->op() != Op::kIndex) return Fail(c, u, "src[0] an INDEX, got ", SrcString(u, 0));
  return kOk;
}

// LOAD(INDEX[, alt], deps...): W consecutive elements; `alt` iff gated.
Status LoweredLoad(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckAccessPointer(u, c));
  const UOp& index = *u.src(0);
  DType elem = index.dtype().Base();
  if (u.dtype().scalar_type() != elem.scalar_type() || u.dtype().is_ptr())
    return Fail(c, u, "a value of ", elem.Scalar().ToString(), " elements (", SrcString(u, 0), ")");
  if (index.num_srcs() == 3) {
    if (u.num_srcs() < 2 || u.src(1)->dtype() != u.dtype())
      return Fail(c, u, "a gated load's alt value of dtype ", u.dtype().ToString());
  }
  return kOk;
}

// STORE(INDEX, value, deps...): void, value of the buffer's element type.
Status LoweredStore(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckAccessPointer(u, c));
  RETURN_IF_ERROR(CheckVoid(u, c));
  if (u.num_srcs() < 2) return Fail(c, u, "a value to store");
  DType elem = u.src(0)->dtype().Base(), v = u.src(1)->dtype();
  if (v.is_ptr() || v.scalar_type() != elem.scalar_type())
    return Fail(c, u, "a value of ", elem.Scalar().ToString(), " elements, got ", SrcString(u, 1));
  return kOk;
}

// VCONST: a vector constant with one int64 per lane.
Status LoweredVConst(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 0));
  const auto* lanes = u.arg().get_if<std::vector<int64_t>>();
  DType d = u.dtype();
  if (d.is_ptr() || !(d.is_int() || d.is_bool()) || lanes == nullptr ||
      static_cast<int>(lanes->size()) != d.count())
    return Fail(c, u, "an integer vector dtype and one int64 per lane");
  return kOk;
}

// VECTORIZE(scalars...): a vector of their dtype.
Status LoweredVectorize(const UOp& u, SpecCtx& c) {
  if (u.num_srcs() == 0) return Fail(c, u, "at least one source");
  DType lane = u.src(0)->dtype();
  for (size_t i = 0; i < u.num_srcs(); ++i)
    if (u.src(i)->dtype() != lane) return Fail(c, u, "lanes of one dtype, got ", SrcString(u, i));
  if (lane.count() != 1 || u.dtype() != lane.Vec(static_cast<int>(u.num_srcs())))
    return Fail(c, u, "dtype ", lane.Vec(static_cast<int>(u.num_srcs())).ToString());
  return kOk;
}

// GEP(vector): lanes (arg) of the source.
Status LoweredGep(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 1));
  DType src = u.src(0)->dtype();
  const auto* lanes = u.arg().get_if<std::vector<int64_t>>();
  if (lanes == nullptr || lanes->empty()) return Fail(c, u, "arg = a lane list");
  for (int64_t l : *lanes)
    if (l < 0 || l >= src.count()) return Fail(c, u, "lanes in [0, ", src.count(), "), got ", l);
  if (u.dtype() != src.Scalar().Vec(static_cast<int>(lanes->size())))
    return Fail(c, u, "dtype ", src.Scalar().Vec(static_cast<int>(lanes->size())).ToString());
  return kOk;
}

Status LoweredIf(const UOp& u, SpecCtx& c) {
  if (u.num_srcs() == 0 || !u.src(0)->dtype().is_bool()) return Fail(c, u, "a bool condition");
  return kOk;
}
Status LoweredEndIf(const UOp& u, SpecCtx& c) {
  if (u.num_srcs() == 0 || u.src(0)->op() != Op::kIf) return Fail(c, u, "src[0] an IF");
  return kOk;
}

const RuleTable& LoweredRules() {
  static const RuleTable* t = new RuleTable(
      {
          {Op::kSink, AnyVoid},                    // SINK(stores...)
          {Op::kDefineGlobal, CheckDefineGlobal},  // global pointer, unique slot >= 0
          {Op::kDefineReg, LoweredDefineReg},      // register pointer, arg = id
          {Op::kDefineLocal, LoweredDefineLocal},  // local pointer, arg = id
          {Op::kDefineVar, CheckDefineVar},        // symbolic launch value
          {Op::kConst, CheckConst},                // vector CONST is a splat
          {Op::kVConst, LoweredVConst},            // VCONST: arg = one value per lane
          {Op::kSpecial, LoweredLoopIndex},        // SPECIAL(end): arg = name
          {Op::kRange, LoweredLoopIndex},          // RANGE(end): arg = loop id
          {Op::kEndRange, LoweredEndRange},        // ENDRANGE(RANGE, deps...)
          {Op::kIndex, LoweredIndex},              // INDEX(buf, idx[, valid])
          {Op::kLoad, LoweredLoad},                // LOAD(INDEX[, alt], deps...)
          {Op::kStore, LoweredStore},              // STORE(INDEX, value, deps...)
          {Op::kVectorize, LoweredVectorize},      // VECTORIZE(lanes...)
          {Op::kGep, LoweredGep},                  // GEP(vector): arg = lanes
          {Op::kBarrier, Unchecked},               // BARRIER(deps...)
          {Op::kIf, LoweredIf},                    // IF(bool, deps...)
          {Op::kEndIf, LoweredEndIf},              // ENDIF(IF)
          {Op::kWmma, Unchecked},                  // WMMA: owned by the tensor core opt
          {Op::kCustom, Unchecked},                // CUSTOM: renderer specific
      },
      /*elementwise=*/spec_internal::CheckElementwise);
  return *t;
}

}  // namespace

absl::Status VerifyTensorGraph(const UOpPtr& root) {
  SpecCtx c{"VerifyTensorGraph"};
  return spec_internal::VerifyGraph(root, TensorRules(), c);
}

absl::Status VerifyKernelAst(const UOpPtr& sink) {
  SpecCtx c{"VerifyKernelAst"};
  if (sink && sink->op() != Op::kSink)
    return absl::InvalidArgumentError(
        absl::StrCat("VerifyKernelAst: root ", sink->ShortString(), ": expected a SINK"));
  // The views' rank first: REDUCE_AXIS checks its axes against it.
  if (sink) {
    for (const UOp* u : sink->Toposort())
      if (u->op() == Op::kView && u->shape() && c.view_rank < 0)
        c.view_rank = static_cast<int>(u->shape()->size());
  }
  return spec_internal::VerifyGraph(sink, AstRules(), c);
}

absl::Status VerifyLoweredKernel(const UOpPtr& sink) {
  SpecCtx c{"VerifyLoweredKernel"};
  return spec_internal::VerifyGraph(sink, LoweredRules(), c);
}

absl::Status VerifyLinearKernel(absl::Span<const UOpPtr> program) {
  SpecCtx c{"VerifyLinearKernel"};
  absl::flat_hash_set<const UOp*> placed;
  std::vector<const UOp*> open_ranges;
  for (size_t i = 0; i < program.size(); ++i) {
    const UOp& u = *program[i];
    RETURN_IF_ERROR(LoweredRules().Check(u, c));
    for (size_t s = 0; s < u.num_srcs(); ++s)
      if (!placed.contains(u.src(s).get()))
        return Fail(c, u, SrcString(u, s), " to come before its user (position ", i, ")");
    if (!placed.insert(&u).second) return Fail(c, u, "each op once, again at position ", i);
    if (u.op() == Op::kRange) open_ranges.push_back(&u);
    if (u.op() == Op::kEndRange) {
      if (open_ranges.empty() || open_ranges.back() != u.src(0).get())
        return Fail(c, u, "to close the innermost open RANGE",
                    open_ranges.empty() ? std::string(" (none is open)")
                                        : absl::StrCat(" ", open_ranges.back()->ShortString()));
      open_ranges.pop_back();
    }
    if (u.op() == Op::kSink && i + 1 != program.size()) return Fail(c, u, "SINK to be last");
  }
  if (!open_ranges.empty())
    return Fail(c, *open_ranges.back(), "an ENDRANGE closing it before the end of the program");
  return kOk;
}

}  // namespace uop
