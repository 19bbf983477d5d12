#include "runtime/shape/view.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/shape/format.h"

namespace uop {

namespace {

// Preconditions of Create are programmer errors: fail loudly in every build.
void CheckPrecondition(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "View::Create precondition failed: %s\n", what);
  std::abort();
}

absl::Status RankError(const char* op, const View& v, size_t got, const char* what) {
  return absl::InvalidArgumentError(absl::StrCat(op, ": expected ", v.rank(), " ", what,
                                                 " (one per axis of shape ", FormatDims(v.shape()),
                                                 "), got ", got));
}

}  // namespace

int64_t Prod(absl::Span<const int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims) p *= d;
  return p;
}

Dims StridesForShape(absl::Span<const int64_t> shape) {
  Dims strides(shape.size(), 0);
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = shape[i] == 1 ? 0 : acc;
    acc *= shape[i];
  }
  return strides;
}

absl::Status CheckShape(absl::Span<const int64_t> shape) {
  int64_t size = 1;
  bool zero = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shape ", FormatDims(shape), " has negative size ", shape[i], " on axis ", i));
    }
    zero |= shape[i] == 0;
    if (!zero && __builtin_mul_overflow(size, shape[i], &size)) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", FormatDims(shape), " has more than 2^63 elements"));
    }
  }
  return absl::OkStatus();
}

View View::Create(absl::Span<const int64_t> shape, absl::Span<const int64_t> strides,
                  int64_t offset, absl::Span<const Interval> mask) {
  CheckPrecondition(strides.empty() || strides.size() == shape.size(),
                    "strides rank != shape rank");
  CheckPrecondition(mask.empty() || mask.size() == shape.size(), "mask rank != shape rank");
  View v;
  v.shape_.assign(shape.begin(), shape.end());
  bool has_zero = false;
  for (int64_t s : shape) {
    CheckPrecondition(s >= 0, "negative dimension");
    has_zero |= s == 0;
  }
  const size_t n = shape.size();
  // A view without elements: everything but the shape is irrelevant.
  if (has_zero) {
    v.strides_.assign(n, 0);
    v.contiguous_ = true;
    return v;
  }
  if (strides.empty()) {
    v.strides_ = StridesForShape(shape);
  } else {
    v.strides_.assign(strides.begin(), strides.end());
    for (size_t i = 0; i < n; ++i)
      if (shape[i] == 1) v.strides_[i] = 0;
  }
  v.offset_ = offset;
  bool full = true;
  for (size_t i = 0; i < mask.size(); ++i) full &= mask[i].first == 0 && mask[i].second == shape[i];
  if (!mask.empty() && !full) {
    v.mask_.assign(mask.begin(), mask.end());
    bool empty = false;
    for (const Interval& m : mask) empty |= m.first >= m.second;
    if (empty) {
      // No element is valid: one canonical all-masked view.
      v.strides_.assign(n, 0);
      v.offset_ = 0;
      v.mask_.assign(n, Interval{0, 0});
    } else {
      // An axis with a single valid index never moves: fold it into the offset.
      for (size_t i = 0; i < n; ++i) {
        if (mask[i].first + 1 < mask[i].second) continue;
        v.offset_ += v.strides_[i] * mask[i].first;
        v.strides_[i] = 0;
      }
    }
  }
  v.contiguous_ = v.offset_ == 0 && v.mask_.empty() && v.strides_ == StridesForShape(shape);
  return v;
}

absl::StatusOr<View> View::Make(absl::Span<const int64_t> shape, absl::Span<const int64_t> strides,
                                int64_t offset, absl::Span<const Interval> mask) {
  absl::Status s = CheckShape(shape);
  if (!s.ok()) return s;
  if (!strides.empty() && strides.size() != shape.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("View: ", strides.size(), " strides for shape ", FormatDims(shape)));
  }
  if (!mask.empty() && mask.size() != shape.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("View: ", mask.size(), " mask entries for shape ", FormatDims(shape)));
  }
  for (size_t i = 0; i < mask.size(); ++i) {
    const auto& [b, e] = mask[i];
    if (b < 0 || e < 0 || b > shape[i] || e > shape[i]) {
      return absl::InvalidArgumentError(absl::StrCat("View: mask (", b, ", ", e, ") on axis ", i,
                                                     " is outside shape ", FormatDims(shape)));
    }
  }
  return Create(shape, strides, offset, mask);
}

absl::StatusOr<View> View::Permute(absl::Span<const int64_t> order) const {
  const int n = rank();
  if (static_cast<int>(order.size()) != n) return RankError("Permute", *this, order.size(), "axes");
  absl::InlinedVector<bool, 8> seen(n, false);
  for (int64_t a : order) {
    if (a < 0 || a >= n || seen[a]) {
      return absl::InvalidArgumentError(absl::StrCat("Permute: ", FormatDims(order),
                                                     " is not a permutation of the ", n,
                                                     " axes of shape ", FormatDims(shape_)));
    }
    seen[a] = true;
  }
  Dims shape(n), strides(n);
  Intervals mask(mask_.empty() ? 0 : n);
  for (int i = 0; i < n; ++i) {
    shape[i] = shape_[order[i]];
    strides[i] = strides_[order[i]];
    if (!mask_.empty()) mask[i] = mask_[order[i]];
  }
  return Create(shape, strides, offset_, mask);
}

absl::StatusOr<View> View::Expand(absl::Span<const int64_t> new_shape) const {
  const int n = rank();
  if (static_cast<int>(new_shape.size()) != n) {
    return RankError("Expand", *this, new_shape.size(), "sizes");
  }
  for (int i = 0; i < n; ++i) {
    if (new_shape[i] < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Expand: negative size ", new_shape[i], " on axis ", i, " of ", FormatDims(new_shape)));
    }
    if (new_shape[i] != shape_[i] && shape_[i] != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Expand: axis ", i, " of shape ", FormatDims(shape_), " has size ", shape_[i],
          " and cannot expand to ", new_shape[i], " (only size-1 axes expand)"));
    }
  }
  if (absl::Status s = CheckShape(new_shape); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("Expand: ", s.message()));
  }
  if (size() == 0) return Create(new_shape);
  Intervals mask;
  if (!mask_.empty()) {
    mask.resize(n);
    for (int i = 0; i < n; ++i) {
      if (new_shape[i] == shape_[i]) {
        mask[i] = mask_[i];
      } else {
        // A size-1 axis is either valid (0, 1) or masked out (0, 0).
        mask[i] = mask_[i] == Interval{0, 1} ? Interval{0, new_shape[i]} : Interval{0, 0};
      }
    }
  }
  return Create(new_shape, strides_, offset_, mask);
}

View View::Resize(absl::Span<const Interval> region, absl::Span<const Interval> extra_mask) const {
  const int n = rank();
  Dims shape(n);
  int64_t offset = offset_;
  for (int i = 0; i < n; ++i) {
    shape[i] = region[i].second - region[i].first;
    offset += strides_[i] * region[i].first;
  }
  Intervals mask;
  if (!mask_.empty()) {
    mask.resize(n);
    for (int i = 0; i < n; ++i) {
      // Move the old mask into the new coordinates, clamped to the new extent.
      const auto [mx, my] = mask_[i];
      const auto [ax, ay] = region[i];
      mask[i] = {std::max<int64_t>(0, std::min(mx - ax, ay - ax)),
                 std::max<int64_t>(0, std::min(my - ax, ay - ax))};
      if (!extra_mask.empty()) {
        mask[i] = {std::max(mask[i].first, extra_mask[i].first),
                   std::min(mask[i].second, extra_mask[i].second)};
      }
    }
  } else {
    mask.assign(extra_mask.begin(), extra_mask.end());
  }
  return Create(shape, strides_, offset, mask);
}

View View::PadUnchecked(absl::Span<const Interval> pads) const {
  bool any = false;
  for (const Interval& p : pads) any |= p.first != 0 || p.second != 0;
  if (!any) return *this;
  const int n = rank();
  Intervals region(n), mask(n);
  for (int i = 0; i < n; ++i) {
    region[i] = {-pads[i].first, shape_[i] + pads[i].second};
    mask[i] = {pads[i].first, shape_[i] + pads[i].first};
  }
  return Resize(region, mask);
}

View View::ShrinkUnchecked(absl::Span<const Interval> bounds) const { return Resize(bounds, {}); }

absl::StatusOr<View> View::Pad(absl::Span<const Interval> pads) const {
  if (static_cast<int>(pads.size()) != rank()) return RankError("Pad", *this, pads.size(), "pairs");
  for (int i = 0; i < rank(); ++i) {
    if (pads[i].first < 0 || pads[i].second < 0) {
      return absl::InvalidArgumentError(absl::StrCat("Pad: negative padding (", pads[i].first, ", ",
                                                     pads[i].second, ") on axis ", i, " of shape ",
                                                     FormatDims(shape_)));
    }
    int64_t unused;
    if (__builtin_add_overflow(shape_[i], pads[i].first, &unused) ||
        __builtin_add_overflow(unused, pads[i].second, &unused)) {
      return absl::InvalidArgumentError(absl::StrCat("Pad: padding on axis ", i, " of shape ",
                                                     FormatDims(shape_), " overflows int64"));
    }
  }
  Dims padded(shape_);
  for (int i = 0; i < rank(); ++i) padded[i] += pads[i].first + pads[i].second;
  if (absl::Status s = CheckShape(padded); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("Pad: ", s.message()));
  }
  return PadUnchecked(pads);
}

absl::StatusOr<View> View::Shrink(absl::Span<const Interval> bounds) const {
  if (static_cast<int>(bounds.size()) != rank()) {
    return RankError("Shrink", *this, bounds.size(), "pairs");
  }
  for (int i = 0; i < rank(); ++i) {
    const auto [b, e] = bounds[i];
    if (b < 0 || b > e || e > shape_[i]) {
      return absl::InvalidArgumentError(
          absl::StrCat("Shrink: (", b, ", ", e, ") on axis ", i, " is out of bounds for shape ",
                       FormatDims(shape_), " (need 0 <= begin <= end <= ", shape_[i], ")"));
    }
  }
  return ShrinkUnchecked(bounds);
}

absl::StatusOr<View> View::Flip(absl::Span<const int64_t> flags) const {
  const int n = rank();
  if (static_cast<int>(flags.size()) != n) return RankError("Flip", *this, flags.size(), "flags");
  bool any = false;
  for (int i = 0; i < n; ++i) {
    if (flags[i] != 0 && flags[i] != 1) {
      return absl::InvalidArgumentError(absl::StrCat("Flip: flag for axis ", i, " of shape ",
                                                     FormatDims(shape_), " must be 0 or 1, got ",
                                                     flags[i]));
    }
    any |= flags[i] == 1;
  }
  if (!any) return *this;
  Dims strides = strides_;
  Intervals mask = mask_;
  int64_t offset = offset_;
  for (int i = 0; i < n; ++i) {
    if (!flags[i]) continue;
    // Element k of the flipped axis is element s-1-k of the old one.
    offset += (shape_[i] - 1) * strides_[i];
    strides[i] = -strides_[i];
    if (!mask.empty()) mask[i] = {shape_[i] - mask_[i].second, shape_[i] - mask_[i].first};
  }
  return Create(shape_, strides, offset, mask);
}

std::optional<View> View::Invert(absl::Span<const int64_t> out_shape) const {
  View ret = Create(shape_);
  if (!mask_.empty()) ret = ret.ShrinkUnchecked(mask_);
  const int n = rank();
  Dims flags(n);
  for (int i = 0; i < n; ++i) flags[i] = strides_[i] < 0;
  ret = *ret.Flip(flags);
  // Axes by descending |stride| (negative strides after the positive ones, as
  // tinygrad's argsort of -x if x > 0 else x), stable.
  Dims order(n);
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](int64_t a) { return strides_[a] > 0 ? -strides_[a] : strides_[a]; };
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return key(a) < key(b); });
  ret = *ret.Permute(order);
  if (ret.size() != Prod(out_shape)) return std::nullopt;
  return ret;
}

std::string View::ToString() const {
  return absl::StrCat("View(shape=", FormatDims(shape_), ", strides=", FormatDims(strides_),
                      ", offset=", offset_,
                      ", mask=", mask_.empty() ? "None" : FormatIntervals(mask_),
                      ", contiguous=", contiguous_ ? "True" : "False", ")");
}

size_t View::Hash() const { return absl::HashOf(shape_, strides_, offset_, mask_); }

Dims Unravel(absl::Span<const int64_t> shape, int64_t offset) {
  Dims idx(shape.size(), 0);
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 0) return Dims(shape.size(), 0);
    idx[i] = FloorModulo(FloorDivide(offset, acc), shape[i]);
    acc *= shape[i];
  }
  return idx;
}

}  // namespace uop
