// For tests of the AM bring-up's later steps: the driver's first three
// steps on the (emulated) GPU behind `io`, as AmPciGpu takes them — the
// first AMD GPU's BARs through sysfs, its IP discovery table, its register
// map. Each test rig then adds the block it tests.
//
//   ASSIGN_OR_RETURN(AmPciDriverStart start, StartAmPciDriverForTest(io));
//   AmGmc::Create(*start.regs, start.bars->vram(), ...);
#ifndef UOP_DRIVERS_AM_PCI_DRIVER_START_FOR_TEST_H_
#define UOP_DRIVERS_AM_PCI_DRIVER_START_FOR_TEST_H_

#include <memory>

#include "absl/status/statusor.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/pci_bars.h"
#include "drivers/common/kernel_io.h"

namespace uop {

struct AmPciDriverStart {
  std::unique_ptr<AmPciBars> bars;
  AmDiscovery discovery;
  std::unique_ptr<AmRegisterIo> regs;  // over bars->regs()
};

absl::StatusOr<AmPciDriverStart> StartAmPciDriverForTest(KernelIo& io);

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_DRIVER_START_FOR_TEST_H_
