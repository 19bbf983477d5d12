// View::Compose: folding a view that indexes another view into one view.
//
// The upper view's offset and strides are projected onto the lower view's
// axes (a step of one along an upper axis moves each lower coordinate by a
// fixed amount); lower axes whose coordinates could carry into each other
// are merged first, and the lower mask is pulled back onto upper axes.
// Same algorithm as tinygrad's View.__add__.
#include <algorithm>

#include "runtime/shape/view.h"

namespace uop {

namespace {

using i128 = __int128;

// Recursion happens only through a strictly simpler case (a shrunk upper
// view, a regrouped lower view, a projected mask); the bound is a backstop.
constexpr int kMaxComposeDepth = 16;

// sum_d coef[d] * idx[d] + constant over upper indices idx[d] in [0, shape[d]).
struct LinearForm {
  absl::InlinedVector<int64_t, 6> coef;
  int64_t constant = 0;

  explicit LinearForm(size_t rank) : coef(rank, 0) {}
  void Reset() {
    std::fill(coef.begin(), coef.end(), 0);
    constant = 0;
  }
  // Exact range over the index box (coefficients are independent).
  std::pair<i128, i128> Range(const Dims& shape) const {
    i128 lo = constant, hi = constant;
    for (size_t d = 0; d < coef.size(); ++d) {
      const i128 span = static_cast<i128>(coef[d]) * (shape[d] - 1);
      (span < 0 ? lo : hi) += span;
    }
    return {lo, hi};
  }
};

// A step of `s1` along lower axis `d2` per unit step of upper axis `d1`.
struct Term {
  int d2;
  int d1;
  int64_t s1;
};

}  // namespace

std::optional<View> View::Compose(const View& upper) const { return ComposeImpl(upper, 0); }

std::optional<View> View::ComposeImpl(const View& vm1, int depth) const {
  const View& vm2 = *this;
  if (depth > kMaxComposeDepth) return std::nullopt;
  if (vm2.contiguous_) return vm1;
  if (vm1.size() == 0) return Create(vm1.shape_);
  if (vm1.contiguous_ && vm1.shape_ == vm2.shape_) return vm2;
  if (vm1.contiguous_ && vm1.size() == vm2.size()) {
    if (std::optional<View> r = vm2.ReshapeUnchecked(vm1.shape_)) return r;
  }
  if (!vm1.mask_.empty()) {
    // Compose the valid box only, then pad back to the masked shape.
    View shrunk = vm1.ShrinkUnchecked(vm1.mask_);
    if (shrunk == vm1) return std::nullopt;
    std::optional<View> merged = vm2.ComposeImpl(shrunk, depth + 1);
    if (!merged) return std::nullopt;
    Intervals pads(vm1.rank());
    for (int i = 0; i < vm1.rank(); ++i)
      pads[i] = {vm1.mask_[i].first, vm1.shape_[i] - vm1.mask_[i].second};
    return merged->PadUnchecked(pads);
  }

  const int n1 = vm1.rank(), n2 = vm2.rank();
  // Project vm1's offset and strides onto vm2's axes.
  const Dims origin = Unravel(vm2.shape_, vm1.offset_);
  absl::InlinedVector<Term, 12> terms;
  Dims strides(n1, 0);
  for (int d1 = 0; d1 < n1; ++d1) {
    const int64_t st = vm1.strides_[d1];
    if (st == 0) continue;
    const Dims moved = Unravel(vm2.shape_, vm1.offset_ + st);
    for (int d2 = 0; d2 < n2; ++d2) {
      const int64_t s1 = moved[d2] - origin[d2];
      if (s1 == 0) continue;
      terms.push_back({d2, d1, s1});
      strides[d1] += s1 * vm2.strides_[d2];
    }
  }

  // Merge vm2's axes (innermost first) until each group's coordinate stays
  // inside the group: then no carry crosses groups. Merging only where needed
  // keeps vm2's mask projectable.
  struct Extent {
    int64_t size;
    LinearForm term;
  };
  absl::InlinedVector<Extent, 6> extents;  // innermost group first
  int64_t merged_size = 1;
  LinearForm merged_term(n1);
  for (int d2 = n2 - 1; d2 >= 0; --d2) {
    for (const Term& t : terms)
      if (t.d2 == d2) merged_term.coef[t.d1] += t.s1 * merged_size;
    merged_term.constant += origin[d2] * merged_size;
    merged_size *= vm2.shape_[d2];
    const auto [lo, hi] = merged_term.Range(vm1.shape_);
    if (hi < merged_size && lo >= 0) {
      extents.push_back({merged_size, merged_term});
      merged_size = 1;
      merged_term.Reset();
    }
  }
  {
    const auto [lo, hi] = merged_term.Range(vm1.shape_);
    if (lo != 0 || hi != 0) return std::nullopt;
  }
  Dims vm2_shape(extents.size());
  for (size_t i = 0; i < extents.size(); ++i) vm2_shape[i] = extents[extents.size() - 1 - i].size;
  if (vm2_shape != vm2.shape_) {
    std::optional<View> reshaped = vm2.ReshapeUnchecked(vm2_shape);
    if (!reshaped) return std::nullopt;
    if (reshaped->shape_ != vm2.shape_) return reshaped->ComposeImpl(vm1, depth + 1);
  }
  if (static_cast<int>(extents.size()) != n2) return std::nullopt;

  if (!vm2.mask_.empty()) {
    // Pull vm2's mask back onto vm1's axes: a lower axis driven by exactly one
    // upper axis restricts that axis; a constant coordinate outside the mask
    // masks everything; anything else cannot be expressed.
    Dims newb(n1, 0), newe = vm1.shape_;
    bool bad = false;
    for (int d2 = 0; d2 < n2; ++d2) {
      const auto [b, e] = vm2.mask_[d2];
      const int64_t o = origin[d2];
      const auto [lo, hi] = extents[n2 - 1 - d2].term.Range(vm1.shape_);
      if (b <= lo && hi < e) continue;
      const Term* only = nullptr;
      int count = 0;
      for (const Term& t : terms) {
        if (t.d2 != d2) continue;
        only = &t;
        ++count;
      }
      if (count != 1) {
        if (count == 0 && n1 > 0) {
          newe[0] = 0;
        } else {
          bad = true;
        }
        continue;
      }
      const int d1 = only->d1;
      const int64_t s1 = only->s1;
      newb[d1] = std::max(newb[d1], CeilDivide(s1 > 0 ? b - o : e - o - 1, s1));
      newe[d1] = std::min(newe[d1], FloorDivide(s1 < 0 ? b - o : e - o - 1, s1) + 1);
    }
    bool narrowed = false;
    for (int d1 = 0; d1 < n1; ++d1) narrowed |= newb[d1] != 0 || newe[d1] != vm1.shape_[d1];
    if (narrowed) {
      // Retry with vm1 masked to where vm2's mask holds.
      Intervals mask(n1);
      for (int d1 = 0; d1 < n1; ++d1) mask[d1] = {newb[d1], newe[d1]};
      return vm2.ComposeImpl(Create(vm1.shape_, vm1.strides_, vm1.offset_, mask), depth + 1);
    }
    if (bad) return std::nullopt;
  }

  int64_t offset = vm2.offset_;
  for (int d2 = 0; d2 < n2; ++d2) offset += origin[d2] * vm2.strides_[d2];
  return Create(vm1.shape_, strides, offset);
}

}  // namespace uop
