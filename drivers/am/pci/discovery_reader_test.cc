#include "drivers/am/pci/discovery_reader.h"

#include <thread>

#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/pci/pci_bars.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

constexpr char kRoot[] = "/sys/bus/pci/devices";

struct Rig {
  EmulatedKernelIo io;
  std::shared_ptr<EmulatedPciGpu> gpu;
  std::unique_ptr<AmPciBars> bars;
};

std::unique_ptr<Rig> MakeRig(EmulatedPciGpuConfig config = {}) {
  auto rig = std::make_unique<Rig>();
  absl::StatusOr<std::shared_ptr<EmulatedPciGpu>> gpu = EmulatedPciGpu::Install(rig->io, config);
  EXPECT_TRUE(gpu.ok()) << gpu.status();
  rig->gpu = *gpu;
  absl::StatusOr<std::vector<PciFunction>> fns = FindAmdGpus(rig->io, kRoot);
  EXPECT_TRUE(fns.ok() && fns->size() == 1);
  absl::StatusOr<std::unique_ptr<AmPciBars>> bars = AmPciBars::Open(rig->io, (*fns)[0]);
  EXPECT_TRUE(bars.ok()) << bars.status();
  rig->bars = std::move(*bars);
  return rig;
}

TEST(AmDiscovery, ReadsVramSizeAndTheIpTableFromTheTopOfVram) {
  EmulatedPciGpuConfig config;
  config.vram_size = uint64_t{4} << 30;  // a 4 GiB Navi24, sparse memfd
  auto rig = MakeRig(config);
  absl::StatusOr<AmDiscovery> d = ReadAmDiscovery(rig->bars->regs(), rig->bars->vram());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->vram_size, uint64_t{4} << 30);
  const std::vector<EmuIpEntry> want = Navi24Ips();
  ASSERT_EQ(d->ip.blocks.size(), want.size());
  const IpBlock* gc = d->ip.Find(kHwIdGc);
  ASSERT_NE(gc, nullptr);
  EXPECT_EQ(gc->bases, want[0].bases);
  ASSERT_NE(d->ip.Find(kHwIdOsssys), nullptr);
  EXPECT_EQ(d->ip.Find(kHwIdOsssys)->bases[0], 0x10A0u);
}

TEST(AmDiscovery, WaitsForTheBootFirmwareWithinItsBound) {
  EmulatedPciGpuConfig config;
  config.ifwi_done = false;
  auto rig = MakeRig(config);
  std::thread firmware([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    rig->gpu->SetRegister(kRegMp0SmnC2pMsg33, kIfwiInitDone | 0x1234);
  });
  const absl::Time start = absl::Now();
  absl::StatusOr<AmDiscovery> d =
      ReadAmDiscovery(rig->bars->regs(), rig->bars->vram(), absl::Seconds(5));
  const absl::Duration took = absl::Now() - start;
  firmware.join();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_GE(took, absl::Milliseconds(25));  // it did wait for the bit
  EXPECT_LT(took, absl::Seconds(2));
}

TEST(AmDiscovery, FirmwareThatNeverFinishesIsABoundedError) {
  EmulatedPciGpuConfig config;
  config.ifwi_done = false;
  auto rig = MakeRig(config);
  const absl::Time start = absl::Now();
  absl::Status s =
      ReadAmDiscovery(rig->bars->regs(), rig->bars->vram(), absl::Milliseconds(40)).status();
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(s.message().find("C2PMSG_33"), absl::string_view::npos) << s;
  EXPECT_GE(took, absl::Milliseconds(40));
  EXPECT_LT(took, absl::Milliseconds(1000));
}

TEST(AmDiscovery, ASmallVramBarIsRefusedWithTheRemedy) {
  EmulatedPciGpuConfig config;
  config.vram_size = 512 << 20;
  config.vram_bar_size = 256 << 20;  // no resizable BAR
  auto rig = MakeRig(config);
  absl::Status s = ReadAmDiscovery(rig->bars->regs(), rig->bars->vram()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("resource0_resize"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("0x1fff0000"), absl::string_view::npos) << s;
}

TEST(AmDiscovery, ACorruptTableInVramIsDataLoss) {
  EmulatedPciGpuConfig config;
  config.vram_size = 256 << 20;
  auto rig = MakeRig(config);
  const uint64_t at = config.vram_size - kDiscoveryTmrOffset;
  const uint8_t junk[2] = {0x55, 0xAA};
  rig->gpu->WriteVram(at + kEmuIpTableOffset + 100, junk);
  absl::Status s = ReadAmDiscovery(rig->bars->regs(), rig->bars->vram()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("checksum"), absl::string_view::npos) << s;

  // Firmware that never wrote the table: the page is erased (all ones) on a
  // live device, which is data, and the signature check names it.
  std::vector<uint8_t> erased(kDiscoveryTmrSize, 0xFF);
  rig->gpu->WriteVram(at, erased);
  s = ReadAmDiscovery(rig->bars->regs(), rig->bars->vram()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("signature 0xffffffff"), absl::string_view::npos) << s;
}

TEST(AmDiscovery, ImplausibleMemsizeAndRemovedDevicesAreErrors) {
  EmulatedPciGpuConfig config;
  config.vram_size = 64 << 20;
  auto rig = MakeRig(config);
  rig->gpu->SetRegister(kRegRccConfigMemsize, 0);
  absl::Status s = ReadAmDiscovery(rig->bars->regs(), rig->bars->vram()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("RCC_CONFIG_MEMSIZE reads 0 MiB"), absl::string_view::npos) << s;

  rig->gpu->Remove();
  s = ReadAmDiscovery(rig->bars->regs(), rig->bars->vram()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("offset 0x58184"), absl::string_view::npos) << s;  // C2PMSG_33
}

}  // namespace
}  // namespace uop
