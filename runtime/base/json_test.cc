#include "runtime/base/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace uop {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ParseJson, ObjectsArraysAndScalars) {
  absl::StatusOr<JsonValue> v =
      ParseJson(R"( {"a": [1, -2.5, true, null, "x\u00e9\n"], "b": {"c": false}} )");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_TRUE(v->is_object());
  const JsonValue* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->is_array());
  ASSERT_EQ(a->items.size(), 5u);
  EXPECT_TRUE(a->items[0].is_number());
  EXPECT_EQ(a->items[0].AsInt64(), 1);
  EXPECT_DOUBLE_EQ(a->items[1].number, -2.5);
  EXPECT_FALSE(a->items[1].AsInt64().has_value());
  EXPECT_TRUE(a->items[2].is_bool());
  EXPECT_TRUE(a->items[2].boolean);
  EXPECT_TRUE(a->items[3].is_null());
  EXPECT_TRUE(a->items[4].is_string());
  EXPECT_EQ(a->items[4].text, "x\xc3\xa9\n");
  EXPECT_FALSE(v->Find("b")->Find("c")->boolean);
  EXPECT_EQ(v->Find("missing"), nullptr);
  EXPECT_EQ(a->Find("a"), nullptr);  // not an object
  EXPECT_TRUE(ParseJson("[]")->items.empty());
  EXPECT_TRUE(ParseJson(" { } ")->members.empty());
}

TEST(ParseJson, TheWholeGrammar) {
  absl::StatusOr<JsonValue> v = ParseJson(
      R"( {"a": [1, -2.5e3, true, false, null], "s": "q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00",
           "big": 9007199254740993, "o": {}} )");
  ASSERT_TRUE(v.ok()) << v.status();
  const JsonValue* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 5u);
  EXPECT_EQ(a->items[0].AsInt64(), 1);
  EXPECT_EQ(a->items[1].number, -2500);
  EXPECT_EQ(a->items[1].text, "-2.5e3");
  EXPECT_FALSE(a->items[1].AsInt64().has_value());
  EXPECT_TRUE(a->items[2].boolean);
  EXPECT_FALSE(a->items[3].boolean);
  EXPECT_EQ(a->items[4].kind, JsonValue::Kind::kNull);
  EXPECT_EQ(v->Find("s")->text, "q\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v->Find("big")->AsInt64(), int64_t{9007199254740993});
  EXPECT_TRUE(v->Find("o")->is_object());
  // The members keep their text order.
  ASSERT_EQ(v->members.size(), 4u);
  EXPECT_EQ(v->members[0].first, "a");
  EXPECT_EQ(v->members[3].first, "o");
}

TEST(ParseJson, NumbersKeepTheirLiteralText) {
  absl::StatusOr<JsonValue> v = ParseJson(
      R"( {"shape": [2, 2], "datatype": "INT64", "data": [[1, -2], [9007199254740993, 4.5e1]]} )");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->Find("datatype")->text, "INT64");
  const JsonValue* data = v->Find("data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->items[1].items[0].text, "9007199254740993");  // exact past 2^53
  EXPECT_EQ(data->items[1].items[1].text, "4.5e1");
  EXPECT_DOUBLE_EQ(data->items[1].items[1].number, 45);
  EXPECT_EQ(data->items[0].items[1].text, "-2");
}

TEST(ParseJson, IntegersKeepTheirExactValue) {
  absl::StatusOr<JsonValue> v = ParseJson(
      "[9007199254740993, 18446744073709551615, -9223372036854775808, 9223372036854775808, "
      "18446744073709551616, -0, 1.0, 1e3, \"7\"]");
  ASSERT_TRUE(v.ok()) << v.status();
  const std::vector<JsonValue>& n = v->items;
  EXPECT_EQ(n[0].AsInt64(), 9007199254740993);  // not representable as a double
  EXPECT_EQ(n[0].AsUint64(), 9007199254740993u);
  EXPECT_FALSE(n[1].AsInt64().has_value());
  EXPECT_EQ(n[1].AsUint64(), UINT64_MAX);
  EXPECT_EQ(n[2].AsInt64(), INT64_MIN);
  EXPECT_FALSE(n[2].AsUint64().has_value());  // negative
  EXPECT_FALSE(n[3].AsInt64().has_value());   // INT64_MAX + 1
  EXPECT_EQ(n[3].AsUint64(), uint64_t{1} << 63);
  EXPECT_FALSE(n[4].AsUint64().has_value());  // UINT64_MAX + 1
  EXPECT_DOUBLE_EQ(n[4].number, 18446744073709551616.0);
  EXPECT_EQ(n[5].AsInt64(), 0);
  EXPECT_FALSE(n[5].AsUint64().has_value());
  EXPECT_FALSE(n[6].AsInt64().has_value());  // a fraction, even if whole
  EXPECT_FALSE(n[7].AsInt64().has_value());  // an exponent
  EXPECT_FALSE(n[8].AsInt64().has_value());  // a string, not a number
  EXPECT_FALSE(n[8].AsUint64().has_value());
}

TEST(ParseJson, NumbersPastDoubleRangeAreInfinityOrZero) {
  absl::StatusOr<JsonValue> v = ParseJson("[1e999999, -1e999, 1e-999999, -1e-400, 5e-324]");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->items[0].number, std::numeric_limits<double>::infinity());
  EXPECT_EQ(v->items[0].text, "1e999999");
  EXPECT_EQ(v->items[1].number, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(v->items[2].number, 0);
  EXPECT_EQ(v->items[3].number, 0);
  EXPECT_TRUE(std::signbit(v->items[3].number));
  EXPECT_EQ(v->items[4].number, std::numeric_limits<double>::denorm_min());
}

TEST(ParseJson, RepeatedKeysFindTheLastLikeJsonParse) {
  absl::StatusOr<JsonValue> v = ParseJson(R"({"a": 1, "b": 2, "a": 3})");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->Find("a")->AsInt64(), 3);
  ASSERT_EQ(v->members.size(), 3u);  // all kept, for readers that refuse repeats
  EXPECT_EQ(v->members[0].second.AsInt64(), 1);
}

TEST(ParseJson, SurrogatePairsDecodeToUtf8AndUtf8PassesThrough) {
  absl::StatusOr<JsonValue> v = ParseJson(R"("\ud83d\ude00")");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->text, "\xf0\x9f\x98\x80");
  v = ParseJson("\"\xc3\xa9\xf0\x9f\x98\x80\"");  // raw UTF-8 bytes
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->text, "\xc3\xa9\xf0\x9f\x98\x80");
  v = ParseJson(R"("\u0000\u007F\u07ff\uFFFF")");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->text, std::string("\0\x7f\xdf\xbf\xef\xbf\xbf", 7));
}

// Each text is refused as InvalidArgument with the parser's byte-offset prefix.
void ExpectMalformed(const std::vector<std::string>& texts) {
  for (const std::string& bad : texts) {
    absl::StatusOr<JsonValue> v = ParseJson(bad);
    EXPECT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(v.status().message()), StartsWith("malformed JSON at byte ")) << bad;
  }
}

TEST(ParseJson, MalformedTextIsAnErrorWithTheOffset) {
  // Structure: missing, extra or trailing separators and values.
  ExpectMalformed({"", "{", "[1,]", "[1, 2", "[1 2]", "[1,,2]", "[1] 2", "{} x"});
  // Objects: keys must be strings followed by ':' and a value.
  ExpectMalformed({"{\"a\" 1}", "{a: 1}", "{\"a\":1,}", "{1:2}", "{\"a\"}"});
  // Literals and numbers: RFC 8259's grammar only.
  ExpectMalformed({"tru", "nul", "01", "01x", "1.", "-", "1e", "+1", ".5", "NaN", "Infinity"});
  // White space is space, tab, CR and LF only.
  ExpectMalformed({"\v1", "\f1"});
  // Strings: terminated, known escapes, paired surrogates, no raw control characters.
  ExpectMalformed({"\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"",
                   "\"\\ud800\\u0041\"", "\"a\nb\"", "\"a\tb\"", std::string("\"a\0b\"", 5)});
}

TEST(ParseJson, ErrorsNameTheByteAndWhatWasWrong) {
  EXPECT_EQ(ParseJson("{\"a\" 1}").status().message(), "malformed JSON at byte 5: expected ':'");
  EXPECT_EQ(ParseJson("[1, 2").status().message(),
            "malformed JSON at byte 5: unexpected end of input in an array");
  EXPECT_EQ(ParseJson("[1 2]").status().message(), "malformed JSON at byte 3: expected ',' or ']'");
  EXPECT_EQ(ParseJson("[1,]").status().message(),
            "malformed JSON at byte 3: unexpected character ']'");
  EXPECT_EQ(ParseJson("{} x").status().message(),
            "malformed JSON at byte 3: unexpected text after the JSON value");
  EXPECT_EQ(ParseJson("\"a\x01\"").status().message(),
            "malformed JSON at byte 2: control character in a string");
  EXPECT_EQ(ParseJson(R"("\ud800")").status().message(),
            "malformed JSON at byte 7: unpaired UTF-16 surrogate");
}

TEST(ParseJson, DeepNestingIsRefusedNotACrash) {
  // The document is depth 0, so 65 nested arrays are the most.
  EXPECT_TRUE(ParseJson(std::string(60, '[') + std::string(60, ']')).ok());
  EXPECT_TRUE(ParseJson(std::string(65, '[') + std::string(65, ']')).ok());
  EXPECT_FALSE(ParseJson(std::string(66, '[') + std::string(66, ']')).ok());
  EXPECT_FALSE(ParseJson(std::string(100, '[') + std::string(100, ']')).ok());
  absl::StatusOr<JsonValue> v = ParseJson(std::string(100000, '['));
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("nested deeper than 64"));
  v = ParseJson(std::string(100000, '{'));
  EXPECT_FALSE(v.ok());
}

TEST(JsonQuote, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(JsonQuote("a\"b\\\n\x01"), "\"a\\\"b\\\\\\n\\u0001\"");
  EXPECT_EQ(JsonQuote(""), "\"\"");
  EXPECT_EQ(JsonQuote("\r\t\x1f/"), R"("\r\t\u001f/")");
  EXPECT_EQ(JsonQuote("\xc3\xa9"), "\"\xc3\xa9\"");  // UTF-8 as is
}

TEST(JsonQuote, AppendJsonQuotedAppendsToWhatIsThere) {
  std::string out = "[";
  AppendJsonQuoted("a\"", &out);
  out += ",";
  AppendJsonQuoted("\x7f", &out);
  EXPECT_EQ(out, "[\"a\\\"\",\"\x7f\"");
}

TEST(JsonQuote, EveryByteRoundTripsThroughParseJson) {
  std::string all;
  for (int c = 1; c < 256; ++c) all.push_back(static_cast<char>(c));
  all.push_back('\0');
  absl::StatusOr<JsonValue> back = ParseJson(JsonQuote(all));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->text, all);
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
  EXPECT_EQ(back->Find("s")->text, "q\"\\\n\x01");
  EXPECT_FLOAT_EQ(static_cast<float>(back->Find("n")->items[2].number), 0.1f);
  EXPECT_EQ(back->Find("n")->items[1].AsUint64(), UINT64_MAX);
}

TEST(JsonWriter, SeparatesNestedAndEmptyContainers) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  w.BeginObject();
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Int(1);
  w.Int(2);
  w.EndArray();
  w.Key("b");
  w.Double(-std::numeric_limits<double>::infinity());
  w.Key("c");
  w.Int(INT64_MIN);
  w.EndObject();
  w.Double(0.1);
  w.EndArray();
  EXPECT_EQ(out, R"([{},[],{"a":[1,2],"b":null,"c":-9223372036854775808},0.1])");
  absl::StatusOr<JsonValue> back = ParseJson(out);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->items[2].Find("c")->AsInt64(), INT64_MIN);
  EXPECT_EQ(back->items[3].number, 0.1);
}

}  // namespace
}  // namespace uop
