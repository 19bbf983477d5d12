#include "server/backend.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace uop::server {

void BackendRegistry::Register(std::string name, BackendLoader loader) {
  loaders_.emplace_back(std::move(name), std::move(loader));
}

absl::StatusOr<const BackendLoader*> BackendRegistry::Find(
    const inference::ModelConfig& config) const {
  const std::string& wanted = !config.backend().empty() ? config.backend() : config.platform();
  if (wanted.empty()) {
    if (loaders_.empty()) return absl::FailedPreconditionError("no model backend is registered");
    return &loaders_.front().second;
  }
  for (const auto& [name, loader] : loaders_) {
    if (name == wanted) return &loader;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown backend/platform '", wanted, "' (uopd has: ", absl::StrJoin(Names(), ", "), ")"));
}

std::vector<std::string> BackendRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& entry : loaders_) names.push_back(entry.first);
  return names;
}

}  // namespace uop::server
