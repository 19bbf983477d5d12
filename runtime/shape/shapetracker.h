// ShapeTracker: a stack of Views describing how a tensor's elements map onto
// a flat buffer, so movement ops never copy.
//
// views()[0] indexes the buffer; each later view indexes the row-major
// elements of the view below it; the last view's shape is the tensor's shape.
// A movement op changes only the top view, except a reshape the top view
// cannot absorb, which stacks a new contiguous view. Simplify() folds the top
// two views into one where a single view can express both. This is
// tinygrad's `shape/shapetracker.py`.
//
//   ShapeTracker st = ShapeTracker::FromShape({4, 6});
//   st = st.Permute({1, 0}).value();          // one view, strides (1, 6)
//   st = st.Reshape({24}).value();            // two views: that one, then (24,)
//   st.RealStrides()                          // {nullopt}: not affine in the axis
//   auto [idx, valid] = st.ToIndexed({i});    // index math for codegen
//
// A ShapeTracker is the arg of a VIEW UOp (MakeViewUOp), which then reports
// the tracker's shape as its own.
#ifndef UOP_RUNTIME_SHAPE_SHAPETRACKER_H_
#define UOP_RUNTIME_SHAPE_SHAPETRACKER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/shape/view.h"
#include "runtime/uop/arg.h"
#include "runtime/uop/uop.h"

namespace uop {

class ShapeTracker final : public ArgObject {
 public:
  using ViewList = absl::InlinedVector<View, 2>;

  // One contiguous view. Precondition: dims >= 0 (check input with CheckShape).
  static ShapeTracker FromShape(absl::Span<const int64_t> shape);
  // Precondition: at least one view; each view indexes the row-major
  // elements of the one below it.
  explicit ShapeTracker(ViewList views);

  const ViewList& views() const { return views_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  // Number of logical elements (product of the shape).
  int64_t size() const { return views_.back().size(); }
  // The buffer read in order: one view, offset 0, row-major, no mask.
  bool contiguous() const { return views_.size() == 1 && views_[0].contiguous(); }
  // Row-major strides and no mask, at any offset.
  bool consecutive() const;

  // Movement ops (see View for their rules and errors).
  absl::StatusOr<ShapeTracker> Reshape(absl::Span<const int64_t> new_shape) const;
  absl::StatusOr<ShapeTracker> Permute(absl::Span<const int64_t> order) const;
  absl::StatusOr<ShapeTracker> Expand(absl::Span<const int64_t> new_shape) const;
  absl::StatusOr<ShapeTracker> Pad(absl::Span<const Interval> pads) const;
  absl::StatusOr<ShapeTracker> Shrink(absl::Span<const Interval> bounds) const;
  absl::StatusOr<ShapeTracker> Flip(absl::Span<const int64_t> flags) const;

  // Folds the top two views while they compose into one.
  ShapeTracker Simplify() const;
  // `upper` applied on top of this tracker (its first view indexes this
  // tracker's elements), simplified one view at a time. tinygrad's `+`.
  ShapeTracker Compose(const ShapeTracker& upper) const;
  // The tracker mapping `out_shape` (the buffer's shape) back onto this
  // tracker's elements, when every view is a permutation/flip (see
  // View::Invert); nullopt otherwise.
  std::optional<ShapeTracker> Invert(absl::Span<const int64_t> out_shape) const;

  // Per axis: the buffer-index step of a unit step along the axis, when the
  // whole index expression is affine in that axis (0 if it does not use the
  // axis); nullopt when it is not affine or, unless `ignore_valid`, when
  // validity depends on the axis.
  std::vector<std::optional<int64_t>> RealStrides(bool ignore_valid = false) const;
  // Axes whose real stride is 1.
  std::vector<int> UnitStrideAxes(bool ignore_valid = false) const;
  // Buffer extent this tracker can touch: the largest index of any element
  // inside the base view's mask, plus one (0 when nothing is reachable). An
  // upper bound: upper views may reach fewer elements.
  int64_t RealSize() const;
  // Whether validity (padding) depends on `axis` (0 <= axis < rank).
  bool AxisIsMasked(int axis) const;
  // The shape with `axes` set to 1 (the output shape of a reduce).
  std::vector<int64_t> ReduceShape(absl::Span<const int64_t> axes) const;

  // (index, valid) for the element at `idxs` (one index-dtype UOp per axis,
  // typically RANGE or DEFINE_VAR nodes, each taking values in [0, shape[i])):
  // the buffer index it reads, meaningful only where `valid` (a bool UOp) is
  // true. Terms with stride 0 are left out, constants folded, divisions and
  // modulos that cannot carry folded away (what remains goes through
  // uop::Simplify), and validity has only the checks that can fail (constant
  // true without padding, constant false when nothing is valid).
  // Precondition: idxs.size() == rank().
  std::pair<UOpPtr, UOpPtr> ToIndexed(absl::Span<const UOpPtr> idxs) const;

  // ArgObject. The hash is absl's: stable within a process only (use
  // ToString for persistent keys).
  size_t Hash() const override { return hash_; }
  bool Equals(const ArgObject& other) const override;
  // tinygrad's repr: ShapeTracker(views=(View(...), ...))
  std::string ToString() const override;
  const std::vector<int64_t>* Shape() const override { return &shape_; }

  friend bool operator==(const ShapeTracker& a, const ShapeTracker& b) {
    return a.hash_ == b.hash_ && a.views_ == b.views_;
  }
  friend bool operator!=(const ShapeTracker& a, const ShapeTracker& b) { return !(a == b); }

 private:
  // The same stack with the top view replaced.
  ShapeTracker WithTop(View top) const;

  ViewList views_;
  std::vector<int64_t> shape_;  // views_.back().shape(), as the IR's Shape type
  size_t hash_;
};

// The VIEW node for `st`: Op::kView, dtype void, no sources, arg = st.
UOpPtr MakeViewUOp(std::shared_ptr<const ShapeTracker> st);

}  // namespace uop

#endif  // UOP_RUNTIME_SHAPE_SHAPETRACKER_H_
