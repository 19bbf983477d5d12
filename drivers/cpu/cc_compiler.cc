#include "drivers/cpu/cc_compiler.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "drivers/common/host_tool.h"
#include "runtime/base/status_macros.h"

namespace uop {
absl::StatusOr<std::unique_ptr<CcCompiler>> CcCompiler::Create(const Options& options) {
  std::unique_ptr<CcCompiler> c(new CcCompiler());
  std::string tmp = std::filesystem::temp_directory_path() / "uop_cc_version_XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) return absl::InternalError(absl::StrCat("mkstemp '", tmp, "': ", strerror(errno)));
  close(fd);
  absl::StatusOr<int> rc = RunHostTool({options.cc, "--version"}, tmp);
  std::string version = ReadWholeFile(tmp);
  std::filesystem::remove(tmp);
  RETURN_IF_ERROR(rc.status());
  if (*rc != 0) {
    return absl::FailedPreconditionError(absl::StrCat("'", options.cc, " --version' failed"));
  }
  version = std::string(absl::StripAsciiWhitespace(version.substr(0, version.find('\n'))));
  c->argv_prefix_ = {options.cc};
  c->argv_prefix_.insert(c->argv_prefix_.end(), options.flags.begin(), options.flags.end());
  // Position independent (loads anywhere), no stack protector or unwind
  // tables (no external symbols, nothing to unwind), C from a file.
  for (const char* f : {"-fPIC", "-fno-stack-protector", "-fno-asynchronous-unwind-tables",
                        "-fno-exceptions", "-ffreestanding", "-c"}) {
    c->argv_prefix_.push_back(f);
  }
  c->cache_key_ = absl::StrCat("cc;", version, ";", absl::StrJoin(c->argv_prefix_, " "));
  return c;
}

absl::StatusOr<std::string> CcCompiler::Compile(absl::string_view name, absl::string_view source) {
  std::string dir = std::filesystem::temp_directory_path() / "uop_cc_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp '", dir, "': ", strerror(errno)));
  }
  const std::string src = dir + "/kernel.c", obj = dir + "/kernel.o", log = dir + "/cc.log";
  {
    std::ofstream f(src, std::ios::binary);
    f << source;
  }
  std::vector<std::string> argv = argv_prefix_;
  argv.insert(argv.end(), {src, "-o", obj});
  absl::StatusOr<int> rc = RunHostTool(argv, log);
  const std::string diagnostics = ReadWholeFile(log);
  std::string object = rc.ok() && *rc == 0 ? ReadWholeFile(obj) : std::string();
  std::filesystem::remove_all(dir);
  RETURN_IF_ERROR(rc.status());
  if (*rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("C source of kernel '", name, "' does not compile:\n", diagnostics));
  }
  return object;
}

}  // namespace uop
