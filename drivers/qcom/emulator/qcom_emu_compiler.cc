#include "drivers/qcom/emulator/qcom_emu_compiler.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "drivers/common/host_tool.h"
#include "drivers/common/host_twin.h"
#include "drivers/qcom/adreno_binary.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

// Bump when the prelude, the flags or the binary layout change (CacheKey).
constexpr int kTwinVersion = 1;

// Work-item builtins from the ids the emulator passes after the variables,
// and the few math builtins the renderer uses (as host instructions: the
// twin may reference no library).
constexpr char kPrelude[] = R"(// uop: emulated-Adreno host twin prelude
global long uop_emu_ids[9];
#define get_group_id(d) ((size_t)uop_emu_ids[(d)])
#define get_local_id(d) ((size_t)uop_emu_ids[3 + (d)])
#define get_local_size(d) ((size_t)uop_emu_ids[6 + (d)])
#define get_global_id(d) (get_group_id(d) * get_local_size(d) + get_local_id(d))
#define as_float(x) __builtin_astype((x), float)
#define as_uint(x) __builtin_astype((x), uint)
#define as_int(x) __builtin_astype((x), int)
#define as_double(x) __builtin_astype((x), double)
#define as_ulong(x) __builtin_astype((x), ulong)
#define as_long(x) __builtin_astype((x), long)
__attribute__((overloadable)) float sqrt(float x) { return __builtin_sqrtf(x); }
__attribute__((overloadable)) float trunc(float x) { return __builtin_truncf(x); }
)";

// The host flags: OpenCL C 2.0 (program-scope globals) for x86-64 with SSE4.1
// (trunc and sqrt are instructions), position independent, no unwind tables.
std::vector<std::string> Flags() {
  return {"-x",
          "cl",
          "-cl-std=CL2.0",
          "-target",
          "x86_64-unknown-linux-gnu",
          "-march=x86-64-v2",
          "-O2",
          "-fPIC",
          "-fno-asynchronous-unwind-tables",
          "-Werror=implicit-function-declaration",
          "-c"};
}

}  // namespace

absl::StatusOr<OpenClSignature> ParseOpenClSignature(absl::string_view name,
                                                     absl::string_view source) {
  OpenClSignature sig;
  const size_t abi = source.find("// uop-abi: ");
  if (abi == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("OpenCL source of kernel '", name, "' has no '// uop-abi:' line"));
  }
  absl::string_view line = source.substr(abi + 12);
  line = line.substr(0, line.find('\n'));
  for (absl::string_view field : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(field, absl::MaxSplits('=', 1));
    if (kv.first == "globals" && !absl::SimpleAtoi(kv.second, &sig.globals)) sig.globals = -1;
    if (kv.first == "vars" && !absl::SimpleAtoi(kv.second, &sig.vars)) sig.vars = -1;
  }
  if (sig.globals < 0 || sig.vars < 0 || sig.globals > 4096 || sig.vars > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel '", name, "': malformed uop-abi line '", line, "'"));
  }
  const std::string head = absl::StrCat("void ", name, "(");
  const size_t at = source.find(head);
  const size_t close = at == absl::string_view::npos ? at : source.find(')', at);
  if (close == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("OpenCL source has no kernel '", name, "' with a parameter list"));
  }
  absl::string_view params = source.substr(at + head.size(), close - at - head.size());
  for (absl::string_view p : absl::StrSplit(params, ',', absl::SkipWhitespace())) {
    std::string decl = absl::StrReplaceAll(absl::StripAsciiWhitespace(p), {{"restrict ", ""}});
    const size_t space = decl.find_last_of(" *");
    if (space == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("kernel '", name, "': cannot read parameter '", p, "'"));
    }
    sig.param_types.push_back(std::string(absl::StripAsciiWhitespace(decl.substr(0, space + 1))));
  }
  if (static_cast<int>(sig.param_types.size()) != sig.globals + sig.vars) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel '", name, "' declares ", sig.param_types.size(),
                     " parameters, its uop-abi line ", sig.globals + sig.vars));
  }
  return sig;
}

absl::StatusOr<std::unique_ptr<QcomEmuCompiler>> QcomEmuCompiler::Create() {
  std::unique_ptr<QcomEmuCompiler> c(new QcomEmuCompiler());
  const char* env = std::getenv("UOP_QCOM_EMU_CLANG");
  c->clang_ = env != nullptr && *env != '\0' ? env : "clang";
  std::string tmp = std::filesystem::temp_directory_path() / "uop_qcom_clang_XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) return absl::InternalError(absl::StrCat("mkstemp: ", std::strerror(errno)));
  close(fd);
  absl::StatusOr<int> rc = RunHostTool({c->clang_, "--version"}, tmp);
  std::string version = ReadWholeFile(tmp);
  std::filesystem::remove(tmp);
  if (!rc.ok() || *rc != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("QCOM emulator: no clang to compile OpenCL C for the host ('", c->clang_,
                     " --version' failed; set UOP_QCOM_EMU_CLANG)", rc.ok() ? "" : ": ",
                     rc.ok() ? "" : rc.status().message()));
  }
  version = std::string(absl::StripAsciiWhitespace(version.substr(0, version.find('\n'))));
  c->cache_key_ =
      absl::StrCat("qcom-emu;", version, ";", absl::StrJoin(Flags(), " "), ";twin=", kTwinVersion);
  return c;
}

absl::StatusOr<std::string> QcomEmuCompiler::TwinSource(absl::string_view name,
                                                        absl::string_view source) const {
  if (absl::StrContains(source, "barrier(")) {
    return absl::UnimplementedError(absl::StrCat(
        "QCOM emulator: kernel '", name,
        "' uses workgroup barriers, which the emulator (one work-item after another) cannot run"));
  }
  ASSIGN_OR_RETURN(OpenClSignature sig, ParseOpenClSignature(name, source));
  std::vector<std::string> args;
  for (int i = 0; i < sig.globals; ++i)
    args.push_back(absl::StrCat("(", sig.param_types[i], ")bufs[", i, "]"));
  for (int i = 0; i < sig.vars; ++i)
    args.push_back(absl::StrCat("(", sig.param_types[sig.globals + i], ")vars[", i, "]"));
  return absl::StrCat(kPrelude, source, "\nvoid uop_emu_entry(__global void* const* bufs, ",
                      "const long* vars, long unused) {\n  for (int i = 0; i < 9; ++i) ",
                      "uop_emu_ids[i] = vars[", sig.vars, " + i];\n  ", name, "(",
                      absl::StrJoin(args, ", "), ");\n}\n");
}

absl::StatusOr<std::string> QcomEmuCompiler::Compile(absl::string_view name,
                                                     absl::string_view source) {
  ASSIGN_OR_RETURN(std::string twin_source, TwinSource(name, source));
  ASSIGN_OR_RETURN(OpenClSignature sig, ParseOpenClSignature(name, source));
  std::string dir = std::filesystem::temp_directory_path() / "uop_qcom_emu_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp '", dir, "': ", std::strerror(errno)));
  }
  const std::string src = dir + "/kernel.cl", obj = dir + "/kernel.o", log = dir + "/clang.log";
  {
    std::ofstream f(src, std::ios::binary);
    f << twin_source;
  }
  std::vector<std::string> argv = {clang_};
  for (const std::string& f : Flags()) argv.push_back(f);
  argv.insert(argv.end(), {src, "-o", obj});
  absl::StatusOr<int> rc = RunHostTool(argv, log);
  const std::string diagnostics = ReadWholeFile(log);
  const std::string object = rc.ok() && *rc == 0 ? ReadWholeFile(obj) : std::string();
  std::filesystem::remove_all(dir);
  RETURN_IF_ERROR(rc.status());
  if (*rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("OpenCL C of kernel '", name, "' does not compile (clang):\n", diagnostics));
  }
  const std::string blob = MakeTwinBlob(object, sig.globals, sig.vars);
  std::vector<uint32_t> offsets;
  for (int i = 0; i < sig.globals + sig.vars; ++i) offsets.push_back(8 * i);
  return BuildAdrenoBinary(blob, name, offsets, /*full_regs=*/8, /*half_regs=*/0);
}

}  // namespace uop
