// The chip identity end to end on the emulated PCI GPU: the AM_PCI device
// built on an emulated Navi31 reports the topology of its discovery
// binary's GC info table (96 CUs, gfx1100, device 0x744C); the same emulator
// presenting Navi32's or Navi33's discovery table and device id is refused
// by AmPciGpu::Open right after IP discovery, by name, before any block is
// programmed with Navi31's assumptions.
#include <memory>
#include <vector>

#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_navi31.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/gfx/mec_model.h"
#include "drivers/am/pci/am_pci_gpu.h"
#include "drivers/am/pci/am_pci_interface.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(ChipTopology, Navi31NodeComesFromTheDiscoveryBinary) {
  EmulatedKernelIo io;
  absl::StatusOr<std::unique_ptr<EmulatedNavi31>> chip = EmulatedNavi31::Install(io);
  ASSERT_TRUE(chip.ok()) << chip.status();
  absl::StatusOr<std::vector<PciFunction>> fns = FindAmdGpus(io, "/sys/bus/pci/devices");
  ASSERT_TRUE(fns.ok() && fns->size() == 1);
  absl::StatusOr<std::unique_ptr<AmPciGpu>> gpu = AmPciGpu::Open(io, (*fns)[0]);
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  absl::StatusOr<std::unique_ptr<AmPciInterface>> dev =
      AmPciInterface::Create(std::move(*gpu), "am_pci0", true);
  ASSERT_TRUE(dev.ok()) << dev.status();
  const AmGpuNode n = (*dev)->Node();
  EXPECT_EQ(n.arch, "gfx1100");
  EXPECT_EQ(n.compute_units(), 96);
  EXPECT_EQ(n.property("array_count"), 12u);
  EXPECT_EQ(n.property("device_id"), 0x744Cu);
  EXPECT_EQ(n.property("local_mem_size"), uint64_t{1} << 30);
  dev->reset();
  EXPECT_TRUE((*chip)->CheckNoViolations().ok()) << (*chip)->CheckNoViolations();
}

TEST(ChipTopology, Navi32AndNavi33AreRefusedByNameAfterDiscovery) {
  for (const EmuChip& c : {Navi32Chip(), Navi33Chip()}) {
    SCOPED_TRACE(c.name);
    EmulatedKernelIo io;
    EmulatedNavi31Config config;
    config.chip = c;
    absl::StatusOr<std::unique_ptr<EmulatedNavi31>> chip = EmulatedNavi31::Install(io, config);
    ASSERT_TRUE(chip.ok()) << chip.status();
    absl::StatusOr<std::vector<PciFunction>> fns = FindAmdGpus(io, "/sys/bus/pci/devices");
    ASSERT_TRUE(fns.ok() && fns->size() == 1);
    EXPECT_EQ((*fns)[0].device, c.device_id);
    absl::StatusOr<std::unique_ptr<AmPciGpu>> gpu = AmPciGpu::Open(io, (*fns)[0]);
    ASSERT_FALSE(gpu.ok());
    EXPECT_EQ(gpu.status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_NE(gpu.status().message().find(c.name), std::string::npos) << gpu.status();
    // Nothing was brought up: no PSP ring was created.
    EXPECT_FALSE((*chip)->psp().ring_created());
  }
}

TEST(ChipTopology, TheEmulatedCpNeedsTheChipsShaderEngineCount) {
  // COMPUTE_TMPRING_SIZE.WAVES counts per shader engine: the MEC model takes
  // the count from the GC info table and refuses a binary without one.
  EmulatedKernelIo io;
  EmulatedPciGpuConfig c;
  c.discovery = BuildDiscoveryBinary(Navi31Ips());  // no GC info table
  absl::StatusOr<std::shared_ptr<EmulatedPciGpu>> gpu = EmulatedPciGpu::Install(io, c);
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  EmulatedMecConfig mec;
  mec.address_space = [](uint32_t) -> const GpuAddressSpace* { return nullptr; };
  absl::StatusOr<std::unique_ptr<EmulatedMec>> m = EmulatedMec::Attach(**gpu, mec);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(m.status().message().find("no GC info table"), std::string::npos) << m.status();
}

}  // namespace
}  // namespace uop
