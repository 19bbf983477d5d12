#include "drivers/nv/emulator/nv_emu_device.h"

#include "absl/strings/str_cat.h"

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

}  // namespace uop
