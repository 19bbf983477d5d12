#include "server/config_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace uop::server {
namespace {

absl::string_view Unquote(absl::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    return value.substr(1, value.size() - 2);
  }
  return value;
}

}  // namespace

absl::StatusOr<std::vector<ConfigEntry>> ParseConfigText(absl::string_view text,
                                                         absl::string_view origin) {
  std::vector<ConfigEntry> entries;
  absl::flat_hash_map<std::string, int> first_line;
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_no;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ":", line_no, ": expected 'key = value', got '", line, "'"));
    }
    absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, eq));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(eq + 1));
    if (key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ":", line_no, ": missing key before '=' in '", line, "'"));
    }
    auto [it, inserted] = first_line.emplace(std::string(key), line_no);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(origin, ":", line_no, ": duplicate key '", key,
                                                     "' (first set on line ", it->second, ")"));
    }
    entries.push_back({std::string(key), std::string(Unquote(value)), line_no});
  }
  return entries;
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  auto error = [&path](int err) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read config file '", path, "': ", std::strerror(err)));
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return error(errno);
  std::string text;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return error(err);
    }
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace uop::server
