#include "server/data_type.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace uop::server {
namespace {

using ::testing::HasSubstr;

TEST(DataType, WireNamesRoundTrip) {
  for (const char* name : {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32",
                           "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16"}) {
    absl::StatusOr<inference::DataType> t = DataTypeFromWire(name);
    ASSERT_TRUE(t.ok()) << name;
    EXPECT_EQ(WireName(*t), name);
  }
}

TEST(DataType, UnknownNameListsTheAcceptedOnes) {
  absl::StatusOr<inference::DataType> t = DataTypeFromWire("FLOAT32");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("unknown datatype 'FLOAT32'"));
  EXPECT_THAT(t.status().message(), HasSubstr("FP32"));
  EXPECT_FALSE(DataTypeFromWire("fp32").ok());  // case matters on the wire
}

TEST(DataType, ElementSizes) {
  EXPECT_EQ(ElementSize(inference::TYPE_FP32), 4);
  EXPECT_EQ(ElementSize(inference::TYPE_FP16), 2);
  EXPECT_EQ(ElementSize(inference::TYPE_INT64), 8);
  EXPECT_EQ(ElementSize(inference::TYPE_BOOL), 1);
  EXPECT_EQ(ElementSize(inference::TYPE_STRING), 0);
  EXPECT_EQ(ElementSize(inference::TYPE_INVALID), 0);
  EXPECT_EQ(WireName(inference::TYPE_INVALID), "INVALID");
}

TEST(ElementCount, MultipliesAndRejectsNegativeAndOverflow) {
  EXPECT_EQ(*ElementCount({}), 1);
  EXPECT_EQ(*ElementCount({2, 3, 4}), 24);
  EXPECT_EQ(*ElementCount({5, 0, int64_t{1} << 62}), 0);
  EXPECT_THAT(ElementCount({2, -1}).status().message(), HasSubstr("negative"));
  EXPECT_THAT(ElementCount({int64_t{1} << 40, int64_t{1} << 40}).status().message(),
              HasSubstr("more than 2^62"));
  EXPECT_EQ(ShapeString({1, 3, 224}), "[1, 3, 224]");
}

}  // namespace
}  // namespace uop::server
