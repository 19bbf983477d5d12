#include "drivers/am/am_program.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "drivers/am/am_device.h"
#include "drivers/am/am_scratch.h"
#include "drivers/am/code_object.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<std::unique_ptr<AmProgram>> AmProgram::Load(AmDevice* device,
                                                           const ProgramDesc& desc,
                                                           absl::string_view binary) {
  const std::string& dev = device->name();
  ASSIGN_OR_RETURN(AmdCodeObject co, LoadAmdCodeObject(binary, desc.name));
  const uint64_t want = 8 * (desc.buffer_bytes.size() + static_cast<uint64_t>(desc.num_vars));
  if (co.kd.kernarg_size != want) {
    return absl::InvalidArgumentError(
        absl::StrCat(dev, ": kernel '", desc.name, "' takes ", co.kd.kernarg_size,
                     " bytes of kernel arguments; the program's ", desc.buffer_bytes.size(),
                     " buffers and ", desc.num_vars, " variables make ", want));
  }
  if (co.kd.private_segment_fixed_size != 0) {
    // Each queue sets up scratch for it at its first dispatch; refuse here
    // what no queue could hold.
    absl::StatusOr<ScratchLayout> scratch =
        PlanScratch(device->node(), co.kd.private_segment_fixed_size,
                    (co.kd.kernel_code_properties & kKernelCodeWave32) != 0,
                    device->options().max_scratch_bytes);
    if (!scratch.ok()) {
      return absl::Status(scratch.status().code(), absl::StrCat(dev, ": kernel '", desc.name,
                                                                "': ", scratch.status().message()));
    }
  }
  const uint64_t lds = device->node().property("lds_size_in_kb", 64) * 1024;
  if (co.kd.group_segment_fixed_size > lds) {
    return absl::ResourceExhaustedError(absl::StrCat(dev, ": kernel '", desc.name, "' needs ",
                                                     co.kd.group_segment_fixed_size,
                                                     " bytes of LDS, the GPU has ", lds));
  }
  std::unique_ptr<AmProgram> p(new AmProgram(device, desc));
  ASSIGN_OR_RETURN(p->image_,
                   device->am_allocator().AllocInternal(
                       co.image.size(), kAmVramFlags | kAmMemExecutable, /*cpu_map=*/true));
  std::memcpy(p->image_.cpu, co.image.data(), co.image.size());
  p->kernel_object_ = p->image_.va + co.kd_offset;
  p->kd_ = co.kd;
  return p;
}

AmProgram::~AmProgram() {
  if (image_.handle != 0) device_->am_allocator().FreeInternal(image_);
}

absl::Status AmProgram::CheckLaunch(LaunchDims global, LaunchDims local) const {
  // AQL: 16-bit workgroup sizes, 32-bit grid sizes (in work-items).
  const bool ok = local.total() <= 1024 && local.x <= 1024 && local.y <= 1024 && local.z <= 1024 &&
                  global.x * local.x <= UINT32_MAX && global.y * local.y <= UINT32_MAX &&
                  global.z * local.z <= UINT32_MAX;
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      device_->name(), ": program '", desc_.name, "': workgroup (", local.x, ", ", local.y, ", ",
      local.z, ") of grid (", global.x, ", ", global.y, ", ", global.z,
      ") exceeds AQL's limits (1024 work-items a group, 2^32 work-items a dimension)"));
}

absl::Status AmProgram::Run(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                            LaunchDims global, LaunchDims local, RunTiming* timing) {
  RETURN_IF_ERROR(ValidateLaunch(desc_, device_->name(), bufs, vars, global, local));
  RETURN_IF_ERROR(CheckLaunch(global, local));
  return device_->RunSync(this, bufs, vars, global, local, timing);
}

}  // namespace uop
