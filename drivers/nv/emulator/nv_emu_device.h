// An NV device on the emulated GPU (nv_emulator.h) behind an
// EmulatedKernelIo, for tests of the driver without hardware.
//
// CreateEmulatedNvDevice's device has no CUDA C compiler unless the options
// name one (its compiler() refuses with Unimplemented): tests load cubins
// built by nv_emu_cubin.h around host twins, which the emulator runs.
// Registered as backend "NV_EMU" (offered only with UOP_ENABLE_EMULATED=1):
// that device compiles the CUDA renderer's kernels with NvEmuCompiler.
//
//   NvEmulator* emu;
//   ASSIGN_OR_RETURN(std::unique_ptr<NvDevice> d, CreateEmulatedNvDevice({}, {}, &emu));
//   emu->stats().launches;
#ifndef UOP_DRIVERS_NV_EMULATOR_NV_EMU_DEVICE_H_
#define UOP_DRIVERS_NV_EMULATOR_NV_EMU_DEVICE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "drivers/common/emulated_kernel_io.h"
#include "drivers/nv/emulator/nv_emulator.h"
#include "drivers/nv/nv_device.h"

namespace uop {

// `options.io`, keep_alive and compiler are filled in. `emulator` and
// `io`, when not null, receive the models (they live as long as the device).
absl::StatusOr<std::unique_ptr<NvDevice>> CreateEmulatedNvDevice(
    NvEmulator::Options emulator_options, NvDevice::Options options,
    NvEmulator** emulator = nullptr, EmulatedKernelIo** io = nullptr);

}  // namespace uop

#endif  // UOP_DRIVERS_NV_EMULATOR_NV_EMU_DEVICE_H_
