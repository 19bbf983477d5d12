#include "runtime/shape/index_expr.h"

#include <algorithm>
#include <cstdlib>
#include <numeric>

#include "runtime/shape/view.h"

namespace uop {
namespace shape_internal {

namespace {

i128 FloorDiv128(i128 a, i128 b) {
  i128 q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// gcd of k, every coefficient and the constant of `a` (k > 0).
int64_t CommonFactor(const Affine& a, int64_t k) {
  int64_t g = std::gcd(k, a.constant);
  for (const AffineTerm& t : a.terms) g = std::gcd(g, t.coef);
  return g;
}

Affine DivideExact(const Affine& a, int64_t g) {
  Affine r = a;
  for (AffineTerm& t : r.terms) t.coef /= g;
  r.constant /= g;
  return r;
}

// Divisors g of k (1 < g < k) shared with some coefficient, largest first:
// candidates for splitting a = g*X + R.
absl::InlinedVector<int64_t, 4> SharedFactors(const Affine& a, int64_t k) {
  absl::InlinedVector<int64_t, 4> out;
  for (const AffineTerm& t : a.terms) {
    const int64_t g = std::gcd(t.coef, k);
    if (g > 1 && g < k && std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
  }
  std::sort(out.rbegin(), out.rend());
  return out;
}

}  // namespace

bool IndexExprBuilder::SplitSmall(const Affine& a, int64_t g, Affine* x, Affine* r) const {
  x->terms.clear();
  r->terms.clear();
  for (const AffineTerm& t : a.terms) {
    if (t.coef % g == 0) {
      x->terms.push_back({t.leaf, t.coef / g});
    } else {
      r->terms.push_back(t);
    }
  }
  // Give r the constant c = a.constant (mod g) that moves its range [lo, hi]
  // furthest down while keeping it >= 0; it fits when hi + c < g.
  r->constant = 0;
  const auto [lo, hi] = Range(*r);
  const i128 c = -lo + (static_cast<i128>(a.constant) + lo - FloorDiv128(a.constant + lo, g) * g);
  if (hi + c >= g) return false;
  r->constant = static_cast<int64_t>(c);
  x->constant = static_cast<int64_t>((a.constant - c) / g);
  return true;
}

template <typename F>
std::optional<Affine> IndexExprBuilder::TwoPointLine(const Affine& a, F f) const {
  if (a.terms.size() != 1) return std::nullopt;
  const AffineTerm& t = a.terms[0];
  const LeafInfo& l = leaves_[t.leaf];
  if (l.hi - l.lo != 1) return std::nullopt;
  // Any function of a leaf with two values is the line through them.
  const i128 f0 = f(t.coef * l.lo + a.constant), f1 = f(t.coef * l.hi + a.constant);
  Affine line;
  if (f1 != f0) line.terms.push_back({t.leaf, static_cast<int64_t>(f1 - f0)});
  line.constant = static_cast<int64_t>(f0 - (f1 - f0) * l.lo);
  return line;
}

int IndexExprBuilder::AddLeaf(const UOpPtr& u, int64_t lo, int64_t hi) {
  for (int i = 0; i < num_leaves(); ++i) {
    if (leaves_[i].uop == u) {
      Narrow(i, lo, hi);
      return i;
    }
  }
  leaves_.push_back({u, lo, hi});
  if (lo > hi) empty_ = true;
  return num_leaves() - 1;
}

void IndexExprBuilder::Narrow(int leaf, int64_t lo, int64_t hi) {
  LeafInfo& l = leaves_[leaf];
  l.lo = std::max<i128>(l.lo, lo);
  l.hi = std::min<i128>(l.hi, hi);
  if (l.lo > l.hi) empty_ = true;
}

bool IndexExprBuilder::HasOpaque(const Affine& a) const {
  for (const AffineTerm& t : a.terms)
    if (leaves_[t.leaf].op != Op::kNoop) return true;
  return false;
}

void IndexExprBuilder::AddScaled(Affine* dst, const Affine& src, int64_t k) const {
  if (k == 0) return;
  for (const AffineTerm& t : src.terms) {
    auto it = std::find_if(dst->terms.begin(), dst->terms.end(),
                           [&](const AffineTerm& d) { return d.leaf == t.leaf; });
    if (it == dst->terms.end()) {
      dst->terms.push_back({t.leaf, t.coef * k});
    } else if ((it->coef += t.coef * k) == 0) {
      dst->terms.erase(it);
    }
  }
  dst->constant += src.constant * k;
}

std::pair<i128, i128> IndexExprBuilder::Range(const Affine& a) const {
  i128 lo = a.constant, hi = a.constant;
  for (const AffineTerm& t : a.terms) {
    const LeafInfo& l = leaves_[t.leaf];
    if (t.coef > 0) {
      lo += t.coef * l.lo;
      hi += t.coef * l.hi;
    } else {
      lo += t.coef * l.hi;
      hi += t.coef * l.lo;
    }
  }
  return {lo, hi};
}

Affine IndexExprBuilder::Opaque(Op op, const Affine& operand, int64_t divisor, i128 lo, i128 hi) {
  UOpPtr x = ToUOp(operand), d = UOp::Index(divisor);
  UOpPtr u = op == Op::kIdiv ? x / d : x % d;
  for (int i = 0; i < num_leaves(); ++i) {
    if (leaves_[i].uop != u) continue;
    leaves_[i].lo = std::max(leaves_[i].lo, lo);
    leaves_[i].hi = std::min(leaves_[i].hi, hi);
    return Leaf(i);
  }
  leaves_.push_back({std::move(u), lo, hi, op, operand, divisor});
  return Leaf(num_leaves() - 1);
}

std::optional<Affine> IndexExprBuilder::DivThroughLeaves(const Affine& a, int64_t k) {
  for (const AffineTerm& t : a.terms) {
    const LeafInfo& l = leaves_[t.leaf];
    // floor((floor(y / m) + r) / k) = floor((y + m*r) / (m*k)) for integer r.
    int64_t mk;
    if (l.op == Op::kIdiv && t.coef == 1 && !__builtin_mul_overflow(l.divisor, k, &mk)) {
      Affine rest = a, y = l.operand;
      const int64_t m = l.divisor;
      AddScaled(&rest, Leaf(t.leaf), -1);
      Affine merged = y;
      AddScaled(&merged, rest, m);
      return FloorDiv(merged, mk);
    }
    // floor((y mod m) / k) = floor(y / k) mod (m / k) when k divides m.
    if (l.op == Op::kMod && a.terms.size() == 1 && t.coef == 1 && a.constant == 0 &&
        l.divisor % k == 0) {
      const Affine y = l.operand;
      const int64_t m = l.divisor;
      return FloorMod(FloorDiv(y, k), m / k);
    }
  }
  return std::nullopt;
}

Affine IndexExprBuilder::ModThroughLeaves(const Affine& a, int64_t k) const {
  // c * (y mod m) = c*y - c*m*floor(y / m), and k | c*m drops the last part.
  Affine out = a;
  for (bool changed = true; changed;) {
    changed = false;
    for (const AffineTerm& t : out.terms) {
      const LeafInfo& l = leaves_[t.leaf];
      if (l.op != Op::kMod) continue;
      int64_t cm;
      if (__builtin_mul_overflow(t.coef, l.divisor, &cm) || cm % k != 0) continue;
      const AffineTerm term = t;
      const Affine y = l.operand;
      AddScaled(&out, Leaf(term.leaf), -term.coef);
      AddScaled(&out, y, term.coef);
      changed = true;
      break;
    }
  }
  return out;
}

void IndexExprBuilder::SplitModulus(const Affine& a, int64_t k, bool symmetric, Affine* q,
                                    Affine* r) const {
  q->terms.clear();
  r->terms.clear();
  for (const AffineTerm& t : a.terms) {
    // coef = k*qc + rc with rc in [0, k), or in [-k/2, k/2) when symmetric.
    const int64_t qc = symmetric ? FloorDivide(t.coef + k / 2, k) : FloorDivide(t.coef, k);
    const int64_t rc = t.coef - qc * k;
    if (qc != 0) q->terms.push_back({t.leaf, qc});
    if (rc != 0) r->terms.push_back({t.leaf, rc});
  }
  q->constant = FloorDivide(a.constant, k);
  r->constant = FloorModulo(a.constant, k);
}

absl::InlinedVector<std::pair<Affine, Affine>, 3> IndexExprBuilder::Decompositions(
    const Affine& a, int64_t k) const {
  // a = k*q + r three ways: trivially (q = 0), with r's coefficients in
  // [0, k), and in [-k/2, k/2). Each folds different cases.
  absl::InlinedVector<std::pair<Affine, Affine>, 3> reps(3);
  reps[0].second = a;
  SplitModulus(a, k, /*symmetric=*/false, &reps[1].first, &reps[1].second);
  SplitModulus(a, k, /*symmetric=*/true, &reps[2].first, &reps[2].second);
  return reps;
}

Affine IndexExprBuilder::Fold(const Affine& a) const {
  Affine out;
  out.constant = a.constant;
  for (const AffineTerm& t : a.terms) {
    const LeafInfo& l = leaves_[t.leaf];
    if (l.lo == l.hi) {
      out.constant += t.coef * static_cast<int64_t>(l.lo);
    } else {
      out.terms.push_back(t);
    }
  }
  return out;
}

Affine IndexExprBuilder::FloorDiv(const Affine& a_in, int64_t k) {
  const Affine a = Fold(a_in);
  if (k == 1) return a;
  // floor((k*q + r) / k) = q + floor(r / k).
  auto reps = Decompositions(a, k);
  for (auto& [q, r] : reps) {
    const auto [lo, hi] = Range(r);
    const i128 bucket = FloorDiv128(lo, k);
    if (bucket == FloorDiv128(hi, k)) {
      // r never crosses a multiple of k.
      q.constant += static_cast<int64_t>(bucket);
      return q;
    }
  }
  if (std::optional<Affine> through = DivThroughLeaves(a, k)) return *through;
  auto& [q, r] = reps[1];  // r >= 0 (non-negative leaves)
  if (std::optional<Affine> line = TwoPointLine(r, [k](i128 v) { return FloorDiv128(v, k); })) {
    AddScaled(&q, *line, 1);
    return q;
  }
  {
    // Only negative coefficients (a flip): floor(r / k) = -floor((k - 1 - r) / k).
    auto& [sq, sr] = reps[2];
    bool negative = !sr.terms.empty();
    // (Coefficients above -k/2 keep the flipped ones out of this case.)
    for (const AffineTerm& t : sr.terms) negative &= t.coef < 0 && -2 * t.coef < k;
    if (negative && Range(sr).second < k) {
      Affine flipped;
      AddScaled(&flipped, sr, -1);
      flipped.constant += k - 1;
      AddScaled(&sq, FloorDiv(flipped, k), -1);
      return sq;
    }
  }
  // r = g*x + small with g | k and 0 <= small < g: floor(r / k) = floor(x / (k/g)).
  for (auto& [rq, rr] : reps) {
    for (int64_t g : SharedFactors(rr, k)) {
      Affine x, small;
      if (!SplitSmall(rr, g, &x, &small)) continue;
      AddScaled(&rq, FloorDiv(x, k / g), 1);
      return rq;
    }
  }
  const auto [lo, hi] = Range(r);
  if (lo >= 0) {
    // r >= 0 makes IDIV (truncating) exact.
    const int64_t g = CommonFactor(r, k);
    const Affine rg = DivideExact(r, g);
    AddScaled(&q, Opaque(Op::kIdiv, rg, k / g, FloorDiv128(lo, k), FloorDiv128(hi, k)), 1);
    return q;
  }
  // Only reached with leaves that may be negative: divide the whole dividend.
  const auto [alo, ahi] = Range(a);
  return Opaque(Op::kIdiv, a, k, std::max<i128>(0, FloorDiv128(alo, k)), FloorDiv128(ahi, k));
}

Affine IndexExprBuilder::FloorMod(const Affine& a_in, int64_t k) {
  if (k == 1) return Affine{};
  const Affine a = ModThroughLeaves(Fold(a_in), k);
  // (k*q + r) mod k = r mod k.
  auto reps = Decompositions(a, k);
  for (auto& [q, r] : reps) {
    const auto [lo, hi] = Range(r);
    const i128 bucket = FloorDiv128(lo, k);
    if (bucket == FloorDiv128(hi, k)) {
      r.constant -= static_cast<int64_t>(bucket * k);
      return r;
    }
  }
  const Affine& r = reps[1].second;
  if (std::optional<Affine> line =
          TwoPointLine(r, [k](i128 v) { return v - FloorDiv128(v, k) * k; })) {
    return *line;
  }
  // r = g*x + small with g | k and 0 <= small < g: r mod k = g * (x mod k/g) + small.
  for (const auto& rep : reps) {
    for (int64_t g : SharedFactors(rep.second, k)) {
      Affine x, small;
      if (!SplitSmall(rep.second, g, &x, &small)) continue;
      AddScaled(&small, FloorMod(x, k / g), g);
      return small;
    }
  }
  const auto [lo, hi] = Range(r);
  if (lo >= 0) {
    // g * ((r / g) mod (k / g)) with g the common factor.
    const int64_t g = CommonFactor(r, k);
    const Affine rg = DivideExact(r, g);
    const i128 top = std::min<i128>(hi / g, k / g - 1);
    Affine out;
    AddScaled(&out, Opaque(Op::kMod, rg, k / g, 0, top), g);
    return out;
  }
  const i128 ahi = Range(a).second;
  return Opaque(Op::kMod, a, k, 0, std::min<i128>(k - 1, std::max<i128>(ahi, 0)));
}

bool IndexExprBuilder::ReduceBound(Affine* a, int64_t* bound, bool lower) const {
  *a = Fold(*a);
  bool changed = false;
  for (bool again = true; again;) {
    again = false;
    absl::InlinedVector<int64_t, 4> factors;
    for (const AffineTerm& t : a->terms) {
      const int64_t g = t.coef < 0 ? -t.coef : t.coef;
      if (g > 1 && std::find(factors.begin(), factors.end(), g) == factors.end()) {
        factors.push_back(g);
      }
    }
    std::sort(factors.rbegin(), factors.rend());
    for (int64_t g : factors) {
      Affine x, small;
      if (!SplitSmall(*a, g, &x, &small)) continue;
      const auto [slo, shi] = Range(small);
      // a = g*x + small with small in [slo, shi] inside [0, g).
      int64_t t;
      if (lower) {
        // a >= b  <=>  x >= t  when x = t-1 can never reach b.
        t = static_cast<int64_t>(-FloorDiv128(-(*bound - slo), g));  // ceil((b - slo) / g)
        if (static_cast<i128>(g) * (t - 1) + shi >= *bound) continue;
      } else {
        // a < e  <=>  x < t  when x = t-1 always stays below e and x = t never does.
        t = static_cast<int64_t>(FloorDiv128(*bound - 1 - shi, g)) + 1;
        if (static_cast<i128>(g) * t + slo < *bound) continue;
      }
      *a = std::move(x);
      *bound = t;
      changed = again = true;
      break;
    }
  }
  return changed;
}

UOpPtr IndexExprBuilder::ToUOp(const Affine& a_in) const {
  const Affine a = Fold(a_in);
  UOpPtr sum;
  for (const AffineTerm& t : a.terms) {
    UOpPtr x = leaves_[t.leaf].uop;
    if (t.coef != 1) x = x * UOp::Index(t.coef);
    sum = sum ? sum + x : x;
  }
  if (!sum) return UOp::Index(a.constant);
  if (a.constant != 0) sum = sum + UOp::Index(a.constant);
  return sum;
}

}  // namespace shape_internal
}  // namespace uop
