#include "runtime/uop/spec_common.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"

namespace uop::spec_internal {
namespace {

int Arity(Op op) {
  if (HasTrait(op, kTernary)) return 3;
  if (HasTrait(op, kBinary)) return 2;
  return 1;  // unary ALU, CAST, BITCAST
}

bool IsValue(DType d) { return !d.is_ptr() && !d.is_void(); }

}  // namespace

RuleTable::RuleTable(std::initializer_list<OpRule> rules, CheckFn elementwise) {
  if (elementwise != nullptr) {
    for (int op = 0; op < kNumOps; ++op)
      if (IsElementwise(static_cast<Op>(op))) fns_[op] = elementwise;
  }
  for (const OpRule& r : rules) fns_[static_cast<int>(r.op)] = r.check;
}

absl::Status RuleTable::Check(const UOp& u, SpecCtx& c) const {
  CheckFn fn = fns_[static_cast<int>(u.op())];
  if (fn == nullptr)
    return absl::InvalidArgumentError(absl::StrCat(c.level, ": ", u.ShortString(), ": op ",
                                                   OpName(u.op()), " is not allowed here"));
  return fn(u, c);
}

std::string ShapeString(const Shape* s) {
  if (s == nullptr) return "no shape";
  return absl::StrCat("(", absl::StrJoin(*s, ", "), ")");
}

std::string SrcString(const UOp& u, size_t i) {
  return absl::StrCat("src[", i, "] ", u.src(i)->ShortString());
}

absl::Status CheckSrcCount(const UOp& u, SpecCtx& c, size_t n) {
  if (u.num_srcs() != n) return Fail(c, u, n, " sources, got ", u.num_srcs());
  return absl::OkStatus();
}

absl::Status CheckVoid(const UOp& u, SpecCtx& c) {
  if (!u.dtype().is_void()) return Fail(c, u, "dtype void");
  return absl::OkStatus();
}

absl::Status CheckElementwise(const UOp& u, SpecCtx& c) {
  const Op op = u.op();
  const DType d = u.dtype();
  RETURN_IF_ERROR(CheckSrcCount(u, c, Arity(op)));
  if (!IsValue(d)) return Fail(c, u, "a value dtype (not a pointer or void)");
  for (size_t i = 0; i < u.num_srcs(); ++i)
    if (!IsValue(u.src(i)->dtype())) return Fail(c, u, "value sources, got ", SrcString(u, i));
  if (op == Op::kCast) return absl::OkStatus();
  if (op == Op::kBitcast) {
    if (u.src(0)->dtype().bytes() != d.bytes())
      return Fail(c, u, "the same byte size as ", SrcString(u, 0));
    return absl::OkStatus();
  }
  if (HasTrait(op, kCompare)) {
    if (u.src(0)->dtype() != u.src(1)->dtype())
      return Fail(c, u, "sources of one dtype, got ", SrcString(u, 0), " and ", SrcString(u, 1));
    if (d != DType::Bool().Vec(u.src(0)->dtype().count()))
      return Fail(c, u, "a bool result for a comparison");
    return absl::OkStatus();
  }
  size_t first_value = 0;
  if (op == Op::kWhere) {
    DType cond = u.src(0)->dtype();
    if (!cond.is_bool() || cond.count() != d.count())
      return Fail(c, u, "a bool condition of the result's width, got ", SrcString(u, 0));
    first_value = 1;
  }
  for (size_t i = first_value; i < u.num_srcs(); ++i)
    if (u.src(i)->dtype() != d)
      return Fail(c, u, "sources of dtype ", d.ToString(), ", got ", SrcString(u, i));
  switch (op) {
    case Op::kExp2:
    case Op::kLog2:
    case Op::kSin:
    case Op::kSqrt:
    case Op::kRecip:
    case Op::kFdiv:
      if (!d.is_float()) return Fail(c, u, "a float dtype for ", OpName(op));
      break;
    case Op::kIdiv:
    case Op::kMod:
    case Op::kShl:
    case Op::kShr:
      if (!d.is_int()) return Fail(c, u, "an integer dtype for ", OpName(op));
      break;
    case Op::kAnd:
    case Op::kOr:
    case Op::kXor:
      if (!d.is_int() && !d.is_bool())
        return Fail(c, u, "an integer or bool dtype for ", OpName(op));
      break;
    case Op::kThreefry:
      if (d.scalar_type() != ScalarType::kUInt64) return Fail(c, u, "uint64 for THREEFRY");
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

absl::Status CheckConst(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 0));
  DType d = u.dtype();
  if (!IsValue(d)) return Fail(c, u, "a value dtype");
  if (d.is_float() ? !u.arg().is<double>() : !u.arg().is<int64_t>())
    return Fail(c, u, d.is_float() ? "a double arg" : "an int64 arg", " for ", d.ToString());
  return absl::OkStatus();
}

absl::Status CheckDefineVar(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 0));
  if (!u.dtype().is_int() || u.dtype().count() != 1) return Fail(c, u, "an integer dtype");
  const auto* v = u.arg().get_if<VarArg>();
  if (v == nullptr || v->name.empty() || v->min > v->max)
    return Fail(c, u, "a VarArg with a name and min <= max");
  return absl::OkStatus();
}

absl::Status CheckDefineGlobal(const UOp& u, SpecCtx& c) {
  RETURN_IF_ERROR(CheckSrcCount(u, c, 0));
  DType d = u.dtype();
  if (!d.is_ptr() || d.addrspace() != AddrSpace::kGlobal || d.Base().is_void())
    return Fail(c, u, "a global pointer dtype");
  const auto* slot = u.arg().get_if<int64_t>();
  if (slot == nullptr || *slot < 0) return Fail(c, u, "arg = a slot number >= 0");
  auto [it, inserted] = c.slots.emplace(*slot, &u);
  if (!inserted && it->second != &u)
    return Fail(c, u, "one DEFINE_GLOBAL per slot, slot ", *slot, " is also ",
                it->second->ShortString());
  return absl::OkStatus();
}

namespace {
bool IsReduceOp(Op op) { return op == Op::kAdd || op == Op::kMul || op == Op::kMax; }
}  // namespace

absl::Status CheckReduceArg(const UOp& u, SpecCtx& c, size_t rank) {
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
  return absl::OkStatus();
}

absl::Status ViewArg(const UOp& u, SpecCtx& c) {
  const auto* obj = u.arg().get_if<std::shared_ptr<const ArgObject>>();
  if (obj == nullptr || *obj == nullptr || (*obj)->Shape() == nullptr)
    return Fail(c, u, "arg = a ShapeTracker (an ArgObject with a shape)");
  return absl::OkStatus();
}

absl::Status Unchecked(const UOp&, SpecCtx&) { return absl::OkStatus(); }

absl::Status VerifyGraph(const UOpPtr& root, const RuleTable& table, SpecCtx& c) {
  if (!root) return absl::InvalidArgumentError(absl::StrCat(c.level, ": null graph"));
  for (const UOp* u : root->Toposort()) RETURN_IF_ERROR(table.Check(*u, c));
  return absl::OkStatus();
}

}  // namespace uop::spec_internal
