// AmNbio on the emulated Navi31's NBIO model: Init writes exactly Linux's
// values (doorbell aperture, GC entries 0x30000007 / 0x3000000D, the SDMA
// entry 0x3051001D for the soc21 layout) in its order, and the model then
// routes MEC doorbells to the GC and SDMA doorbells to SDMA; bad layouts are
// refused before any write; each unrouted state is visible in Route; a
// wrong entry value is a violation; a removed device is named.
#include "drivers/am/pci/nbio.h"

#include <memory>
#include <vector>

#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/nbio_model.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/driver_start_for_test.h"
#include "drivers/am/pci/indirect_regs.h"
#include "drivers/am/pci/pci_bars.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

using Target = EmulatedNbio::Target;

// soc21's layout, as AmPciGpu passes it (am_pci_gpu.h's constants).
AmDoorbellLayout Soc21Layout() { return AmDoorbellLayout{0, 0x8A * 2, {0x100 * 2, 0x10A * 2}}; }

struct Rig {
  EmulatedKernelIo io;
  std::shared_ptr<EmulatedPciGpu> gpu;
  std::unique_ptr<EmulatedNbio> model;
  std::unique_ptr<AmPciBars> bars;
  std::unique_ptr<AmRegisterIo> regs;
  std::unique_ptr<AmIndirectRegs> indirect;
  std::unique_ptr<AmNbio> nbio;

  EmulatedRegisterFile& file() { return gpu->registers(); }
  bool HasViolation(const std::string& text) {
    for (const std::string& v : file().violations())
      if (v.find(text) != std::string::npos) return true;
    return false;
  }
};

std::unique_ptr<Rig> MakeRig(std::vector<EmuIpEntry> ips = Navi31Ips(),
                             const AmIndexDataPair& pair = kNbio430RsmuPair) {
  auto rig = std::make_unique<Rig>();
  EmulatedPciGpuConfig c;
  c.device_id = 0x744c;
  c.vram_size = 64 << 20;
  c.discovery = BuildDiscoveryBinary(ips);
  absl::StatusOr<std::shared_ptr<EmulatedPciGpu>> gpu = EmulatedPciGpu::Install(rig->io, c);
  EXPECT_TRUE(gpu.ok()) << gpu.status();
  rig->gpu = *gpu;
  absl::StatusOr<std::unique_ptr<EmulatedNbio>> m = EmulatedNbio::Attach(*rig->gpu);
  EXPECT_TRUE(m.ok()) << m.status();
  rig->model = std::move(*m);
  absl::StatusOr<AmPciDriverStart> start = StartAmPciDriverForTest(rig->io);
  EXPECT_TRUE(start.ok()) << start.status();
  rig->bars = std::move(start->bars);
  rig->regs = std::move(start->regs);
  rig->indirect = std::make_unique<AmIndirectRegs>(*rig->regs, pair);
  absl::StatusOr<std::unique_ptr<AmNbio>> n = AmNbio::Create(*rig->regs, *rig->indirect);
  if (n.ok()) rig->nbio = std::move(*n);
  return rig;
}

bool Contains(const absl::Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

TEST(AmNbio, FieldEncodingMatchesLinuxsConstants) {
  // nbio_v4_3_gc_doorbell_init's literals are these fields.
  EXPECT_EQ(nbio::S2aEntry(nbio::kGcAwid, nbio::kAwaddr31To28), nbio::kGcEntry0);
  EXPECT_EQ(nbio::S2aEntry(nbio::kGcPort3Awid, nbio::kAwaddr31To28), nbio::kGcEntry3);
  // SDMA: offset 0x200 (sDMA_ENGINE0 << 1), size 20 * 2 engines.
  EXPECT_EQ(nbio::S2aEntry(nbio::kSdmaAwid, nbio::kAwaddr31To28, 0x200, 40), 0x3051001Du);
}

TEST(AmNbio, InitWritesLinuxsValuesAndTheModelRoutesEveryQueueDoorbell) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_NE(rig->nbio, nullptr);
  // Nothing routed before Init.
  EXPECT_EQ(rig->model->Route(0x16), Target::kNone);
  EXPECT_EQ(rig->model->Route(0x200), Target::kNone);

  ASSERT_TRUE(rig->nbio->Init(Soc21Layout()).ok());
  const uint32_t aper = rig->regs->map().Dword(kNbio430Regs.doorbell_aper_en);
  EXPECT_EQ(aper, 0xD20u + 0xC0);  // NBIO segment 2
  EXPECT_EQ(rig->file().WritesOf(aper), std::vector<uint32_t>{nbio::kDoorbellAperEn});
  EXPECT_TRUE(rig->model->aperture_enabled());
  EXPECT_EQ(rig->model->entry(0), 0x30000007u);
  EXPECT_EQ(rig->model->entry(3), 0x3000000Du);
  EXPECT_EQ(rig->model->entry(2), 0x3051001Du);
  EXPECT_EQ(rig->model->entry(1), 0u);  // IH: no doorbell
  EXPECT_EQ(rig->nbio->sdma_range_first(), 0x200u);
  EXPECT_EQ(rig->nbio->sdma_range_dwords(), 40u);
  // Linux's order: aperture (soc21 common), GC (gfx hw_init), SDMA (its
  // gfx_resume, read-modify-write: one read of ENTRY_2 before its write).
  std::vector<EmulatedRegisterFile::ExtendedAccess> ext = rig->file().extended_log();
  std::vector<std::pair<bool, uint64_t>> seen;
  for (const auto& a : ext) seen.emplace_back(a.write, a.address);
  const std::vector<std::pair<bool, uint64_t>> want = {
      {true, rig->model->entry_address(0)},  {false, rig->model->entry_address(0)},
      {true, rig->model->entry_address(3)},  {false, rig->model->entry_address(3)},
      {false, rig->model->entry_address(2)}, {true, rig->model->entry_address(2)},
      {false, rig->model->entry_address(2)},
  };
  EXPECT_EQ(seen, want);
  EXPECT_LT(rig->file().FirstWriteOf(aper),
            rig->file().FirstWriteOf(rig->regs->map().Dword(kNbio430RsmuPair.index)));

  // Where the queues' doorbells go (am_pci_gpu.h's layout).
  EXPECT_EQ(rig->model->Route(0x0B * 2), Target::kGc);     // first compute queue
  EXPECT_EQ(rig->model->Route(0x8A * 2), Target::kGc);     // end of the MEC range
  EXPECT_EQ(rig->model->Route(0x100 * 2), Target::kSdma);  // SDMA0
  EXPECT_EQ(rig->model->Route(0x10A * 2), Target::kSdma);  // SDMA1
  EXPECT_EQ(rig->model->Route(0x200 + 40), Target::kGc);   // past the SDMA range
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmNbio, EachMissingStepLeavesItsDoorbellsUnrouted) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->nbio->Init(Soc21Layout()).ok());
  // SDMA range off (Linux's !use_doorbell clears RANGE_SIZE only): SDMA
  // doorbells fall to the GC's catch-all, which is not SDMA.
  ASSERT_TRUE(rig->nbio->SetSdmaDoorbellRange(false, 0, 0).ok());
  EXPECT_EQ(rig->model->entry(2), 0x3001001Du);
  EXPECT_EQ(rig->model->Route(0x200), Target::kGc);
  ASSERT_TRUE(rig->nbio->SetSdmaDoorbellRange(true, 0x200, 40).ok());
  EXPECT_EQ(rig->model->Route(0x200), Target::kSdma);
  // The GC entry gone: MEC doorbells go nowhere, SDMA's still arrive.
  ASSERT_TRUE(rig->indirect->WriteReg(kNbio430Regs.s2a_entry[0], 0).ok());
  EXPECT_EQ(rig->model->Route(0x16), Target::kNone);
  EXPECT_EQ(rig->model->Route(0x200), Target::kSdma);
  // The aperture off: nothing arrives.
  ASSERT_TRUE(rig->nbio->InitGcDoorbells().ok());
  ASSERT_TRUE(rig->nbio->EnableDoorbellAperture(false).ok());
  EXPECT_EQ(rig->model->Route(0x16), Target::kNone);
  EXPECT_EQ(rig->model->Route(0x200), Target::kNone);
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmNbio, BadLayoutsAreRefusedBeforeAnyWrite) {
  struct Case {
    const char* want;
    AmDoorbellLayout layout;
  };
  const Case cases[] = {
      {"names no SDMA engine", {0, 0x114, {}}},
      {"offset below 0x400", {0, 0x114, {0x400, 0x414}}},
      {"offset below 0x400", {0, 0x114, {0x200, 0x214}, 200}},  // 400 dwords: size > 255
      {"SDMA1's doorbell (dword 0x300)", {0, 0x114, {0x200, 0x300}}},
      {"overlaps the SDMA range", {0, 0x200, {0x200, 0x214}}},
      {"is empty", {0x20, 0x10, {0x200, 0x214}}},
  };
  for (const Case& c : cases) {
    std::unique_ptr<Rig> rig = MakeRig();
    const size_t mark = rig->file().log().size();
    absl::Status s = rig->nbio->Init(c.layout);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.want << ": " << s;
    EXPECT_TRUE(Contains(s, c.want)) << s;
    EXPECT_EQ(rig->file().log().size(), mark) << c.want;
  }
  std::unique_ptr<Rig> rig = MakeRig();
  absl::Status s = rig->nbio->SetSdmaDoorbellRange(true, 0x200, 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
}

TEST(AmNbio, AnEntryWithOtherFieldsThanLinuxsIsAViolation) {
  std::unique_ptr<Rig> rig = MakeRig();
  // SDMA's port given the GC's AWID.
  ASSERT_TRUE(rig->indirect
                  ->WriteReg(kNbio430Regs.s2a_entry[2],
                             nbio::S2aEntry(nbio::kGcAwid, nbio::kAwaddr31To28, 0x200, 40))
                  .ok());
  EXPECT_TRUE(rig->HasViolation("regS2A_DOORBELL_ENTRY_2_CTRL = 0x30510007: AWID 0x3"))
      << rig->file().CheckNoViolations();
  // A range past the offset field's reach.
  ASSERT_TRUE(rig->indirect
                  ->WriteReg(kNbio430Regs.s2a_entry[2],
                             nbio::S2aEntry(nbio::kSdmaAwid, nbio::kAwaddr31To28, 0x3F0, 40))
                  .ok());
  EXPECT_TRUE(rig->HasViolation("runs past the 0x400 dwords")) << rig->file().CheckNoViolations();
}

TEST(AmNbio, CreateRefusesS2aRegistersThePairCannotReach) {
  // An NBIO whose segment 3 sits past 4 GiB of SMN space: the RSMU pair
  // (32-bit) cannot reach the S2A registers, PCIE_INDEX2 (40-bit) can.
  std::vector<EmuIpEntry> ips = Navi31Ips();
  for (EmuIpEntry& ip : ips)
    if (ip.hw_id == kHwIdNbif) ip.bases[3] = 0x40000000;
  std::unique_ptr<Rig> rig = MakeRig(ips);
  EXPECT_EQ(rig->nbio, nullptr);
  absl::StatusOr<std::unique_ptr<AmNbio>> n = AmNbio::Create(*rig->regs, *rig->indirect);
  EXPECT_EQ(n.status().code(), absl::StatusCode::kFailedPrecondition) << n.status();
  EXPECT_TRUE(Contains(n.status(), "regS2A_DOORBELL_ENTRY_0_CTRL")) << n.status();
  EXPECT_TRUE(Contains(n.status(), "regBIF_BX_PF0_RSMU_INDEX")) << n.status();
  std::unique_ptr<Rig> wide = MakeRig(ips, kNbio430PcieIndex2Pair);
  ASSERT_NE(wide->nbio, nullptr);
  ASSERT_TRUE(wide->nbio->Init(Soc21Layout()).ok());
  EXPECT_EQ(wide->model->entry(2), 0x3051001Du);
  EXPECT_EQ(wide->model->Route(0x200), Target::kSdma);
}

TEST(AmNbio, ARemovedDeviceIsUnavailableNamingTheRegister) {
  std::unique_ptr<Rig> rig = MakeRig();
  rig->gpu->Remove();
  absl::Status s = rig->nbio->Init(Soc21Layout());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(Contains(s, "regRCC_DEV0_EPF0_RCC_DOORBELL_APER_EN")) << s;
  std::unique_ptr<Rig> r2 = MakeRig();
  ASSERT_TRUE(r2->nbio->EnableDoorbellAperture(true).ok());
  r2->gpu->Remove();
  s = r2->nbio->InitGcDoorbells();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(Contains(s, "regS2A_DOORBELL_ENTRY_0_CTRL")) << s;
}

}  // namespace
}  // namespace uop
