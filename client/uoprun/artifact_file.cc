#include "client/uoprun/artifact_file.h"

#include "absl/strings/str_cat.h"
#include "client/lib/npy.h"
#include "client/uoprun/mapped_file.h"
#include "runtime/base/status_macros.h"

namespace uop::uoprun {

absl::StatusOr<Artifact> ReadArtifactFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> file, MappedFile::Open(path));
  const absl::string_view bytes = file->bytes();
  absl::StatusOr<Artifact> a = Artifact::Parse(bytes, std::move(file));
  if (!a.ok())
    return absl::Status(a.status().code(), absl::StrCat(path, ": ", a.status().message()));
  return a;
}

absl::Status WriteArtifactFile(const std::string& path, const Artifact& artifact) {
  ASSIGN_OR_RETURN(std::string bytes, artifact.Serialize());
  return client::WriteWholeFile(path, bytes);
}

}  // namespace uop::uoprun
