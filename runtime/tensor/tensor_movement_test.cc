#include <optional>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

// [[0, 1, 2], [3, 4, 5]]
Tensor M() { return Tensor::Arange(6).Reshape({2, 3}); }

bool OnlyViews(const Tensor& t, const Tensor& base) {
  // Every node between t and base's graph is a movement op (no compute).
  for (const UOp* u : t.uop()->Toposort()) {
    if (u == base.uop().get()) continue;
    bool under_base = false;
    for (const UOp* b : base.uop()->Toposort()) under_base |= b == u;
    if (!under_base && !IsMovement(u->op())) return false;
  }
  return true;
}

TEST(TensorMovement, Reshape) {
  Tensor x = Tensor::FromVector<float>({0, 1, 2, 3, 4, 5});
  EXPECT_EQ(x.Reshape({2, -1}).shape(), (Shape{2, 3}));
  EXPECT_EQ(x.Reshape({-1}).shape(), (Shape{6}));
  EXPECT_EQ(Values(x.Reshape({3, 2})), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(OnlyViews(x.Reshape({3, 2}), x));
  EXPECT_EQ(x.Reshape({6}).uop(), x.uop());  // no node for an identity
  EXPECT_EQ(ErrorOf(x.Reshape({4, 2})),
            "Reshape: cannot reshape (6,) (6 elements) to (4, 2) (8 elements)");
  EXPECT_EQ(ErrorOf(x.Reshape({-1, -1})), "Reshape: more than one -1 in (-1, -1)");
  EXPECT_EQ(ErrorOf(x.Reshape({4, -1})),
            "Reshape: cannot infer -1 reshaping (6,) (6 elements) to (4, -1)");
  EXPECT_FALSE(x.Reshape({-2, -3}).ok());
}

TEST(TensorMovement, PermuteTransposeExpand) {
  EXPECT_EQ(Values(M().T()), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(Values(M().Permute({-1, 0})), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  Tensor cube = Tensor::Arange(24).Reshape({2, 3, 4});
  Tensor p = cube.Permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  std::vector<double> v = Values(p), expected;
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) expected.push_back(12 * i + 4 * j + k);
  EXPECT_EQ(v, expected);
  EXPECT_EQ(Values(cube.Transpose(0, 2)).size(), 24u);
  EXPECT_EQ(ErrorOf(M().Permute({0, 0})), "Permute: order (0, 0) repeats axis 0");
  EXPECT_EQ(ErrorOf(M().Permute({0})), "Permute: order (0) does not match rank 2 of (2, 3)");
  Tensor col = Tensor::FromVector<int32_t>({1, 2}, Shape{2, 1});
  EXPECT_EQ(Values(col.Expand({2, 3})), (std::vector<double>{1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(col.Expand({4, 2, -1}).shape(), (Shape{4, 2, 1}));
  EXPECT_EQ(ErrorOf(col.Expand({3, 3})), "Expand: cannot expand (2, 1) to (3, 3)");
  EXPECT_FALSE(col.Expand({2}).ok());
}

TEST(TensorMovement, PadModes) {
  Tensor x = Tensor::FromVector<int32_t>({1, 2, 3});
  EXPECT_EQ(Values(x.Pad({{2, 1}})), (std::vector<double>{0, 0, 1, 2, 3, 0}));
  EXPECT_EQ(Values(x.Pad({{1, 1}}, 9)), (std::vector<double>{9, 1, 2, 3, 9}));
  EXPECT_EQ(Values(x.Pad({{2, 2}}, 0, PadMode::kReflect)),
            (std::vector<double>{3, 2, 1, 2, 3, 2, 1}));
  EXPECT_EQ(Values(x.Pad({{2, 2}}, 0, PadMode::kEdge)), (std::vector<double>{1, 1, 1, 2, 3, 3, 3}));
  EXPECT_EQ(Values(x.Pad({{2, 2}}, 0, PadMode::kWrap)), (std::vector<double>{2, 3, 1, 2, 3, 1, 2}));
  EXPECT_EQ(Values(x.Pad({{-1, 2}})), (std::vector<double>{2, 3, 0, 0}));
  EXPECT_EQ(Values(M().Pad({{1, 0}, {0, 1}}, -1)),
            (std::vector<double>{-1, -1, -1, -1, 0, 1, 2, -1, 3, 4, 5, -1}));
  EXPECT_EQ(Values(M().Pad({{0, 0}, {1, 1}}, 0, PadMode::kReflect)),
            (std::vector<double>{1, 0, 1, 2, 1, 4, 3, 4, 5, 4}));
  Tensor inf = Tensor::FromVector<float>({1}).Pad({{1, 0}}, -INFINITY);
  EXPECT_EQ(Values(inf)[0], -INFINITY);
  EXPECT_EQ(ErrorOf(x.Pad({{3, 0}}, 0, PadMode::kReflect)),
            "Pad: reflect padding (3, 0) needs less than the size 3 of axis 0");
  EXPECT_EQ(ErrorOf(x.Pad({{1, 1}, {1, 1}})), "Pad: 2 pairs for (3,)");
  EXPECT_EQ(ErrorOf(x.Pad({{-2, -2}})), "Pad: cropping (-2, -2) removes more than axis 0 of (3,)");
}

TEST(TensorMovement, ShrinkFlip) {
  EXPECT_EQ(Values(M().Shrink({{1, 2}, {0, 2}})), (std::vector<double>{3, 4}));
  EXPECT_EQ(Values(M().Flip({1})), (std::vector<double>{2, 1, 0, 5, 4, 3}));
  EXPECT_EQ(Values(M().Flip({0, -1})), (std::vector<double>{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(ErrorOf(M().Shrink({{0, 3}, {0, 1}})),
            "Shrink: bounds (0, 3) outside axis 0 of (2, 3)");
  EXPECT_FALSE(M().Flip({0, 0}).ok());
}

// CPython's slice.indices and iteration, written independently.
std::vector<int64_t> PySlice(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop,
                             int64_t step) {
  int64_t lower = step > 0 ? 0 : -1, upper = step > 0 ? n : n - 1;
  auto fix = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v < 0 ? *v + n : *v;
    return x < lower ? lower : (x > upper ? upper : x);
  };
  int64_t b = fix(start, step > 0 ? lower : upper), e = fix(stop, step > 0 ? upper : lower);
  std::vector<int64_t> out;
  for (int64_t i = b; step > 0 ? i < e : i > e; i += step) out.push_back(i);
  return out;
}

TEST(TensorMovement, SliceMatchesPython) {
  const int64_t n = 7;
  Tensor x = Tensor::Arange(n);
  const std::optional<int64_t> bounds[] = {std::nullopt, -9, -3, -1, 0, 2, 5, 6, 9};
  for (int64_t step : {1, 2, 3, -1, -2, -3}) {
    for (auto start : bounds) {
      for (auto stop : bounds) {
        std::vector<double> expected;
        for (int64_t i : PySlice(n, start, stop, step)) expected.push_back(i);
        Tensor s = x.Slice(0, start, stop, step);
        ASSERT_TRUE(s.ok()) << s.status();
        EXPECT_EQ(Values(s), expected) << "start " << (start ? *start : 999) << " stop "
                                       << (stop ? *stop : 999) << " step " << step;
      }
    }
  }
  EXPECT_EQ(ErrorOf(x.Slice(0, 0, 3, 0)), "Slice: step 0 on axis 0");
}

TEST(TensorMovement, SliceSeveralAxesIsAView) {
  Tensor m = Tensor::Arange(20).Reshape({4, 5});
  Tensor s = m.Slice({SliceSpec{std::nullopt, std::nullopt, -2}, SliceSpec{1, std::nullopt, 2}});
  EXPECT_EQ(s.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values(s), (std::vector<double>{16, 18, 6, 8}));
  EXPECT_TRUE(OnlyViews(s, m));
  EXPECT_EQ(Values(m.Select(0, -1)), (std::vector<double>{15, 16, 17, 18, 19}));
  EXPECT_EQ(Values(m.Select(1, 2)), (std::vector<double>{2, 7, 12, 17}));
  EXPECT_EQ(ErrorOf(m.Select(0, 4)), "Select: index 4 is out of range for axis 0 of size 4");
}

TEST(TensorMovement, SqueezeUnsqueezeFlatten) {
  Tensor x = Tensor::Zeros({1, 3, 1, 2});
  EXPECT_EQ(x.Squeeze().shape(), (Shape{3, 2}));
  EXPECT_EQ(x.Squeeze({0, -2}).shape(), (Shape{3, 2}));
  EXPECT_EQ(ErrorOf(x.Squeeze({1})), "Squeeze: axis 1 of (1, 3, 1, 2) has size 3, not 1");
  EXPECT_EQ(x.Unsqueeze(0).shape(), (Shape{1, 1, 3, 1, 2}));
  EXPECT_EQ(x.Unsqueeze(-1).shape(), (Shape{1, 3, 1, 2, 1}));
  EXPECT_EQ(x.Unsqueeze(4).shape(), (Shape{1, 3, 1, 2, 1}));
  EXPECT_FALSE(x.Unsqueeze(6).ok());
  EXPECT_EQ(x.Flatten().shape(), (Shape{6}));
  EXPECT_EQ(x.Flatten(1).shape(), (Shape{1, 6}));
  EXPECT_EQ(x.Flatten(1, 2).shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(Tensor::Zeros({}).Flatten().shape(), (Shape{1}));
  EXPECT_EQ(x.Unflatten(1, {3, 1}).shape(), (Shape{1, 3, 1, 1, 2}));
  EXPECT_EQ(x.Unflatten(3, {-1, 1}).shape(), (Shape{1, 3, 1, 2, 1}));
  EXPECT_FALSE(x.Unflatten(1, {2, 2}).ok());
  EXPECT_FALSE(x.Flatten(2, 1).ok());
}

TEST(TensorMovement, Repeat) {
  Tensor x = Tensor::FromVector<int32_t>({1, 2});
  EXPECT_EQ(Values(x.Repeat({3})), (std::vector<double>{1, 2, 1, 2, 1, 2}));
  Tensor r = M().Repeat({2, 1, 2});
  EXPECT_EQ(r.shape(), (Shape{2, 2, 6}));
  EXPECT_EQ(Values(r), (std::vector<double>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5,
                                            0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}));
  EXPECT_FALSE(M().Repeat({2}).ok());
}

}  // namespace
}  // namespace uop
