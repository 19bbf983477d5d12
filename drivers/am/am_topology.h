// Finding AMD GPUs: the KFD topology in sysfs (what the AM driver opens),
// and libdrm's device list (what `uopctl status` shows, KFD or not).
//
// KFD publishes one node per agent under
// /sys/devices/virtual/kfd/kfd/topology/nodes/<n>/: `gpu_id` (0 for CPUs)
// and `properties`, lines of "<key> <integer>" (simd_count,
// gfx_target_version, drm_render_minor, lds_size_in_kb, ...). Reads go
// through the KernelIo seam, so the emulator supplies its own topology.
//
//   ASSIGN_OR_RETURN(std::vector<AmGpuNode> gpus, FindKfdGpus(KernelIo::Real()));
//   gpus[0].arch  // "gfx1100"
#ifndef UOP_DRIVERS_AM_AM_TOPOLOGY_H_
#define UOP_DRIVERS_AM_AM_TOPOLOGY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/common/kernel_io.h"

namespace uop {

inline constexpr char kKfdTopology[] = "/sys/devices/virtual/kfd/kfd/topology/nodes";

struct AmGpuNode {
  int node = 0;
  uint32_t gpu_id = 0;
  std::string arch;  // "gfx1100" from gfx_target_version 110000
  std::map<std::string, uint64_t> properties;
  uint64_t property(const std::string& key, uint64_t fallback = 0) const;
  int compute_units() const;  // simd_count / simd_per_cu
};

// Parses a properties file; InvalidArgument naming the bad line.
absl::StatusOr<std::map<std::string, uint64_t>> ParseKfdProperties(absl::string_view text);
// "gfx1100" for 110000, "gfx90a" for 90010 (the minor and stepping in hex).
std::string GfxArchFromTargetVersion(uint64_t version);
// The GPU nodes (gpu_id != 0) in node order; empty without KFD.
absl::StatusOr<std::vector<AmGpuNode>> FindKfdGpus(KernelIo& io);

// An AMD GPU as libdrm enumerates it (drmGetDevices2).
struct DrmGpu {
  std::string render_node;  // "/dev/dri/renderD128"
  std::string pci_slot;     // "0000:03:00.0"
  uint16_t vendor_id = 0, device_id = 0;
};
// Every AMD (vendor 0x1002) DRM device on this machine; empty when none.
std::vector<DrmGpu> ListAmdDrmDevices();

}  // namespace uop

#endif  // UOP_DRIVERS_AM_AM_TOPOLOGY_H_
