#include <limits>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

Tensor I(std::vector<int32_t> v, std::optional<Shape> s = std::nullopt) {
  return s ? Tensor::FromVector(v, *s) : Tensor::FromVector(v);
}
Tensor F(std::vector<float> v, std::optional<Shape> s = std::nullopt) {
  return s ? Tensor::FromVector(v, *s) : Tensor::FromVector(v);
}

TEST(TensorIndex, CatStack) {
  Tensor a = I({1, 2, 3, 4}, Shape{2, 2});
  Tensor b = I({5, 6}, Shape{2, 1});
  Tensor c = Tensor::Cat({a, b}, 1);
  EXPECT_EQ(c.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values(c), (std::vector<double>{1, 2, 5, 3, 4, 6}));
  EXPECT_EQ(Values(Tensor::Cat({a, a}, 0)), (std::vector<double>{1, 2, 3, 4, 1, 2, 3, 4}));
  EXPECT_EQ(Tensor::Cat({a, F({0.5, 1.5}, Shape{2, 1})}, -1).dtype(), DType::Float32());
  Tensor nan = F({NAN});
  std::vector<double> v = Values(Tensor::Cat({nan, F({1})}));
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], 1);  // NaN stays in its own slot
  Tensor bools = Tensor::Cat({Tensor::FromVector<bool>({true}), Tensor::FromVector<bool>({false})});
  EXPECT_EQ(*bools.ToVector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(ErrorOf(Tensor::Cat({a, b}, 0)), "Cat: shapes (2, 2) and (2, 1) differ off axis 0");
  EXPECT_EQ(ErrorOf(Tensor::Cat({})), "Cat: no tensors");
  Tensor s = Tensor::Stack({I({1, 2}), I({3, 4})}, 1);
  EXPECT_EQ(s.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values(s), (std::vector<double>{1, 3, 2, 4}));
  EXPECT_EQ(ErrorOf(Tensor::Stack({I({1, 2}), I({3})})), "Stack: shapes (2,) and (1,) differ");
}

TEST(TensorIndex, SplitChunk) {
  Tensor x = Tensor::Arange(7);
  std::vector<Tensor> parts = x.Split({2, 5});
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(Values(parts[1]), (std::vector<double>{2, 3, 4, 5, 6}));
  std::vector<Tensor> chunks = x.Chunk(3);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(Values(chunks[2]), (std::vector<double>{6}));
  std::vector<Tensor> bad = x.Split({2, 2});
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(ErrorOf(bad[0]), "Split: sizes sum to 4, axis 0 of (7,) has 7");
}

TEST(TensorIndex, GatherIsOneHotCompareAndSum) {
  Tensor x = F({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  Tensor idx = I({2, 0, 1, 1}, Shape{2, 2});
  // torch.gather(x, 1, idx) = [[3, 1], [5, 5]]
  EXPECT_EQ(Values(x.Gather(1, idx)), (std::vector<double>{3, 1, 5, 5}));
  // axis 0 with index (1, 3): [x[1][0], x[0][1], x[1][2]]
  EXPECT_EQ(Values(x.Gather(0, I({1, 0, 1}, Shape{1, 3}))), (std::vector<double>{4, 2, 6}));
  EXPECT_EQ(Values(x.Gather(-1, I({-1, -3}, Shape{2, 1}))), (std::vector<double>{3, 4}));
  bool has_reduce = false;
  for (const UOp* u : x.Gather(1, idx).uop()->Toposort()) has_reduce |= u->op() == Op::kReduceAxis;
  EXPECT_TRUE(has_reduce);
  EXPECT_EQ(ErrorOf(x.Gather(1, F({0}, Shape{1, 1}))),
            "Gather: index must have an integer dtype, got float32");
  EXPECT_EQ(ErrorOf(x.Gather(1, I({0, 0, 0, 0, 0, 0}, Shape{3, 2}))),
            "Gather: index (3, 2) exceeds (2, 3) on axis 0");
}

TEST(TensorIndex, TakeLikeOnnxGather) {
  Tensor x = F({1, 2, 3, 4, 5, 6}, Shape{3, 2});
  Tensor rows = x.Take(0, I({2, 0, 2, 1}, Shape{2, 2}));
  EXPECT_EQ(rows.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(Values(rows), (std::vector<double>{5, 6, 1, 2, 5, 6, 3, 4}));
  Tensor cols = x.Take(1, I({1, -2}));
  EXPECT_EQ(cols.shape(), (Shape{3, 2}));
  EXPECT_EQ(Values(cols), (std::vector<double>{2, 1, 4, 3, 6, 5}));
  Tensor scalar_index = x.Take(0, Tensor::FromVector<int64_t>({1}, Shape{}));
  EXPECT_EQ(scalar_index.shape(), (Shape{2}));
  EXPECT_EQ(Values(scalar_index), (std::vector<double>{3, 4}));
  // Embedding is Take on axis 0 of a (vocab, dim) weight.
  EXPECT_EQ(Values(x.Embedding(I({2, 2}))), (std::vector<double>{5, 6, 5, 6}));
  EXPECT_FALSE(F({1}).Embedding(I({0})).ok());
}

TEST(TensorIndex, Scatter) {
  Tensor self = Tensor::Zeros({3, 3});
  Tensor src = F({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  Tensor idx = I({0, 1, 2, 2, 0, 1}, Shape{2, 3});
  // torch.zeros(3,3).scatter_(0, idx, src)
  EXPECT_EQ(Values(self.Scatter(0, idx, src)), (std::vector<double>{1, 5, 0, 0, 2, 6, 4, 0, 3}));
  Tensor row = Tensor::Full({2, 4}, 9.0);
  EXPECT_EQ(Values(row.Scatter(1, I({3, 0}, Shape{2, 1}), 1.5)),
            (std::vector<double>{9, 9, 9, 1.5, 1.5, 9, 9, 9}));
  EXPECT_EQ(ErrorOf(self.Scatter(0, I({0}), src)),
            "Scatter: self (3, 3), index (1,) and src (2, 3) must have one rank");
}

TEST(TensorIndex, ScatterReduce) {
  Tensor self = F({10, 20, 30});
  Tensor src = F({1, 2, 3, 4});
  Tensor idx = I({0, 0, 2, 0});
  auto run = [&](ScatterReduction r, bool include) {
    return Values(self.ScatterReduce(0, idx, src, r, include));
  };
  EXPECT_EQ(run(ScatterReduction::kSum, true), (std::vector<double>{17, 20, 33}));
  EXPECT_EQ(run(ScatterReduction::kSum, false), (std::vector<double>{7, 20, 3}));
  EXPECT_EQ(run(ScatterReduction::kProd, true), (std::vector<double>{80, 20, 90}));
  EXPECT_EQ(run(ScatterReduction::kProd, false), (std::vector<double>{8, 20, 3}));
  EXPECT_EQ(run(ScatterReduction::kAmax, true), (std::vector<double>{10, 20, 30}));
  EXPECT_EQ(run(ScatterReduction::kAmax, false), (std::vector<double>{4, 20, 3}));
  EXPECT_EQ(run(ScatterReduction::kAmin, true), (std::vector<double>{1, 20, 3}));
  EXPECT_EQ(run(ScatterReduction::kAmin, false), (std::vector<double>{1, 20, 3}));
  EXPECT_EQ(run(ScatterReduction::kMean, true), (std::vector<double>{17.0 / 4, 20, 16.5}));
  EXPECT_EQ(run(ScatterReduction::kMean, false), (std::vector<double>{7.0f / 3.0f, 20, 3}));
  Tensor ints = I({10, 20, 30});
  EXPECT_EQ(Values(ints.ScatterReduce(0, idx, I({1, 2, 3, 4}), ScatterReduction::kAmin, true)),
            (std::vector<double>{1, 20, 3}));
  EXPECT_EQ(Values(ints.ScatterReduce(0, idx, I({1, 2, 3, 4}), ScatterReduction::kMean, false)),
            (std::vector<double>{2, 20, 3}));
}

TEST(TensorIndex, OneHot) {
  Tensor oh = I({0, 2, 1}).OneHot(3);
  EXPECT_EQ(oh.shape(), (Shape{3, 3}));
  EXPECT_EQ(oh.dtype(), DType::Int32());
  EXPECT_EQ(Values(oh), (std::vector<double>{1, 0, 0, 0, 0, 1, 0, 1, 0}));
  EXPECT_EQ(Values(I({5}).OneHot(2, DType::Float32())), (std::vector<double>{0, 0}));
  EXPECT_FALSE(F({1}).OneHot(2).ok());
}

}  // namespace
}  // namespace uop
