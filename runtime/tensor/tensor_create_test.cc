#include <cstring>
#include <thread>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

TEST(TensorCreate, FromVectorRoundTripsEveryDType) {
  EXPECT_EQ(*Tensor::FromVector<float>({1.5f, -2}).ToVector<float>(),
            (std::vector<float>{1.5f, -2}));
  EXPECT_EQ(*Tensor::FromVector<double>({0.1}).ToVector<double>(), (std::vector<double>{0.1}));
  EXPECT_EQ(*Tensor::FromVector<int8_t>({-128, 127}).ToVector<int8_t>(),
            (std::vector<int8_t>{-128, 127}));
  EXPECT_EQ(*Tensor::FromVector<uint16_t>({65535}).ToVector<uint16_t>(),
            (std::vector<uint16_t>{65535}));
  EXPECT_EQ(*Tensor::FromVector<int64_t>({int64_t{1} << 62}).ToVector<int64_t>(),
            (std::vector<int64_t>{int64_t{1} << 62}));
  EXPECT_EQ(*Tensor::FromVector<uint64_t>({~uint64_t{0}}).ToVector<uint64_t>(),
            (std::vector<uint64_t>{~uint64_t{0}}));
  EXPECT_EQ(*Tensor::FromVector<bool>({true, false, true}).ToVector<bool>(),
            (std::vector<bool>{true, false, true}));
}

TEST(TensorCreate, DeviceScopeSetsTheDefaultDeviceOnThisThreadOnly) {
  EXPECT_EQ(Tensor::Zeros({2}).device(), "CPU");
  {
    DeviceScope outer("NULL:1");
    EXPECT_EQ(Tensor::FromVector<float>({1, 2}).device(), "NULL:1");
    EXPECT_EQ(Tensor::Arange(4).device(), "NULL:1");
    {
      DeviceScope inner("NULL:2");
      EXPECT_EQ(Tensor::Empty({3}).device(), "NULL:2");
      EXPECT_EQ(RandOptions{}.device, "NULL:2");
    }
    EXPECT_EQ(Tensor::Full({1}, 3).device(), "NULL:1");
    std::string elsewhere;
    std::thread([&] { elsewhere = Tensor::Ones({1}).device(); }).join();
    EXPECT_EQ(elsewhere, "CPU");
  }
  EXPECT_EQ(DefaultDevice(), "CPU");
  // An explicit device still wins.
  DeviceScope scope("NULL:1");
  EXPECT_EQ(Tensor::Zeros({2}, DType::Float32(), "CPU").device(), "CPU");
}

TEST(TensorCreate, FromVectorShapes) {
  Tensor t = Tensor::FromVector<int32_t>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.dtype(), DType::Int32());
  EXPECT_EQ(t.uop()->op(), Op::kReshape);
  EXPECT_EQ(t.uop()->src(0)->op(), Op::kBuffer);
  Tensor scalar = Tensor::FromVector<float>({7}, Shape{});
  EXPECT_EQ(scalar.ndim(), 0);
  EXPECT_EQ(*scalar.Item<float>(), 7.0f);
}

TEST(TensorCreate, HeaderExampleWorks) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor w = Tensor::Randn({3, 4}, DType::Float32(), {.seed = 7});
  Tensor y = x.Matmul(w).Relu().Sum({1});
  absl::StatusOr<std::vector<float>> v = y.ToVector<float>();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->size(), 2u);
}

TEST(TensorCreate, FromVectorRejectsWrongSize) {
  Tensor t = Tensor::FromVector<float>({1, 2, 3}, Shape{2, 2});
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf(t), "FromBytes: 12 bytes given, float32 (2, 2) needs 16");
  EXPECT_FALSE(Tensor::FromVector<float>({}, Shape{-1}).ok());
}

TEST(TensorCreate, FromBytesTakesHalfBits) {
  std::vector<uint8_t> bytes(4);
  uint16_t h[2] = {FloatToHalf(1.5f), FloatToHalf(-0.25f)};
  std::memcpy(bytes.data(), h, 4);
  Tensor t = Tensor::FromBytes(bytes, DType::Float16(), {2});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Values(t), (std::vector<double>{1.5, -0.25}));
  EXPECT_EQ(*t.ToBytes(), bytes);
}

TEST(TensorCreate, FullZerosOnesAreConstantsWithoutBuffers) {
  Tensor f = Tensor::Full({2, 2}, 3.5);
  EXPECT_EQ(f.dtype(), DType::Float32());
  EXPECT_TRUE(f.storages().empty());
  EXPECT_EQ(f.uop()->op(), Op::kExpand);
  EXPECT_EQ(f.uop()->src(0)->op(), Op::kReshape);
  EXPECT_EQ(f.uop()->src(0)->src(0)->op(), Op::kConst);
  EXPECT_EQ(Values(f), (std::vector<double>{3.5, 3.5, 3.5, 3.5}));
  EXPECT_EQ(Tensor::Full({2}, 7).dtype(), DType::Int32());
  EXPECT_EQ(Tensor::Full({2}, true).dtype(), DType::Bool());
  EXPECT_EQ(Values(Tensor::Full({3}, 300, DType::UInt8())), (std::vector<double>{44, 44, 44}));
  EXPECT_EQ(Values(Tensor::Zeros({3}, DType::Int64())), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(Values(Tensor::Ones({2, 1})), (std::vector<double>{1, 1}));
  EXPECT_EQ(Values(Tensor::Full({}, 2.0)), (std::vector<double>{2.0}));
  EXPECT_EQ(Tensor::Zeros({0, 3}).numel(), 0);
  EXPECT_EQ(ErrorOf(Tensor::Full({-2}, 1)), "Full: negative dimension in (-2,)");
  EXPECT_EQ(ErrorOf(Tensor::Zeros({int64_t{1} << 40, int64_t{1} << 40})),
            "Full: (1099511627776, 1099511627776) has more than 2^63 elements");
  EXPECT_FALSE(Tensor::Ones({1 << 20}).Expand({int64_t{1} << 50, 1 << 20}).ok());
  EXPECT_FALSE(Tensor::Ones({2}).Reshape({int64_t{1} << 62, 8, 0}).ok());
  EXPECT_EQ(Values(Tensor::FromVector<int32_t>({1, 2}).FullLike(9)), (std::vector<double>{9, 9}));
}

TEST(TensorCreate, Arange) {
  Tensor a = Tensor::Arange(5);
  EXPECT_EQ(a.dtype(), DType::Int32());
  EXPECT_EQ(*a.ToVector<int32_t>(), (std::vector<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(Values(Tensor::Arange(2, 11, 3)), (std::vector<double>{2, 5, 8}));
  EXPECT_EQ(Values(Tensor::Arange(5, 0, -2)), (std::vector<double>{5, 3, 1}));
  EXPECT_EQ(Values(Tensor::Arange(-3, 3, 4)), (std::vector<double>{-3, 1}));
  Tensor f = Tensor::Arange(0, 1, 0.25);
  EXPECT_EQ(f.dtype(), DType::Float32());
  EXPECT_EQ(Values(f), (std::vector<double>{0, 0.25, 0.5, 0.75}));
  EXPECT_EQ(Tensor::Arange(3, 3).numel(), 0);
  EXPECT_EQ(Tensor::Arange(3, 1).numel(), 0);
  EXPECT_EQ(Values(Tensor::Arange(0, 3, 1, DType::Int8())), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(Tensor::Arange(0, 3, 1, DType::Int8()).dtype(), DType::Int8());
  EXPECT_EQ(ErrorOf(Tensor::Arange(0, 3, 0)), "Arange: step must not be 0");
}

TEST(TensorCreate, LongArangeIsExact) {
  std::vector<int32_t> v = *Tensor::Arange(-5, 100000, 3).ToVector<int32_t>();
  ASSERT_EQ(v.size(), 33335u);
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], -5 + 3 * static_cast<int32_t>(i));
  std::vector<double> f = Values(Tensor::Arange(0.5, 300, 0.5));
  ASSERT_EQ(f.size(), 599u);
  for (size_t i = 0; i < f.size(); ++i) ASSERT_EQ(f[i], 0.5 + 0.5 * i);
  std::vector<double> down = Values(Tensor::Arange(1000, 0, -1, DType::Int64()));
  ASSERT_EQ(down.size(), 1000u);
  EXPECT_EQ(down.front(), 1000);
  EXPECT_EQ(down.back(), 1);
}

TEST(TensorCreate, ArangeIsAReduceNotABuffer) {
  Tensor a = Tensor::Arange(4);
  EXPECT_TRUE(a.storages().empty());
  bool has_reduce = false;
  for (const UOp* u : a.uop()->Toposort()) has_reduce |= u->op() == Op::kReduceAxis;
  EXPECT_TRUE(has_reduce);
}

TEST(TensorCreate, Eye) {
  EXPECT_EQ(Values(Tensor::Eye(3)), (std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(Values(Tensor::Eye(2, 3)), (std::vector<double>{1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(Values(Tensor::Eye(3, 2)), (std::vector<double>{1, 0, 0, 1, 0, 0}));
  EXPECT_EQ(Tensor::Eye(0).numel(), 0);
  EXPECT_FALSE(Tensor::Eye(-1).ok());
}

TEST(TensorCreate, EmptyIsUnrealizedUntilAssigned) {
  Tensor e = Tensor::Empty({2}, DType::Int32());
  ASSERT_TRUE(e.ok());
  absl::StatusOr<std::vector<int32_t>> v = e.ToVector<int32_t>();
  EXPECT_EQ(v.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(v.status().message().find("not realized"), std::string::npos) << v.status();
  e.Assign(Tensor::FromVector<int32_t>({4, 5}));
  EXPECT_EQ(*e.ToVector<int32_t>(), (std::vector<int32_t>{4, 5}));
}

TEST(TensorCreate, ReadersCheckDTypeAndSize) {
  Tensor t = Tensor::FromVector<float>({1, 2});
  EXPECT_EQ(t.ToVector<int32_t>().status().message(),
            "ToVector: tensor is float32, asked for int32");
  EXPECT_EQ(t.Item<float>().status().message(), "Item: tensor of shape (2,) has 2 elements, not 1");
  EXPECT_EQ(Tensor().status().message(), "uninitialized Tensor");
}

}  // namespace
}  // namespace uop
