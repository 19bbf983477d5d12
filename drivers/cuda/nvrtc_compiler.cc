#include "drivers/cuda/nvrtc_compiler.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "drivers/cuda/cuda_binary.h"
#include "runtime/base/status_macros.h"

namespace uop::cuda {
namespace {

// Options every kernel is compiled with (IEEE float semantics: no fast math).
const char* const kBaseFlags[] = {"--std=c++17", "-default-device"};

bool ValidArch(const std::string& arch) {
  if (!absl::StartsWith(arch, "sm_") || arch.size() < 5) return false;
  for (size_t i = 3; i < arch.size(); ++i) {
    const char c = arch[i];
    if (!(c >= '0' && c <= '9') && !(i + 1 == arch.size() && c == 'a')) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NvrtcCompiler>> NvrtcCompiler::Create(const Options& options) {
  if (!ValidArch(options.arch)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NvrtcCompiler: arch must look like sm_90 or sm_90a, got '", options.arch, "'"));
  }
  ASSIGN_OR_RETURN(const NvrtcApi* api, NvrtcApi::Get());
  return std::unique_ptr<NvrtcCompiler>(new NvrtcCompiler(api, options));
}

NvrtcCompiler::NvrtcCompiler(const NvrtcApi* api, Options options)
    : api_(api), options_(std::move(options)) {
  cache_key_ = absl::StrCat("nvrtc-", api_->version_major, ".", api_->version_minor, ";",
                            options_.arch, ";", absl::StrJoin(kBaseFlags, " "), ";",
                            absl::StrJoin(options_.flags, " "), ";abi=", kBinaryFormatVersion);
}

absl::StatusOr<NvrtcProgram> NvrtcCompiler::Build(absl::string_view name, absl::string_view source,
                                                  const std::string& arch_flag) {
  const std::string src(source);
  const std::string file = absl::StrCat(name, ".cu");
  NvrtcProgram prog = nullptr;
  NvrtcResult r = api_->nvrtcCreateProgram(&prog, src.c_str(), file.c_str(), 0, nullptr, nullptr);
  if (r != 0) {
    return absl::InternalError(absl::StrCat("NVRTC: nvrtcCreateProgram for '", name,
                                            "' failed: ", api_->nvrtcGetErrorString(r)));
  }
  std::vector<const char*> opts = {arch_flag.c_str()};
  for (const char* f : kBaseFlags) opts.push_back(f);
  for (const std::string& f : options_.flags) opts.push_back(f.c_str());
  r = api_->nvrtcCompileProgram(prog, static_cast<int>(opts.size()), opts.data());
  if (r != 0) {
    size_t log_size = 0;
    std::string log;
    if (api_->nvrtcGetProgramLogSize(prog, &log_size) == 0 && log_size > 1) {
      log.resize(log_size);
      api_->nvrtcGetProgramLog(prog, log.data());
      log.resize(log_size - 1);
    }
    api_->nvrtcDestroyProgram(&prog);
    return absl::InvalidArgumentError(absl::StrCat("NVRTC rejected kernel '", name, "' (",
                                                   options_.arch,
                                                   "): ", api_->nvrtcGetErrorString(r), "\n", log));
  }
  return prog;
}

absl::StatusOr<std::string> NvrtcCompiler::Compile(absl::string_view name,
                                                   absl::string_view source) {
  ASSIGN_OR_RETURN(KernelAbi abi, ParseKernelAbi(source));
  ASSIGN_OR_RETURN(NvrtcProgram prog,
                   Build(name, source, absl::StrCat("--gpu-architecture=", options_.arch)));
  size_t size = 0;
  std::string cubin;
  NvrtcResult r = api_->nvrtcGetCUBINSize(prog, &size);
  if (r == 0) {
    cubin.resize(size);
    r = api_->nvrtcGetCUBIN(prog, cubin.data());
  }
  api_->nvrtcDestroyProgram(&prog);
  if (r != 0 || size == 0) {
    return absl::InternalError(
        absl::StrCat("NVRTC: no cubin for '", name, "': ", api_->nvrtcGetErrorString(r)));
  }
  return PackBinary(abi, cubin);
}

absl::StatusOr<std::string> NvrtcCompiler::CompileToPtx(absl::string_view name,
                                                        absl::string_view source) {
  std::string virt = options_.arch;
  virt.replace(0, 3, "compute_");
  ASSIGN_OR_RETURN(NvrtcProgram prog, Build(name, source, "--gpu-architecture=" + virt));
  size_t size = 0;
  std::string ptx;
  NvrtcResult r = api_->nvrtcGetPTXSize(prog, &size);
  if (r == 0) {
    ptx.resize(size);
    r = api_->nvrtcGetPTX(prog, ptx.data());
  }
  api_->nvrtcDestroyProgram(&prog);
  if (r != 0) {
    return absl::InternalError(
        absl::StrCat("NVRTC: no PTX for '", name, "': ", api_->nvrtcGetErrorString(r)));
  }
  while (!ptx.empty() && ptx.back() == '\0') ptx.pop_back();
  return ptx;
}

}  // namespace uop::cuda
