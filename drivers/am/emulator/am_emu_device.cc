#include "drivers/am/emulator/am_emu_device.h"

#include "drivers/am/am_topology.h"
#include "drivers/am/emulator/am_emu_compiler.h"
#include "drivers/common/emulation.h"
#include "drivers/device_registry.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<EmulatedAm> CreateEmulatedAm(const KfdEmulator::Options& emulator,
                                            AmDevice::Options options) {
  EmulatedAm emu;
  emu.io = std::make_shared<EmulatedKernelIo>();
  emu.kfd = std::make_shared<KfdEmulator>(emulator);
  emu.kfd->Install(*emu.io);
  // The emulator lives as long as the seam, which the device keeps.
  struct Owner {
    std::shared_ptr<KfdEmulator> kfd;
    std::shared_ptr<EmulatedKernelIo> io;
  };
  ASSIGN_OR_RETURN(std::unique_ptr<AmEmuCompiler> cc,
                   AmEmuCompiler::Create(GfxArchFromTargetVersion(emulator.gfx_target_version)));
  options.io = emu.io.get();
  options.keep_alive = std::make_shared<Owner>(Owner{emu.kfd, emu.io});
  options.compiler = std::move(cc);
  if (options.name.empty()) options.name = "AM_EMU:0";
  ASSIGN_OR_RETURN(emu.device, AmDevice::Create(std::move(options)));
  return emu;
}

namespace {

absl::StatusOr<std::unique_ptr<Device>> CreateRegistered(int) {
  ASSIGN_OR_RETURN(EmulatedAm emu, CreateEmulatedAm());
  return std::unique_ptr<Device>(std::move(emu.device));
}

}  // namespace

UOP_REGISTER_DEVICE_BACKEND(
    am_emu, "AM_EMU", [] { return EmulatedDevicesEnabled() ? 1 : 0; }, CreateRegistered);

}  // namespace uop
