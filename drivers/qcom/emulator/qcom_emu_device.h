// The emulated QCOM device: QcomDevice on a KGSL emulator behind an
// EmulatedKernelIo, with the emulated compiler (clang for the host).
//
// Registered as backend "QCOM_EMU", which offers its device only when
// UOP_ENABLE_EMULATED=1 (drivers/common/emulation.h). Tests build their own
// with CreateEmulatedQcom to reach the emulator and the call trace.
//
//   ASSIGN_OR_RETURN(EmulatedQcom emu, CreateEmulatedQcom());
//   emu.kgsl->Pause();                      // hold the GPU
//   ... emu.device->CreateQueue(...) ...
//   EXPECT_TRUE(emu.io->CheckClean().ok());  // after emu.device.reset()
#ifndef UOP_DRIVERS_QCOM_EMULATOR_QCOM_EMU_DEVICE_H_
#define UOP_DRIVERS_QCOM_EMULATOR_QCOM_EMU_DEVICE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "drivers/common/emulated_kernel_io.h"
#include "drivers/qcom/emulator/kgsl_emulator.h"
#include "drivers/qcom/qcom_device.h"

namespace uop {

struct EmulatedQcom {
  std::shared_ptr<EmulatedKernelIo> io;
  std::shared_ptr<KgslEmulator> kgsl;
  std::unique_ptr<QcomDevice> device;
};

// `options.io`, `options.compiler` and `options.keep_alive` are filled in;
// `options.name` defaults to "QCOM_EMU:0".
absl::StatusOr<EmulatedQcom> CreateEmulatedQcom(const KgslEmulator::Options& emulator = {},
                                                QcomDevice::Options options = {});

}  // namespace uop

#endif  // UOP_DRIVERS_QCOM_EMULATOR_QCOM_EMU_DEVICE_H_
