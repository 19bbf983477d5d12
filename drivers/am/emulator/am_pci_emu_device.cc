#include "drivers/am/emulator/am_pci_emu_device.h"

#include "drivers/am/am_topology.h"
#include "drivers/am/emulator/am_emu_compiler.h"
#include "drivers/am/pci/am_pci_device.h"
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
  bring_up.use_vfio = chip.vfio;
  ASSIGN_OR_RETURN(emu.chip, EmulatedNavi31::Install(*emu.io, chip));
  ASSIGN_OR_RETURN(std::vector<PciFunction> gpus, FindDriverlessAmdGpus(*emu.io));
  if (gpus.empty()) return absl::InternalError("the emulated Navi31 is not on the PCI bus");
  if (options.name.empty()) options.name = "AM_PCI_EMU:0";
  ASSIGN_OR_RETURN(std::unique_ptr<AmEmuCompiler> cc,
                   AmEmuCompiler::Create(GfxArchFromTargetVersion(110000)));
  // The chip and the seam live as long as the device.
  struct Owner {
    std::shared_ptr<EmulatedNavi31> chip;
    std::shared_ptr<EmulatedKernelIo> io;
  };
  options.keep_alive = std::make_shared<Owner>(Owner{emu.chip, emu.io});
  options.compiler = std::move(cc);
  ASSIGN_OR_RETURN(emu.device, CreateAmPciDevice(*emu.io, gpus[0], std::move(bring_up),
                                                 std::move(options), /*emulated=*/true));
  emu.gpu = static_cast<AmPciInterface*>(&emu.device->gpu_interface());
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
