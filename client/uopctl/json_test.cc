#include "client/uopctl/json.h"

#include "gtest/gtest.h"

namespace uop::uopctl {
namespace {

TEST(Json, ParsesNestedArraysAndObjects) {
  absl::StatusOr<JsonValue> v = ParseJson(
      R"( {"shape": [2, 2], "datatype": "INT64", "data": [[1, -2], [9007199254740993, 4.5e1]],
                    "ok": true, "no": false, "nothing": null, "s": "a\"b\u00e9\n"} )");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->kind, JsonValue::Kind::kObject);
  EXPECT_EQ(v->Find("datatype")->text, "INT64");
  const JsonValue* data = v->Find("data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->items[1].items[0].text, "9007199254740993");  // exact past 2^53
  EXPECT_EQ(data->items[1].items[1].text, "4.5e1");
  EXPECT_EQ(data->items[0].items[1].text, "-2");
  EXPECT_TRUE(v->Find("ok")->boolean);
  EXPECT_FALSE(v->Find("no")->boolean);
  EXPECT_EQ(v->Find("nothing")->kind, JsonValue::Kind::kNull);
  EXPECT_EQ(v->Find("s")->text, "a\"b\xc3\xa9\n");
  EXPECT_EQ(v->Find("missing"), nullptr);
  EXPECT_EQ(ParseJson("[]")->items.size(), 0u);
}

TEST(Json, RejectsMalformedTextWithTheOffset) {
  for (const char* bad : {"", "[1, 2", "[1 2]", "{\"a\" 1}", "{a: 1}", "[1,]", "01x", "-", "1.",
                          "1e", "\"abc", "\"\\x\"", "tru", "[1] 2", "\"\\u12\""}) {
    absl::StatusOr<JsonValue> v = ParseJson(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_NE(v.status().message().find("offset"), std::string::npos) << bad;
    }
  }
  EXPECT_EQ(ParseJson("[1, 2").status().message(),
            "JSON: expected ',' or ']' at offset 5 (end of input)");
}

TEST(Json, RefusesDeepNesting) {
  EXPECT_TRUE(ParseJson(std::string(60, '[') + std::string(60, ']')).ok());
  EXPECT_FALSE(ParseJson(std::string(100000, '[')).ok());
}

TEST(Json, QuotesStrings) { EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")"); }

}  // namespace
}  // namespace uop::uopctl
