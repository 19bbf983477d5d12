// Internals of spec.h shared by the per-level rule tables: the checking
// context, error formatting, a table type indexed by op, and the rules every
// level shares (elementwise dtypes, CONST, DEFINE_VAR).
#ifndef UOP_RUNTIME_UOP_SPEC_COMMON_H_
#define UOP_RUNTIME_UOP_SPEC_COMMON_H_

#include <array>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/uop/uop.h"

namespace uop::spec_internal {

// State a level's checks share while walking one graph.
struct SpecCtx {
  const char* level;                               // "VerifyTensorGraph", ...
  int view_rank = -1;                              // kernel AST: the rank every VIEW must have
  absl::flat_hash_map<int64_t, const UOp*> slots;  // DEFINE_GLOBAL by slot
};

// "<level>: <node>: expected <what...>"
template <typename... Args>
absl::Status Fail(const SpecCtx& c, const UOp& u, const Args&... what) {
  return absl::InvalidArgumentError(
      absl::StrCat(c.level, ": ", u.ShortString(), ": expected ", what...));
}

using CheckFn = absl::Status (*)(const UOp&, SpecCtx&);

// One entry of a level's table: the op and what it must look like.
struct OpRule {
  Op op;
  CheckFn check;
};

// Per-op rules of one level, indexed by op. Ops without a rule are not
// allowed at that level. `elementwise` (if not null) is the rule of every
// ALU op, CAST and BITCAST that `rules` does not name.
class RuleTable {
 public:
  RuleTable(std::initializer_list<OpRule> rules, CheckFn elementwise);
  absl::Status Check(const UOp& u, SpecCtx& c) const;

 private:
  std::array<CheckFn, kNumOps> fns_{};
};

std::string ShapeString(const Shape* s);
std::string SrcString(const UOp& u, size_t i);  // "src[i] <ShortString>"

absl::Status CheckSrcCount(const UOp& u, SpecCtx& c, size_t n);
absl::Status CheckVoid(const UOp& u, SpecCtx& c);

// Dtype rules of ALU ops, CAST and BITCAST (see spec.h).
absl::Status CheckElementwise(const UOp& u, SpecCtx& c);
// CONST without sources: an int64 arg for ints/bools, a double for floats.
absl::Status CheckConst(const UOp& u, SpecCtx& c);
// DEFINE_VAR: integer dtype, VarArg with min <= max, no sources.
absl::Status CheckDefineVar(const UOp& u, SpecCtx& c);
// DEFINE_GLOBAL: a global pointer dtype, arg = slot >= 0, unique per slot.
absl::Status CheckDefineGlobal(const UOp& u, SpecCtx& c);

// REDUCE_AXIS / REDUCE: ReduceArg{ADD|MUL|MAX, unique axes in [0, rank)}, and
// the source's dtype.
absl::Status CheckReduceArg(const UOp& u, SpecCtx& c, size_t rank);
// VIEW: arg = a ShapeTracker (an ArgObject with a shape).
absl::Status ViewArg(const UOp& u, SpecCtx& c);
// Ops a level allows without checking them (owned by another layer).
absl::Status Unchecked(const UOp& u, SpecCtx& c);

// Runs `table` on every node reachable from `root`, sources first.
absl::Status VerifyGraph(const UOpPtr& root, const RuleTable& table, SpecCtx& c);

}  // namespace uop::spec_internal

#endif  // UOP_RUNTIME_UOP_SPEC_COMMON_H_
