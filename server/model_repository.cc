#include "server/model_repository.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace uop::server {

absl::StatusOr<std::vector<std::string>> ListModelFolders(const std::string& path) {
  namespace fs = std::filesystem;
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
    if (it->is_directory(ignored) && fs::is_regular_file(it->path() / "config.pbtxt", ignored)) {
      models.push_back(it->path().filename().string());
    }
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot list model repository '", path, "': ", ec.message()));
  }
  std::sort(models.begin(), models.end());
  return models;
}

}  // namespace uop::server
