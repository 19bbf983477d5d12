// View: one strided, offset, optionally masked window onto a flat buffer.
//
// A view maps every element of its logical `shape` to a buffer index
//   offset + sum_i coord[i] * strides[i]
// and, with a mask, marks elements outside the per-axis [begin, end) box as
// padding (they read as zero and touch no memory). Movement ops (permute,
// expand, pad, shrink, flip, reshape) are free: they only compute a new View.
// This is tinygrad's `shape/view.py`; canonical forms are the same, so views
// compare equal exactly when tinygrad's would.
//
//   View v = View::Create({2, 3});                     // strides (3, 1), contiguous
//   View t = v.Permute({1, 0}).value();                // shape (3, 2), strides (1, 3)
//   View p = v.Pad({{1, 1}, {0, 0}}).value();          // shape (4, 3), offset -3,
//                                                      // mask ((1, 3), (0, 3))
//   std::optional<View> r = t.Reshape({6}).value();    // nullopt: needs a second view
//
// Canonical form (View::Create): size-1 axes get stride 0; a mask covering
// the whole shape is dropped; an axis masked to a single valid index gets
// stride 0 (its offset folded in); a view with no valid element becomes the
// all-masked view (strides 0, offset 0, mask all (0, 0)); a view with a 0 in
// its shape becomes the zero view (strides 0, offset 0, no mask).
//
// Movement ops validate their arguments and return InvalidArgument naming the
// op, the shape and the bad argument. Reshape returns nullopt (not an error)
// when the result cannot be one view; ShapeTracker then stacks a new view.
#ifndef UOP_RUNTIME_SHAPE_VIEW_H_
#define UOP_RUNTIME_SHAPE_VIEW_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace uop {

// Inline capacity covers the ranks kernels use, so views rarely allocate.
using Dims = absl::InlinedVector<int64_t, 6>;
// One [begin, end) pair per axis: a mask entry, a pad (before, after) or a
// shrink (begin, end).
using Interval = std::pair<int64_t, int64_t>;
using Intervals = absl::InlinedVector<Interval, 6>;

// Row-major strides of `shape`, canonical (0 on size-1 axes).
Dims StridesForShape(absl::Span<const int64_t> shape);
// Product of the dims (1 for rank 0).
int64_t Prod(absl::Span<const int64_t> dims);
// InvalidArgument unless every dim is >= 0 and the product fits int64.
absl::Status CheckShape(absl::Span<const int64_t> shape);

class View {
 public:
  // The canonical view. Empty `strides` means row-major; empty `mask` means
  // none. Preconditions (programmer errors, asserted in debug builds): shape
  // dims >= 0; strides and mask empty or of the shape's rank. Use Make() for
  // values that come from input.
  static View Create(absl::Span<const int64_t> shape, absl::Span<const int64_t> strides = {},
                     int64_t offset = 0, absl::Span<const Interval> mask = {});
  // Create() after validating the preconditions and that every mask entry
  // lies inside its axis (begin <= end is not required: an empty entry masks
  // the whole view).
  static absl::StatusOr<View> Make(absl::Span<const int64_t> shape,
                                   absl::Span<const int64_t> strides = {}, int64_t offset = 0,
                                   absl::Span<const Interval> mask = {});

  const Dims& shape() const { return shape_; }
  const Dims& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  bool has_mask() const { return !mask_.empty(); }
  // Empty when there is no mask; otherwise one entry per axis.
  const Intervals& mask() const { return mask_; }
  // Row-major over the whole shape from offset 0, no mask.
  bool contiguous() const { return contiguous_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t size() const { return Prod(shape_); }

  // Movement ops. Each returns the canonical result view.
  absl::StatusOr<View> Permute(absl::Span<const int64_t> order) const;
  // Axes of size 1 broadcast to any size (0 included); others must match.
  absl::StatusOr<View> Expand(absl::Span<const int64_t> new_shape) const;
  // (before, after) >= 0 per axis; padding reads as masked.
  absl::StatusOr<View> Pad(absl::Span<const Interval> pads) const;
  // [begin, end) per axis with 0 <= begin <= end <= size.
  absl::StatusOr<View> Shrink(absl::Span<const Interval> bounds) const;
  // One 0/1 flag per axis (the FLIP arg of the IR); flagged axes reverse.
  absl::StatusOr<View> Flip(absl::Span<const int64_t> flags) const;
  // Error if the element count differs or a dim is negative; nullopt if the
  // result is not expressible as one view (masked or strided axes that the
  // new shape cuts across).
  absl::StatusOr<std::optional<View>> Reshape(absl::Span<const int64_t> new_shape) const;

  // The same view with adjacent axes merged where strides and mask allow,
  // keeping as few axes as possible (cheaper index math).
  View Minify() const;

  // `upper` (a view indexing this view's elements in row-major order) and
  // this view composed into one view, or nullopt when no single view
  // expresses it. tinygrad's `View.__add__` (self = lower view).
  std::optional<View> Compose(const View& upper) const;

  // The inverse view that maps this view's output back onto a buffer of
  // `out_shape`, when this view is a permutation/flip of it (optionally
  // shrunk by its mask); nullopt for anything that is not invertible.
  std::optional<View> Invert(absl::Span<const int64_t> out_shape) const;

  // tinygrad's repr: View(shape=(2, 3), strides=(3, 1), offset=0, mask=None, contiguous=True)
  std::string ToString() const;
  size_t Hash() const;
  friend bool operator==(const View& a, const View& b) {
    return a.offset_ == b.offset_ && a.shape_ == b.shape_ && a.strides_ == b.strides_ &&
           a.mask_ == b.mask_;
  }
  friend bool operator!=(const View& a, const View& b) { return !(a == b); }

  // Unvalidated forms for callers that already checked their arguments
  // (ShapeTracker, Compose). Same preconditions as the checked ones.
  View PadUnchecked(absl::Span<const Interval> pads) const;
  View ShrinkUnchecked(absl::Span<const Interval> bounds) const;
  std::optional<View> ReshapeUnchecked(absl::Span<const int64_t> new_shape) const;

 private:
  View() = default;
  // Crops to `region` (per axis [begin, end) in this view's coordinates, may
  // exceed the shape: the excess is padding) and intersects the mask with
  // `extra_mask` (in the new coordinates) when given.
  View Resize(absl::Span<const Interval> region, absl::Span<const Interval> extra_mask) const;
  std::optional<View> ComposeImpl(const View& upper, int depth) const;

  Dims shape_;
  Dims strides_;
  int64_t offset_ = 0;
  Intervals mask_;
  bool contiguous_ = true;
};

// `lower + upper`: View::Compose, spelled like tinygrad.
inline std::optional<View> operator+(const View& lower, const View& upper) {
  return lower.Compose(upper);
}

// Coordinates of flat index `offset` in row-major `shape`, with floor
// division and modulo (so negative offsets wrap like numpy/Python).
Dims Unravel(absl::Span<const int64_t> shape, int64_t offset);

// Floor division and modulo (Python's // and %) for b != 0.
inline int64_t FloorDivide(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline int64_t FloorModulo(int64_t a, int64_t b) { return a - FloorDivide(a, b) * b; }
inline int64_t CeilDivide(int64_t a, int64_t b) { return -FloorDivide(-a, b); }

}  // namespace uop

#endif  // UOP_RUNTIME_SHAPE_VIEW_H_
