// Test helpers for views and ShapeTrackers: a brute-force reference model of
// movement ops and checks of ShapeTracker results against it.
//
// The reference stores, for every element of the current shape (row-major),
// the buffer index it reads or -1 for padding. Op sequences are written in
// the compact form the fuzz test prints on failure, so a failing case can be
// pasted into a regression test:
//
//   "B 4,5 | S 0:4,0:4 | R 8,2,1"   base shape, shrink, reshape
//   ops: R reshape, P permute, E expand, D pad (before:after), S shrink
//   (begin:end), F flip (0/1 per axis)
#ifndef UOP_RUNTIME_SHAPE_SHAPE_TEST_UTIL_H_
#define UOP_RUNTIME_SHAPE_SHAPE_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "runtime/shape/shapetracker.h"

namespace uop {
namespace testing_util {

using Shape = std::vector<int64_t>;

struct Reference {
  Shape shape;
  std::vector<int64_t> data;  // buffer index per element, -1 for padding

  static Reference Contiguous(const Shape& shape);
  int64_t Flat(const Shape& coords) const;
};

struct MovementOp {
  enum Kind { kReshape, kPermute, kExpand, kPad, kShrink, kFlip };
  Kind kind;
  Shape arg;        // reshape/expand shape, permute order, flip flags
  Intervals pairs;  // pad/shrink

  std::string ToString() const;  // compact form, e.g. "S 0:4,1:3"
  absl::StatusOr<ShapeTracker> Apply(const ShapeTracker& st) const;
  Reference Apply(const Reference& r) const;
};

// A base shape and the ops applied to it.
struct OpSequence {
  Shape base;
  std::vector<MovementOp> ops;
  std::string ToString() const;
};

absl::StatusOr<OpSequence> ParseOpSequence(absl::string_view text);

// The sequence applied to FromShape(base) and to the reference.
struct Applied {
  ShapeTracker st;
  Reference ref;
};
absl::StatusOr<Applied> ApplyAll(const OpSequence& seq);

// For every element, ToIndexed (evaluated numerically, with DEFINE_VAR or
// RANGE indices) gives the reference's validity and, where valid, its index;
// and neither expression holds trivial arithmetic (x*1, x*0, x+0, x AND true).
::testing::AssertionResult IndexesMatch(const ShapeTracker& st, const Reference& ref,
                                        bool use_ranges);
// Every stride RealStrides claims holds between all valid neighbours along
// its axis, and (unless ignore_valid) validity does not change along it.
::testing::AssertionResult RealStridesHold(const ShapeTracker& st, const Reference& ref,
                                           bool ignore_valid);
// Every view is in canonical form (Create of its own fields returns it).
::testing::AssertionResult ViewsCanonical(const ShapeTracker& st);

}  // namespace testing_util
}  // namespace uop

#endif  // UOP_RUNTIME_SHAPE_SHAPE_TEST_UTIL_H_
