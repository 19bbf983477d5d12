// Artifact files on disk: mapped and validated (Artifact::Parse checks magic,
// version, length and the checksum of the whole file; kernels and weights
// stay views into the mapping, which the Artifact keeps alive), or written
// atomically (a reader never sees half a file, and a file replaced while
// mapped keeps its old contents for the reader). Errors name the path:
// "model.uop: artifact: checksum mismatch".
//
//   ASSIGN_OR_RETURN(Artifact a, ReadArtifactFile("model.uop"));
#ifndef UOP_CLIENT_UOPRUN_ARTIFACT_FILE_H_
#define UOP_CLIENT_UOPRUN_ARTIFACT_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "runtime/engine/artifact.h"

namespace uop::uoprun {

absl::StatusOr<Artifact> ReadArtifactFile(const std::string& path);
absl::Status WriteArtifactFile(const std::string& path, const Artifact& artifact);

}  // namespace uop::uoprun

#endif  // UOP_CLIENT_UOPRUN_ARTIFACT_FILE_H_
