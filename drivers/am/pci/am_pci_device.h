// The AM path without a kernel driver as a uop device: AmDevice over
// AmPciInterface over a GPU AmPciGpu brings up itself.
//
// Registered as backend "AM_PCI": its devices are the AMD GPUs on the PCI bus
// (FindAmdGpus) with no kernel driver bound — a GPU amdgpu drives is the KFD
// backend's ("AM"). Opening one needs root (sysfs BARs), the firmware files
// in /lib/firmware/amdgpu and a GC 11.0 chip; errors name what is missing.
//
//   ASSIGN_OR_RETURN(std::vector<PciFunction> free, FindDriverlessAmdGpus(KernelIo::Real()));
//   ASSIGN_OR_RETURN(std::unique_ptr<AmDevice> d, CreateAmPciDevice(KernelIo::Real(), free[0]));
#ifndef UOP_DRIVERS_AM_PCI_AM_PCI_DEVICE_H_
#define UOP_DRIVERS_AM_PCI_AM_PCI_DEVICE_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/am/am_device.h"
#include "drivers/am/pci/am_pci_gpu.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "drivers/common/kernel_io.h"

namespace uop {

// Brings `fn` up and builds the device. `options.name` defaults to
// "AM_PCI:<bdf>"; `emulated` goes into the description.
absl::StatusOr<std::unique_ptr<AmDevice>> CreateAmPciDevice(KernelIo& io, const PciFunction& fn,
                                                            AmPciGpuOptions bring_up = {},
                                                            AmDevice::Options options = {},
                                                            bool emulated = false);

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_AM_PCI_DEVICE_H_
