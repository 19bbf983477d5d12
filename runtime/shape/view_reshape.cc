// View::Reshape and View::Minify: regrouping axes of one view without a copy.
//
// A reshape fits in one view when every group of merged old axes (adjacent
// axes whose strides chain, see MergeDims) is split into new axes whose
// sizes multiply to exactly that group, and when the mask can be expressed
// per new axis (ReshapeMask). Same algorithm as tinygrad's View.reshape.
#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/shape/format.h"
#include "runtime/shape/view.h"

namespace uop {

namespace {

struct MergedDim {
  int64_t size;    // product of the merged axes
  int64_t stride;  // stride of the innermost merged axis
  // Size of the part that really moves through memory: beyond it the merged
  // axis only repeats (expanded) or is masked to one index.
  int64_t real_size;
};

// Adjacent axes merge when the outer stride is the inner stride times the
// inner size (contiguous part), when both are broadcast (stride 0), or when
// the outer axis is masked to a single index. Size-1 axes always merge.
absl::InlinedVector<MergedDim, 6> MergeDims(const Dims& shape, const Dims& strides,
                                            const Intervals& mask) {
  absl::InlinedVector<MergedDim, 6> ret;
  if (shape.empty()) return ret;
  const bool has_mask = !mask.empty();
  ret.push_back({shape[0], strides[0], strides[0] != 0 ? shape[0] : 0});
  bool merging = has_mask ? mask[0].second - mask[0].first == 1 : shape[0] == 1;
  for (size_t i = 1; i < shape.size(); ++i) {
    const int64_t s = shape[i], st = strides[i];
    if (s == 1) continue;
    MergedDim& last = ret.back();
    if (merging || last.stride == s * st) {
      last = {last.size * s, st, merging ? s : last.real_size * s};
    } else {
      ret.push_back({s, st, s});
    }
    merging = has_mask && mask[i].second - mask[i].first == 1;
  }
  return ret;
}

// The mask of `old_shape` re-expressed on `new_shape`, or nullopt when a
// new axis would cut across a partially masked range. An absent mask gives
// the full mask.
std::optional<Intervals> ReshapeMask(const Intervals& mask, absl::Span<const int64_t> old_shape,
                                     absl::Span<const int64_t> new_shape) {
  Intervals new_mask;
  if (mask.empty()) {
    for (int64_t s : new_shape) new_mask.push_back({0, s});
    return new_mask;
  }
  // Walk both shapes from the innermost axis; exhausted shapes yield 1s.
  size_t old_left = old_shape.size(), new_left = new_shape.size(), mask_left = mask.size();
  auto next_old = [&]() -> int64_t { return old_left ? old_shape[--old_left] : 1; };
  auto next_new = [&]() -> int64_t { return new_left ? new_shape[--new_left] : 1; };
  auto next_mask = [&]() -> Interval { return mask_left ? mask[--mask_left] : Interval{0, 1}; };

  int64_t curr_stride = 1, old_dim = next_old(), new_dim = next_new();
  Interval m = next_mask();
  // Each step emits an axis or merges an old axis; bound the loop anyway.
  size_t guard = 2 * (old_shape.size() + new_shape.size()) + 4;
  while (new_mask.size() < new_shape.size()) {
    if (guard-- == 0) return std::nullopt;
    const auto [l, r] = m;
    const int64_t next_stride = new_dim * curr_stride;
    if (old_dim == next_stride) {
      // The new axis ends exactly where the old one does: copy its slice.
      new_mask.push_back({FloorDivide(l, curr_stride), FloorDivide(r - 1, curr_stride) + 1});
      curr_stride = 1;
      old_dim = next_old();
      new_dim = next_new();
      m = next_mask();
    } else if (old_dim > next_stride) {
      // Splitting an old axis: the mask must not straddle the new axis.
      if (old_dim % next_stride != 0) return std::nullopt;
      if ((l % next_stride != 0 || r % next_stride != 0) &&
          FloorDivide(l, next_stride) != FloorDivide(r - 1, next_stride)) {
        return std::nullopt;
      }
      new_mask.push_back({FloorDivide(FloorModulo(l, next_stride), curr_stride),
                          FloorDivide(FloorModulo(r - 1, next_stride), curr_stride) + 1});
      curr_stride = next_stride;
      new_dim = next_new();
    } else {
      // Merging old axes: only a full inner mask or a single outer index unfold
      // into one contiguous range.
      const Interval next_m = next_mask();
      if (m != Interval{0, old_dim} && l != r && next_m.second - next_m.first != 1) {
        return std::nullopt;
      }
      m = {next_m.first * old_dim + l, (next_m.second - 1) * old_dim + r};
      old_dim *= next_old();
    }
  }
  std::reverse(new_mask.begin(), new_mask.end());
  return new_mask;
}

}  // namespace

absl::StatusOr<std::optional<View>> View::Reshape(absl::Span<const int64_t> new_shape) const {
  absl::Status s = CheckShape(new_shape);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("Reshape: ", s.message()));
  const int64_t old_size = size(), new_size = Prod(new_shape);
  if (old_size != new_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("Reshape: cannot reshape ", FormatDims(shape_), " (", old_size,
                     " elements) to ", FormatDims(new_shape), " (", new_size, " elements)"));
  }
  return ReshapeUnchecked(new_shape);
}

std::optional<View> View::ReshapeUnchecked(absl::Span<const int64_t> new_shape) const {
  if (absl::MakeConstSpan(shape_) == new_shape) return *this;
  if (size() == 0) return Create(new_shape);
  if (new_shape.empty() && !mask_.empty()) {
    for (const Interval& m : mask_)
      if (m.first == m.second) return std::nullopt;
  }
  if (contiguous_) return Create(new_shape);

  // Assign strides to the new axes from the innermost, group by group.
  Dims new_strides(new_shape.size(), 0);
  size_t new_left = new_shape.size();
  const auto merged = MergeDims(shape_, strides_, mask_);
  for (size_t g = merged.size(); g-- > 0;) {
    int64_t stride = merged[g].stride, acc = 1;
    while (acc < merged[g].size && new_left > 0) {
      const int64_t new_dim = new_shape[--new_left];
      new_strides[new_left] = stride * acc;
      acc *= new_dim;
      // Past the moving part the axis only repeats or is masked.
      if (acc >= merged[g].real_size) stride = 0;
    }
    if (acc != merged[g].size) return std::nullopt;
  }
  // Leading new axes left over are size 1 and keep stride 0.

  std::optional<Intervals> new_mask = ReshapeMask(mask_, shape_, new_shape);
  if (!new_mask) return std::nullopt;
  // Strides past a mask's start only matter inside it: keep the first valid
  // element where it was.
  int64_t extra_offset = 0;
  for (size_t i = 0; i < mask_.size(); ++i) extra_offset += mask_[i].first * strides_[i];
  for (size_t i = 0; i < new_shape.size(); ++i)
    extra_offset -= (*new_mask)[i].first * new_strides[i];
  return Create(new_shape, new_strides, offset_ + extra_offset, *new_mask);
}

View View::Minify() const {
  const auto merged = MergeDims(shape_, strides_, mask_);
  if (merged.size() == shape_.size()) return *this;
  Dims min_shape(merged.size());
  for (size_t i = 0; i < merged.size(); ++i) min_shape[i] = merged[i].size;
  std::optional<View> v = ReshapeUnchecked(min_shape);
  return v ? *v : *this;
}

}  // namespace uop
