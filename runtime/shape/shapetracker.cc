#include "runtime/shape/shapetracker.h"

#include <cstdio>
#include <cstdlib>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {

namespace {

size_t HashViews(const ShapeTracker::ViewList& views) {
  size_t h = absl::HashOf(views.size());
  for (const View& v : views) h = absl::HashOf(h, v.Hash());
  return h;
}

}  // namespace

ShapeTracker::ShapeTracker(ViewList views) : views_(std::move(views)) {
  if (views_.empty()) {
    std::fprintf(stderr, "ShapeTracker: constructed without views\n");
    std::abort();
  }
  shape_.assign(views_.back().shape().begin(), views_.back().shape().end());
  hash_ = HashViews(views_);
}

ShapeTracker ShapeTracker::FromShape(absl::Span<const int64_t> shape) {
  return ShapeTracker(ViewList{View::Create(shape)});
}

bool ShapeTracker::consecutive() const {
  if (views_.size() != 1) return false;
  const View& v = views_[0];
  return !v.has_mask() && v.strides() == StridesForShape(v.shape());
}

ShapeTracker ShapeTracker::WithTop(View top) const {
  ViewList views = views_;
  views.back() = std::move(top);
  return ShapeTracker(std::move(views));
}

absl::StatusOr<ShapeTracker> ShapeTracker::Reshape(absl::Span<const int64_t> new_shape) const {
  ASSIGN_OR_RETURN(std::optional<View> merged, views_.back().Reshape(new_shape));
  if (merged) return WithTop(std::move(*merged));
  // The top view cannot express the new grouping: index its elements anew.
  ViewList views = views_;
  views.push_back(View::Create(new_shape));
  return ShapeTracker(std::move(views));
}

absl::StatusOr<ShapeTracker> ShapeTracker::Permute(absl::Span<const int64_t> order) const {
  ASSIGN_OR_RETURN(View v, views_.back().Permute(order));
  return WithTop(std::move(v));
}

absl::StatusOr<ShapeTracker> ShapeTracker::Expand(absl::Span<const int64_t> new_shape) const {
  ASSIGN_OR_RETURN(View v, views_.back().Expand(new_shape));
  return WithTop(std::move(v));
}

absl::StatusOr<ShapeTracker> ShapeTracker::Pad(absl::Span<const Interval> pads) const {
  ASSIGN_OR_RETURN(View v, views_.back().Pad(pads));
  return WithTop(std::move(v));
}

absl::StatusOr<ShapeTracker> ShapeTracker::Shrink(absl::Span<const Interval> bounds) const {
  ASSIGN_OR_RETURN(View v, views_.back().Shrink(bounds));
  return WithTop(std::move(v));
}

absl::StatusOr<ShapeTracker> ShapeTracker::Flip(absl::Span<const int64_t> flags) const {
  ASSIGN_OR_RETURN(View v, views_.back().Flip(flags));
  return WithTop(std::move(v));
}

ShapeTracker ShapeTracker::Simplify() const {
  if (views_.size() < 2) return *this;
  ViewList views = views_;
  while (views.size() >= 2) {
    std::optional<View> merged = views[views.size() - 2].Compose(views.back());
    if (!merged) break;
    views.pop_back();
    views.back() = std::move(*merged);
  }
  return ShapeTracker(std::move(views));
}

ShapeTracker ShapeTracker::Compose(const ShapeTracker& upper) const {
  ShapeTracker ret = *this;
  // One view at a time: each merge sees the freshest top view.
  for (const View& v : upper.views_) {
    ViewList views = ret.views_;
    views.push_back(v);
    ret = ShapeTracker(std::move(views)).Simplify();
  }
  return ret;
}

std::optional<ShapeTracker> ShapeTracker::Invert(absl::Span<const int64_t> out_shape) const {
  ViewList inverted;
  for (size_t i = views_.size(); i-- > 0;) {
    absl::Span<const int64_t> target =
        i > 0 ? absl::Span<const int64_t>(views_[i - 1].shape()) : out_shape;
    std::optional<View> inv = views_[i].Invert(target);
    if (!inv) return std::nullopt;
    inverted.push_back(std::move(*inv));
  }
  absl::StatusOr<ShapeTracker> ret = ShapeTracker(std::move(inverted)).Reshape(out_shape);
  if (!ret.ok()) return std::nullopt;
  return *std::move(ret);
}

std::vector<int> ShapeTracker::UnitStrideAxes(bool ignore_valid) const {
  std::vector<int> axes;
  std::vector<std::optional<int64_t>> strides = RealStrides(ignore_valid);
  for (int i = 0; i < rank(); ++i)
    if (strides[i] == 1) axes.push_back(i);
  return axes;
}

int64_t ShapeTracker::RealSize() const {
  if (size() == 0) return 0;
  View base = views_[0];
  if (base.has_mask()) base = base.ShrinkUnchecked(base.mask());
  if (base.size() == 0) return 0;
  int64_t last = base.offset();
  for (int i = 0; i < base.rank(); ++i) {
    const int64_t span = (base.shape()[i] - 1) * base.strides()[i];
    if (span > 0) last += span;
  }
  return last + 1;
}

std::vector<int64_t> ShapeTracker::ReduceShape(absl::Span<const int64_t> axes) const {
  std::vector<int64_t> out = shape_;
  for (int64_t a : axes)
    if (a >= 0 && a < rank()) out[a] = 1;
  return out;
}

bool ShapeTracker::Equals(const ArgObject& other) const {
  const auto* st = dynamic_cast<const ShapeTracker*>(&other);
  return st != nullptr && *this == *st;
}

std::string ShapeTracker::ToString() const {
  std::string out = "ShapeTracker(views=(";
  for (size_t i = 0; i < views_.size(); ++i)
    absl::StrAppend(&out, i ? ", " : "", views_[i].ToString());
  absl::StrAppend(&out, views_.size() == 1 ? ",))" : "))");
  return out;
}

UOpPtr MakeViewUOp(std::shared_ptr<const ShapeTracker> st) {
  return UOp::Create(Op::kView, DType::Void(), {},
                     Arg(std::shared_ptr<const ArgObject>(std::move(st))));
}

}  // namespace uop
