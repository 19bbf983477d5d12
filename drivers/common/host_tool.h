// Running a host tool (a C compiler) as a subprocess, for the compilers that
// build kernels with the system toolchain: the CPU debug C path and the NV
// and QCOM emulators' host twins.
//
//   ASSIGN_OR_RETURN(int rc, RunHostTool({"clang", "--version"}, "/tmp/log"));
//   std::string text = ReadWholeFile("/tmp/log");
#ifndef UOP_DRIVERS_COMMON_HOST_TOOL_H_
#define UOP_DRIVERS_COMMON_HOST_TOOL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace uop {

// Runs argv (argv[0] looked up in PATH) with stdout and stderr sent to the
// file `output`; returns its exit status (128 + signal when killed).
// FailedPrecondition when the tool cannot be started.
absl::StatusOr<int> RunHostTool(const std::vector<std::string>& argv, const std::string& output);

// The file's bytes ("" when it cannot be read).
std::string ReadWholeFile(const std::string& path);

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_HOST_TOOL_H_
