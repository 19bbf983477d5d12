#include "drivers/common/drm_devices.h"

#include <unistd.h>
#include <xf86drm.h>

#include "absl/strings/str_format.h"

namespace uop {
namespace {

const char* VendorName(uint16_t vendor) {
  switch (vendor) {
    case 0x1002:
      return "AMD";
    case 0x10de:
      return "NVIDIA";
    case 0x8086:
      return "Intel";
    case 0x5143:
      return "Qualcomm";
    default:
      return "GPU";
  }
}

}  // namespace

std::string BackendForPciVendor(uint16_t vendor_id) {
  switch (vendor_id) {
    case 0x1002:
      return "AM";
    case 0x10de:
      return "NV, CUDA";
    default:
      return "";
  }
}

std::vector<HostGpu> ListHostGpus() {
  std::vector<HostGpu> out;
  drmDevicePtr devices[64];
  const int n = drmGetDevices2(0, devices, 64);
  for (int i = 0; i < n; ++i) {
    drmDevicePtr d = devices[i];
    if ((d->available_nodes & (1 << DRM_NODE_RENDER)) == 0) continue;
    HostGpu g;
    g.node = d->nodes[DRM_NODE_RENDER];
    if (d->bustype == DRM_BUS_PCI && d->deviceinfo.pci != nullptr && d->businfo.pci != nullptr) {
      g.bus = "pci";
      g.vendor_id = d->deviceinfo.pci->vendor_id;
      g.device_id = d->deviceinfo.pci->device_id;
      g.location = absl::StrFormat("%04x:%02x:%02x.%x", d->businfo.pci->domain, d->businfo.pci->bus,
                                   d->businfo.pci->dev, d->businfo.pci->func);
      g.backend = BackendForPciVendor(g.vendor_id);
    } else if (d->bustype == DRM_BUS_PLATFORM && d->businfo.platform != nullptr) {
      g.bus = "platform";
      g.location = d->businfo.platform->fullname;
    } else {
      g.bus = "other";
    }
    out.push_back(std::move(g));
  }
  if (n > 0) drmFreeDevices(devices, n);
  // KGSL (Qualcomm's downstream driver) is not DRM: its node is the device.
  if (access("/dev/kgsl-3d0", F_OK) == 0) {
    out.push_back(HostGpu{.node = "/dev/kgsl-3d0", .bus = "kgsl", .backend = "QCOM"});
  }
  return out;
}

std::string DescribeHostGpu(const HostGpu& g) {
  std::string what;
  if (g.bus == "pci") {
    what = absl::StrFormat("%s %04x:%04x at %s", VendorName(g.vendor_id), g.vendor_id, g.device_id,
                           g.location);
  } else if (g.bus == "kgsl") {
    what = "Qualcomm Adreno (KGSL)";
  } else if (!g.location.empty()) {
    what = absl::StrFormat("%s GPU %s", g.bus, g.location);
  } else {
    what = "GPU";
  }
  return absl::StrFormat("%s (%s%s%s)", what, g.node, g.backend.empty() ? "" : ", backend ",
                         g.backend);
}

}  // namespace uop
