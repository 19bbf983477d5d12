#include <cmath>
#include <limits>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// [[1, 2, 3], [4, 5, 6]] as float32.
Tensor M() { return Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3}); }

TEST(TensorReduce, SumAxesKeepdimNegative) {
  EXPECT_EQ(Values(M().Sum()), (std::vector<double>{21}));
  EXPECT_EQ(M().Sum().shape(), Shape{});
  EXPECT_EQ(Values(M().Sum({0})), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(Values(M().Sum({-1})), (std::vector<double>{6, 15}));
  EXPECT_EQ(M().Sum({1}, /*keepdim=*/true).shape(), (Shape{2, 1}));
  EXPECT_EQ(M().Sum({0, 1}, true).shape(), (Shape{1, 1}));
  EXPECT_EQ(Values(M().Sum({})), Values(M()));
  Tensor cube = Tensor::Arange(24).Reshape({2, 3, 4});
  // Sum over axes 0 and 2: for each j, sum_{i,k} 12i + 4j + k.
  std::vector<double> expected;
  for (int j = 0; j < 3; ++j) {
    double s = 0;
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < 4; ++k) s += 12 * i + 4 * j + k;
    expected.push_back(s);
  }
  EXPECT_EQ(Values(cube.Sum({0, -1})), expected);
  EXPECT_EQ(ErrorOf(M().Sum({2})), "Sum: axis 2 is out of range for rank 2");
  EXPECT_EQ(ErrorOf(M().Sum({1, -1})), "Sum: repeated axis in (1, -1)");
}

TEST(TensorReduce, SumAccumulatesIntsWide) {
  Tensor i8 = Tensor::FromVector<int8_t>({100, 100, 100});
  EXPECT_EQ(i8.Sum().dtype(), DType::Int32());
  EXPECT_EQ(Values(i8.Sum()), (std::vector<double>{300}));
  Tensor u8 = Tensor::FromVector<uint8_t>({200, 200});
  EXPECT_EQ(u8.Sum().dtype(), DType::UInt32());
  EXPECT_EQ(Values(u8.Sum()), (std::vector<double>{400}));
  EXPECT_EQ(Tensor::FromVector<bool>({true, true, false}).Sum().dtype(), DType::Int32());
  EXPECT_EQ(Values(Tensor::FromVector<bool>({true, true, false}).Sum()), (std::vector<double>{2}));
  EXPECT_EQ(Tensor::FromVector<int64_t>({1}).Sum().dtype(), DType::Int64());
  // float16 sums in float32 and returns float16: 2048 + 1 + 1 is exact.
  Tensor h = Tensor::FromVector<float>({2048, 1, 1}).Cast(DType::Float16());
  EXPECT_EQ(h.Sum().dtype(), DType::Float16());
  EXPECT_EQ(Values(h.Sum()), (std::vector<double>{2050}));
  EXPECT_EQ(i8.Sum({0}, false, DType::Int8()).dtype(), DType::Int8());
  EXPECT_EQ(Values(i8.Sum({0}, false, DType::Int8())), (std::vector<double>{44}));  // wraps
}

TEST(TensorReduce, ProdMaxMin) {
  EXPECT_EQ(Values(M().Prod({1})), (std::vector<double>{6, 120}));
  EXPECT_EQ(Values(M().Max({0})), (std::vector<double>{4, 5, 6}));
  EXPECT_EQ(Values(M().Min({1}, true)), (std::vector<double>{1, 4}));
  EXPECT_EQ(Values(M().Max()), (std::vector<double>{6}));
  Tensor ints = Tensor::FromVector<int32_t>({std::numeric_limits<int32_t>::min(), 0, 5});
  EXPECT_EQ(Values(ints.Min()), (std::vector<double>{std::numeric_limits<int32_t>::min()}));
  EXPECT_EQ(Values(ints.Max()), (std::vector<double>{5}));
  Tensor u = Tensor::FromVector<uint8_t>({7, 255, 0});
  EXPECT_EQ(Values(u.Min()), (std::vector<double>{0}));
  EXPECT_EQ(Values(u.Max()), (std::vector<double>{255}));
  EXPECT_TRUE(std::isnan(Values(Tensor::FromVector<float>({1, NAN}).Max())[0]));
  EXPECT_TRUE(AllClose(Values(Tensor::Zeros({0}).Max()), {-kInf}));
  EXPECT_EQ(Values(Tensor::Zeros({0}).Sum()), (std::vector<double>{0}));
}

TEST(TensorReduce, MeanVarStd) {
  EXPECT_EQ(Values(M().Mean({1})), (std::vector<double>{2, 5}));
  Tensor ints = Tensor::FromVector<int32_t>({1, 2});
  EXPECT_EQ(ints.Mean().dtype(), DType::Float32());
  EXPECT_EQ(Values(ints.Mean()), (std::vector<double>{1.5}));
  // Row [1, 2, 3]: mean 2, squared deviations sum 2.
  EXPECT_TRUE(AllClose(Values(M().Var({1})), {1, 1}));
  EXPECT_TRUE(AllClose(Values(M().Var({1}, false, 0)), {2.0 / 3, 2.0 / 3}));
  EXPECT_TRUE(AllClose(Values(M().Std({1})), {1, 1}));
  EXPECT_EQ(M().Var({1}, true).shape(), (Shape{2, 1}));
  EXPECT_TRUE(AllClose(Values(M().Var({0, 1})), {3.5}));
  EXPECT_TRUE(std::isnan(Values(Tensor::Zeros({0}).Mean())[0]));
}

TEST(TensorReduce, AnyAll) {
  Tensor b = Tensor::FromVector<bool>({true, false, false, false}, Shape{2, 2});
  EXPECT_EQ(*b.Any({1}).ToVector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(*b.All({1}).ToVector<bool>(), (std::vector<bool>{false, false}));
  EXPECT_EQ(*Tensor::FromVector<float>({2, -1}).All().ToVector<bool>(), (std::vector<bool>{true}));
  EXPECT_EQ(*Tensor::FromVector<int32_t>({0, 0}).Any().ToVector<bool>(),
            (std::vector<bool>{false}));
}

TEST(TensorReduce, ArgMaxArgMinTakeFirstTie) {
  Tensor x = Tensor::FromVector<float>({3, 7, 7, 1, 5, 5, 9, 1, 1}, Shape{3, 3});
  EXPECT_EQ(*x.ArgMax(1).ToVector<int32_t>(), (std::vector<int32_t>{1, 1, 0}));
  EXPECT_EQ(*x.ArgMax(0).ToVector<int32_t>(), (std::vector<int32_t>{2, 0, 0}));
  EXPECT_EQ(*x.ArgMin(1).ToVector<int32_t>(), (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(*x.ArgMin(-2).ToVector<int32_t>(), (std::vector<int32_t>{1, 2, 2}));
  EXPECT_EQ(x.ArgMax(1, true).shape(), (Shape{3, 1}));
  EXPECT_EQ(*Tensor::FromVector<float>({1, NAN, 5, NAN}).ArgMax(0).ToVector<int32_t>(),
            (std::vector<int32_t>{1}));
  Tensor u = Tensor::FromVector<uint8_t>({4, 0, 255, 0});
  EXPECT_EQ(*u.ArgMin(0).ToVector<int32_t>(), (std::vector<int32_t>{1}));
  EXPECT_EQ(*u.ArgMax(0).ToVector<int32_t>(), (std::vector<int32_t>{2}));
  EXPECT_EQ(ErrorOf(Tensor::Zeros({2, 0}).ArgMax(1)), "ArgMax: cannot reduce axis 1 of size 0");
}

TEST(TensorReduce, LogSumExp) {
  Tensor x = Tensor::FromVector<double>({1, 2, 3, 1000, 1000, -kInf, -kInf, -kInf, 0}, Shape{3, 3});
  std::vector<double> v = Values(x.LogSumExp({1}));
  EXPECT_TRUE(AllClose(v,
                       {std::log(std::exp(1) + std::exp(2) + std::exp(3)), 1000 + std::log(2.0), 0},
                       1e-12, 1e-12));
  EXPECT_TRUE(AllClose(Values(Tensor::FromVector<double>({-kInf, -kInf}).LogSumExp({0})), {-kInf}));
  EXPECT_EQ(x.LogSumExp({1}, true).shape(), (Shape{3, 1}));
}

TEST(TensorReduce, CumSum) {
  Tensor x = Tensor::FromVector<int32_t>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  EXPECT_EQ(Values(x.CumSum(1)), (std::vector<double>{1, 3, 6, 4, 9, 15}));
  EXPECT_EQ(Values(x.CumSum(0)), (std::vector<double>{1, 2, 3, 5, 7, 9}));
  EXPECT_EQ(Values(x.CumSum(-1, /*exclusive=*/true)), (std::vector<double>{0, 1, 3, 0, 4, 9}));
  EXPECT_EQ(Values(x.CumSum(1, false, /*reverse=*/true)),
            (std::vector<double>{6, 5, 3, 15, 11, 6}));
  EXPECT_EQ(Values(x.CumSum(1, true, true)), (std::vector<double>{5, 3, 0, 11, 6, 0}));
  EXPECT_EQ(Values(Tensor::FromVector<float>({0.5, 0.25}).CumSum(0)),
            (std::vector<double>{0.5, 0.75}));
  EXPECT_EQ(Tensor::FromVector<int8_t>({1}).CumSum(0).dtype(), DType::Int32());
  EXPECT_FALSE(x.CumSum(2).ok());
  EXPECT_EQ(Values(Tensor::Zeros({2, 0}).CumSum(1)).size(), 0u);
}

TEST(TensorReduce, LongCumSumIsSplitIntoBlocks) {
  const int64_t n = 1500;
  std::vector<int32_t> data(2 * n);
  for (int64_t i = 0; i < 2 * n; ++i) data[i] = static_cast<int32_t>((i * 7919) % 23) - 11;
  Tensor x = Tensor::FromVector(data, Shape{2, n});
  std::vector<int32_t> inc = *x.CumSum(1).ToVector<int32_t>();
  std::vector<int32_t> exc = *x.CumSum(1, true).ToVector<int32_t>();
  std::vector<int32_t> rev = *x.CumSum(1, false, true).ToVector<int32_t>();
  for (int64_t r = 0; r < 2; ++r) {
    int32_t run = 0, back = 0;
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(exc[r * n + i], run) << i;
      run += data[r * n + i];
      ASSERT_EQ(inc[r * n + i], run) << i;
    }
    for (int64_t i = n - 1; i >= 0; --i) {
      back += data[r * n + i];
      ASSERT_EQ(rev[r * n + i], back) << i;
    }
  }
  // Work stays linear in n: no window as long as the axis.
  for (const UOp* u : x.CumSum(1).uop()->Toposort())
    if (u->op() == Op::kExpand) EXPECT_LE(u->shape()->back(), 2 * 256 + 1);
}

}  // namespace
}  // namespace uop
