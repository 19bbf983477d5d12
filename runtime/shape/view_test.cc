#include "runtime/shape/view.h"

#include <string>

#include "gtest/gtest.h"

namespace uop {
namespace {

Dims D(std::initializer_list<int64_t> v) { return Dims(v); }
Intervals M(std::initializer_list<Interval> v) { return Intervals(v); }

// Unwraps a result that the test expects to succeed.
template <typename T>
T Ok(absl::StatusOr<T> r) {
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : T{};
}
View Ok(absl::StatusOr<View> r) {
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : View::Create({});
}

void ExpectError(const absl::Status& s, std::initializer_list<const char*> fragments) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  for (const char* f : fragments) EXPECT_NE(s.message().find(f), absl::string_view::npos) << s;
}

// ---------------------------------------------------------------------------
// Canonical form

TEST(View, CreateRowMajor) {
  View v = View::Create({2, 3, 4});
  EXPECT_EQ(v.strides(), D({12, 4, 1}));
  EXPECT_EQ(v.offset(), 0);
  EXPECT_FALSE(v.has_mask());
  EXPECT_TRUE(v.contiguous());
  EXPECT_EQ(v.size(), 24);
  EXPECT_EQ(v.rank(), 3);
}

TEST(View, SizeOneAxesGetStrideZero) {
  EXPECT_EQ(View::Create({1, 3}).strides(), D({0, 1}));
  View v = View::Create({2, 1, 3}, {7, 5, 1});
  EXPECT_EQ(v.strides(), D({7, 0, 1}));
  EXPECT_FALSE(v.contiguous());
  // Row-major apart from the size-1 axis is still contiguous.
  EXPECT_TRUE(View::Create({2, 1, 3}, {3, 99, 1}).contiguous());
}

TEST(View, FullMaskIsDropped) {
  View v = View::Create({2, 3}, {}, 0, M({{0, 2}, {0, 3}}));
  EXPECT_FALSE(v.has_mask());
  EXPECT_TRUE(v.contiguous());
}

TEST(View, ZeroSizeCanonicalizesToZeroView) {
  View v = View::Create({2, 0, 3}, {5, 1, 7}, 4, M({{0, 1}, {0, 0}, {1, 2}}));
  EXPECT_EQ(v.shape(), D({2, 0, 3}));
  EXPECT_EQ(v.strides(), D({0, 0, 0}));
  EXPECT_EQ(v.offset(), 0);
  EXPECT_FALSE(v.has_mask());
  EXPECT_TRUE(v.contiguous());
  EXPECT_EQ(v.size(), 0);
}

TEST(View, SingleValidIndexFoldsIntoOffset) {
  // Axis 0 only ever reads row 2: stride 0, offset 2 * 3.
  View v = View::Create({4, 3}, {3, 1}, 0, M({{2, 3}, {0, 3}}));
  EXPECT_EQ(v.strides(), D({0, 1}));
  EXPECT_EQ(v.offset(), 6);
  EXPECT_EQ(v.mask(), M({{2, 3}, {0, 3}}));
  EXPECT_FALSE(v.contiguous());
}

TEST(View, NothingValidCanonicalizesToAllMasked) {
  View v = View::Create({4, 3}, {3, 1}, 5, M({{1, 1}, {0, 3}}));
  EXPECT_EQ(v.strides(), D({0, 0}));
  EXPECT_EQ(v.offset(), 0);
  EXPECT_EQ(v.mask(), M({{0, 0}, {0, 0}}));
  EXPECT_EQ(v, View::Create({4, 3}, {7, 7}, 9, M({{0, 4}, {2, 1}})));
}

TEST(View, EqualityAndHashFollowCanonicalForm) {
  View a = View::Create({2, 1, 3}, {3, 42, 1});
  View b = View::Create({2, 1, 3});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Hash(), b.Hash());
  View c = View::Create({2, 1, 3}, {3, 0, 1}, 1);
  EXPECT_NE(a, c);
}

TEST(View, ToStringMatchesTinygradRepr) {
  EXPECT_EQ(View::Create({2, 3}).ToString(),
            "View(shape=(2, 3), strides=(3, 1), offset=0, mask=None, contiguous=True)");
  EXPECT_EQ(View::Create({5}, {-1}, 4, M({{1, 3}})).ToString(),
            "View(shape=(5,), strides=(-1,), offset=4, mask=((1, 3),), contiguous=False)");
  EXPECT_EQ(View::Create({}).ToString(),
            "View(shape=(), strides=(), offset=0, mask=None, contiguous=True)");
}

TEST(View, MakeValidatesInput) {
  ExpectError(View::Make({2, -1}).status(), {"negative", "(2, -1)", "axis 1"});
  ExpectError(View::Make({2, 3}, {1}).status(), {"1 strides", "(2, 3)"});
  ExpectError(View::Make({2, 3}, {}, 0, M({{0, 2}})).status(), {"1 mask entries"});
  ExpectError(View::Make({2, 3}, {}, 0, M({{0, 2}, {1, 4}})).status(), {"(1, 4)", "axis 1"});
  ExpectError(View::Make({1LL << 40, 1LL << 40}).status(), {"2^63"});
  EXPECT_EQ(Ok(View::Make({2, 3}, {3, 1}, 0, M({{0, 2}, {0, 3}}))), View::Create({2, 3}));
}

// ---------------------------------------------------------------------------
// Permute, expand, pad, shrink, flip

TEST(View, Permute) {
  View v = Ok(View::Create({2, 3, 4}).Permute({2, 0, 1}));
  EXPECT_EQ(v.shape(), D({4, 2, 3}));
  EXPECT_EQ(v.strides(), D({1, 12, 4}));
  EXPECT_FALSE(v.contiguous());
  View masked = Ok(Ok(View::Create({2, 3}).Pad({{1, 0}, {0, 2}})).Permute({1, 0}));
  EXPECT_EQ(masked.mask(), M({{0, 3}, {1, 3}}));
}

TEST(View, PermuteRejectsNonPermutations) {
  View v = View::Create({2, 3});
  ExpectError(v.Permute({0}).status(), {"Permute", "expected 2 axes", "(2, 3)", "got 1"});
  ExpectError(v.Permute({0, 0}).status(), {"Permute", "(0, 0)", "not a permutation", "(2, 3)"});
  ExpectError(v.Permute({0, 2}).status(), {"Permute", "(0, 2)"});
  ExpectError(v.Permute({-1, 0}).status(), {"Permute", "(-1, 0)"});
}

TEST(View, ExpandBroadcastsSizeOneAxes) {
  View v = Ok(View::Create({3, 1}).Expand({3, 4}));
  EXPECT_EQ(v.shape(), D({3, 4}));
  EXPECT_EQ(v.strides(), D({1, 0}));
  // A size-1 axis may also expand to 0 elements.
  EXPECT_EQ(Ok(View::Create({3, 1}).Expand({3, 0})).size(), 0);
}

TEST(View, ExpandCarriesMaskOfSizeOneAxes) {
  // Axis 1 is padding-free (0, 1): expands to the full range.
  View valid = Ok(Ok(View::Create({2, 1}).Pad({{1, 0}, {0, 0}})).Expand({3, 5}));
  EXPECT_EQ(valid.mask(), M({{1, 3}, {0, 5}}));
  // A masked-out size-1 axis stays masked out: nothing is valid.
  View none = Ok(Ok(View::Create({3, 1}).Shrink({{0, 3}, {1, 1}})).Pad({{0, 0}, {0, 1}}));
  EXPECT_EQ(Ok(none.Expand({3, 4})).mask(), M({{0, 0}, {0, 0}}));
}

TEST(View, ExpandRejectsBadShapes) {
  View v = View::Create({2, 1});
  ExpectError(v.Expand({2, 1, 1}).status(), {"Expand", "expected 2 sizes", "got 3"});
  ExpectError(v.Expand({4, 3}).status(),
              {"Expand", "axis 0", "(2, 1)", "size 2", "cannot expand to 4"});
  ExpectError(v.Expand({2, -3}).status(), {"Expand", "negative size -3"});
  ExpectError(View::Create({1, 1}).Expand({1LL << 40, 1LL << 40}).status(), {"Expand", "2^63"});
}

TEST(View, PadBecomesOffsetAndMask) {
  View v = Ok(View::Create({2, 3}).Pad({{1, 1}, {0, 0}}));
  EXPECT_EQ(v.shape(), D({4, 3}));
  EXPECT_EQ(v.strides(), D({3, 1}));
  EXPECT_EQ(v.offset(), -3);
  EXPECT_EQ(v.mask(), M({{1, 3}, {0, 3}}));
  // Zero padding is the identity.
  EXPECT_EQ(Ok(v.Pad({{0, 0}, {0, 0}})), v);
  // Padding a padded view keeps one mask in new coordinates.
  View twice = Ok(v.Pad({{0, 0}, {2, 1}}));
  EXPECT_EQ(twice.mask(), M({{1, 3}, {2, 5}}));
  EXPECT_EQ(twice.offset(), -5);
}

TEST(View, PadRejectsNegativePadding) {
  View v = View::Create({2, 3});
  ExpectError(v.Pad({{0, 0}, {-1, 0}}).status(),
              {"Pad", "negative", "(-1, 0)", "axis 1", "(2, 3)"});
  ExpectError(v.Pad({{0, 0}}).status(), {"Pad", "expected 2 pairs", "got 1"});
  ExpectError(v.Pad({{0, 0}, {0, INT64_MAX}}).status(), {"Pad", "overflows"});
  ExpectError(v.Pad({{0, 1LL << 40}, {0, 1LL << 40}}).status(), {"Pad", "2^63"});
}

TEST(View, ShrinkMovesOffsetAndNarrowsMask) {
  View v = Ok(View::Create({4, 5}).Shrink({{1, 3}, {2, 5}}));
  EXPECT_EQ(v.shape(), D({2, 3}));
  EXPECT_EQ(v.strides(), D({5, 1}));
  EXPECT_EQ(v.offset(), 7);
  EXPECT_FALSE(v.has_mask());
  // Shrinking into the valid part of a padded view drops the mask.
  View padded = Ok(View::Create({3}).Pad({{2, 2}}));
  View inner = Ok(padded.Shrink({{2, 5}}));
  EXPECT_EQ(inner, View::Create({3}));
  // Partly into the padding keeps the overlap.
  EXPECT_EQ(Ok(padded.Shrink({{1, 4}})).mask(), M({{1, 3}}));
}

TEST(View, ShrinkRejectsOutOfBounds) {
  View v = View::Create({2, 3});
  ExpectError(v.Shrink({{0, 2}, {1, 4}}).status(), {"Shrink", "(1, 4)", "axis 1", "(2, 3)"});
  ExpectError(v.Shrink({{2, 1}, {0, 3}}).status(), {"Shrink", "(2, 1)", "axis 0"});
  ExpectError(v.Shrink({{-1, 1}, {0, 3}}).status(), {"Shrink", "(-1, 1)"});
  ExpectError(v.Shrink({{0, 1}}).status(), {"Shrink", "expected 2 pairs"});
  // begin == end is an empty (but valid) shrink.
  EXPECT_EQ(Ok(v.Shrink({{1, 1}, {0, 3}})).size(), 0);
}

TEST(View, FlipNegatesStridesAndMovesOffset) {
  View v = Ok(View::Create({2, 3}).Flip({0, 1}));
  EXPECT_EQ(v.strides(), D({3, -1}));
  EXPECT_EQ(v.offset(), 2);
  View both = Ok(View::Create({2, 3}).Flip({1, 1}));
  EXPECT_EQ(both.strides(), D({-3, -1}));
  EXPECT_EQ(both.offset(), 5);
  // Flipping twice is the identity; the mask flips with the axis.
  EXPECT_EQ(Ok(both.Flip({1, 1})), View::Create({2, 3}));
  View padded = Ok(View::Create({3}).Pad({{1, 0}}));
  EXPECT_EQ(Ok(padded.Flip({1})).mask(), M({{0, 3}}));
}

TEST(View, FlipRejectsBadFlags) {
  View v = View::Create({2, 3});
  ExpectError(v.Flip({1}).status(), {"Flip", "expected 2 flags", "(2, 3)", "got 1"});
  ExpectError(v.Flip({0, 2}).status(), {"Flip", "axis 1", "0 or 1", "got 2"});
}

// ---------------------------------------------------------------------------
// Reshape

std::optional<View> Reshape(const View& v, std::initializer_list<int64_t> shape) {
  absl::StatusOr<std::optional<View>> r = v.Reshape(shape);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::nullopt;
}

TEST(ViewReshape, ContiguousStaysContiguous) {
  std::optional<View> v = Reshape(View::Create({2, 3, 4}), {6, 1, 4});
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, View::Create({6, 1, 4}));
  EXPECT_EQ(Reshape(View::Create({}), {1, 1}), View::Create({1, 1}));
  EXPECT_EQ(Reshape(View::Create({1, 1}), {}), View::Create({}));
}

TEST(ViewReshape, SplitsAndMergesPermutedAxes) {
  View t = Ok(View::Create({4, 6}).Permute({1, 0}));  // (6, 4) strides (1, 6)
  // Splitting an axis keeps one view.
  std::optional<View> split = Reshape(t, {3, 2, 4});
  ASSERT_TRUE(split);
  EXPECT_EQ(split->strides(), D({2, 1, 6}));
  // Merging axes whose strides do not chain needs a second view.
  EXPECT_FALSE(Reshape(t, {24}));
  EXPECT_FALSE(Reshape(t, {4, 6}));
  // Inserting and removing size-1 axes always works.
  std::optional<View> ones = Reshape(t, {1, 6, 1, 4, 1});
  ASSERT_TRUE(ones);
  EXPECT_EQ(ones->strides(), D({0, 1, 0, 6, 0}));
  View p = Ok(View::Create({2, 3, 4}).Permute({1, 0, 2}));  // (3, 2, 4) strides (4, 12, 1)
  std::optional<View> sub = Reshape(p, {3, 2, 2, 2});
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->strides(), D({4, 12, 2, 1}));
  EXPECT_FALSE(Reshape(p, {3, 8}));
}

TEST(ViewReshape, MergesAxesWhoseStridesChain) {
  // A shrink leaves strides (5, 1) over shape (2, 5): rows chain exactly.
  View rows = Ok(View::Create({4, 5}).Shrink({{1, 3}, {0, 5}}));
  std::optional<View> flat = Reshape(rows, {10});
  ASSERT_TRUE(flat);
  EXPECT_EQ(flat->strides(), D({1}));
  EXPECT_EQ(flat->offset(), 5);
  // A column shrink breaks the chain.
  View cols = Ok(View::Create({4, 5}).Shrink({{0, 4}, {1, 3}}));
  EXPECT_FALSE(Reshape(cols, {8}));
}

TEST(ViewReshape, ExpandedAxesKeepStrideZero) {
  View e = Ok(View::Create({3, 1}).Expand({3, 4}));  // strides (1, 0)
  std::optional<View> split = Reshape(e, {3, 2, 2});
  ASSERT_TRUE(split);
  EXPECT_EQ(split->strides(), D({1, 0, 0}));
  EXPECT_FALSE(Reshape(e, {12}));
  // Two broadcast axes merge with each other.
  View b = Ok(View::Create({1, 1}).Expand({3, 4}));
  std::optional<View> merged = Reshape(b, {12});
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->strides(), D({0}));
}

TEST(ViewReshape, MaskedViewsReshapeWhenTheMaskSplitsCleanly) {
  // Padding rows (whole rows of 3): merging rows keeps the mask contiguous.
  View rows = Ok(View::Create({2, 3}).Pad({{1, 1}, {0, 0}}));  // (4, 3), mask rows 1..3
  std::optional<View> flat = Reshape(rows, {12});
  ASSERT_TRUE(flat);
  EXPECT_EQ(flat->mask(), M({{3, 9}}));
  EXPECT_EQ(flat->offset(), -3);
  // Splitting that flat axis back into rows recovers the row mask.
  std::optional<View> back = Reshape(*flat, {4, 3});
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, rows);
  // Padding columns: the mask cuts every row, no single view can merge rows.
  View cols = Ok(View::Create({2, 3}).Pad({{0, 0}, {0, 1}}));
  EXPECT_FALSE(Reshape(cols, {8}));
  // A mask that straddles the split fails; one inside a block succeeds.
  View padded = Ok(View::Create({4}).Pad({{1, 1}}));  // (6,) mask (1, 5)
  EXPECT_FALSE(Reshape(padded, {2, 3}));
  std::optional<View> column = Reshape(padded, {6, 1});
  ASSERT_TRUE(column);
  EXPECT_EQ(column->mask(), M({{1, 5}, {0, 1}}));
}

TEST(ViewReshape, SingleValidRowMergesIntoNextAxis) {
  // Only row 1 of 3 is valid: it merges with the columns like a size-1 axis.
  View v = Ok(View::Create({3, 4}).Shrink({{1, 2}, {0, 4}}));
  View padded = Ok(v.Pad({{1, 1}, {0, 0}}));  // (3, 4), mask ((1, 2), (0, 4))
  std::optional<View> flat = Reshape(padded, {12});
  ASSERT_TRUE(flat);
  EXPECT_EQ(flat->mask(), M({{4, 8}}));
  EXPECT_EQ(flat->strides(), D({1}));
}

TEST(ViewReshape, ZeroSize) {
  View empty = View::Create({2, 0});
  EXPECT_EQ(Reshape(empty, {0, 5, 3}), View::Create({0, 5, 3}));
}

TEST(ViewReshape, RejectsSizeChangesAndNegativeDims) {
  View v = View::Create({2, 3});
  ExpectError(v.Reshape({4, 2}).status(),
              {"Reshape", "(2, 3)", "6 elements", "(4, 2)", "8 elements"});
  ExpectError(v.Reshape({-2, -3}).status(), {"Reshape", "negative", "(-2, -3)"});
  ExpectError(v.Reshape({7}).status(), {"(7,)", "7 elements"});
}

TEST(View, MinifyMergesAxes) {
  EXPECT_EQ(View::Create({2, 3, 4}).Minify(), View::Create({24}));
  View t = Ok(View::Create({2, 3, 4}).Permute({1, 0, 2}));  // (3, 2, 4) strides (4, 12, 1)
  EXPECT_EQ(t.Minify(), t);
  View e = Ok(View::Create({3, 1, 1}).Expand({3, 4, 5}));
  EXPECT_EQ(e.Minify().shape(), D({3, 20}));
}

// ---------------------------------------------------------------------------
// Compose and invert

TEST(ViewCompose, ContiguousSidesAreIdentities) {
  View t = Ok(View::Create({4, 6}).Permute({1, 0}));
  EXPECT_EQ(View::Create({4, 6}).Compose(t), t);
  EXPECT_EQ(t.Compose(View::Create({6, 4})), t);
  // A contiguous upper view of another shape is a reshape of the lower one.
  std::optional<View> split = t.Compose(View::Create({3, 2, 4}));
  ASSERT_TRUE(split);
  EXPECT_EQ(split->strides(), D({2, 1, 6}));
  EXPECT_FALSE(t.Compose(View::Create({24})));
}

TEST(ViewCompose, ProjectsStridesThroughTheLowerView) {
  // lower: (4, 6) transposed; upper: every element of lower's rows 1..2,
  // read through a shrink of the flat index.
  View lower = Ok(View::Create({4, 6}).Permute({1, 0}));           // (6, 4) strides (1, 6)
  View upper = Ok(View::Create({6, 4}).Shrink({{1, 3}, {0, 4}}));  // rows 1, 2
  std::optional<View> merged = lower.Compose(upper);
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->shape(), D({2, 4}));
  EXPECT_EQ(merged->strides(), D({1, 6}));
  EXPECT_EQ(merged->offset(), 1);
}

TEST(ViewCompose, PullsMasksBothWays) {
  // Upper mask: compose the valid box, then pad back.
  View lower = Ok(View::Create({4, 6}).Permute({1, 0}));
  View upper = Ok(View::Create({6, 4}).Pad({{1, 0}, {0, 0}}));
  std::optional<View> merged = lower.Compose(upper);
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->mask(), M({{1, 7}, {0, 4}}));
  EXPECT_EQ(merged->strides(), D({1, 6}));
  // Lower mask: restricts the upper axes that drive it.
  View padded = Ok(View::Create({2, 3}).Pad({{1, 1}, {0, 0}}));  // (4, 3), rows 1..2 valid
  View transposed = Ok(View::Create({4, 3}).Permute({1, 0}));
  std::optional<View> both = padded.Compose(transposed);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->shape(), D({3, 4}));
  EXPECT_EQ(both->mask(), M({{0, 3}, {1, 3}}));
}

TEST(ViewCompose, OperatorPlusIsCompose) {
  View lower = Ok(View::Create({4, 6}).Permute({1, 0}));
  View upper = View::Create({6, 4});
  EXPECT_EQ(lower + upper, lower.Compose(upper));
}

TEST(View, InvertUndoesPermuteAndFlip) {
  View v = Ok(Ok(View::Create({2, 3, 4}).Permute({2, 0, 1})).Flip({1, 0, 0}));
  std::optional<View> inv = v.Invert({2, 3, 4});
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->shape(), D({2, 3, 4}));
  // Composing the view with its inverse maps every buffer element to itself.
  std::optional<View> identity = v.Compose(*inv);
  ASSERT_TRUE(identity);
  EXPECT_EQ(*identity, View::Create({2, 3, 4}));
  // A shrink loses elements: not invertible onto the full shape.
  View shrunk = Ok(View::Create({2, 3}).Shrink({{0, 1}, {0, 3}}));
  EXPECT_FALSE(shrunk.Invert({2, 3}));
}

TEST(View, UnravelUsesFloorSemantics) {
  EXPECT_EQ(Unravel(D({2, 3, 4}), 23), D({1, 2, 3}));
  EXPECT_EQ(Unravel(D({2, 3, 4}), 5), D({0, 1, 1}));
  EXPECT_EQ(Unravel(D({4}), -1), D({3}));
  EXPECT_EQ(FloorDivide(-7, 2), -4);
  EXPECT_EQ(FloorModulo(-7, 2), 1);
  EXPECT_EQ(CeilDivide(7, 2), 4);
  EXPECT_EQ(CeilDivide(-7, 2), -3);
}

}  // namespace
}  // namespace uop
