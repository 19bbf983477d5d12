#include "drivers/qcom/qcom_program.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "drivers/qcom/adreno_binary.h"
#include "drivers/qcom/qcom_device.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<std::unique_ptr<QcomProgram>> QcomProgram::Load(QcomDevice* device,
                                                               const ProgramDesc& desc,
                                                               absl::string_view binary) {
  const std::string& dev = device->name();
  ASSIGN_OR_RETURN(AdrenoProgramInfo info, ParseAdrenoBinary(binary, desc.name));
  if (info.textures != 0 || info.images != 0 || info.samplers != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        dev, ": kernel '", desc.name, "' uses ", info.textures, " textures, ", info.images,
        " images and ", info.samplers, " samplers; this driver binds plain buffers only"));
  }
  const size_t want = desc.buffer_bytes.size() + static_cast<size_t>(desc.num_vars);
  if (info.arg_offsets.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat(dev, ": kernel '", desc.name, "' binary has ", info.arg_offsets.size(),
                     " arguments, the program has ", desc.buffer_bytes.size(), " buffers and ",
                     desc.num_vars, " variables"));
  }
  std::unique_ptr<QcomProgram> p(new QcomProgram(device, desc));
  p->kernel_ = KernelFromBinary(desc.name, info);
  if (StackBytesFor(p->kernel_) > device->stack_bytes()) {
    return absl::ResourceExhaustedError(
        absl::StrCat(dev, ": kernel '", desc.name, "' needs ", StackBytesFor(p->kernel_),
                     " bytes of private stack, the device has ", device->stack_bytes()));
  }
  ASSIGN_OR_RETURN(p->image_, device->qcom_allocator().AllocInternal(p->kernel_.image_bytes,
                                                                     kgsl::kMemflagsGpuReadOnly));
  std::memset(p->image_.cpu, 0, p->kernel_.image_bytes);
  std::memcpy(p->image_.cpu, info.image.data(), info.image.size());
  p->kernel_.image_gpu = p->image_.gpu;
  return p;
}

QcomProgram::~QcomProgram() {
  if (image_.cpu != nullptr) device_->qcom_allocator().FreeInternal(image_);
}

absl::Status QcomProgram::CheckLaunch(LaunchDims global, LaunchDims local) const {
  const bool dims_ok =
      local.x <= 1024 && local.y <= 1024 && local.z <= 1024 &&
      local.total() <= kernel_.max_threads && global.x * local.x < (int64_t{1} << 32) &&
      global.y * local.y < (int64_t{1} << 32) && global.z * local.z < (int64_t{1} << 32);
  if (dims_ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(device_->name(), ": program '", desc_.name, "': workgroup (", local.x, ", ",
                   local.y, ", ", local.z, ") of grid (", global.x, ", ", global.y, ", ", global.z,
                   ") exceeds the kernel's limit of ", kernel_.max_threads,
                   " threads (1024 per dimension, 2^32 work-items per dimension)"));
}

absl::Status QcomProgram::Run(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                              LaunchDims global, LaunchDims local, RunTiming* timing) {
  RETURN_IF_ERROR(ValidateLaunch(desc_, device_->name(), bufs, vars, global, local));
  RETURN_IF_ERROR(CheckLaunch(global, local));
  return device_->RunSync(this, bufs, vars, global, local, timing);
}

}  // namespace uop
