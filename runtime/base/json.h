// The project's one JSON reader and writer: safetensors headers, the KServe
// v2 HTTP/REST API and uopctl's tensor inputs all use it.
//
//   ASSIGN_OR_RETURN(JsonValue v, ParseJson(R"({"shape": [2], "data": [1, 9007199254740993]})"));
//   const JsonValue* data = v.Find("data");            // null when absent
//   std::optional<int64_t> x = data->items[1].AsInt64();  // exact, past 2^53
//
//   std::string out;
//   JsonWriter w(&out);
//   w.BeginObject(); w.Key("ok"); w.Bool(true); w.EndObject();  // {"ok":true}
//
// Strict RFC 8259, because it reads untrusted request bodies and files: no
// comments, no trailing commas, no leading zeros, no raw control characters
// in strings, only space, tab, CR and LF as white space. UTF-8 is passed
// through as bytes; \u escapes (surrogate pairs included) are decoded to
// UTF-8. A number keeps its literal text, so integers past 2^53 (INT64 and
// UINT64 tensors, byte offsets) read back exactly. Nesting deeper than 64
// levels and malformed text are InvalidArgument "malformed JSON at byte N:
// what", never a crash.
#ifndef UOP_RUNTIME_BASE_JSON_H_
#define UOP_RUNTIME_BASE_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop {

struct JsonValue {
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;  // kBool
  // kNumber: the nearest double; +-infinity past double's range, +-0 below it.
  double number = 0;
  // kString: the decoded value. kNumber: the literal as written ("-2.5e3"),
  // which AsInt64 / AsUint64 read exactly.
  std::string text;
  std::vector<JsonValue> items;                            // kArray
  std::vector<std::pair<std::string, JsonValue>> members;  // kObject, in text order

  bool is_null() const { return kind == Kind::kNull; }
  bool is_bool() const { return kind == Kind::kBool; }
  bool is_number() const { return kind == Kind::kNumber; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_object() const { return kind == Kind::kObject; }

  // The member `key` of an object, or null (also for a non-object). A
  // repeated key gives its LAST value, as JavaScript's JSON.parse and
  // Python's json.loads do; a reader that must refuse repeats walks members.
  const JsonValue* Find(absl::string_view key) const;
  // An integer literal (no fraction, no exponent) in the type's range, or
  // nullopt: "1.0", "1e3", "-1" (for AsUint64) and strings give nullopt.
  std::optional<int64_t> AsInt64() const;
  std::optional<uint64_t> AsUint64() const;
};

absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// `s` as a JSON string literal, quotes included: '"', '\' and control
// characters escaped, everything else (UTF-8 included) passed through.
std::string JsonQuote(absl::string_view s);
// The same, appended to `out`: for writers that build one large buffer.
void AppendJsonQuoted(absl::string_view s, std::string* out);

// Appends compact JSON text to a string. The caller keeps the structure
// balanced (Key before each object member's value); commas are automatic.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}
  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  void Key(absl::string_view key);
  void String(absl::string_view s);
  void Int(int64_t v);
  void Uint(uint64_t v);
  // Shortest text that reads back to the same value; NaN and infinities
  // (not JSON) become null.
  void Double(double v);
  void Float(float v);
  void Bool(bool v);
  void Null();

 private:
  void Separate();
  std::string* out_;
  bool need_comma_ = false;
};

}  // namespace uop

#endif  // UOP_RUNTIME_BASE_JSON_H_
