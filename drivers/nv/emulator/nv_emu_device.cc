#include "drivers/nv/emulator/nv_emu_device.h"

#include "absl/strings/str_cat.h"
#include "drivers/common/emulation.h"
#include "drivers/device_registry.h"
#include "drivers/nv/emulator/nv_emu_compiler.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

class NoCudaCompiler final : public Compiler {
 public:
  const std::string& CacheKey() const override { return key_; }
  absl::StatusOr<std::string> Compile(absl::string_view name, absl::string_view) override {
    return absl::UnimplementedError(absl::StrCat(
        "the emulated NV device compiles no CUDA C (kernel '", name,
        "'): load cubins built around host twins (drivers/nv/emulator/nv_emu_cubin.h)"));
  }

 private:
  const std::string key_ = "nv-emu;no-compiler";
};

struct Models {
  std::shared_ptr<NvEmulator> emulator;
  std::shared_ptr<EmulatedKernelIo> io;
};

}  // namespace

absl::StatusOr<std::unique_ptr<NvDevice>> CreateEmulatedNvDevice(
    NvEmulator::Options emulator_options, NvDevice::Options options, NvEmulator** emulator,
    EmulatedKernelIo** io) {
  auto models = std::make_shared<Models>();
  models->emulator = std::make_shared<NvEmulator>(std::move(emulator_options));
  models->io = std::make_shared<EmulatedKernelIo>();
  models->emulator->Install(*models->io);
  options.io = models->io.get();
  options.keep_alive = models;
  if (options.compiler == nullptr) options.compiler = std::make_unique<NoCudaCompiler>();
  if (emulator != nullptr) *emulator = models->emulator.get();
  if (io != nullptr) *io = models->io.get();
  return NvDevice::Create(std::move(options));
}

namespace {

absl::StatusOr<std::unique_ptr<Device>> CreateRegistered(int index) {
  NvDevice::Options options;
  options.name = absl::StrCat("NV_EMU:", index);
  ASSIGN_OR_RETURN(std::unique_ptr<NvEmuCompiler> cc, NvEmuCompiler::Create());
  options.compiler = std::move(cc);
  ASSIGN_OR_RETURN(std::unique_ptr<NvDevice> d, CreateEmulatedNvDevice({}, std::move(options)));
  return std::unique_ptr<Device>(std::move(d));
}

}  // namespace

UOP_REGISTER_DEVICE_BACKEND(
    nv_emu, "NV_EMU", [] { return EmulatedDevicesEnabled() ? 1 : 0; }, CreateRegistered);

}  // namespace uop
