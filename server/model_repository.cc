#include "server/model_repository.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace uop::server {
namespace fs = std::filesystem;
namespace {

bool IsVersionName(const std::string& name) {
  int64_t v = 0;
  return !name.empty() && name.size() <= 18 &&
         std::all_of(name.begin(), name.end(), absl::ascii_isdigit) && absl::SimpleAtoi(name, &v) &&
         v > 0;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListModelFolders(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) {
    return absl::NotFoundError(absl::StrCat("model repository '", path, "' does not exist"));
  }
  if (!fs::is_directory(st)) {
    return absl::FailedPreconditionError(
        absl::StrCat("model repository '", path, "' is not a folder"));
  }
  std::vector<std::string> models;
  fs::directory_iterator it(path, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code ignored;  // an entry we cannot stat is simply not a model folder
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !it->is_directory(ignored)) continue;
    bool model = fs::is_regular_file(it->path() / "config.pbtxt", ignored);
    if (!model) {
      absl::StatusOr<std::vector<int64_t>> versions = ListVersions(it->path().string());
      model = versions.ok() && !versions->empty();
    }
    if (model) models.push_back(name);
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot list model repository '", path, "': ", ec.message()));
  }
  std::sort(models.begin(), models.end());
  return models;
}

absl::StatusOr<std::vector<int64_t>> ListVersions(const std::string& model_dir) {
  std::error_code ec;
  std::vector<int64_t> versions;
  fs::directory_iterator it(model_dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code ignored;
    const std::string name = it->path().filename().string();
    int64_t v = 0;
    if (it->is_directory(ignored) && IsVersionName(name) && absl::SimpleAtoi(name, &v)) {
      versions.push_back(v);
    }
  }
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("cannot list model folder '", model_dir, "': ", ec.message()));
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

std::string Fingerprint(const std::string& model_dir) {
  std::vector<std::string> parts;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(model_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code e;
    if (!it->is_regular_file(e)) continue;
    auto size = it->file_size(e);
    auto time = it->last_write_time(e).time_since_epoch().count();
    parts.push_back(absl::StrCat(fs::relative(it->path(), model_dir, e).string(), ":", size, ":",
                                 static_cast<int64_t>(time)));
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const std::string& p : parts) absl::StrAppend(&out, p, ";");
  return out;
}

absl::Status WriteFiles(const std::string& dir, const std::map<std::string, std::string>& files) {
  for (const auto& [rel, bytes] : files) {
    if (rel.empty() || rel[0] == '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("file path '", rel, "' must be relative to the model folder"));
    }
    for (absl::string_view part : absl::StrSplit(rel, '/')) {
      if (part.empty() || part == "." || part == "..") {
        return absl::InvalidArgumentError(
            absl::StrCat("file path '", rel, "' may not contain empty, '.' or '..' parts"));
      }
    }
    fs::path path = fs::path(dir) / rel;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create '", path.parent_path().string(), "': ", ec.message()));
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      return absl::FailedPreconditionError(absl::StrCat("cannot write '", path.string(), "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace uop::server
