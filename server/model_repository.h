// Start-up check of the model repository folder.
//
// Loading models is the serving issue's job; for now uopd only verifies that
// --model-repository is a readable folder and reports which model folders
// (those holding a config.pbtxt, Triton layout) it found.
#ifndef UOP_SERVER_MODEL_REPOSITORY_H_
#define UOP_SERVER_MODEL_REPOSITORY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace uop::server {

// Names of the subfolders of `path` that contain a config.pbtxt, sorted.
// NotFound if `path` does not exist, FailedPrecondition if it is not a folder
// or cannot be listed.
absl::StatusOr<std::vector<std::string>> ListModelFolders(const std::string& path);

}  // namespace uop::server

#endif  // UOP_SERVER_MODEL_REPOSITORY_H_
