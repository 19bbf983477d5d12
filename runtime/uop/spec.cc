#include "runtime/uop/spec.h"

#include <vector>

#include "runtime/base/status_macros.h"
#include "runtime/uop/spec_common.h"

namespace uop {
namespace {

using spec_internal::CheckConst;
using spec_internal::CheckDefineGlobal;
using spec_internal::CheckDefineVar;
using spec_internal::CheckReduceArg;
using spec_internal::CheckSrcCount;
using spec_internal::CheckVoid;
using spec_internal::Fail;
using spec_internal::RuleTable;
using spec_internal::SpecCtx;
using spec_internal::SrcString;
using spec_internal::ViewArg;

using Status = absl::Status;
const Status kOk = absl::OkStatus();

// Kernel AST (spec.h): what the scheduler hands codegen.

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

}  // namespace

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

}  // namespace uop
