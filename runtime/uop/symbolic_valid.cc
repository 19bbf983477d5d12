// SimplifyGiven (symbolic.h): simplification under a validity condition.
#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "runtime/uop/symbolic.h"
#include "runtime/uop/symbolic_terms.h"

namespace uop {
namespace {

using symbolic_internal::IsSignedIndexLike;
using symbolic_internal::LinearSum;
using symbolic_internal::SumBuilder;
using symbolic_internal::Term;

// Bounds the condition puts on one integer expression.
struct Clause {
  const UOp* expr;
  int64_t lo, hi;
};

void Narrow(std::vector<Clause>& out, const UOp* x, int64_t lo, int64_t hi) {
  if (x->is_const() || !IsSignedIndexLike(x->dtype())) return;
  for (Clause& c : out) {
    if (c.expr == x) {
      c.lo = std::max(c.lo, lo);
      c.hi = std::min(c.hi, hi);
      return;
    }
  }
  out.push_back({x, std::max(lo, x->vmin()), std::min(hi, x->vmax())});
}

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// X < c, c < X, !(X < c), !(c < X), joined by AND.
void Collect(const UOp* v, std::vector<Clause>& out) {
  if (v->op() == Op::kAnd && v->dtype() == DType::Bool()) {
    Collect(v->src(0).get(), out);
    Collect(v->src(1).get(), out);
    return;
  }
  bool negated = false;
  if (v->op() == Op::kCmpNe && v->src(1)->is_const() && v->src(1)->dtype().is_bool() &&
      v->src(1)->const_int() == 1) {
    negated = true;
    v = v->src(0).get();
  }
  if (v->op() != Op::kCmpLt) return;
  const UOp *a = v->src(0).get(), *b = v->src(1).get();
  if (b->is_const() && !a->is_const()) {
    int64_t c = b->const_int();
    if (negated) return Narrow(out, a, c, kMax);  // !(X < c): X >= c
    if (c != kMin) Narrow(out, a, kMin, c - 1);   // X < c: X <= c - 1
  } else if (a->is_const() && !b->is_const()) {
    int64_t c = a->const_int();
    if (negated) return Narrow(out, b, kMin, c);  // !(c < X): X <= c
    if (c != kMax) Narrow(out, b, c + 1, kMax);   // c < X: X >= c + 1
  }
}

// Divisions and modulos first, then node count: the measure every
// SimplifyGiven result must lower, so rules built on it terminate.
std::pair<int, int> Cost(const UOp& x) {
  int divmod = 0, nodes = 0;
  for (const UOp* u : x.Toposort()) {
    ++nodes;
    divmod += u->op() == Op::kIdiv || u->op() == Op::kMod;
  }
  return {divmod, nodes};
}

// Nesting depth of SimplifyGiven (its Simplify may meet another condition):
// keeps the stand-in variables' names distinct.
thread_local int given_depth = 0;

}  // namespace

UOpPtr SimplifyGiven(const UOpPtr& x, const UOpPtr& valid) {
  std::vector<Clause> clauses;
  Collect(valid.get(), clauses);
  bool tighter = false;
  for (const Clause& c : clauses) {
    if (c.lo > c.hi) return x;  // never valid: x is never used
    tighter |= c.lo != c.expr->vmin() || c.hi != c.expr->vmax();
  }
  if (!tighter) return x;
  std::vector<const UOp*> order = x->Toposort();
  // Only these can fold under tighter bounds; affine index math cannot.
  bool foldable = false;
  for (const UOp* u : order) {
    Op op = u->op();
    foldable |= op == Op::kIdiv || op == Op::kMod || op == Op::kMax || op == Op::kCmpLt ||
                op == Op::kCmpNe || op == Op::kCmpEq || op == Op::kWhere;
  }
  if (!foldable) return x;
  absl::flat_hash_set<const UOp*> in_x(order.begin(), order.end());
  absl::flat_hash_set<const UOp*> replaced;
  std::vector<std::pair<UOpPtr, UOpPtr>> forward, back;
  for (const Clause& c : clauses) {
    if (c.lo == c.expr->vmin() && c.hi == c.expr->vmax()) continue;  // nothing new
    UOpPtr stand_in =
        UOp::Var(absl::StrCat("\x01given", given_depth, "_", forward.size()), c.lo, c.hi);
    UOpPtr expr = UOpPtr::FromBorrowed(c.expr);
    if (in_x.contains(c.expr)) {
      if (!replaced.insert(c.expr).second) continue;
      forward.push_back({expr, stand_in});
      back.push_back({stand_in, expr});
      continue;
    }
    // X = f*v + rest with f = +-1 and v in x: substitute v = f*(X - rest).
    LinearSum s;
    if (!s.Decompose(*c.expr, /*distribute=*/false)) continue;
    const Term* pick = nullptr;
    for (const Term& t : s.terms) {
      if ((t.coef == 1 || t.coef == -1) && in_x.contains(t.node) && !replaced.contains(t.node) &&
          t.node->op() != Op::kAdd && t.node->op() != Op::kMul) {
        pick = &t;
        break;
      }
    }
    if (pick == nullptr) continue;
    SumBuilder b(c.expr->dtype());
    b.Add(stand_in.get(), pick->coef);
    for (const Term& t : s.terms)
      if (&t != pick) b.Add(t.node, -pick->coef * t.coef);
    b.AddConst(-static_cast<symbolic_internal::i128>(pick->coef) * s.constant);
    UOpPtr v = b.Build();
    if (!v) continue;
    replaced.insert(pick->node);
    forward.push_back({UOpPtr::FromBorrowed(pick->node), v});
    back.push_back({stand_in, expr});
  }
  if (forward.empty()) return x;
  ++given_depth;
  UOpPtr narrowed = Simplify(Substitute(x, forward));
  --given_depth;
  UOpPtr out = Simplify(Substitute(narrowed, back));
  return Cost(*out) < Cost(*x) ? out : x;
}

}  // namespace uop
