#include "drivers/cuda/nvrtc_api.h"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"

namespace uop::cuda {
namespace {

template <typename Fn>
absl::Status Resolve(void* handle, const std::string& library, Fn& fn, const char* name) {
  void* p = dlsym(handle, name);
  if (p == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("NVRTC library '", library, "' lacks ", name));
  }
  fn = reinterpret_cast<Fn>(p);
  return absl::OkStatus();
}

absl::Status ResolveAll(void* h, NvrtcApi& a) {
  const std::string& l = a.library;
  RETURN_IF_ERROR(Resolve(h, l, a.nvrtcVersion, "nvrtcVersion"));
  RETURN_IF_ERROR(Resolve(h, l, a.nvrtcGetErrorString, "nvrtcGetErrorString"));
  RETURN_IF_ERROR(Resolve(h, l, a.nvrtcCreateProgram, "nvrtcCreateProgram"));
  RETURN_IF_ERROR(Resolve(h, l, a.nvrtcDestroyProgram, "nvrtcDestroyProgram"));
  RETURN_IF_ERROR(Resolve(h, l, a.nvrtcCompileProgram, "nvrtcCompileProgram"));
  RETURN_IF_ERROR(Resolve(h, l, a.nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize"));
  RETURN_IF_ERROR(Resolve(h, l, a.nvrtcGetProgramLog, "nvrtcGetProgramLog"));
  RETURN_IF_ERROR(Resolve(h, l, a.nvrtcGetCUBINSize, "nvrtcGetCUBINSize"));
  RETURN_IF_ERROR(Resolve(h, l, a.nvrtcGetCUBIN, "nvrtcGetCUBIN"));
  RETURN_IF_ERROR(Resolve(h, l, a.nvrtcGetPTXSize, "nvrtcGetPTXSize"));
  RETURN_IF_ERROR(Resolve(h, l, a.nvrtcGetPTX, "nvrtcGetPTX"));
  if (a.nvrtcVersion(&a.version_major, &a.version_minor) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("NVRTC '", l, "': nvrtcVersion failed"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<const NvrtcApi*> NvrtcApi::LoadFrom(const std::string& library) {
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return absl::FailedPreconditionError(absl::StrCat(
        "NVRTC library '", library, "' cannot be loaded: ", err != nullptr ? err : "unknown"));
  }
  auto api = std::make_unique<NvrtcApi>();
  api->library = library;
  absl::Status st = ResolveAll(handle, *api);
  if (!st.ok()) {
    dlclose(handle);
    return st;
  }
  return api.release();
}

absl::StatusOr<const NvrtcApi*> NvrtcApi::Get() {
  static const absl::StatusOr<const NvrtcApi*>* const api = [] {
    auto* result = new absl::StatusOr<const NvrtcApi*>();
    const char* env = std::getenv("UOP_LIBNVRTC");
    if (env != nullptr && *env != '\0') {
      *result = LoadFrom(env);
      return result;
    }
    const char* const kCandidates[] = {
        "libnvrtc.so.13",
        "libnvrtc.so.12",
        "libnvrtc.so",
        "/usr/local/cuda/lib64/libnvrtc.so",
        "/usr/local/cuda-13.0/lib64/libnvrtc.so.13",
        "/usr/local/cuda/targets/x86_64-linux/lib/libnvrtc.so",
    };
    std::vector<std::string> tried;
    for (const char* c : kCandidates) {
      absl::StatusOr<const NvrtcApi*> r = LoadFrom(c);
      if (r.ok()) {
        *result = r;
        return result;
      }
      tried.push_back(c);
    }
    *result = absl::FailedPreconditionError(
        absl::StrCat("NVRTC (the CUDA toolkit's run-time compiler) was not found; tried ",
                     absl::StrJoin(tried, ", "), "; set UOP_LIBNVRTC to its path"));
    return result;
  }();
  return *api;
}

}  // namespace uop::cuda
