#include "drivers/cpu/cpu_program.h"

#include <chrono>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/profiler/profiler.h"

namespace uop {

absl::StatusOr<std::unique_ptr<CpuProgram>> CpuProgram::Load(std::string device,
                                                             const ProgramDesc& desc,
                                                             absl::string_view object,
                                                             ThreadPool* pool) {
  absl::StatusOr<std::unique_ptr<ElfObject>> obj = ElfObject::Load(object);
  if (!obj.ok()) {
    return absl::Status(obj.status().code(), absl::StrCat(device, ": loading kernel '", desc.name,
                                                          "': ", obj.status().message()));
  }
  absl::StatusOr<void*> sym = (*obj)->Symbol(desc.name);
  if (!sym.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(device, ": loading kernel '", desc.name, "': ", sym.status().message()));
  }
  return std::unique_ptr<CpuProgram>(new CpuProgram(std::move(device), desc, *std::move(obj),
                                                    reinterpret_cast<KernelFn>(*sym), pool));
}

absl::Status CpuProgram::Run(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                             LaunchDims global, LaunchDims local, RunTiming* timing) {
  RETURN_IF_ERROR(ValidateLaunch(desc_, device_, bufs, vars, global, local));
  if (global.y != 1 || global.z != 1 || !(local == LaunchDims{})) {
    return absl::InvalidArgumentError(absl::StrCat(
        device_, ": program '", desc_.name,
        "': the CPU launches global (n, 1, 1) and local (1, 1, 1), got global (", global.x, ", ",
        global.y, ", ", global.z, ") local (", local.x, ", ", local.y, ", ", local.z, ")"));
  }
  profiler::KernelSpan prof(device_, desc_.name, {global.x, global.y, global.z},
                            {local.x, local.y, local.z});
  absl::InlinedVector<void*, 16> ptrs(bufs.size());
  for (size_t i = 0; i < bufs.size(); ++i) ptrs[i] = bufs[i]->host_ptr();
  const auto start = timing != nullptr ? std::chrono::steady_clock::now()
                                       : std::chrono::steady_clock::time_point();
  void* const* p = ptrs.data();
  const int64_t* v = vars.data();
  if (global.x == 1) {
    fn_(p, v, 0);
  } else {
    const KernelFn fn = fn_;
    pool_->ParallelFor(global.x, [fn, p, v](int64_t core_id) { fn(p, v, core_id); });
  }
  if (timing != nullptr) {
    timing->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return absl::OkStatus();
}

}  // namespace uop
