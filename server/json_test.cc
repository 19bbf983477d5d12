#include "server/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "proto/grpc_service.pb.h"

namespace uop::server {
namespace {

using ::testing::HasSubstr;

TEST(ParseJson, ObjectsArraysAndScalars) {
  absl::StatusOr<JsonValue> v =
      ParseJson(R"( {"a": [1, -2.5, true, null, "x\u00e9\n"], "b": {"c": false}} )");
  ASSERT_TRUE(v.ok()) << v.status();
  const JsonValue* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 5u);
  EXPECT_TRUE(a->items[0].is_int64);
  EXPECT_EQ(a->items[0].int64, 1);
  EXPECT_DOUBLE_EQ(a->items[1].number, -2.5);
  EXPECT_FALSE(a->items[1].is_int64);
  EXPECT_TRUE(a->items[2].boolean);
  EXPECT_TRUE(a->items[3].is_null());
  EXPECT_EQ(a->items[4].string, "x\xc3\xa9\n");
  EXPECT_FALSE(v->Find("b")->Find("c")->boolean);
  EXPECT_EQ(v->Find("missing"), nullptr);
}

TEST(ParseJson, IntegersKeepTheirExactValue) {
  absl::StatusOr<JsonValue> v =
      ParseJson("[9007199254740993, 18446744073709551615, -9223372036854775808]");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->items[0].int64, 9007199254740993);  // not representable as a double
  EXPECT_FALSE(v->items[1].is_int64);
  EXPECT_TRUE(v->items[1].is_uint64);
  EXPECT_EQ(v->items[1].uint64, UINT64_MAX);
  EXPECT_EQ(v->items[2].int64, INT64_MIN);
}

TEST(ParseJson, SurrogatePairsDecodeToUtf8) {
  absl::StatusOr<JsonValue> v = ParseJson(R"("\ud83d\ude00")");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->string, "\xf0\x9f\x98\x80");
}

TEST(ParseJson, MalformedTextIsAnErrorWithTheOffset) {
  for (const char* bad :
       {"", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "tru", "01", "1.", "-", "\"abc", "\"\\x\"",
        "\"\\ud800\"", "[1] 2", "{1:2}", "\"a\nb\"", "1e", "nul"}) {
    absl::StatusOr<JsonValue> v = ParseJson(bad);
    EXPECT_FALSE(v.ok()) << bad;
    EXPECT_THAT(v.status().message(), HasSubstr("malformed JSON at byte")) << bad;
  }
}

TEST(ParseJson, DeepNestingIsRefusedNotACrash) {
  std::string deep(100000, '[');
  absl::StatusOr<JsonValue> v = ParseJson(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("nested deeper than 64"));
}

TEST(JsonWriter, WritesValidJsonThatParsesBack) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("s");
  w.String("q\"\\\n\x01");
  w.Key("n");
  w.BeginArray();
  w.Int(-3);
  w.Uint(UINT64_MAX);
  w.Float(0.1f);
  w.Double(1e300);
  w.Double(std::numeric_limits<double>::quiet_NaN());
  w.Bool(true);
  w.Null();
  w.EndArray();
  w.EndObject();
  EXPECT_EQ(out,
            R"({"s":"q\"\\\n\u0001","n":[-3,18446744073709551615,0.1,1e+300,null,true,null]})");
  absl::StatusOr<JsonValue> back = ParseJson(out);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->Find("s")->string, "q\"\\\n\x01");
  EXPECT_FLOAT_EQ(static_cast<float>(back->Find("n")->items[2].number), 0.1f);
}

TEST(WriteProtoJson, Int64AsNumbersMapsAsObjectsDefaultsLeftOut) {
  inference::ModelStatistics stats;
  stats.set_name("add");
  stats.set_inference_count(9007199254740993ull);
  stats.mutable_inference_stats()->mutable_success()->set_count(2);
  inference::ModelInferRequest request;
  (*request.mutable_parameters())["priority"].set_int64_param(2);
  request.add_inputs()->add_shape(4);
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  WriteProtoJson(stats, w);
  WriteProtoJson(request, w);
  w.EndArray();
  EXPECT_EQ(
      out,
      R"([{"name":"add","inference_count":9007199254740993,"inference_stats":{"success":)"
      R"({"count":2}}},{"parameters":{"priority":{"int64_param":2}},"inputs":[{"shape":[4]}]}])");
}

}  // namespace
}  // namespace uop::server
