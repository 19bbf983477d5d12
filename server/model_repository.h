// The model repository folder in Triton's layout:
//
//   <repo>/<model>/config.pbtxt
//   <repo>/<model>/<version>/model.onnx      (version: a positive integer)
//
//   ASSIGN_OR_RETURN(std::vector<std::string> models, ListModelFolders("/srv/models"));
//   ASSIGN_OR_RETURN(std::vector<int64_t> versions, ListVersions("/srv/models/add"));
//
// Reading only; what to load is model_manager.h's business.
#ifndef UOP_SERVER_MODEL_REPOSITORY_H_
#define UOP_SERVER_MODEL_REPOSITORY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace uop::server {

// Names of the subfolders of `path` that look like models (hold a
// config.pbtxt or a numeric version folder), sorted; hidden folders
// (starting with '.') are skipped. NotFound if `path` does not exist,
// FailedPrecondition if it is not a folder or cannot be listed.
absl::StatusOr<std::vector<std::string>> ListModelFolders(const std::string& path);

// The numeric version folders of a model folder, ascending.
absl::StatusOr<std::vector<int64_t>> ListVersions(const std::string& model_dir);

// A string that changes when any file under `model_dir` changes (names,
// sizes and modification times), for the poll mode.
std::string Fingerprint(const std::string& model_dir);

// Writes `files` (relative path -> bytes) under `dir`, creating folders.
// Paths must be relative, without "." or ".." parts; InvalidArgument naming
// the path otherwise.
absl::Status WriteFiles(const std::string& dir, const std::map<std::string, std::string>& files);

}  // namespace uop::server

#endif  // UOP_SERVER_MODEL_REPOSITORY_H_
