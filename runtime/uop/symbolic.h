// Symbolic simplification: algebra on UOps as rewrite rules, one rule per
// line with its algebra beside it (symbolic.cc). Mostly index arithmetic:
// what view lowering produces is a tower of `*`, `+`, `//` and `%` over loop
// variables, and every division or modulo removed here is one less per
// element at run time.
//
//   UOpPtr i = UOp::Var("i", 0, 63), j = UOp::Var("j", 0, 7);
//   Simplify((i * 8 + j) / 8)  == i
//   Simplify((i * 8 + j) % 8)  == j
//   Simplify(Lt(i * 4, 10))    == Lt(i, 3)
//
// Two rule sets:
// * SymbolicSimple(): local identities and constant folding, valid for every
//   dtype (x+0, x*1, x*0 for integers only, x//1, where(c, x, x), bool
//   algebra, CONST op CONST via const_fold.h, ...). Cheap; safe to combine
//   with any lowering pass.
// * Symbolic(): SymbolicSimple() plus bounds-based folding (a node whose
//   vmin == vmax becomes a CONST; comparisons, max, div and mod decided by
//   bounds), re-association and combining of like terms, distribution of
//   constants, and folding of division, modulo and comparisons by constants.
//
// Semantics preserved (tested against a brute-force evaluator): integer
// IDIV/MOD truncate toward zero; every rewrite is exact for all values of the
// variables within their bounds for which the original expression does not
// overflow, and rewrites never introduce an overflow (constants are combined
// with checked arithmetic and new partial sums have their ranges checked; a
// rule that cannot prove this does not fire). Float expressions only get
// rewrites that are exact in IEEE arithmetic: `x * 0` is NOT folded for
// floats (0 * inf and 0 * nan are nan) and float sums are not re-associated.
// The one tolerated float change: `x + 0.0 -> x` maps -0.0 + 0.0 (= +0.0) to
// -0.0, which compares equal.
//
// The index algebra (re-association, div/mod/lt folding) applies to signed
// integer and index dtypes, whose overflow is undefined; unsigned and bool
// values get constant folding, identities and bounds folding only.
//
// Rules are named; with match statistics enabled (PatternMatcher::EnableStats
// or UOP_MATCH_STATS=1) Symbolic().Stats() reports tries/matches/rewrites per
// rule.
#ifndef UOP_RUNTIME_UOP_SYMBOLIC_H_
#define UOP_RUNTIME_UOP_SYMBOLIC_H_

#include "runtime/uop/matcher.h"
#include "runtime/uop/uop.h"

namespace uop {

// Local identities and constant folding (any dtype).
const PatternMatcher& SymbolicSimple();

// SymbolicSimple() plus the bounds-based and index-algebra rules.
const PatternMatcher& Symbolic();

// GraphRewrite(root, Symbolic()): the fixed point of the full rule set.
UOpPtr Simplify(const UOpPtr& root);

// `x` simplified under the assumption that the bool `valid` holds: the clauses
// of `valid` (X < c, c < X and their negations, joined by AND) narrow the
// bounds of X while x is simplified. X is either a node of x, or a sum with a
// +-1 term v in x, which is then rewritten as v = +-(X - rest). Used for the
// value of where(valid, x, y) and the index of a gated INDEX(buf, idx,
// valid): a padded view's index folds once the padding is excluded.
//   i in [0, 9]:  SimplifyGiven((i - 1) % 8, Lt(I(0), i) & Lt(i, 9)) == i - 1
// Returns x unless the result has fewer divisions and modulos (or as many
// and fewer nodes), so rules built on it terminate.
UOpPtr SimplifyGiven(const UOpPtr& x, const UOpPtr& valid);

// Logical not of a bool value as the rules spell it: CMPNE(x, true).
UOpPtr LogicalNot(const UOpPtr& x);

}  // namespace uop

#endif  // UOP_RUNTIME_UOP_SYMBOLIC_H_
