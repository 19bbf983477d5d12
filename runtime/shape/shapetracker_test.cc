#include "runtime/shape/shapetracker.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/shape/index_eval_for_test.h"
#include "runtime/shape/shape_test_util.h"

namespace uop {
namespace {

using testing_util::Applied;
using testing_util::ApplyAll;
using testing_util::IndexesMatch;
using testing_util::ParseOpSequence;
using testing_util::RealStridesHold;

using Strides = std::vector<std::optional<int64_t>>;
constexpr std::nullopt_t kNone = std::nullopt;

ShapeTracker Ok(absl::StatusOr<ShapeTracker> r) {
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : ShapeTracker::FromShape({});
}

// The tracker for an op sequence in shape_test_util's compact form, checked
// element by element against the brute-force reference.
ShapeTracker Checked(const std::string& text) {
  absl::StatusOr<testing_util::OpSequence> seq = ParseOpSequence(text);
  EXPECT_TRUE(seq.ok()) << seq.status();
  absl::StatusOr<Applied> a = ApplyAll(*seq);
  EXPECT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(IndexesMatch(a->st, a->ref, /*use_ranges=*/false)) << text;
  EXPECT_TRUE(IndexesMatch(a->st.Simplify(), a->ref, /*use_ranges=*/true)) << text;
  EXPECT_TRUE(RealStridesHold(a->st, a->ref, /*ignore_valid=*/false)) << text;
  EXPECT_TRUE(RealStridesHold(a->st, a->ref, /*ignore_valid=*/true)) << text;
  return a->st;
}

std::vector<UOpPtr> Vars(const ShapeTracker& st) {
  std::vector<UOpPtr> v;
  for (int i = 0; i < st.rank(); ++i)
    v.push_back(UOp::Var("i" + std::to_string(i), 0, st.shape()[i] - 1));
  return v;
}

bool Mentions(const UOpPtr& expr, const UOpPtr& node) {
  for (const UOp* u : expr->Toposort())
    if (u == node.get()) return true;
  return false;
}

bool UsesOp(const UOpPtr& expr, Op op) {
  for (const UOp* u : expr->Toposort())
    if (u->op() == op) return true;
  return false;
}

// ---------------------------------------------------------------------------
// Basics

TEST(ShapeTracker, FromShapeIsContiguous) {
  ShapeTracker st = ShapeTracker::FromShape({2, 3, 4});
  EXPECT_EQ(st.shape(), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(st.rank(), 3);
  EXPECT_EQ(st.size(), 24);
  EXPECT_TRUE(st.contiguous());
  EXPECT_TRUE(st.consecutive());
  EXPECT_EQ(st.views().size(), 1u);
  EXPECT_EQ(st.ToString(),
            "ShapeTracker(views=(View(shape=(2, 3, 4), strides=(12, 4, 1), offset=0, mask=None, "
            "contiguous=True),))");
}

TEST(ShapeTracker, ConsecutiveAllowsAnOffset) {
  ShapeTracker st = Ok(ShapeTracker::FromShape({4, 3}).Shrink({{1, 3}, {0, 3}}));
  EXPECT_FALSE(st.contiguous());
  EXPECT_TRUE(st.consecutive());
  EXPECT_FALSE(Ok(st.Pad({{0, 1}, {0, 0}})).consecutive());
  EXPECT_FALSE(Ok(st.Permute({1, 0})).consecutive());
}

TEST(ShapeTracker, MovementOpErrorsNameOpShapeAndArgument) {
  ShapeTracker st = ShapeTracker::FromShape({2, 3});
  auto expect = [](const absl::Status& s, std::initializer_list<const char*> parts) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    for (const char* p : parts) EXPECT_NE(s.message().find(p), absl::string_view::npos) << s;
  };
  expect(st.Reshape({5}).status(), {"Reshape", "(2, 3)", "(5,)", "6 elements", "5 elements"});
  expect(st.Permute({1, 1}).status(), {"Permute", "(1, 1)", "(2, 3)"});
  expect(st.Expand({4, 3}).status(), {"Expand", "axis 0", "(2, 3)", "cannot expand to 4"});
  expect(st.Pad({{-1, 0}, {0, 0}}).status(), {"Pad", "negative", "(-1, 0)", "axis 0"});
  expect(st.Shrink({{0, 3}, {0, 3}}).status(), {"Shrink", "(0, 3)", "axis 0", "(2, 3)"});
  expect(st.Flip({0, 1, 0}).status(), {"Flip", "expected 2 flags", "(2, 3)"});
  expect(CheckShape({3, -1}), {"(3, -1)", "negative", "axis 1"});
}

TEST(ShapeTracker, ReshapeStacksAViewOnlyWhenNeeded) {
  ShapeTracker t = Ok(ShapeTracker::FromShape({4, 6}).Permute({1, 0}));
  // Splitting the permuted axes stays one view (as in tinygrad).
  EXPECT_EQ(Ok(t.Reshape({3, 2, 4})).views().size(), 1u);
  EXPECT_EQ(Ok(t.Reshape({3, 2, 2, 2})).views().size(), 1u);
  // Merging them cannot: a contiguous view goes on top.
  ShapeTracker flat = Ok(t.Reshape({24}));
  ASSERT_EQ(flat.views().size(), 2u);
  EXPECT_EQ(flat.views()[0], t.views()[0]);
  EXPECT_TRUE(flat.views()[1].contiguous());
  EXPECT_EQ(flat.Simplify().views().size(), 2u);
}

TEST(ShapeTracker, SimplifyMergesViewsThatComposeIntoOne) {
  ShapeTracker t = Ok(ShapeTracker::FromShape({4, 6}).Permute({1, 0}));
  // Flattening then unflattening: the top view is the identity on the one below.
  ShapeTracker round_trip = Ok(Ok(t.Reshape({24})).Reshape({6, 4}));
  EXPECT_EQ(round_trip.views().size(), 2u);
  ShapeTracker simple = round_trip.Simplify();
  ASSERT_EQ(simple.views().size(), 1u);
  EXPECT_EQ(simple, t);
  // A shrink of whole rows of the flat view composes too.
  ShapeTracker rows = Ok(Ok(t.Reshape({24})).Shrink({{4, 12}}));
  ShapeTracker merged = Ok(rows.Reshape({2, 4})).Simplify();
  EXPECT_EQ(merged.views().size(), 1u);
  EXPECT_EQ(merged.views()[0].strides(), (Dims{1, 6}));
  EXPECT_EQ(merged.views()[0].offset(), 1);
}

// tinygrad keeps two views for these (its merge uses looser bounds); one
// view expresses each exactly, checked element by element.
TEST(ShapeTracker, SimplifyMergesWhereTinygradKeepsTwoViews) {
  for (const char* text : {
           "B 1,2,4,2 | E 3,2,4,2 | R 48 | S 39:46 | S 0:7",
           "B 5,4,1,3 | P 3,2,0,1 | R 60 | S 47:58",
           "B 2,4,2,1 | R 1,4,4 | F 0,1,1 | D 0:0,1:2,0:0 | R 2,14 | S 1:2,1:12 | S 0:1,0:11 | R "
           "11",
           "B 2,4,5,4 | R 4,1,2,10,2 | E 4,2,2,10,2 | R 1,40,2,2,2,1 | F 0,0,1,1,1,0 | "
           "F 0,0,1,0,0,0 | S 0:1,17:19,0:2,0:2,0:2,0:1 | F 0,0,0,0,0,1",
           "B 5,4,3,4 | D 0:2,0:0,0:1,2:2 | P 0,1,2,3 | R 1,1,28,1,8,2,1,2 | "
           "P 3,1,5,4,6,7,0,2 | P 4,3,1,5,7,0,2,6 | P 3,0,1,5,6,4,2,7 | "
           "S 1:2,0:1,0:8,0:1,0:2,11:26,0:1,0:1 | S 0:1,0:1,5:6,0:1,0:2,0:15,0:1,0:1",
       }) {
    ShapeTracker st = Checked(text);
    EXPECT_EQ(st.views().size(), 2u) << text;
    EXPECT_EQ(st.Simplify().views().size(), 1u) << text;
  }
  // (3, 2, 4, 2) broadcast on axis 0, elements 39..45 of the flat view: all
  // inside the last copy, so one contiguous run from buffer element 7.
  ShapeTracker run = Checked("B 1,2,4,2 | E 3,2,4,2 | R 48 | S 39:46 | S 0:7").Simplify();
  EXPECT_EQ(run.views()[0].strides(), (Dims{1}));
  EXPECT_EQ(run.views()[0].offset(), 7);
}

TEST(ShapeTracker, ComposeAppliesAnotherTrackerOnTop) {
  ShapeTracker lower = Ok(ShapeTracker::FromShape({4, 6}).Permute({1, 0}));
  ShapeTracker upper = Ok(ShapeTracker::FromShape({6, 4}).Shrink({{1, 3}, {0, 4}}));
  ShapeTracker st = lower.Compose(upper);
  ASSERT_EQ(st.views().size(), 1u);
  EXPECT_EQ(st.shape(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(st.views()[0].strides(), (Dims{1, 6}));
}

TEST(ShapeTracker, InvertMapsTheBufferBack) {
  ShapeTracker st = Ok(Ok(ShapeTracker::FromShape({2, 3, 4}).Permute({2, 0, 1})).Flip({0, 1, 0}));
  std::optional<ShapeTracker> inv = st.Invert({2, 3, 4});
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->shape(), (std::vector<int64_t>{2, 3, 4}));
  // st indexes the buffer; st composed with its inverse is the identity.
  EXPECT_TRUE(st.Compose(*inv).contiguous());
  EXPECT_FALSE(Ok(ShapeTracker::FromShape({2, 3}).Shrink({{0, 1}, {0, 3}})).Invert({2, 3}));
}

TEST(ShapeTracker, ReduceShape) {
  ShapeTracker st = ShapeTracker::FromShape({2, 3, 4});
  EXPECT_EQ(st.ReduceShape({0, 2}), (std::vector<int64_t>{1, 3, 1}));
  EXPECT_EQ(st.ReduceShape({}), st.shape());
}

// ---------------------------------------------------------------------------
// Index expressions

TEST(ShapeTrackerIndex, ContiguousIsAPlainDotProduct) {
  ShapeTracker st = ShapeTracker::FromShape({2, 3});
  std::vector<UOpPtr> v = Vars(st);
  auto [idx, valid] = st.ToIndexed(v);
  // i0*3 + i1 without *1 or +0.
  EXPECT_EQ(idx, v[0] * UOp::Index(3) + v[1]);
  EXPECT_EQ(valid, UOp::ConstBool(true));
}

TEST(ShapeTrackerIndex, StrideZeroAxesAreLeftOut) {
  ShapeTracker st = Ok(ShapeTracker::FromShape({3, 1}).Expand({3, 4}));
  std::vector<UOpPtr> v = Vars(st);
  auto [idx, valid] = st.ToIndexed(v);
  EXPECT_EQ(idx, v[0]);
  EXPECT_EQ(valid, UOp::ConstBool(true));
}

TEST(ShapeTrackerIndex, ValidityChecksOnlyPaddedSides) {
  // Padding only before axis 1: one lower-bound check on that axis.
  ShapeTracker st = Ok(ShapeTracker::FromShape({2, 3}).Pad({{0, 0}, {2, 0}}));
  std::vector<UOpPtr> v = Vars(st);
  auto [idx, valid] = st.ToIndexed(v);
  EXPECT_FALSE(Mentions(valid, v[0]));
  EXPECT_TRUE(Mentions(valid, v[1]));
  EXPECT_FALSE(UsesOp(valid, Op::kAnd));
  EXPECT_TRUE(IndexesMatch(st, ApplyAll(*ParseOpSequence("B 2,3 | D 0:0,2:0"))->ref, false));
}

TEST(ShapeTrackerIndex, FullyPaddedOrEmptyIsNeverValid) {
  ShapeTracker none =
      Ok(Ok(ShapeTracker::FromShape({2, 3}).Shrink({{0, 0}, {0, 3}})).Pad({{2, 0}, {0, 0}}));
  auto [idx, valid] = none.ToIndexed(Vars(none));
  EXPECT_EQ(valid, UOp::ConstBool(false));
  ShapeTracker empty = ShapeTracker::FromShape({0, 3});
  EXPECT_EQ(empty.ToIndexed(Vars(empty)).second, UOp::ConstBool(false));
}

TEST(ShapeTrackerIndex, StackedViewsFoldDivModWherePossible) {
  // Transpose, flatten, split differently: (6, 4) -> (24) -> (2, 12).
  ShapeTracker st = Checked("B 4,6 | P 1,0 | R 24 | R 2,12");
  ASSERT_EQ(st.views().size(), 2u);
  std::vector<UOpPtr> v = Vars(st);
  auto [idx, valid] = st.ToIndexed(v);
  EXPECT_EQ(valid, UOp::ConstBool(true));
  // Axis 0 steps whole blocks of 12 = 3 rows of 4: it stays a plain term;
  // only axis 1 needs a division and a modulo.
  EXPECT_TRUE(UsesOp(idx, Op::kIdiv));
  for (const UOp* u : idx->Toposort()) {
    if (u->op() == Op::kIdiv || u->op() == Op::kMod) {
      EXPECT_FALSE(Mentions(UOpPtr::FromBorrowed(u), v[0]));
    }
  }
  EXPECT_EQ(st.RealStrides(), (Strides{3, kNone}));
}

TEST(ShapeTrackerIndex, AcceptsExpressionIndices) {
  // Codegen passes composite indices such as (g*4 + u) for an upcast axis.
  ShapeTracker st = Checked("B 8,6 | P 1,0 | R 48 | R 4,12");
  UOpPtr g = UOp::Var("g", 0, 2), u = UOp::Var("u", 0, 3), r = UOp::Var("r", 0, 3);
  // axis 0 = r (0..3), axis 1 = g*4 + u (0..11)
  auto [idx, valid] = st.ToIndexed({r, g * UOp::Index(4) + u});
  absl::StatusOr<Applied> a = ApplyAll(*ParseOpSequence("B 8,6 | P 1,0 | R 48 | R 4,12"));
  IndexEvaluator eval({idx, valid}, {r, g, u});
  ASSERT_TRUE(eval.status().ok()) << eval.status();
  for (int64_t ri = 0; ri < 4; ++ri) {
    for (int64_t gi = 0; gi < 3; ++gi) {
      for (int64_t ui = 0; ui < 4; ++ui) {
        std::vector<int64_t> out = *eval.Run({ri, gi, ui});
        EXPECT_EQ(out[1], 1);
        EXPECT_EQ(out[0], a->ref.data[ri * 12 + gi * 4 + ui]);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Real strides, real size, masked axes

TEST(ShapeTrackerRealStrides, SingleViewWithoutMaskIsTheViewStrides) {
  EXPECT_EQ(ShapeTracker::FromShape({2, 3}).RealStrides(), (Strides{3, 1}));
  EXPECT_EQ(Ok(ShapeTracker::FromShape({2, 3}).Permute({1, 0})).RealStrides(), (Strides{1, 3}));
  EXPECT_EQ(Ok(ShapeTracker::FromShape({1, 3}).Expand({4, 3})).RealStrides(), (Strides{0, 1}));
  EXPECT_EQ(Ok(ShapeTracker::FromShape({2, 3}).Flip({1, 0})).RealStrides(), (Strides{-3, 1}));
}

TEST(ShapeTrackerRealStrides, MaskedAxesAreUnknownUnlessValidityIsIgnored) {
  ShapeTracker st = Ok(ShapeTracker::FromShape({2, 3}).Pad({{1, 1}, {0, 0}}));
  EXPECT_EQ(st.RealStrides(), (Strides{kNone, 1}));
  EXPECT_EQ(st.RealStrides(/*ignore_valid=*/true), (Strides{3, 1}));
  EXPECT_EQ(st.UnitStrideAxes(), (std::vector<int>{1}));
}

TEST(ShapeTrackerRealStrides, StackedViews) {
  // Flattening a transpose: the one axis is not affine.
  EXPECT_EQ(Checked("B 4,6 | P 1,0 | R 24").RealStrides(), (Strides{kNone}));
  // Splitting a 4 into 2*2 where the lower view has stride 1: still affine
  // (tinygrad reports None for the middle axis here).
  EXPECT_EQ(Checked("B 4,5 | S 0:4,0:4 | R 8,2,1").RealStrides(), (Strides{kNone, 1, 0}));
  // An expanded axis under a reshape keeps stride 0.
  EXPECT_EQ(Checked("B 3,1 | E 3,4 | P 1,0 | R 12").RealStrides(), (Strides{kNone}));
  EXPECT_EQ(Checked("B 3,1 | E 3,4 | P 1,0 | R 2,2,3").RealStrides(), (Strides{0, 0, 1}));
}

// Sequences where tinygrad's real_strides was wrong or less precise; the
// values here are checked element by element (Checked).
TEST(ShapeTrackerRealStrides, RegressionsFromTinygradComparison) {
  EXPECT_EQ(Checked("B 4,4,3,3 | F 0,1,0,1 | S 0:4,0:4,0:3,0:3 | P 1,3,0,2 | P 3,1,2,0 | "
                    "R 2,6,1,3,4 | F 1,1,1,1,0 | D 0:0,1:2,0:0,1:0,0:0 | "
                    "S 1:2,2:4,0:1,0:4,1:3")
                .RealStrides(),
            (Strides{0, 31, 0, kNone, -9}));
  EXPECT_EQ(Checked("B 2,2,3,3 | P 2,1,3,0 | R 1,6,3,2 | F 1,0,0,0 | P 2,1,3,0 | P 0,2,3,1 | "
                    "F 1,0,1,0 | D 0:0,0:0,0:1,2:0")
                .RealStrides(),
            (Strides{-1, 18, kNone, kNone}));
  EXPECT_EQ(Checked("B 5,3,1,3 | E 5,3,4,3 | R 15,1,1,12,1,1 | E 15,1,3,12,3,4 | "
                    "R 15,2,12,3,6 | R 30,6,36 | F 1,1,1 | S 0:30,0:6,0:36")
                .RealStrides()[1],
            std::optional<int64_t>(0));
  // Not affine at all (neighbour steps of 2 and 6); tinygrad claimed 4.
  EXPECT_EQ(Checked("B 5,1,1,4 | E 5,1,3,4 | R 6,10,1 | D 0:1,0:0,0:0 | S 0:5,9:10,0:1 | "
                    "D 0:0,1:1,0:0 | F 0,1,0 | E 5,3,4")
                .RealStrides()[0],
            kNone);
}

TEST(ShapeTrackerRealStrides, ValidityReducedToTheDecidingAxis) {
  // 5*i1 + i3 >= 5 with i3 < 5 is i1 >= 1: validity does not depend on i3.
  ShapeTracker st = Checked(
      "B 3,2,3,5 | D 1:1,0:0,1:0,0:0 | P 3,2,0,1 | P 0,2,1,3 | "
      "P 3,1,2,0 | D 0:2,0:0,0:0,0:0 | R 20,4,1,5");
  EXPECT_EQ(st.RealStrides()[3], std::optional<int64_t>(1));
  EXPECT_FALSE(st.AxisIsMasked(3));
  EXPECT_TRUE(st.AxisIsMasked(1));
}

TEST(ShapeTracker, RealSize) {
  EXPECT_EQ(ShapeTracker::FromShape({2, 3}).RealSize(), 6);
  EXPECT_EQ(Ok(ShapeTracker::FromShape({4, 5}).Shrink({{1, 3}, {1, 3}})).RealSize(), 13);
  EXPECT_EQ(Ok(ShapeTracker::FromShape({2, 3}).Pad({{1, 1}, {2, 2}})).RealSize(), 6);
  EXPECT_EQ(Ok(ShapeTracker::FromShape({2, 3}).Flip({1, 1})).RealSize(), 6);
  EXPECT_EQ(Ok(ShapeTracker::FromShape({1, 3}).Expand({5, 3})).RealSize(), 3);
  EXPECT_EQ(ShapeTracker::FromShape({0, 3}).RealSize(), 0);
  ShapeTracker none =
      Ok(Ok(ShapeTracker::FromShape({2, 3}).Shrink({{0, 0}, {0, 3}})).Pad({{2, 0}, {0, 0}}));
  EXPECT_EQ(none.RealSize(), 0);
}

TEST(ShapeTracker, AxisIsMasked) {
  ShapeTracker st = Ok(ShapeTracker::FromShape({2, 3}).Pad({{0, 0}, {1, 0}}));
  EXPECT_FALSE(st.AxisIsMasked(0));
  EXPECT_TRUE(st.AxisIsMasked(1));
  EXPECT_FALSE(st.AxisIsMasked(5));
  // Through a stacked view: the padded axis ends up inside the flat axis.
  ShapeTracker flat = Ok(Ok(st.Permute({1, 0})).Reshape({8}));
  ASSERT_EQ(flat.views().size(), 2u);
  EXPECT_TRUE(flat.AxisIsMasked(0));
}

// ---------------------------------------------------------------------------
// The VIEW node

TEST(ShapeTracker, IsTheArgOfAViewNode) {
  auto st =
      std::make_shared<const ShapeTracker>(Ok(ShapeTracker::FromShape({4, 6}).Permute({1, 0})));
  UOpPtr view = MakeViewUOp(st);
  EXPECT_EQ(view->op(), Op::kView);
  EXPECT_EQ(view->dtype(), DType::Void());
  EXPECT_EQ(view->num_srcs(), 0u);
  ASSERT_NE(view->shape(), nullptr);
  EXPECT_EQ(*view->shape(), (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(view->arg().object<ShapeTracker>(), st.get());
  // Equal trackers built separately hash-cons to the same node.
  auto again =
      std::make_shared<const ShapeTracker>(Ok(ShapeTracker::FromShape({4, 6}).Permute({1, 0})));
  EXPECT_EQ(MakeViewUOp(again), view);
  auto other = std::make_shared<const ShapeTracker>(ShapeTracker::FromShape({6, 4}));
  EXPECT_NE(MakeViewUOp(other), view);
}

TEST(ShapeTracker, HashAndEquality) {
  ShapeTracker a = Ok(ShapeTracker::FromShape({2, 3}).Permute({1, 0}));
  ShapeTracker b = Ok(ShapeTracker::FromShape({2, 3}).Permute({1, 0}));
  ShapeTracker c = ShapeTracker::FromShape({3, 2});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Hash(), b.Hash());
  EXPECT_TRUE(a.Equals(b));
  EXPECT_NE(a, c);
  EXPECT_FALSE(a.Equals(c));
}

}  // namespace
}  // namespace uop
