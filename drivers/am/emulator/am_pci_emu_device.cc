#include "drivers/am/emulator/am_pci_emu_device.h"

#include "drivers/am/am_topology.h"
#include "drivers/am/emulator/am_emu_compiler.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "drivers/common/emulation.h"
#include "drivers/device_registry.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<EmulatedAmPci> CreateEmulatedAmPci(EmulatedNavi31Config chip,
                                                  AmPciGpuOptions bring_up,
                                                  AmDevice::Options options) {
  EmulatedAmPci emu;
  emu.io = std::make_shared<EmulatedKernelIo>();
  bring_up.firmware_dir = chip.firmware_dir;
  ASSIGN_OR_RETURN(emu.chip, EmulatedNavi31::Install(*emu.io, chip));
  ASSIGN_OR_RETURN(std::vector<PciFunction> gpus, FindAmdGpus(*emu.io, kPciDevicesDir));
  if (gpus.empty()) return absl::InternalError("the emulated Navi31 is not on the PCI bus");
  ASSIGN_OR_RETURN(std::unique_ptr<AmPciGpu> gpu, AmPciGpu::Open(*emu.io, gpus[0], bring_up));
  if (options.name.empty()) options.name = "AM_PCI_EMU:0";
  ASSIGN_OR_RETURN(std::unique_ptr<AmPciInterface> iface,
                   AmPciInterface::Create(std::move(gpu), options.name, /*emulated=*/true));
  AmGpuNode node = iface->Node();
  emu.gpu = iface.get();
  ASSIGN_OR_RETURN(std::unique_ptr<AmEmuCompiler> cc, AmEmuCompiler::Create(node.arch));
  // The chip and the seam live as long as the device.
  struct Owner {
    std::shared_ptr<EmulatedNavi31> chip;
    std::shared_ptr<EmulatedKernelIo> io;
  };
  options.keep_alive = std::make_shared<Owner>(Owner{emu.chip, emu.io});
  options.compiler = std::move(cc);
  ASSIGN_OR_RETURN(emu.device,
                   AmDevice::Create(std::move(iface), std::move(node), std::move(options)));
  return emu;
}

namespace {

absl::StatusOr<std::unique_ptr<Device>> CreateRegistered(int) {
  ASSIGN_OR_RETURN(EmulatedAmPci emu, CreateEmulatedAmPci());
  return std::unique_ptr<Device>(std::move(emu.device));
}

}  // namespace

UOP_REGISTER_DEVICE_BACKEND(
    am_pci_emu, "AM_PCI_EMU", [] { return EmulatedDevicesEnabled() ? 1 : 0; }, CreateRegistered);

}  // namespace uop
