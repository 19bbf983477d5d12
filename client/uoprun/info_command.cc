// uoprun info: what an artifact holds.
#include "absl/strings/str_format.h"
#include "client/lib/flags.h"
#include "client/uoprun/artifact_file.h"
#include "client/uoprun/cli.h"
#include "client/uoprun/commands.h"
#include "client/uoprun/tensor_io.h"

namespace uop::uoprun {
namespace {

std::string Describe(const ArtifactTensor& t) {
  absl::StatusOr<client::Datatype> d = ToDatatype(t.dtype);
  return absl::StrCat(t.name, " ", d.ok() ? client::DatatypeName(*d) : t.dtype.ToString(),
                      client::ShapeString(t.shape));
}

}  // namespace

int InfoCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  client::FlagSet f("uoprun info MODEL.uop", "Describes an artifact (validating it fully).");
  absl::StatusOr<std::vector<std::string>> pos = f.Parse(args);
  if (!pos.ok()) return Fail(err, pos.status(), kExitUsage);
  if (f.help_requested()) {
    out << f.Help();
    return kExitOk;
  }
  if (pos->size() != 1) {
    return Fail(err, absl::InvalidArgumentError("info takes one artifact file (see --help)"),
                kExitUsage);
  }
  absl::StatusOr<Artifact> a = ReadArtifactFile((*pos)[0]);
  if (!a.ok()) return Fail(err, a.status(), ArtifactExitCode(a.status()));
  int64_t weights = 0, binaries = 0;
  for (const ArtifactBuffer& b : a->buffers) weights += static_cast<int64_t>(b.data.size());
  for (const ArtifactKernel& k : a->kernels) binaries += static_cast<int64_t>(k.binary.size());
  int64_t arena = 0;
  for (int64_t bytes : a->arenas) arena += bytes;
  out << absl::StrFormat("artifact  %s (format %d)\n", (*pos)[0], Artifact::kFormatVersion);
  out << absl::StrFormat("device    %s\ncompiler  %s\n", a->device, a->compiler_key);
  for (const ArtifactTensor& t : a->inputs) out << "input     " << Describe(t) << "\n";
  for (const ArtifactTensor& t : a->outputs) out << "output    " << Describe(t) << "\n";
  out << absl::StrFormat("kernels   %d (%.1f KB of code), %d launches per run\n", a->kernels.size(),
                         binaries / 1e3, a->launches.size());
  out << absl::StrFormat("memory    %.2f MB weights and state, %.2f MB scratch\n", weights / 1e6,
                         arena / 1e6);
  return kExitOk;
}

}  // namespace uop::uoprun
