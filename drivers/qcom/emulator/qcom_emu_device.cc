#include "drivers/qcom/emulator/qcom_emu_device.h"

#include "drivers/common/emulation.h"
#include "drivers/device_registry.h"
#include "drivers/qcom/emulator/qcom_emu_compiler.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<EmulatedQcom> CreateEmulatedQcom(const KgslEmulator::Options& emulator,
                                                QcomDevice::Options options) {
  EmulatedQcom emu;
  emu.io = std::make_shared<EmulatedKernelIo>();
  emu.kgsl = std::make_shared<KgslEmulator>(emulator);
  emu.io->AddNode(options.path, emu.kgsl);
  ASSIGN_OR_RETURN(std::unique_ptr<QcomEmuCompiler> cc, QcomEmuCompiler::Create());
  options.io = emu.io.get();
  options.keep_alive = emu.io;
  options.compiler = std::move(cc);
  if (options.name == "QCOM:0") options.name = "QCOM_EMU:0";
  ASSIGN_OR_RETURN(emu.device, QcomDevice::Create(std::move(options)));
  return emu;
}

namespace {

absl::StatusOr<std::unique_ptr<Device>> CreateRegistered(int) {
  ASSIGN_OR_RETURN(EmulatedQcom emu, CreateEmulatedQcom());
  return std::unique_ptr<Device>(std::move(emu.device));
}

}  // namespace

UOP_REGISTER_DEVICE_BACKEND(
    qcom_emu, "QCOM_EMU", [] { return EmulatedDevicesEnabled() ? 1 : 0; }, CreateRegistered);

}  // namespace uop
