// The emulated AM device without a kernel driver: AmDevice over
// AmPciInterface over AmPciGpu, which brings up an EmulatedNavi31 (PCI
// function, GMC/IH, PSP with firmware files, SMU, MEC, SDMA) behind an
// EmulatedKernelIo, with the emulated compiler (code objects carrying host
// twins).
//
// Registered as backend "AM_PCI_EMU", which offers its device only when
// UOP_ENABLE_EMULATED=1 (drivers/common/emulation.h). Tests build their own
// with CreateEmulatedAmPci to reach the chip's models.
//
//   ASSIGN_OR_RETURN(EmulatedAmPci emu, CreateEmulatedAmPci());
//   ... run work on emu.device ...
//   EXPECT_TRUE(emu.chip->CheckNoViolations().ok());
#ifndef UOP_DRIVERS_AM_EMULATOR_AM_PCI_EMU_DEVICE_H_
#define UOP_DRIVERS_AM_EMULATOR_AM_PCI_EMU_DEVICE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "drivers/am/am_device.h"
#include "drivers/am/emulator/emulated_navi31.h"
#include "drivers/am/pci/am_pci_gpu.h"
#include "drivers/am/pci/am_pci_interface.h"
#include "drivers/common/emulated_kernel_io.h"

namespace uop {

struct EmulatedAmPci {
  std::shared_ptr<EmulatedKernelIo> io;
  std::shared_ptr<EmulatedNavi31> chip;
  AmPciInterface* gpu = nullptr;  // owned by `device`
  std::unique_ptr<AmDevice> device;
};

// `options.compiler` and `options.keep_alive` are filled in; `options.name`
// defaults to "AM_PCI_EMU:0".
absl::StatusOr<EmulatedAmPci> CreateEmulatedAmPci(EmulatedNavi31Config chip = {},
                                                  AmPciGpuOptions bring_up = {},
                                                  AmDevice::Options options = {});

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_AM_PCI_EMU_DEVICE_H_
