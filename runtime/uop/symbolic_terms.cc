#include "runtime/uop/symbolic_terms.h"

#include <algorithm>
#include <limits>

namespace uop::symbolic_internal {
namespace {

i128 Abs(i128 v) { return v < 0 ? -v : v; }

i128 Gcd(i128 a, i128 b) {
  a = Abs(a), b = Abs(b);
  while (b != 0) {
    i128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

bool CheckedMul(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }
bool CheckedAdd(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }

UOpPtr ConstOf(DType d, i128 v) { return UOp::Const(d, static_cast<int64_t>(v)); }

// Exact range of sum(coef_i * node_i) over `terms`.
Range128 SumRange(absl::Span<const Term> terms) {
  Range128 r{0, 0};
  for (const Term& t : terms) {
    Range128 s = ScaledRange(*t.node, t.coef);
    r.lo += s.lo;
    r.hi += s.hi;
  }
  return r;
}

UOpPtr BuildSum(DType d, absl::Span<const Term> terms, i128 constant) {
  SumBuilder b(d);
  for (const Term& t : terms) b.Add(t.node, t.coef);
  b.AddConst(constant);
  return b.Build();
}

// ---------------------------------------------------------------------------
// Division and modulo by a constant c > 1.

// a mod c in [0, c).
int64_t FloorMod(int64_t a, int64_t c) { return static_cast<int64_t>(a - FloorDiv128(a, c) * c); }

// x % c for x >= 0: a term (y % m) with c | m and y >= 0 is congruent to y
// modulo c, so it may be replaced by y while the whole sum stays >= 0.
bool DropInnerMods(LinearSum& s, int64_t c) {
  bool changed = false;
  for (Term& t : s.terms) {
    const UOp& n = *t.node;
    if (n.op() != Op::kMod || !n.src(1)->is_const() || n.src(0)->vmin() < 0) continue;
    int64_t m = n.src(1)->const_int();
    if (m <= 0 || m % c != 0) continue;
    Term saved = t;
    t.node = n.src(0).get();
    if (SumRange(s.terms).lo + s.constant < 0) {
      t = saved;
      continue;
    }
    changed = true;
  }
  return changed;
}

// A single term whose node takes exactly two values: the result is linear
// in that node, fitted through both points (exact for any signs).
UOpPtr TwoValued(DType d, const LinearSum& s, int64_t c, bool is_mod) {
  if (s.terms.size() != 1) return nullptr;
  const Term& t = s.terms[0];
  i128 lo = t.node->vmin();
  if (static_cast<i128>(t.node->vmax()) - lo != 1) return nullptr;
  auto q = [&](i128 v) { return is_mod ? v % c : v / c; };
  i128 q0 = q(t.coef * lo + s.constant), q1 = q(t.coef * (lo + 1) + s.constant);
  i128 delta = q1 - q0;
  if (!FitsIn(delta, DType::Int64())) return nullptr;
  SumBuilder b(d);
  b.Add(t.node, static_cast<int64_t>(delta));
  b.AddConst(q0 - delta * lo);
  return b.Build();
}

// x = c*Q + R with R provably in [0, c) (x >= 0) or (-c, 0] (x <= 0): then
// x // c = Q and x % c = R under truncation. Each coefficient f is split as
// f = c*q + r; three choices of r are tried (nearest to zero, non-negative,
// non-positive) since the narrowest range is not always the one that aligns.
UOpPtr RemainderInRange(DType d, const LinearSum& s, int64_t c, bool is_mod, bool pos) {
  enum Choice { kNearest, kNonNeg, kNonPos };
  absl::InlinedVector<Term, 8> rem, quo;
  for (Choice choice : {kNearest, kNonNeg, kNonPos}) {
    rem.clear();
    quo.clear();
    for (const Term& t : s.terms) {
      int64_t r = FloorMod(t.coef, c);
      if (choice == kNonPos || (choice == kNearest && r > c / 2)) r = r == 0 ? 0 : r - c;
      rem.push_back({t.node, r});
      quo.push_back({t.node, static_cast<int64_t>((static_cast<i128>(t.coef) - r) / c)});
    }
    Range128 r = SumRange(rem);
    i128 k = s.constant;
    i128 m = pos ? FloorDiv128(r.lo + k, c) : CeilDiv128(r.hi + k, c);
    bool fits = pos ? r.hi + k - m * c <= c - 1 : r.lo + k - m * c >= -(c - 1);
    if (!fits) continue;
    UOpPtr out = is_mod ? BuildSum(d, rem, k - m * c) : BuildSum(d, quo, m);
    if (out) return out;
  }
  return nullptr;
}

// All coefficients share g = gcd(c, coefs) > 1: x = g*y + kr, and
// x // c = y // (c/g), x % c = (y % (c/g)) * g + kr. Exact for any sign when
// g divides the constant; otherwise kr must have x's sign.
UOpPtr CommonFactor(DType d, const LinearSum& s, int64_t c, bool is_mod, bool pos, bool neg) {
  i128 g = c;
  for (const Term& t : s.terms) g = Gcd(g, t.coef);
  if (g <= 1) return nullptr;
  i128 k = s.constant, kq;
  if (k % g == 0) {
    kq = k / g;
  } else if (pos) {
    kq = FloorDiv128(k, g);
  } else if (neg) {
    kq = CeilDiv128(k, g);
  } else {
    return nullptr;
  }
  i128 kr = k - kq * g;
  SumBuilder yb(d);
  for (const Term& t : s.terms) yb.Add(t.node, static_cast<int64_t>(t.coef / g));
  yb.AddConst(kq);
  UOpPtr y = yb.Build();
  if (!y) return nullptr;
  int64_t b = static_cast<int64_t>(c / g);
  if (!is_mod) return b == 1 ? y : y / UOp::Const(d, b);
  if (b == 1) return ConstOf(d, kr);
  UOpPtr out = (y % UOp::Const(d, b)) * UOp::Const(d, static_cast<int64_t>(g));
  return kr == 0 ? out : out + ConstOf(d, kr);
}

// Moves the terms whose coefficient is a multiple of c (and the multiple of
// c in the constant) out: x = c*Q + B with B of x's sign gives
// x // c = Q + B // c and x % c = B % c. For MOD every coefficient is also
// reduced modulo c when B keeps the sign.
UOpPtr SplitMultiples(DType d, const LinearSum& s, int64_t c, bool is_mod, bool pos,
                      bool already_changed) {
  i128 k = s.constant;
  i128 kq = pos ? FloorDiv128(k, c) : CeilDiv128(k, c);
  i128 kr = k - kq * c;
  auto sign_ok = [&](absl::Span<const Term> b) {
    Range128 r = SumRange(b);
    return pos ? r.lo + kr >= 0 : r.hi + kr <= 0;
  };
  absl::InlinedVector<Term, 8> rest, moved;
  for (int reduce = is_mod ? 1 : 0; reduce >= 0; --reduce) {
    rest.clear();
    moved.clear();
    bool changed = already_changed || kq != 0;
    for (const Term& t : s.terms) {
      int64_t r = t.coef % c == 0 ? 0 : t.coef;
      if (reduce && r != 0) {
        r = FloorMod(t.coef, c);
        if (!pos && r != 0) r -= c;
      }
      if (r != t.coef) {
        changed = true;
        moved.push_back({t.node, static_cast<int64_t>((static_cast<i128>(t.coef) - r) / c)});
      }
      if (r != 0) rest.push_back({t.node, r});
    }
    if (!changed || !sign_ok(rest)) continue;
    UOpPtr b = BuildSum(d, rest, kr);
    if (!b) continue;
    UOpPtr cc = UOp::Const(d, c);
    if (is_mod) return b % cc;
    SumBuilder q(d);
    for (const Term& t : moved) q.Add(t.node, t.coef);
    UOpPtr bdiv = b / cc;
    q.Add(bdiv.get(), 1);
    q.AddConst(kq);
    if (UOpPtr out = q.Build()) return out;
  }
  return nullptr;
}

// x // c == (x // e) // (c / e) for e | c (truncation composes). With e a
// coefficient's factor, the inner division often folds.
UOpPtr NestedDivisor(const UOp& x, const LinearSum& s, int64_t c) {
  int64_t e = 0;
  for (const Term& t : s.terms)
    if (t.coef > 1 && t.coef < c && c % t.coef == 0 && (e == 0 || t.coef < e)) e = t.coef;
  if (e == 0) return nullptr;
  UOpPtr inner = FoldDivModConst(x, e, /*is_mod=*/false, /*allow_nested=*/false);
  if (!inner || (inner->op() == Op::kIdiv && inner->src(0).get() == &x)) return nullptr;
  return inner / UOp::Const(x.dtype(), c / e);
}

// ---------------------------------------------------------------------------
// Comparisons with a constant.

bool LoadSum(const UOp& x, LinearSum& s) {
  if (!IsSignedIndexLike(x.dtype()) || !s.Decompose(x, /*distribute=*/true)) return false;
  s.terms.erase(
      std::remove_if(s.terms.begin(), s.terms.end(), [](const Term& t) { return t.coef == 0; }),
      s.terms.end());
  return !s.terms.empty();
}

// Splits sum into unit-coefficient terms P and the rest N, g = gcd(N).
struct GcdSplit {
  i128 g = 0;
  absl::InlinedVector<Term, 8> scaled;  // N with coefficients divided by g
  Range128 p{0, 0};
  bool has_p = false;
};
GcdSplit SplitByGcd(const LinearSum& s) {
  GcdSplit out;
  for (const Term& t : s.terms)
    if (t.coef != 1 && t.coef != -1) out.g = Gcd(out.g, t.coef);
  if (out.g <= 1) return out;
  for (const Term& t : s.terms) {
    if (t.coef == 1 || t.coef == -1) {
      Range128 r = ScaledRange(*t.node, t.coef);
      out.p.lo += r.lo;
      out.p.hi += r.hi;
      out.has_p = true;
    } else {
      out.scaled.push_back({t.node, static_cast<int64_t>(t.coef / out.g)});
    }
  }
  return out;
}

UOpPtr LtOf(DType d, const UOpPtr& a, i128 b) {
  if (!FitsIn(b, d)) return nullptr;
  return Lt(a, ConstOf(d, b));
}
UOpPtr LtOf(DType d, i128 a, const UOpPtr& b) {
  if (!FitsIn(a, d)) return nullptr;
  return Lt(ConstOf(d, a), b);
}

}  // namespace

bool IsSignedIndexLike(DType d) {
  if (d.count() != 1 || d.is_ptr()) return false;
  switch (d.scalar_type()) {
    case ScalarType::kInt8:
    case ScalarType::kInt16:
    case ScalarType::kInt32:
    case ScalarType::kInt64:
    case ScalarType::kIndex:
      return true;
    default:
      return false;
  }
}

bool FitsIn(i128 v, DType d) {
  return v >= static_cast<i128>(d.min_int()) && v <= static_cast<i128>(d.max_uint());
}

i128 FloorDiv128(i128 a, i128 b) {
  i128 q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
i128 CeilDiv128(i128 a, i128 b) { return -FloorDiv128(-a, b); }

Range128 ScaledRange(const UOp& node, int64_t coef) {
  i128 a = static_cast<i128>(coef) * node.vmin(), b = static_cast<i128>(coef) * node.vmax();
  return a <= b ? Range128{a, b} : Range128{b, a};
}

// ---------------------------------------------------------------------------
// LinearSum

bool LinearSum::Decompose(const UOp& x, bool distribute) {
  terms.clear();
  constant = 0;
  merges_ = const_leaves_ = 0;
  return Add(x, 1, distribute, 0);
}

bool LinearSum::Add(const UOp& x, int64_t coef, bool distribute, int depth) {
  constexpr int kMaxDepth = 32;
  const Op op = x.op();
  const bool same_type = x.num_srcs() > 0 && x.src(0)->dtype() == x.dtype();
  if (depth < kMaxDepth && same_type) {
    if (op == Op::kAdd)
      return Add(*x.src(0), coef, distribute, depth + 1) &&
             Add(*x.src(1), coef, distribute, depth + 1);
    if (op == Op::kSub || op == Op::kNeg) {
      if (coef == std::numeric_limits<int64_t>::min()) return false;
      if (op == Op::kNeg) return Add(*x.src(0), -coef, distribute, depth + 1);
      return Add(*x.src(0), coef, distribute, depth + 1) &&
             Add(*x.src(1), -coef, distribute, depth + 1);
    }
    if (op == Op::kMul && (x.src(0)->is_const() || x.src(1)->is_const())) {
      const UOp& inner = x.src(1)->is_const() ? *x.src(0) : *x.src(1);
      const UOp& factor = x.src(1)->is_const() ? *x.src(1) : *x.src(0);
      int64_t scaled;
      if (!CheckedMul(coef, factor.const_int(), &scaled)) return false;
      Op iop = inner.op();
      bool is_sum = iop == Op::kAdd || iop == Op::kSub || iop == Op::kNeg;
      if (distribute || !is_sum) return Add(inner, scaled, distribute, depth + 1);
      return Add(inner, scaled, distribute, kMaxDepth);  // kept as one term
    }
  }
  if (op == Op::kConst) {
    int64_t v;
    ++const_leaves_;
    return CheckedMul(coef, x.const_int(), &v) && CheckedAdd(constant, v, &constant);
  }
  for (Term& t : terms) {
    if (t.node == &x) {
      ++merges_;
      return CheckedAdd(t.coef, coef, &t.coef);
    }
  }
  if (terms.size() >= kMaxTerms) return false;
  terms.push_back({&x, coef});
  return true;
}

// ---------------------------------------------------------------------------
// SumBuilder

void SumBuilder::Add(const UOp* node, int64_t coef) {
  if (!ok_ || coef == 0) return;
  Range128 r = ScaledRange(*node, coef);
  lo_ += r.lo;
  hi_ += r.hi;
  if (!FitsIn(r.lo, dtype_) || !FitsIn(r.hi, dtype_) || !FitsIn(lo_, dtype_) ||
      !FitsIn(hi_, dtype_)) {
    ok_ = false;
    return;
  }
  UOpPtr term = UOpPtr::FromBorrowed(node);
  if (coef != 1) term = UOp::Alu(Op::kMul, {term, UOp::Const(dtype_, coef)});
  acc_ = acc_ ? UOp::Alu(Op::kAdd, {acc_, term}) : term;
}

void SumBuilder::AddConst(i128 k) { constant_ += k; }

UOpPtr SumBuilder::Build() {
  if (!ok_) return nullptr;
  if (constant_ == 0) return acc_ ? acc_ : UOp::Const(dtype_, int64_t{0});
  if (!FitsIn(constant_, dtype_) || !FitsIn(lo_ + constant_, dtype_) ||
      !FitsIn(hi_ + constant_, dtype_))
    return nullptr;
  UOpPtr k = ConstOf(dtype_, constant_);
  return acc_ ? UOp::Alu(Op::kAdd, {acc_, k}) : k;
}

// ---------------------------------------------------------------------------
// Folders

UOpPtr FoldDivModConst(const UOp& x, int64_t c, bool is_mod, bool allow_nested) {
  DType d = x.dtype();
  if (c <= 1 || !IsSignedIndexLike(d)) return nullptr;
  LinearSum s;
  if (!LoadSum(x, s)) return nullptr;
  const bool pos = x.vmin() >= 0, neg = x.vmax() <= 0;
  bool changed = is_mod && pos && DropInnerMods(s, c);
  if (UOpPtr r = TwoValued(d, s, c, is_mod)) return r;
  if (pos || neg) {
    if (UOpPtr r = RemainderInRange(d, s, c, is_mod, pos)) return r;
  }
  if (UOpPtr r = CommonFactor(d, s, c, is_mod, pos, neg)) return r;
  if (pos || neg) {
    if (UOpPtr r = SplitMultiples(d, s, c, is_mod, pos, changed)) return r;
  }
  if (!is_mod && allow_nested) return NestedDivisor(x, s, c);
  return nullptr;
}

UOpPtr FoldLtConst(const UOp& x, int64_t d) {
  LinearSum s;
  if (x.is_const() || !LoadSum(x, s)) return nullptr;
  DType dt = x.dtype();
  const i128 e = static_cast<i128>(d) - s.constant;  // sum < e
  if (s.terms.size() == 1) {
    const Term& t = s.terms[0];
    UOpPtr v = UOpPtr::FromBorrowed(t.node);
    if (t.coef == 1) return s.constant == 0 ? nullptr : LtOf(dt, v, e);
    if (t.coef > 0) return LtOf(dt, v, CeilDiv128(e, t.coef));  // f*v < e <=> v < ceil(e/f)
    return LtOf(dt, FloorDiv128(e, t.coef), v);                 // f<0: floor(e/f) < v
  }
  GcdSplit g = SplitByGcd(s);
  if (g.g > 1 && !g.has_p) {
    // g*Y < e <=> Y < ceil(e/g)
    if (UOpPtr y = BuildSum(dt, g.scaled, 0)) return LtOf(dt, y, CeilDiv128(e, g.g));
  }
  if (g.g > 1 && g.p.lo >= 0 && g.p.hi < g.g && e % g.g == 0) {
    // g*Y + P < g*q with 0 <= P < g <=> Y < q
    if (UOpPtr y = BuildSum(dt, g.scaled, 0)) return LtOf(dt, y, e / g.g);
  }
  if (s.constant == 0) return nullptr;
  UOpPtr sum = BuildSum(dt, s.terms, 0);
  return sum ? LtOf(dt, sum, e) : nullptr;
}

UOpPtr FoldConstLt(int64_t d, const UOp& x) {
  LinearSum s;
  if (x.is_const() || !LoadSum(x, s)) return nullptr;
  DType dt = x.dtype();
  const i128 e = static_cast<i128>(d) - s.constant;  // e < sum
  if (s.terms.size() == 1) {
    const Term& t = s.terms[0];
    UOpPtr v = UOpPtr::FromBorrowed(t.node);
    if (t.coef == 1) return s.constant == 0 ? nullptr : LtOf(dt, e, v);
    if (t.coef > 0) return LtOf(dt, FloorDiv128(e, t.coef), v);  // e < f*v <=> floor(e/f) < v
    return LtOf(dt, v, CeilDiv128(e, t.coef));                   // f<0: v < ceil(e/f)
  }
  GcdSplit g = SplitByGcd(s);
  if (g.g > 1 && !g.has_p) {
    // e < g*Y <=> floor(e/g) < Y
    if (UOpPtr y = BuildSum(dt, g.scaled, 0)) return LtOf(dt, FloorDiv128(e, g.g), y);
  }
  if (g.g > 1 && g.p.lo >= 0 && g.p.hi < g.g && (e + 1) % g.g == 0) {
    // e < g*Y + P with 0 <= P < g and g | e+1 <=> Y >= (e+1)/g
    if (UOpPtr y = BuildSum(dt, g.scaled, 0)) return LtOf(dt, (e + 1) / g.g - 1, y);
  }
  if (s.constant == 0) return nullptr;
  UOpPtr sum = BuildSum(dt, s.terms, 0);
  return sum ? LtOf(dt, e, sum) : nullptr;
}

UOpPtr CombineLikeTerms(const UOp& add) {
  if (!IsSignedIndexLike(add.dtype())) return nullptr;
  LinearSum s;
  if (!s.Decompose(add, /*distribute=*/true)) return nullptr;
  bool zero_term = false;
  for (const Term& t : s.terms) zero_term |= t.coef == 0;
  bool const_last = add.src(1)->is_const();
  // Sums are kept as one left-deep chain, so equal sums are equal nodes.
  bool right_nested = add.src(1)->op() == Op::kAdd;
  bool needed = s.merges() > 0 || zero_term || s.const_leaves() > 1 || right_nested ||
                (s.const_leaves() == 1 && !const_last);
  if (!needed) return nullptr;
  return BuildSum(add.dtype(), s.terms, s.constant);
}

}  // namespace uop::symbolic_internal
