// A small JSON reader and writer for the KServe v2 HTTP/REST API.
//
//   ASSIGN_OR_RETURN(JsonValue v, ParseJson(R"({"inputs": [{"name": "A"}]})"));
//   const JsonValue* inputs = v.Find("inputs");      // null when absent
//   std::string out; JsonWriter w(&out); w.BeginObject(); w.Key("ok"); w.Bool(true); w.EndObject();
//
// Strict RFC 8259: no comments, no trailing commas, UTF-8 passed through,
// \u escapes (with surrogate pairs) decoded. Numbers keep their exact integer
// value when they are integers (int64 or uint64), so INT64 tensors survive.
// Nesting deeper than 64 levels and malformed text are InvalidArgument with
// the byte offset, never a crash: this parses untrusted request bodies.
#ifndef UOP_SERVER_JSON_H_
#define UOP_SERVER_JSON_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace google::protobuf {
class Message;
}

namespace uop::server {

struct JsonValue {
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  // For integer literals: exact values (is_int64 / is_uint64 say which fit).
  int64_t int64 = 0;
  uint64_t uint64 = 0;
  bool is_int64 = false;
  bool is_uint64 = false;
  std::string string;
  std::vector<JsonValue> items;                            // kArray
  std::vector<std::pair<std::string, JsonValue>> members;  // kObject, in order

  bool is_null() const { return kind == Kind::kNull; }
  bool is_object() const { return kind == Kind::kObject; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_number() const { return kind == Kind::kNumber; }
  bool is_bool() const { return kind == Kind::kBool; }
  // The member `key` of an object (the last one if repeated), or null.
  const JsonValue* Find(absl::string_view key) const;
};

absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// Appends JSON text to a string. The caller keeps the structure balanced.
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

// Any protobuf message as JSON the way Triton's HTTP API writes it: proto
// field names, 64-bit integers as numbers (not strings, unlike protobuf's own
// JSON printer), enums by name, bytes base64, maps as objects; fields at
// their default value are left out.
void WriteProtoJson(const google::protobuf::Message& message, JsonWriter& w);

}  // namespace uop::server

#endif  // UOP_SERVER_JSON_H_
