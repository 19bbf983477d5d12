#include "runtime/dtype/dtype.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(DType, ItemSizes) {
  EXPECT_EQ(DType::Bool().itemsize(), 1);
  EXPECT_EQ(DType::Float16().itemsize(), 2);
  EXPECT_EQ(DType::BFloat16().itemsize(), 2);
  EXPECT_EQ(DType::Int64().itemsize(), 8);
  EXPECT_EQ(DType::Float32().Vec(16).bytes(), 64);
}

TEST(DType, Classification) {
  EXPECT_TRUE(DType::BFloat16().is_float());
  EXPECT_FALSE(DType::Int8().is_float());
  EXPECT_TRUE(DType::UInt32().is_unsigned());
  EXPECT_TRUE(DType::UInt32().is_int());
  EXPECT_FALSE(DType::Bool().is_int());
  EXPECT_TRUE(DType::Index().is_int());
}

TEST(DType, PointersAndVectorsAreDistinct) {
  DType f = DType::Float32();
  EXPECT_NE(f, f.Vec(4));
  EXPECT_NE(f, f.Ptr());
  EXPECT_NE(f.Ptr(AddrSpace::kGlobal), f.Ptr(AddrSpace::kLocal));
  EXPECT_EQ(f.Ptr().Base(), f);
  EXPECT_EQ(f.Vec(8).Scalar(), f);
  EXPECT_EQ(f.Ptr(AddrSpace::kLocal, 256).ToString(), "float32*[local][256]");
  EXPECT_EQ(f.Vec(4).ToString(), "float32x4");
}

TEST(DType, PromotionLattice) {
  EXPECT_EQ(Promote(DType::Int8(), DType::UInt8()), DType::Int16());
  EXPECT_EQ(Promote(DType::Int32(), DType::Float16()), DType::Float16());
  EXPECT_EQ(Promote(DType::Float16(), DType::BFloat16()), DType::Float32());
  EXPECT_EQ(Promote(DType::Bool(), DType::Bool()), DType::Bool());
  EXPECT_EQ(Promote(DType::Bool(), DType::Float32()), DType::Float32());
  EXPECT_EQ(Promote(DType::UInt32(), DType::Int32()), DType::Int64());
  EXPECT_EQ(Promote(DType::Int64(), DType::UInt64()), DType::Float16());
  EXPECT_EQ(Promote(DType::Float64(), DType::Int8()), DType::Float64());
  EXPECT_EQ(Promote(DType::UInt8(), DType::UInt16()), DType::UInt16());
}

TEST(DType, PromotionIsSymmetric) {
  for (int i = 1; i < kNumScalarTypes; ++i)
    for (int j = 1; j < kNumScalarTypes; ++j) {
      DType a{static_cast<ScalarType>(i)}, b{static_cast<ScalarType>(j)};
      EXPECT_EQ(Promote(a, b), Promote(b, a)) << a.ToString() << " " << b.ToString();
    }
}

TEST(DType, ParseNamesAndAliases) {
  EXPECT_EQ(*ParseDType("float32"), DType::Float32());
  EXPECT_EQ(*ParseDType("half"), DType::Float16());
  EXPECT_EQ(*ParseDType("BF16"), DType::BFloat16());
  absl::StatusOr<DType> bad = ParseDType("float7");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("float7"), absl::string_view::npos);
}

TEST(DType, HalfRoundTrip) {
  for (float f : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f}) {
    EXPECT_EQ(HalfToFloat(FloatToHalf(f)), f) << f;
  }
  EXPECT_TRUE(std::isinf(HalfToFloat(FloatToHalf(70000.0f))));
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(std::nanf("")))));
  // Round to nearest even: 1 + 2^-11 is exactly between 1 and 1 + 2^-10.
  EXPECT_EQ(HalfToFloat(FloatToHalf(1.0f + 0.00048828125f)), 1.0f);
  EXPECT_EQ(HalfToFloat(FloatToHalf(1.0f + 3 * 0.00048828125f)), 1.0f + 4 * 0.00048828125f);
}

TEST(DType, BFloat16RoundTrip) {
  EXPECT_EQ(BFloat16ToFloat(FloatToBFloat16(1.0f)), 1.0f);
  EXPECT_EQ(BFloat16ToFloat(FloatToBFloat16(-3.0f)), -3.0f);
  EXPECT_NEAR(BFloat16ToFloat(FloatToBFloat16(3.14159f)), 3.140625f, 1e-6);
  EXPECT_TRUE(std::isnan(BFloat16ToFloat(FloatToBFloat16(std::nanf("")))));
}

TEST(DType, CastToDoubleWrapsIntegers) {
  EXPECT_EQ(CastToDouble(300.0, DType::UInt8()), 44.0);
  EXPECT_EQ(CastToDouble(-1.0, DType::UInt8()), 255.0);
  EXPECT_EQ(CastToDouble(-1.7, DType::Int32()), -1.0);
  EXPECT_EQ(CastToDouble(2.5, DType::Bool()), 1.0);
  EXPECT_EQ(CastToDouble(0.1, DType::Float32()), static_cast<double>(0.1f));
  EXPECT_EQ(CastToDouble(std::nan(""), DType::Int8()), -128.0);
}

TEST(DType, Limits) {
  EXPECT_EQ(DType::Int8().min_int(), -128);
  EXPECT_EQ(DType::UInt64().max_uint(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(DType::Float16().max_value(), 65504.0);
}

}  // namespace
}  // namespace uop
