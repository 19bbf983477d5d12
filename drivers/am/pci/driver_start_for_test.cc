#include "drivers/am/pci/driver_start_for_test.h"

#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<AmPciDriverStart> StartAmPciDriverForTest(KernelIo& io) {
  ASSIGN_OR_RETURN(std::vector<PciFunction> gpus, FindAmdGpus(io, kPciDevicesDir));
  if (gpus.empty()) return absl::NotFoundError("no AMD GPU under " + std::string(kPciDevicesDir));
  AmPciDriverStart s;
  ASSIGN_OR_RETURN(s.bars, AmPciBars::Open(io, gpus[0]));
  ASSIGN_OR_RETURN(s.discovery, ReadAmDiscovery(s.bars->regs(), s.bars->vram()));
  ASSIGN_OR_RETURN(AmRegisterMap map, AmRegisterMap::Create(s.discovery.ip));
  s.regs = std::make_unique<AmRegisterIo>(s.bars->regs(), std::move(map));
  return s;
}

}  // namespace uop
