#include "drivers/program.h"

#include "absl/strings/str_cat.h"

namespace uop {
namespace {

std::string DimsString(LaunchDims d) { return absl::StrCat("(", d.x, ", ", d.y, ", ", d.z, ")"); }

}  // namespace

absl::Status ValidateLaunch(const ProgramDesc& desc, absl::string_view device,
                            absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                            LaunchDims global, LaunchDims local) {
  if (bufs.size() != desc.buffer_bytes.size()) {
    return absl::InvalidArgumentError(absl::StrCat(device, ": program '", desc.name, "' takes ",
                                                   desc.buffer_bytes.size(), " buffers, got ",
                                                   bufs.size()));
  }
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (bufs[i] == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(device, ": program '", desc.name, "': buffer slot ", i, " is null"));
    }
    if (bufs[i]->size() < desc.buffer_bytes[i]) {
      return absl::InvalidArgumentError(absl::StrCat(
          device, ": program '", desc.name, "': buffer slot ", i, " (#", bufs[i]->id(), ") has ",
          bufs[i]->size(), " bytes, the kernel needs ", desc.buffer_bytes[i]));
    }
  }
  if (vars.size() != static_cast<size_t>(desc.num_vars)) {
    return absl::InvalidArgumentError(absl::StrCat(device, ": program '", desc.name, "' takes ",
                                                   desc.num_vars, " variables, got ", vars.size()));
  }
  if (global.x < 1 || global.y < 1 || global.z < 1 || local.x < 1 || local.y < 1 || local.z < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(device, ": program '", desc.name, "': launch dims must be >= 1, got global ",
                     DimsString(global), " local ", DimsString(local)));
  }
  return absl::OkStatus();
}

}  // namespace uop
