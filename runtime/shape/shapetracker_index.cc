// ShapeTracker index math: ToIndexed, RealStrides, AxisIsMasked.
//
// The top view turns the caller's per-axis indices into a flat index of the
// view below; each lower view unravels it through its (minified) shape and
// applies its own strides and mask. All arithmetic goes through affine forms
// (index_expr.h), so divisions and modulos that cannot carry fold away and
// only the validity checks that can fail are emitted.
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"
#include "runtime/shape/index_expr.h"
#include "runtime/shape/shapetracker.h"
#include "runtime/uop/symbolic.h"

namespace uop {

namespace {

using shape_internal::Affine;
using shape_internal::i128;
using shape_internal::IndexExprBuilder;

struct IndexResult {
  Affine idx;
  UOpPtr valid;  // constant false when no element is valid
  bool never_valid = false;
  bool valid_has_opaque = false;  // a check uses a div/mod that did not fold
};

// x >= b, spelled (x < b) != true as tinygrad does, which is what valid
// simplification recognizes as a lower bound.
UOpPtr AtLeast(const UOpPtr& x, int64_t b) {
  return Ne(Lt(x, UOp::Index(b)), UOp::ConstBool(true));
}

// After a check on `x` (x >= bound, or x < bound) only elements passing it
// matter: when x is one term c*leaf + k, that bounds the leaf.
void NarrowByCheck(IndexExprBuilder& b, const Affine& x, int64_t bound, bool lower) {
  if (x.terms.size() != 1) return;
  const int64_t c = x.terms[0].coef;
  const int leaf = x.terms[0].leaf;
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  // lower: c*leaf >= rhs; upper: c*leaf <= rhs.
  const int64_t rhs = lower ? bound - x.constant : bound - 1 - x.constant;
  if (lower == (c > 0)) {
    // leaf >= ceil(rhs / c) (c > 0), or (-c)*leaf <= -rhs flipped (upper, c < 0).
    b.Narrow(leaf, c > 0 ? CeilDivide(rhs, c) : CeilDivide(-rhs, -c), kMax);
  } else {
    b.Narrow(leaf, kMin, c > 0 ? FloorDivide(rhs, c) : FloorDivide(-rhs, -c));
  }
}

// Emits the checks that `coord` lies in [begin, end) which can fail (each
// reduced to as few terms as possible); false when it never can.
bool AddRangeChecks(IndexExprBuilder& b, const Affine& coord, Interval mask,
                    absl::InlinedVector<UOpPtr, 8>* checks, bool* has_opaque) {
  const auto [lo, hi] = b.Range(coord);
  if (hi < mask.first || lo >= mask.second || mask.first >= mask.second) return false;
  if (lo < mask.first) {
    Affine x = coord;
    int64_t bound = mask.first;
    b.ReduceBound(&x, &bound, /*lower=*/true);
    if (b.Range(x).first < bound) {
      *has_opaque |= b.HasOpaque(x);
      checks->push_back(AtLeast(b.ToUOp(x), bound));
      NarrowByCheck(b, x, bound, /*lower=*/true);
    }
  }
  if (hi >= mask.second) {
    Affine x = coord;
    int64_t bound = mask.second;
    b.ReduceBound(&x, &bound, /*lower=*/false);
    if (b.Range(x).second >= bound) {
      *has_opaque |= b.HasOpaque(x);
      checks->push_back(Lt(b.ToUOp(x), UOp::Index(bound)));
      NarrowByCheck(b, x, bound, /*lower=*/false);
    }
  }
  return !b.Empty();
}

IndexResult NeverValid() {
  IndexResult r;
  r.valid = UOp::ConstBool(false);
  r.never_valid = true;
  return r;
}

IndexResult BuildIndex(const ShapeTracker::ViewList& views, absl::Span<const UOpPtr> idxs,
                       IndexExprBuilder& b) {
  absl::InlinedVector<UOpPtr, 8> checks;
  const View& top = views.back();
  const int n = top.rank();
  // Leaves first, in axis order: with distinct index nodes leaf i is axis i.
  absl::InlinedVector<int, 8> leaf(n);
  for (int i = 0; i < n; ++i) {
    leaf[i] = b.AddLeaf(idxs[i], std::max<int64_t>(idxs[i]->vmin(), 0),
                        std::min<int64_t>(idxs[i]->vmax(), top.shape()[i] - 1));
  }
  if (b.Empty()) return NeverValid();
  IndexResult r;
  r.idx.constant = top.offset();
  for (int i = 0; i < n; ++i) {
    if (top.has_mask()) {
      if (!AddRangeChecks(b, b.Leaf(leaf[i]), top.mask()[i], &checks, &r.valid_has_opaque)) {
        return NeverValid();
      }
      // Only elements inside the mask matter from here on.
      b.Narrow(leaf[i], top.mask()[i].first, top.mask()[i].second - 1);
    }
    if (top.shape()[i] != 1 && top.strides()[i] != 0) {
      b.AddScaled(&r.idx, b.Leaf(leaf[i]), top.strides()[i]);
    }
  }
  if (b.Empty()) return NeverValid();

  for (size_t k = views.size() - 1; k-- > 0;) {
    const View v = views[k].Minify();
    Affine next;
    next.constant = v.offset();
    int64_t acc = 1;
    for (int d = v.rank() - 1; d >= 0; --d) {
      const int64_t s = v.shape()[d], st = v.strides()[d];
      const bool masked = v.has_mask() && v.mask()[d] != Interval{0, s};
      if (s != 1 && (st != 0 || masked)) {
        // Coordinate d of the flat index; the outermost needs no modulo
        // because a valid flat index is below the view's size.
        Affine c = b.FloorDiv(r.idx, acc);
        if (d > 0) c = b.FloorMod(c, s);
        if (st != 0) b.AddScaled(&next, c, st);
        if (masked && !AddRangeChecks(b, c, v.mask()[d], &checks, &r.valid_has_opaque)) {
          return NeverValid();
        }
      } else if (masked && v.mask()[d].first >= v.mask()[d].second) {
        return NeverValid();
      }
      acc *= s;
    }
    r.idx = std::move(next);
  }

  r.valid = UOp::ConstBool(true);
  for (size_t i = 0; i < checks.size(); ++i)
    r.valid = i ? LogicalAnd(r.valid, checks[i]) : checks[i];
  return r;
}

// One DEFINE_VAR per axis standing for its index, for analyses.
std::vector<UOpPtr> AxisVars(const std::vector<int64_t>& shape) {
  std::vector<UOpPtr> vars(shape.size());
  for (size_t i = 0; i < shape.size(); ++i)
    vars[i] = UOp::Var(absl::StrCat("shape_axis", i), 0, std::max<int64_t>(shape[i] - 1, 0));
  return vars;
}

// Marks in `hit` the axis variables that `u` depends on.
void MarkAxes(const UOpPtr& u, const std::vector<UOpPtr>& vars, std::vector<bool>* hit) {
  for (const UOp* node : u->Toposort()) {
    if (node->op() != Op::kDefineVar) continue;
    for (size_t i = 0; i < vars.size(); ++i)
      if (vars[i].get() == node) (*hit)[i] = true;
  }
}

}  // namespace

std::pair<UOpPtr, UOpPtr> ShapeTracker::ToIndexed(absl::Span<const UOpPtr> idxs) const {
  if (static_cast<int>(idxs.size()) != rank()) {
    std::fprintf(stderr, "ShapeTracker::ToIndexed: %zu indices for rank %d\n", idxs.size(), rank());
    std::abort();
  }
  if (size() == 0) return {UOp::Index(0), UOp::ConstBool(false)};
  IndexExprBuilder b;
  IndexResult r = BuildIndex(views_, idxs, b);
  if (r.never_valid) return {UOp::Index(0), r.valid};
  // Affine sums come out folded; only divisions and modulos that did not fold
  // can gain from the general rule set (which costs more than building them).
  UOpPtr idx = b.ToUOp(r.idx);
  if (b.HasOpaque(b.Fold(r.idx))) idx = uop::Simplify(idx);
  return {idx, r.valid_has_opaque ? uop::Simplify(r.valid) : r.valid};
}

std::vector<std::optional<int64_t>> ShapeTracker::RealStrides(bool ignore_valid) const {
  const View& top = views_.back();
  std::vector<std::optional<int64_t>> ret(rank(), int64_t{0});
  if (size() == 0) return ret;
  if (views_.size() == 1) {
    // One view: its strides, except that validity depends on masked axes. A
    // view with nothing valid reads nothing (all 0).
    for (int i = 0; i < rank(); ++i) {
      if (top.has_mask() && top.mask()[i].first >= top.mask()[i].second) {
        return std::vector<std::optional<int64_t>>(rank(), int64_t{0});
      }
    }
    for (int i = 0; i < rank(); ++i) {
      const bool masked = top.has_mask() && top.mask()[i] != Interval{0, top.shape()[i]};
      ret[i] = masked && !ignore_valid ? std::nullopt : std::optional<int64_t>(top.strides()[i]);
    }
    return ret;
  }
  const std::vector<UOpPtr> vars = AxisVars(shape_);
  IndexExprBuilder b;
  IndexResult r = BuildIndex(views_, vars, b);
  if (r.never_valid) return ret;
  std::vector<bool> bad(rank(), false);
  for (const auto& term : b.Fold(r.idx).terms) {
    if (term.leaf < rank()) {
      ret[term.leaf] = term.coef;
    } else {
      MarkAxes(b.leaf_uop(term.leaf), vars, &bad);  // inside a div/mod: not affine
    }
  }
  if (!ignore_valid) MarkAxes(r.valid, vars, &bad);
  for (int i = 0; i < rank(); ++i)
    if (bad[i]) ret[i] = std::nullopt;
  return ret;
}

bool ShapeTracker::AxisIsMasked(int axis) const {
  if (axis < 0 || axis >= rank() || size() == 0) return false;
  if (views_.size() == 1) {
    const View& v = views_[0];
    return v.has_mask() && v.mask()[axis] != Interval{0, v.shape()[axis]};
  }
  const std::vector<UOpPtr> vars = AxisVars(shape_);
  IndexExprBuilder b;
  IndexResult r = BuildIndex(views_, vars, b);
  std::vector<bool> hit(rank(), false);
  MarkAxes(r.valid, vars, &hit);
  return hit[axis];
}

}  // namespace uop
