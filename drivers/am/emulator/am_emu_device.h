// The emulated AM device: AmDevice on a KFD emulator behind an
// EmulatedKernelIo, with the emulated compiler (AMDGPU code objects carrying
// host twins).
//
// Registered as backend "AM_EMU", which offers its device only when
// UOP_ENABLE_EMULATED=1 (drivers/common/emulation.h). Tests build their own
// with CreateEmulatedAm to reach the emulator and the call trace.
//
//   ASSIGN_OR_RETURN(EmulatedAm emu, CreateEmulatedAm());
//   emu.kfd->Unplug();                       // the GPU vanishes
//   EXPECT_TRUE(emu.io->CheckClean().ok());  // after emu.device.reset()
#ifndef UOP_DRIVERS_AM_EMULATOR_AM_EMU_DEVICE_H_
#define UOP_DRIVERS_AM_EMULATOR_AM_EMU_DEVICE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "drivers/am/am_device.h"
#include "drivers/am/emulator/kfd_emulator.h"
#include "drivers/common/emulated_kernel_io.h"

namespace uop {

struct EmulatedAm {
  std::shared_ptr<EmulatedKernelIo> io;
  std::shared_ptr<KfdEmulator> kfd;
  std::unique_ptr<AmDevice> device;
};

// `options.io`, `options.compiler` and `options.keep_alive` are filled in;
// `options.name` defaults to "AM_EMU:0".
absl::StatusOr<EmulatedAm> CreateEmulatedAm(const KfdEmulator::Options& emulator = {},
                                            AmDevice::Options options = {});

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_AM_EMU_DEVICE_H_
