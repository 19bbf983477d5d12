// A small JSON reader and string escaper for the safetensors header: the
// full grammar (RFC 8259), values as a tree, errors with the byte offset.
//
//   ASSIGN_OR_RETURN(JsonValue v, ParseJson(R"({"a": [1, 2]})"));
//   v.Find("a")->array[1].number == 2
//
// Numbers keep their text so integers past 2^53 are read exactly
// (AsInt64). Nesting is limited to 64 levels.
#ifndef UOP_RUNTIME_NN_JSON_H_
#define UOP_RUNTIME_NN_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop::nn {

struct JsonValue {
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string text;  // kString: the value; kNumber: the literal
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;  // in file order

  // The member named `key` of an object (the first one), or nullptr.
  const JsonValue* Find(absl::string_view key) const;
  // A number literal that is an integer in int64's range, or nullopt.
  std::optional<int64_t> AsInt64() const;
};

absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// `s` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view s);

}  // namespace uop::nn

#endif  // UOP_RUNTIME_NN_JSON_H_
