// The GPUs of this host as libdrm enumerates them (drmGetDevices2), plus the
// Adreno KGSL node, which is not a DRM device: what `uopctl status` lists.
//
// PCI GPUs carry vendor and device ids and their slot; platform GPUs (an
// Adreno under the msm DRM driver) their device-tree name. Only devices
// with a render node are listed (what a user-space driver opens).
//
//   for (const HostGpu& g : ListHostGpus()) printf("%s\n", DescribeHostGpu(g).c_str());
#ifndef UOP_DRIVERS_COMMON_DRM_DEVICES_H_
#define UOP_DRIVERS_COMMON_DRM_DEVICES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace uop {

struct HostGpu {
  std::string node;        // "/dev/dri/renderD128", "/dev/kgsl-3d0"
  std::string bus;         // "pci", "platform", "kgsl"
  std::string location;    // PCI slot "0000:03:00.0" or platform name
  uint16_t vendor_id = 0;  // PCI only
  uint16_t device_id = 0;  // PCI only
  std::string backend;     // the uop backend that drives it ("AM", "NV", ...; "" when none)
};

// Every GPU render node libdrm reports, then /dev/kgsl-3d0 if present.
std::vector<HostGpu> ListHostGpus();

// "AMD 1002:744c at 0000:03:00.0 (/dev/dri/renderD128, backend AM)".
std::string DescribeHostGpu(const HostGpu& g);

// The backend for a PCI vendor: AM (0x1002), NV and CUDA (0x10de), "".
std::string BackendForPciVendor(uint16_t vendor_id);

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_DRM_DEVICES_H_
