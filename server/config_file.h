// uopd's config file: one `key = value` per line.
//
//   # uopd.conf
//   grpc-port = 8001
//   model-repository = /srv/models
//
// Keys are the long flag names without the dashes. Blank lines and lines whose
// first non-blank character is `#` are skipped (no comments after a value, so a
// value may contain `#`). Spaces around key and value are trimmed and one pair of
// double quotes around a value is removed. A key may appear once. Which keys
// exist and what values they take is options.h's business, not this file's.
#ifndef UOP_SERVER_CONFIG_FILE_H_
#define UOP_SERVER_CONFIG_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop::server {

struct ConfigEntry {
  std::string key;
  std::string value;
  int line = 0;  // 1-based, for error messages
};

// Splits `text` into entries. `origin` (usually the path) prefixes errors:
// "uopd.conf:3: expected 'key = value', got 'grpc-port 8001'".
absl::StatusOr<std::vector<ConfigEntry>> ParseConfigText(absl::string_view text,
                                                         absl::string_view origin);

// Reads a whole file; the error names the path and the system's reason.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

}  // namespace uop::server

#endif  // UOP_SERVER_CONFIG_FILE_H_
