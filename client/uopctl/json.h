// A small JSON reader for uopctl's tensor inputs (nested arrays of numbers,
// KServe-style {"shape", "datatype", "data"} objects) and a string escaper
// for its JSON output. Numbers keep their text, so int64 and uint64 values
// survive exactly (a double would round them past 2^53).
//
//   ASSIGN_OR_RETURN(JsonValue v, ParseJson("[[1, 2], [3, 4]]"));
//   v.items[1].items[0].text == "3"
#ifndef UOP_CLIENT_UOPCTL_JSON_H_
#define UOP_CLIENT_UOPCTL_JSON_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop::uopctl {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;              // a number's literal text, or a string's value
  std::vector<JsonValue> items;  // kArray
  std::vector<std::pair<std::string, JsonValue>> members;  // kObject, in order

  // The member `key` of an object, or nullptr.
  const JsonValue* Find(absl::string_view key) const;
};

// InvalidArgument naming the offset and what was expected. Nesting deeper
// than 64 levels is refused (no stack exhaustion on hostile input).
absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// `s` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view s);

}  // namespace uop::uopctl

#endif  // UOP_CLIENT_UOPCTL_JSON_H_
