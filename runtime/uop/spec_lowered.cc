// spec.h, codegen level: the rules of VerifyLoweredKernel and VerifyLinearKernel.
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "runtime/base/status_macros.h"
#include "runtime/uop/spec.h"
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
using spec_internal::SpecCtx;
using spec_internal::SrcString;
using spec_internal::Unchecked;

using Status = absl::Status;
const Status kOk = absl::OkStatus();

// Lowered kernel and linearized program (spec.h): codegen's IR.

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
          {Op::kSink, CheckVoid},                  // SINK(stores...)
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
