#include "client/lib/datatype.h"

#include "gtest/gtest.h"

namespace uop::client {
namespace {

TEST(Datatype, NamesRoundTripAndSizesMatchKServe) {
  for (Datatype d :
       {Datatype::kBool, Datatype::kUint8, Datatype::kUint16, Datatype::kUint32, Datatype::kUint64,
        Datatype::kInt8, Datatype::kInt16, Datatype::kInt32, Datatype::kInt64, Datatype::kFp16,
        Datatype::kBf16, Datatype::kFp32, Datatype::kFp64, Datatype::kBytes}) {
    absl::StatusOr<Datatype> back = ParseDatatype(DatatypeName(d));
    ASSERT_TRUE(back.ok()) << DatatypeName(d);
    EXPECT_EQ(*back, d);
  }
  EXPECT_EQ(DatatypeName(Datatype::kFp32), "FP32");
  EXPECT_EQ(DatatypeSize(Datatype::kFp16), 2);
  EXPECT_EQ(DatatypeSize(Datatype::kInt64), 8);
  EXPECT_EQ(DatatypeSize(Datatype::kBytes), 0);
  EXPECT_EQ(DatatypeOf<float>(), Datatype::kFp32);
  EXPECT_EQ(DatatypeOf<int64_t>(), Datatype::kInt64);
  EXPECT_EQ(DatatypeOf<bool>(), Datatype::kBool);
}

TEST(Datatype, UnknownNameListsKnownOnes) {
  absl::StatusOr<Datatype> d = ParseDatatype("float32");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("'float32'"), std::string::npos);
  EXPECT_NE(d.status().message().find("FP32"), std::string::npos);
}

TEST(Datatype, ElementCountRejectsNegativeAndOverflow) {
  EXPECT_EQ(*ElementCount({2, 3, 4}), 24);
  EXPECT_EQ(*ElementCount({}), 1);
  EXPECT_EQ(*ElementCount({5, 0}), 0);
  EXPECT_FALSE(ElementCount({2, -1}).ok());
  EXPECT_FALSE(ElementCount({int64_t{1} << 40, int64_t{1} << 40}).ok());
  EXPECT_EQ(ShapeString({1, 3}), "[1, 3]");
}

}  // namespace
}  // namespace uop::client
