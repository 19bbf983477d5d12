#include "drivers/am/pci/am_pci_device.h"

#include "absl/strings/str_cat.h"
#include "drivers/am/pci/am_pci_interface.h"
#include "drivers/device_registry.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<std::unique_ptr<AmDevice>> CreateAmPciDevice(KernelIo& io, const PciFunction& fn,
                                                            AmPciGpuOptions bring_up,
                                                            AmDevice::Options options,
                                                            bool emulated) {
  ASSIGN_OR_RETURN(std::unique_ptr<AmPciGpu> gpu, AmPciGpu::Open(io, fn, std::move(bring_up)));
  if (options.name.empty()) options.name = absl::StrCat("AM_PCI:", fn.bdf);
  ASSIGN_OR_RETURN(std::unique_ptr<AmPciInterface> iface,
                   AmPciInterface::Create(std::move(gpu), options.name, emulated));
  AmGpuNode node = iface->Node();
  return AmDevice::Create(std::move(iface), std::move(node), std::move(options));
}

namespace {

int CountDriverless() {
  static const int count = [] {
    absl::StatusOr<std::vector<PciFunction>> gpus = FindDriverlessAmdGpus(KernelIo::Real());
    return gpus.ok() ? static_cast<int>(gpus->size()) : 0;
  }();
  return count;
}

absl::StatusOr<std::unique_ptr<Device>> CreateRegistered(int index) {
  ASSIGN_OR_RETURN(std::vector<PciFunction> gpus, FindDriverlessAmdGpus(KernelIo::Real()));
  if (index < 0 || index >= static_cast<int>(gpus.size())) {
    return absl::NotFoundError(absl::StrCat("AM_PCI:", index, ": only ", gpus.size(),
                                            " AMD GPUs without a kernel driver"));
  }
  AmPciGpuOptions bring_up;
  bring_up.use_vfio = gpus[index].driver == "vfio-pci";
  ASSIGN_OR_RETURN(std::unique_ptr<AmDevice> d,
                   CreateAmPciDevice(KernelIo::Real(), gpus[index], std::move(bring_up)));
  return std::unique_ptr<Device>(std::move(d));
}

}  // namespace

UOP_REGISTER_DEVICE_BACKEND(am_pci, "AM_PCI", CountDriverless, CreateRegistered);

}  // namespace uop
