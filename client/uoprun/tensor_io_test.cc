#include "client/uoprun/tensor_io.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "gtest/gtest.h"

namespace uop::uoprun {
namespace {

using client::Datatype;
using client::NpyArray;

std::string Bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

absl::Span<const uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(TensorIo, DtypesMapBothWays) {
  for (DType d : {DType::Bool(), DType::Int8(), DType::Int64(), DType::UInt16(), DType::Float16(),
                  DType::BFloat16(), DType::Float32(), DType::Float64()}) {
    absl::StatusOr<Datatype> k = ToDatatype(d);
    ASSERT_TRUE(k.ok()) << d.ToString();
    EXPECT_EQ(*ToDType(*k), d);
  }
  EXPECT_FALSE(ToDType(Datatype::kBytes).ok());
}

TEST(TensorIo, ChecksFilesAgainstTheTensor) {
  ArtifactTensor t{"x", DType::Float32(), {2, 2}, 0};
  EXPECT_TRUE(CheckMatches({Datatype::kFp32, {2, 2}, std::string(16, 0)}, t).ok());
  absl::Status st = CheckMatches({Datatype::kFp64, {4}, std::string(32, 0)}, t);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "'x' is FP32[2, 2], the file holds FP64[4]");
  absl::StatusOr<NpyArray> a = ToNpy(t, Span(std::string(16, 1)));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->datatype, Datatype::kFp32);
  EXPECT_EQ(a->shape, t.shape);
}

TEST(TensorIo, ComparesWithToleranceNanAndInf) {
  ArtifactTensor t{"y", DType::Float32(), {4}, 0};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::string got = Bytes({1.0f, 2.0f, nan, inf});
  absl::StatusOr<Comparison> c = CompareWithReference(
      Span(got), t, {Datatype::kFp32, {4}, Bytes({1.0f, 2.001f, nan, inf})}, 1e-3, 1e-5);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->mismatches, 0);
  EXPECT_NEAR(c->max_abs_error, 0.001, 1e-6);
  c = CompareWithReference(Span(got), t, {Datatype::kFp32, {4}, Bytes({1.5f, 2.0f, 0.0f, -inf})},
                           1e-3, 1e-5);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->mismatches, 3);
  EXPECT_EQ(c->first_mismatch, 0);
  // A float64 reference of a float32 output compares by value.
  std::vector<double> d = {1, 2, 0, 0};
  c = CompareWithReference(
      Span(Bytes({1, 2, 0, 0})), t,
      {Datatype::kFp64, {4}, std::string(reinterpret_cast<char*>(d.data()), 32)}, 0, 0);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->mismatches, 0);
  EXPECT_FALSE(
      CompareWithReference(Span(got), t, {Datatype::kFp32, {2, 2}, Bytes({1, 2, 3, 4})}, 0, 0)
          .ok());
}

}  // namespace
}  // namespace uop::uoprun
