#include <cmath>
#include <set>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

std::vector<double> Stats(const std::vector<double>& v) {
  double mean = 0, var = 0;
  for (double x : v) mean += x / v.size();
  for (double x : v) var += (x - mean) * (x - mean) / v.size();
  return {mean, var};
}

TEST(TensorRandom, SameSeedSameNumbersDifferentSeedDifferent) {
  std::vector<double> a = Values(Tensor::Rand({64}, DType::Float32(), {.seed = 42}));
  std::vector<double> b = Values(Tensor::Rand({64}, DType::Float32(), {.seed = 42}));
  std::vector<double> c = Values(Tensor::Rand({64}, DType::Float32(), {.seed = 43}));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(std::set<double>(a.begin(), a.end()).size(), a.size());  // no repeats
}

TEST(TensorRandom, ManualSeedRestartsTheStream) {
  Tensor::ManualSeed(7);
  std::vector<double> first = Values(Tensor::Rand({16}));
  std::vector<double> second = Values(Tensor::Rand({16}));
  EXPECT_NE(first, second);
  Tensor::ManualSeed(7);
  EXPECT_EQ(Values(Tensor::Rand({16})), first);
  EXPECT_EQ(Values(Tensor::Rand({16})), second);
  // An explicit seed is the first stream of that seed.
  EXPECT_EQ(Values(Tensor::Rand({16}, DType::Float32(), {.seed = 7})), first);
}

TEST(TensorRandom, RandIsUniformInUnitInterval) {
  for (DType d : {DType::Float32(), DType::Float64(), DType::Float16()}) {
    Tensor r = Tensor::Rand({64, 64}, d, {.seed = 1});
    ASSERT_EQ(r.dtype(), d);
    std::vector<double> v = Values(r);
    for (double x : v) ASSERT_TRUE(x >= 0 && x < 1) << x;
    std::vector<double> s = Stats(v);
    EXPECT_NEAR(s[0], 0.5, 0.02) << d.ToString();
    EXPECT_NEAR(s[1], 1.0 / 12, 0.01) << d.ToString();
  }
  // Built from THREEFRY over counters: no buffer, no host randomness.
  Tensor r = Tensor::Rand({4});
  EXPECT_TRUE(r.storages().empty());
  bool threefry = false;
  for (const UOp* u : r.uop()->Toposort()) threefry |= u->op() == Op::kThreefry;
  EXPECT_TRUE(threefry);
}

TEST(TensorRandom, RandnIsStandardNormal) {
  std::vector<double> v = Values(Tensor::Randn({4096}, DType::Float32(), {.seed = 3}));
  std::vector<double> s = Stats(v);
  EXPECT_NEAR(s[0], 0, 0.05);
  EXPECT_NEAR(s[1], 1, 0.07);
  int within_one = 0;
  for (double x : v) within_one += std::abs(x) < 1;
  EXPECT_NEAR(within_one / 4096.0, 0.6827, 0.03);
  EXPECT_EQ(Tensor::Randn({2, 3}, DType::Float16()).shape(), (Shape{2, 3}));
  EXPECT_EQ(Tensor::Randn({2, 3}, DType::Float16()).dtype(), DType::Float16());
}

TEST(TensorRandom, RandIntCoversTheRange) {
  Tensor r = Tensor::RandInt({2000}, -3, 4, DType::Int32(), {.seed = 5});
  std::vector<int32_t> v = *r.ToVector<int32_t>();
  std::set<int32_t> seen(v.begin(), v.end());
  EXPECT_EQ(seen, (std::set<int32_t>{-3, -2, -1, 0, 1, 2, 3}));
  std::vector<double> big = Values(Tensor::RandInt({100}, 0, int64_t{1} << 40, DType::Int64()));
  for (double x : big) EXPECT_TRUE(x >= 0 && x < std::ldexp(1.0, 40));
  EXPECT_EQ(ErrorOf(Tensor::RandInt({2}, 3, 3)), "RandInt: empty range [3, 3)");
  EXPECT_EQ(ErrorOf(Tensor::RandInt({2}, 0, 300, DType::UInt8())),
            "RandInt: high 300 does not fit uint8");
  EXPECT_EQ(ErrorOf(Tensor::RandInt({2}, 0, 3, DType::Float32())),
            "RandInt: needs an integer dtype, got float32");
  EXPECT_EQ(ErrorOf(Tensor::Rand({2}, DType::Int32())), "Rand: needs a float dtype, got int32");
}

TEST(TensorRandom, Dropout) {
  Tensor x = Tensor::Ones({4000});
  std::vector<double> v = Values(x.Dropout(0.25, {.seed = 9}));
  int zeros = 0;
  for (double d : v) {
    if (d == 0) {
      ++zeros;
    } else {
      EXPECT_NEAR(d, 1 / 0.75, 1e-6);
    }
  }
  EXPECT_NEAR(zeros / 4000.0, 0.25, 0.03);
  EXPECT_EQ(Values(x.Dropout(0.25, {.seed = 9})), v);
  EXPECT_EQ(x.Dropout(0).uop(), x.uop());
  EXPECT_EQ(Values(Tensor::Ones({3}).Dropout(1)), (std::vector<double>{0, 0, 0}));
  EXPECT_FALSE(x.Dropout(1.5).ok());
}

}  // namespace
}  // namespace uop
