// The uoprun commands behind cli.h, one file each.
#ifndef UOP_CLIENT_UOPRUN_COMMANDS_H_
#define UOP_CLIENT_UOPRUN_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace uop::uoprun {

int CompileCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int InfoCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Prints "uoprun: <message>" on one line and returns `exit_code`.
int Fail(std::ostream& err, const absl::Status& status, int exit_code);
// The exit code for an error loading an artifact (5 for unusable files).
int ArtifactExitCode(const absl::Status& status);

}  // namespace uop::uoprun

#endif  // UOP_CLIENT_UOPRUN_COMMANDS_H_
