// Brute-force check of ShapeTracker against an explicit index array.
//
// Seeded random sequences of movement ops (reshapes to random
// factorizations, permutes, expands, pads, shrinks, flips) are applied both
// to a ShapeTracker and to the reference of shape_test_util.h. For every
// element, ToIndexed (evaluated numerically) must agree, before and after
// Simplify and when the sequence is split into two composed trackers; so
// must RealStrides, RealSize and the canonical form of every view.
#include <algorithm>
#include <numeric>
#include <random>

#include "gtest/gtest.h"
#include "runtime/shape/shape_test_util.h"

namespace uop {
namespace {

using testing_util::ApplyAll;
using testing_util::IndexesMatch;
using testing_util::MovementOp;
using testing_util::OpSequence;
using testing_util::RealStridesHold;
using testing_util::Reference;
using testing_util::Shape;
using testing_util::ViewsCanonical;

class OpGenerator {
 public:
  explicit OpGenerator(uint64_t seed) : rng_(seed) {}

  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(int percent) { return Uniform(0, 99) < percent; }

  Shape RandomShape() {
    Shape s(Uniform(0, 4));
    for (int64_t& d : s) d = Uniform(1, 5);
    if (!s.empty() && Chance(3)) s[Uniform(0, s.size() - 1)] = 0;
    return s;
  }

  // A random factorization of `size` into a random number of axes, with
  // size-1 axes sprinkled in.
  Shape Factorization(int64_t size) {
    if (size == 0) {
      Shape out = RandomShape();
      out.push_back(0);
      std::shuffle(out.begin(), out.end(), rng_);
      return out;
    }
    Shape primes;
    for (int64_t p = 2, x = size; x > 1;) {
      if (x % p == 0) {
        primes.push_back(p);
        x /= p;
      } else {
        ++p;
      }
    }
    std::shuffle(primes.begin(), primes.end(), rng_);
    const int64_t axes = Uniform(1, std::max<int64_t>(1, primes.size()));
    Shape out(axes, 1);
    for (int64_t p : primes) out[Uniform(0, axes - 1)] *= p;
    const int64_t ones = Chance(30) ? Uniform(1, 2) : 0;
    for (int64_t i = 0; i < ones; ++i) out.insert(out.begin() + Uniform(0, out.size()), 1);
    if (Chance(10) && out == Shape{1}) out.clear();  // rank 0
    return out;
  }

  MovementOp Next(const Shape& shape) {
    const size_t n = shape.size();
    const int64_t size = Prod(shape);
    while (true) {
      switch (Uniform(0, 5)) {
        case MovementOp::kReshape:
          return {MovementOp::kReshape, Factorization(size), {}};
        case MovementOp::kPermute: {
          Shape order(n);
          std::iota(order.begin(), order.end(), 0);
          std::shuffle(order.begin(), order.end(), rng_);
          return {MovementOp::kPermute, order, {}};
        }
        case MovementOp::kExpand: {
          if (size > 256) continue;
          Shape ns = shape;
          for (int64_t& d : ns)
            if (d == 1 && Chance(60)) d = Uniform(2, 4);
          if (ns == shape) continue;
          return {MovementOp::kExpand, ns, {}};
        }
        case MovementOp::kPad: {
          if (size > 256 || n == 0) continue;
          Intervals pads(n);
          for (Interval& p : pads)
            p = {Chance(50) ? Uniform(0, 2) : 0, Chance(50) ? Uniform(0, 2) : 0};
          return {MovementOp::kPad, {}, pads};
        }
        case MovementOp::kShrink: {
          if (n == 0) continue;
          Intervals b(n);
          for (size_t i = 0; i < n; ++i) {
            b[i] = {0, shape[i]};
            if (shape[i] == 0 || Chance(40)) continue;
            const int64_t lo = Uniform(0, shape[i] - 1);
            b[i] = {lo, Chance(2) ? lo : Uniform(lo + 1, shape[i])};
          }
          return {MovementOp::kShrink, {}, b};
        }
        case MovementOp::kFlip: {
          Shape flags(n);
          for (int64_t& f : flags) f = Chance(50);
          return {MovementOp::kFlip, flags, {}};
        }
      }
    }
  }

  OpSequence Sequence(int max_len) {
    OpSequence seq{RandomShape(), {}};
    Reference ref = Reference::Contiguous(seq.base);
    const int len = Uniform(1, max_len);
    for (int k = 0; k < len; ++k) {
      seq.ops.push_back(Next(ref.shape));
      ref = seq.ops.back().Apply(ref);
    }
    return seq;
  }

 private:
  std::mt19937_64 rng_;
};

constexpr int kSequences = 10000;

TEST(ShapeTrackerFuzz, MatchesBruteForceReference) {
  OpGenerator gen(0x5eed0001);
  int multi_view = 0, merged = 0, masked = 0;
  for (int i = 0; i < kSequences; ++i) {
    const OpSequence seq = gen.Sequence(8);
    SCOPED_TRACE(seq.ToString());
    absl::StatusOr<testing_util::Applied> a = ApplyAll(seq);
    ASSERT_TRUE(a.ok()) << a.status();
    const ShapeTracker& st = a->st;
    const ShapeTracker simple = st.Simplify();
    ASSERT_TRUE(ViewsCanonical(st));
    ASSERT_TRUE(ViewsCanonical(simple));
    ASSERT_LE(simple.views().size(), st.views().size());
    ASSERT_TRUE(IndexesMatch(st, a->ref, /*use_ranges=*/i % 2 == 0));
    ASSERT_TRUE(IndexesMatch(simple, a->ref, /*use_ranges=*/i % 2 == 1));
    ASSERT_TRUE(RealStridesHold(st, a->ref, /*ignore_valid=*/false));
    ASSERT_TRUE(RealStridesHold(st, a->ref, /*ignore_valid=*/true));
    // RealSize covers every index read and stays inside the base buffer.
    int64_t max_read = -1;
    for (int64_t x : a->ref.data) max_read = std::max(max_read, x);
    ASSERT_GE(st.RealSize(), max_read + 1) << st.ToString();
    ASSERT_LE(st.RealSize(), Prod(seq.base)) << st.ToString();
    multi_view += st.views().size() > 1;
    merged += simple.views().size() < st.views().size();
    masked += std::count(a->ref.data.begin(), a->ref.data.end(), -1) > 0;
  }
  // The generator must exercise stacked views, merging and padding.
  EXPECT_GT(multi_view, kSequences / 10);
  EXPECT_GT(merged, kSequences / 100);
  EXPECT_GT(masked, kSequences / 4);
}

// Splitting a sequence in two trackers and composing them gives the same
// mapping as applying the whole sequence to one tracker.
TEST(ShapeTrackerFuzz, ComposeMatchesSequentialApplication) {
  OpGenerator gen(0x5eed0002);
  for (int i = 0; i < kSequences / 2; ++i) {
    OpSequence seq = gen.Sequence(8);
    if (seq.ops.size() < 2) continue;
    SCOPED_TRACE(seq.ToString());
    const size_t split = gen.Uniform(1, seq.ops.size() - 1);
    const OpSequence first{seq.base, {seq.ops.begin(), seq.ops.begin() + split}};
    absl::StatusOr<testing_util::Applied> lower = ApplyAll(first);
    ASSERT_TRUE(lower.ok()) << lower.status();
    const OpSequence second{lower->ref.shape, {seq.ops.begin() + split, seq.ops.end()}};
    absl::StatusOr<testing_util::Applied> upper = ApplyAll(second);
    absl::StatusOr<testing_util::Applied> whole = ApplyAll(seq);
    ASSERT_TRUE(upper.ok() && whole.ok());
    const ShapeTracker composed = lower->st.Compose(upper->st);
    ASSERT_TRUE(ViewsCanonical(composed));
    ASSERT_TRUE(IndexesMatch(composed, whole->ref, /*use_ranges=*/i % 2 == 0)) << "split " << split;
  }
}

}  // namespace
}  // namespace uop
