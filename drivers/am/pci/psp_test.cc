// PSP (MP0 13.0) bring-up on the emulated Navi31: the bootloader stages of
// an sOS file, the KM ring and LOAD_IP_FW pass every handshake check and
// deliver the right bytes; each out-of-order handshake is a violation and
// every bounded wait times out naming what it waited for.
#include "drivers/am/pci/psp.h"

#include <cstring>
#include <memory>

#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/gmc_ih_model.h"
#include "drivers/am/emulator/ip_firmware_files.h"
#include "drivers/am/emulator/psp_firmware_file.h"
#include "drivers/am/emulator/psp_model.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/driver_start_for_test.h"
#include "drivers/am/pci/gmc.h"
#include "drivers/am/pci/ip_firmware.h"
#include "drivers/am/pci/pci_bars.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

constexpr uint64_t kVram = 256 << 20;

struct Rig {
  EmulatedKernelIo io;
  std::shared_ptr<EmulatedPciGpu> gpu;
  std::unique_ptr<EmulatedGmcIh> gmc_model;
  std::unique_ptr<EmulatedPsp> psp_model;
  std::unique_ptr<AmPciBars> bars;
  std::unique_ptr<AmRegisterIo> regs;
  AmVramArena arena{1 << 20, kVram - kDiscoveryTmrOffset};
  std::unique_ptr<AmGmc> gmc;
  std::unique_ptr<AmPsp> psp;

  EmulatedRegisterFile& file() { return gpu->registers(); }
  uint32_t Dword(const AmReg& r) { return regs->map().Dword(r); }
  bool HasViolation(const std::string& text) {
    for (const std::string& v : file().violations())
      if (v.find(text) != std::string::npos) return true;
    return false;
  }
};

std::unique_ptr<Rig> MakeRig(EmulatedPspConfig psp_config = {},
                             absl::Duration timeout = absl::Seconds(1)) {
  auto rig = std::make_unique<Rig>();
  EmulatedPciGpuConfig c;
  c.device_id = 0x744c;  // Navi31
  c.vram_size = kVram;
  c.discovery = BuildDiscoveryBinary(Navi31Ips());
  absl::StatusOr<std::shared_ptr<EmulatedPciGpu>> gpu = EmulatedPciGpu::Install(rig->io, c);
  EXPECT_TRUE(gpu.ok()) << gpu.status();
  rig->gpu = *gpu;
  absl::StatusOr<std::unique_ptr<EmulatedGmcIh>> gm = EmulatedGmcIh::Attach(*rig->gpu);
  EXPECT_TRUE(gm.ok()) << gm.status();
  rig->gmc_model = std::move(*gm);
  absl::StatusOr<std::unique_ptr<EmulatedPsp>> pm = EmulatedPsp::Attach(*rig->gpu, psp_config);
  EXPECT_TRUE(pm.ok()) << pm.status();
  rig->psp_model = std::move(*pm);
  absl::StatusOr<AmPciDriverStart> start = StartAmPciDriverForTest(rig->io);
  EXPECT_TRUE(start.ok()) << start.status();
  rig->bars = std::move(start->bars);
  rig->regs = std::move(start->regs);
  absl::StatusOr<std::unique_ptr<AmGmc>> gmc =
      AmGmc::Create(*rig->regs, rig->bars->vram(), kVram, rig->arena);
  EXPECT_TRUE(gmc.ok()) << gmc.status();
  rig->gmc = std::move(*gmc);
  EXPECT_TRUE(rig->gmc->Init().ok());
  AmPspConfig pc;
  pc.wait_timeout = timeout;
  absl::StatusOr<std::unique_ptr<AmPsp>> psp =
      AmPsp::Create(*rig->regs, rig->bars->vram(), *rig->gmc, rig->arena, pc);
  EXPECT_TRUE(psp.ok()) << psp.status();
  rig->psp = std::move(*psp);
  return rig;
}

PspFirmware Sos(std::vector<EmuPspComponent> comps = Navi31SosComponents()) {
  absl::StatusOr<PspFirmware> fw = ParsePspFirmware(BuildPspFirmwareFile(comps), "sos.bin");
  EXPECT_TRUE(fw.ok()) << fw.status();
  return std::move(*fw);
}

TEST(AmPsp, BootsSosCreatesTheRingAndLoadsIpFirmware) {
  std::unique_ptr<Rig> rig = MakeRig();
  const std::vector<EmuPspComponent> comps = Navi31SosComponents();
  ASSERT_TRUE(rig->psp->LoadSos(Sos(comps)).ok());
  EXPECT_TRUE(rig->psp_model->sos_alive());
  EXPECT_EQ(rig->psp->fw_buffer() % (1 << 20), 0u);

  // Every stage, in psp_hw_start's order, with its bytes at the address
  // C2PMSG_36 named.
  const uint32_t want[] = {psp::kBlLoadKeyDatabase, psp::kBlLoadTosSplTable, psp::kBlLoadSysDrv,
                           psp::kBlLoadSocDrv,      psp::kBlLoadIntfDrv,     psp::kBlLoadDbgDrv,
                           psp::kBlLoadRasDrv,      psp::kBlLoadSosDrv};
  const auto& loads = rig->psp_model->bootloader_loads();
  ASSERT_EQ(loads.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(loads[i].command, want[i]) << i;
    EXPECT_EQ(loads[i].vram, rig->psp->fw_buffer());
    const std::vector<uint8_t>& c = comps[i].bytes;
    EXPECT_TRUE(std::equal(loads[i].bytes.begin(), loads[i].bytes.end(), c.begin())) << i;
  }
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(kMp01300Regs.c2pmsg_36))[0],
            rig->gmc->VramMc(rig->psp->fw_buffer()) >> 20);

  ASSERT_TRUE(rig->psp->CreateRing().ok());
  EXPECT_TRUE(rig->psp_model->ring_created());
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(kMp01300Regs.c2pmsg_64)),
            std::vector<uint32_t>{psp::kRingTypeKm << 16});

  // LOAD_IP_FW through the ring, in MP0 13.0's order: TOC, SMU, TMR, others.
  ASSERT_TRUE(rig->psp->LoadToc(Sos(Navi31SosComponents(8192, /*with_toc=*/true))).ok());
  uint32_t fence = 0;
  rig->gpu->ReadVram(rig->psp->fence_buffer(),
                     absl::MakeSpan(reinterpret_cast<uint8_t*>(&fence), 4));
  EXPECT_EQ(fence, 1u);
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(kMp01300Regs.c2pmsg_67)), std::vector<uint32_t>{16});
  const std::vector<uint8_t> smu = PatternBytes(5000, 18);
  ASSERT_TRUE(rig->psp->LoadIpFw(gfx_fw::kSmu, smu).ok());
  ASSERT_TRUE(rig->psp->SetupTmr().ok());
  const std::vector<uint8_t> mec = PatternBytes(300000, 89);
  ASSERT_TRUE(rig->psp->LoadIpFw(gfx_fw::kRs64Mec, mec).ok());
  const auto& ip = rig->psp_model->ip_fw_loads();
  ASSERT_EQ(ip.size(), 2u);
  EXPECT_EQ(ip[0].fw_type, gfx_fw::kSmu);
  EXPECT_EQ(ip[0].bytes, smu);
  EXPECT_EQ(ip[1].fw_type, gfx_fw::kRs64Mec);
  EXPECT_EQ(ip[1].bytes, mec);
  EXPECT_EQ(ip[1].vram, rig->psp->fw_buffer());

  const std::vector<uint8_t> pfp = PatternBytes(4000, 87);
  ASSERT_TRUE(rig->psp->LoadIpFw(gfx_fw::kRs64Pfp, pfp).ok());
  EXPECT_EQ(rig->psp_model->ip_fw_loads()[2].bytes, pfp);
  EXPECT_EQ(rig->psp->last_fence(), 5u);
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(kMp01300Regs.c2pmsg_67)),
            (std::vector<uint32_t>{16, 32, 48, 64, 80}));
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmPsp, SkipsAbsentComponentsAndAnAlreadyRunningSos) {
  std::unique_ptr<Rig> rig = MakeRig();
  std::vector<EmuPspComponent> comps;
  for (EmuPspComponent& c : Navi31SosComponents())
    if (c.type != PspFwType::kSpl && c.type != PspFwType::kDbgDrv) comps.push_back(c);
  ASSERT_TRUE(rig->psp->LoadSos(Sos(comps)).ok());
  EXPECT_EQ(rig->psp_model->bootloader_loads().size(), 6u);
  for (const auto& l : rig->psp_model->bootloader_loads()) {
    EXPECT_NE(l.command, psp::kBlLoadTosSplTable);
    EXPECT_NE(l.command, psp::kBlLoadDbgDrv);
  }
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();

  EmulatedPspConfig alive;
  alive.sos_alive_at_start = true;
  std::unique_ptr<Rig> warm = MakeRig(alive);
  ASSERT_TRUE(warm->psp->LoadSos(Sos()).ok());
  EXPECT_TRUE(warm->file().WritesOf(warm->Dword(kMp01300Regs.c2pmsg_35)).empty());
  EXPECT_TRUE(warm->file().WritesOf(warm->Dword(kMp01300Regs.c2pmsg_36)).empty());
  ASSERT_TRUE(warm->psp->CreateRing().ok());
  EXPECT_TRUE(warm->file().CheckNoViolations().ok()) << warm->file().CheckNoViolations();
}

TEST(AmPsp, DestroysARingLeftByAnEarlierProcess) {
  EmulatedPspConfig alive;
  alive.sos_alive_at_start = true;
  std::unique_ptr<Rig> rig = MakeRig(alive);
  rig->gpu->SetRegister(rig->Dword(kMp01300Regs.c2pmsg_71), 0x10000);
  ASSERT_TRUE(rig->psp->CreateRing().ok());
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(kMp01300Regs.c2pmsg_64)),
            (std::vector<uint32_t>{psp::kCtrlDestroyRings, psp::kRingTypeKm << 16}));
  EXPECT_TRUE(rig->psp_model->ring_created());
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmPsp, TheRingWrapsAndUnknownCommandsReturnTheirStatus) {
  EmulatedPspConfig alive;
  alive.sos_alive_at_start = true;
  std::unique_ptr<Rig> rig = MakeRig(alive);
  ASSERT_TRUE(rig->psp->CreateRing().ok());
  // 64 KiB ring = 1024 frames: 1030 commands wrap it.
  for (int i = 0; i < 1030; ++i) {
    absl::StatusOr<uint32_t> status = rig->psp->Submit(0x99, {});
    ASSERT_TRUE(status.ok()) << status.status();
    ASSERT_EQ(*status, 0xFFFF0002u);
  }
  EXPECT_EQ(rig->psp_model->frames_executed(), 1030);
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(kMp01300Regs.c2pmsg_67)).back(), 6u * 16);
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmPsp, BadInputIsRefused) {
  std::unique_ptr<Rig> rig = MakeRig();
  absl::Status ring = rig->psp->CreateRing();
  EXPECT_EQ(ring.code(), absl::StatusCode::kFailedPrecondition) << ring;
  EXPECT_EQ(rig->psp->Submit(6, {}).status().code(), absl::StatusCode::kFailedPrecondition);
  std::vector<EmuPspComponent> no_sos = Navi31SosComponents();
  no_sos.pop_back();
  absl::Status s = rig->psp->LoadSos(Sos(no_sos));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("SOS"), std::string::npos) << s;
  std::vector<EmuPspComponent> big = Navi31SosComponents();
  big[0].bytes.resize((1 << 20) + 1);
  s = rig->psp->LoadSos(Sos(big));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("KDB"), std::string::npos) << s;
}

TEST(AmPsp, BoundedWaitsNameTheRegister) {
  EmulatedPspConfig hung;
  hung.never_ready = true;
  std::unique_ptr<Rig> rig = MakeRig(hung, absl::Milliseconds(20));
  const absl::Time start = absl::Now();
  absl::Status s = rig->psp->LoadSos(Sos());
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_NE(s.message().find("regMP0_SMN_C2PMSG_35"), std::string::npos) << s;
  EXPECT_NE(s.message().find("KDB"), std::string::npos) << s;
  EXPECT_GE(took, absl::Milliseconds(20));
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_TRUE(rig->file().WritesOf(rig->Dword(kMp01300Regs.c2pmsg_35)).empty());

  EmulatedPspConfig lost;
  lost.sos_alive_at_start = true;
  lost.drop_fences = true;
  std::unique_ptr<Rig> r2 = MakeRig(lost, absl::Milliseconds(20));
  ASSERT_TRUE(r2->psp->CreateRing().ok());
  s = r2->psp->LoadIpFw(89, PatternBytes(100, 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_NE(s.message().find("fence"), std::string::npos) << s;
  EXPECT_NE(s.message().find("regMP0_SMN_C2PMSG_67"), std::string::npos) << s;
}

TEST(AmPsp, OutOfOrderHandshakesAreViolations) {
  const AmPspRegs& r = kMp01300Regs;
  {  // a stage written before the bootloader reported ready
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->regs->Write(r.c2pmsg_36, rig->gmc->VramMc(rig->psp->fw_buffer()) >> 20).ok());
    ASSERT_TRUE(rig->regs->Write(r.c2pmsg_35, psp::kBlLoadSysDrv).ok());
    EXPECT_TRUE(rig->HasViolation("LOAD_SYSDRV written before the bootloader reported ready"))
        << rig->file().CheckNoViolations();
  }
  {  // a load command without an address; SOS before SYS_DRV
    std::unique_ptr<Rig> rig = MakeRig();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(rig->regs->Read(r.c2pmsg_35).ok());
    ASSERT_TRUE(rig->regs->Write(r.c2pmsg_35, psp::kBlLoadKeyDatabase).ok());
    EXPECT_TRUE(rig->HasViolation("LOAD_KEY_DATABASE without its address"))
        << rig->file().CheckNoViolations();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(rig->regs->Read(r.c2pmsg_35).ok());
    ASSERT_TRUE(rig->regs->Write(r.c2pmsg_36, rig->gmc->VramMc(rig->psp->fw_buffer()) >> 20).ok());
    ASSERT_TRUE(rig->regs->Write(r.c2pmsg_35, psp::kBlLoadSosDrv).ok());
    EXPECT_TRUE(rig->HasViolation("LOAD_SOSDRV before LOAD_SYSDRV"));
  }
  {  // a ring command, a write pointer before sOS is alive
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->regs->Write(r.c2pmsg_64, psp::kRingTypeKm << 16).ok());
    EXPECT_TRUE(rig->HasViolation("before the sOS is alive"));
    ASSERT_TRUE(rig->regs->Write(r.c2pmsg_67, 16).ok());
    EXPECT_TRUE(rig->HasViolation("with no KM ring"));
    EXPECT_FALSE(rig->psp_model->ring_created());
  }
  {  // ring created without its address and size
    EmulatedPspConfig alive;
    alive.sos_alive_at_start = true;
    std::unique_ptr<Rig> rig = MakeRig(alive);
    ASSERT_TRUE(rig->regs->Write(r.c2pmsg_64, psp::kRingTypeKm << 16).ok());
    EXPECT_TRUE(rig->HasViolation("before C2PMSG_69/70/71"));
    EXPECT_FALSE(rig->psp_model->ring_created());
  }
}

// --- TOC, TMR, IP firmware, RLC autoload ---------------------------------

PspFirmware SosWithToc() { return Sos(Navi31SosComponents(8192, /*with_toc=*/true)); }

// The images of the synthetic Navi31 files, read as the integrator will.
std::vector<AmIpFirmware> Images(Rig& rig, const EmuIpFirmwareSet& set) {
  InstallIpFirmware(rig.io, "/lib/firmware/amdgpu", set);
  absl::StatusOr<IpDiscoveryTable> table = ParseIpDiscovery(BuildDiscoveryBinary(Navi31Ips()));
  EXPECT_TRUE(table.ok()) << table.status();
  absl::StatusOr<std::vector<AmIpFirmware>> fw =
      ReadAmIpFirmware(rig.io, "/lib/firmware/amdgpu", *table);
  EXPECT_TRUE(fw.ok()) << fw.status();
  return *fw;
}

std::vector<uint8_t> Words(std::initializer_list<uint32_t> words) {
  std::vector<uint8_t> b(words.size() * 4);
  size_t i = 0;
  for (uint32_t w : words) std::memcpy(b.data() + 4 * i++, &w, 4);
  return b;
}

TEST(AmPsp, BringUpLoadsTocTmrEveryImageAndStartsTheAutoload) {
  std::unique_ptr<Rig> rig = MakeRig();
  const EmuIpFirmwareSet set = Navi31IpFirmware();
  const std::vector<AmIpFirmware> images = Images(*rig, set);
  size_t loads_at_autoload = 0;
  int autoloads = 0;
  rig->psp_model->OnAutoload([&] {
    ++autoloads;
    loads_at_autoload = rig->psp_model->ip_fw_loads().size();
  });
  const PspFirmware sos = SosWithToc();
  absl::Status s = rig->psp->BringUp(sos, images);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();

  // TOC: the file's component, byte-exact; the TMR the size it asked for.
  const absl::Span<const uint8_t> toc = sos.Bytes(PspFwType::kToc);
  EXPECT_EQ(rig->psp_model->toc_bytes(), std::vector<uint8_t>(toc.begin(), toc.end()));
  ASSERT_TRUE(rig->psp_model->tmr().has_value());
  const EmulatedPsp::TmrSetup& tmr = *rig->psp_model->tmr();
  EXPECT_EQ(tmr.size, EmulatedPspConfig{}.toc_tmr_size);
  EXPECT_EQ(rig->psp->tmr_size(), tmr.size);
  EXPECT_EQ(tmr.vram, rig->psp->tmr());
  EXPECT_EQ(tmr.vram % (1 << 20), 0u);
  EXPECT_EQ(tmr.mc, rig->gmc->VramMc(rig->psp->tmr()));
  EXPECT_EQ(tmr.system_pa, rig->psp->tmr());
  EXPECT_EQ(tmr.flags, psp::kTmrFlagVirtPhyAddr);

  // Every image, byte-exact, with its fw_type, in Linux's order.
  const auto& loads = rig->psp_model->ip_fw_loads();
  ASSERT_EQ(loads.size(), set.expected.size());
  for (size_t i = 0; i < loads.size(); ++i) {
    EXPECT_EQ(loads[i].fw_type, set.expected[i].fw_type) << i;
    EXPECT_EQ(loads[i].bytes, set.expected[i].image) << i;
  }
  // The autoload once, after the last image; the ring carried TOC, SMU,
  // SETUP_TMR, the 23 other images and AUTOLOAD_RLC.
  EXPECT_EQ(autoloads, 1);
  EXPECT_EQ(loads_at_autoload, set.expected.size());
  EXPECT_TRUE(rig->psp->autoload_started());
  EXPECT_EQ(rig->psp_model->frames_executed(), static_cast<int>(set.expected.size()) + 3);
  EXPECT_EQ(rig->psp->last_fence(), set.expected.size() + 3);
}

TEST(AmPsp, ImagesOverOneMegabyteGoThroughAStagingBuffer) {
  std::unique_ptr<Rig> rig = MakeRig();
  EmuIpFirmwareConfig c;
  c.mec_bytes = (3 << 20) / 2 + 123;  // 1.5 MiB + 123
  const EmuIpFirmwareSet set = Navi31IpFirmware(c);
  const std::vector<AmIpFirmware> images = Images(*rig, set);
  absl::Status s = rig->psp->BringUp(SosWithToc(), images);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
  bool seen = false;
  for (const EmulatedPsp::IpFwLoad& l : rig->psp_model->ip_fw_loads()) {
    if (l.fw_type != gfx_fw::kRs64Mec) continue;
    seen = true;
    EXPECT_EQ(l.size, c.mec_bytes);
    EXPECT_NE(l.vram, rig->psp->fw_buffer());
    EXPECT_EQ(l.vram % (1 << 20), 0u);
    EXPECT_EQ(l.bytes, set.expected[5].image);
  }
  EXPECT_TRUE(seen);
}

TEST(AmPsp, TocAbsentOrAnsweringZero) {
  // A file without a TOC: Linux's default TMR size and no command.
  EmulatedPspConfig alive;
  alive.sos_alive_at_start = true;
  std::unique_ptr<Rig> rig = MakeRig(alive);
  ASSERT_TRUE(rig->psp->CreateRing().ok());
  absl::StatusOr<uint32_t> size = rig->psp->LoadToc(Sos());
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, psp::kDefaultTmrSize);
  EXPECT_EQ(rig->psp_model->frames_executed(), 0);

  EmulatedPspConfig zero = alive;
  zero.toc_tmr_size = 0;
  std::unique_ptr<Rig> r2 = MakeRig(zero);
  ASSERT_TRUE(r2->psp->CreateRing().ok());
  size = r2->psp->LoadToc(SosWithToc());
  EXPECT_EQ(size.status().code(), absl::StatusCode::kDataLoss) << size.status();
  EXPECT_NE(size.status().message().find("tmr_size 0"), std::string::npos) << size.status();
}

TEST(AmPsp, TheDriverRefusesOutOfOrderCalls) {
  EmulatedPspConfig alive;
  alive.sos_alive_at_start = true;
  std::unique_ptr<Rig> rig = MakeRig(alive);
  const std::vector<AmIpFirmware> images = Images(*rig, Navi31IpFirmware());
  EXPECT_EQ(rig->psp->SetupTmr().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(rig->psp->CreateRing().ok());
  ASSERT_TRUE(rig->psp->LoadToc(SosWithToc()).ok());
  // An image other than the SMU before the TMR.
  absl::Status s = rig->psp->LoadIpFirmwares(absl::MakeConstSpan(images).subspan(1, 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("SDMA_UCODE_TH0"), std::string::npos) << s;
  s = rig->psp->AutoloadRlc();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  ASSERT_TRUE(rig->psp->LoadIpFirmwares(absl::MakeConstSpan(images).first(1)).ok());
  ASSERT_TRUE(rig->psp->SetupTmr().ok());
  // The SMU after the TMR.
  s = rig->psp->LoadIpFirmwares(absl::MakeConstSpan(images).first(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("SMU"), std::string::npos) << s;
  EXPECT_EQ(rig->psp_model->ip_fw_loads().size(), 1u);  // nothing sent for the refused calls
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();

  // BringUp wants the SMU first.
  std::unique_ptr<Rig> r2 = MakeRig();
  std::vector<AmIpFirmware> swapped = Images(*r2, Navi31IpFirmware());
  std::swap(swapped[0], swapped[1]);
  s = r2->psp->BringUp(SosWithToc(), swapped);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(r2->psp_model->bootloader_loads().empty());
}

// A rig with sOS and ring up, and LOAD_TOC done unless `toc` is false.
std::unique_ptr<Rig> RingRig(bool toc = true) {
  EmulatedPspConfig alive;
  alive.sos_alive_at_start = true;
  std::unique_ptr<Rig> rig = MakeRig(alive);
  EXPECT_TRUE(rig->psp->CreateRing().ok());
  if (toc) {
    EXPECT_TRUE(rig->psp->LoadToc(SosWithToc()).ok());
  }
  return rig;
}

TEST(AmPsp, OutOfOrderGfxCommandsAreViolations) {
  const std::vector<uint8_t> smu = PatternBytes(100, 1), mec = PatternBytes(100, 2);
  {  // SETUP_TMR before LOAD_TOC
    std::unique_ptr<Rig> rig = RingRig(/*toc=*/false);
    ASSERT_TRUE(rig->psp->SetupTmr().ok());
    EXPECT_TRUE(rig->HasViolation("SETUP_TMR before LOAD_TOC")) << rig->file().CheckNoViolations();
  }
  {  // the SMU before LOAD_TOC
    std::unique_ptr<Rig> rig = RingRig(/*toc=*/false);
    ASSERT_TRUE(rig->psp->LoadIpFw(gfx_fw::kSmu, smu).ok());
    EXPECT_TRUE(rig->HasViolation("SMU before LOAD_TOC")) << rig->file().CheckNoViolations();
  }
  {  // another image first (no SMU) and before the TMR
    std::unique_ptr<Rig> rig = RingRig();
    ASSERT_TRUE(rig->psp->LoadIpFw(gfx_fw::kRs64Mec, mec).ok());
    EXPECT_TRUE(rig->HasViolation("LOAD_IP_FW of RS64_MEC before the SMU"));
    EXPECT_TRUE(rig->HasViolation("LOAD_IP_FW of RS64_MEC before SETUP_TMR"));
  }
  {  // the SMU after the TMR; LOAD_TOC after the TMR; SETUP_TMR twice
    std::unique_ptr<Rig> rig = RingRig();
    ASSERT_TRUE(rig->psp->SetupTmr().ok());
    ASSERT_TRUE(rig->psp->LoadIpFw(gfx_fw::kSmu, smu).ok());
    EXPECT_TRUE(rig->HasViolation("SMU after SETUP_TMR")) << rig->file().CheckNoViolations();
    ASSERT_TRUE(rig->psp->LoadToc(SosWithToc()).ok());
    EXPECT_TRUE(rig->HasViolation("LOAD_TOC after SETUP_TMR"));
    EXPECT_EQ(rig->psp->SetupTmr().code(), absl::StatusCode::kInternal);
    EXPECT_TRUE(rig->HasViolation("SETUP_TMR a second time"));
  }
  {  // AUTOLOAD_RLC before the TMR
    std::unique_ptr<Rig> rig = RingRig();
    absl::StatusOr<uint32_t> st = rig->psp->Submit(psp::kCmdAutoloadRlc, {});
    ASSERT_TRUE(st.ok());
    EXPECT_NE(*st, 0u);
    EXPECT_TRUE(rig->HasViolation("AUTOLOAD_RLC before SETUP_TMR"));
  }
  {  // AUTOLOAD_RLC with only the SMU and RLC_G loaded: no autoload happens
    std::unique_ptr<Rig> rig = RingRig();
    bool called = false;
    rig->psp_model->OnAutoload([&] { called = true; });
    ASSERT_TRUE(rig->psp->LoadIpFw(gfx_fw::kSmu, smu).ok());
    ASSERT_TRUE(rig->psp->SetupTmr().ok());
    ASSERT_TRUE(rig->psp->LoadIpFw(gfx_fw::kRlcG, mec).ok());
    absl::Status s = rig->psp->AutoloadRlc();
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
    EXPECT_TRUE(rig->HasViolation(
        "AUTOLOAD_RLC before IMU_I, IMU_D, RS64_PFP, RS64_ME, RS64_MEC, SDMA_UCODE_TH0 was loaded"))
        << rig->file().CheckNoViolations();
    EXPECT_FALSE(called);
    EXPECT_FALSE(rig->psp_model->autoload_started());
  }
  {  // after a full bring-up: AUTOLOAD_RLC again, a GFX image after it
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->psp->BringUp(SosWithToc(), Images(*rig, Navi31IpFirmware())).ok());
    EXPECT_EQ(rig->psp->AutoloadRlc().code(), absl::StatusCode::kInternal);
    EXPECT_TRUE(rig->HasViolation("AUTOLOAD_RLC a second time"));
    ASSERT_TRUE(rig->psp->LoadIpFw(gfx_fw::kRs64Mec, mec).ok());
    EXPECT_TRUE(rig->HasViolation("LOAD_IP_FW of RS64_MEC after AUTOLOAD_RLC"));
  }
}

TEST(AmPsp, BadTmrAndOverlappingImagesAreViolations) {
  // Raw SETUP_TMR commands: {mc lo, mc hi, size, flags, pa lo, pa hi}.
  auto setup = [](Rig& rig, uint64_t vram, uint32_t size, uint32_t flags, uint64_t pa) {
    const uint64_t mc = rig.gmc->VramMc(vram);
    return rig.psp->Submit(
        psp::kCmdSetupTmr,
        Words({static_cast<uint32_t>(mc), static_cast<uint32_t>(mc >> 32), size, flags,
               static_cast<uint32_t>(pa), static_cast<uint32_t>(pa >> 32)}));
  };
  const uint32_t want = EmulatedPspConfig{}.toc_tmr_size;
  const uint64_t at = 64 << 20;  // free, 1 MiB-aligned VRAM in the test rig
  {
    std::unique_ptr<Rig> rig = RingRig();
    absl::StatusOr<uint32_t> st = setup(*rig, at + 4096, want, psp::kTmrFlagVirtPhyAddr, at + 4096);
    ASSERT_TRUE(st.ok());
    EXPECT_NE(*st, 0u);
    EXPECT_TRUE(rig->HasViolation("1 MiB-aligned")) << rig->file().CheckNoViolations();
  }
  {
    std::unique_ptr<Rig> rig = RingRig();
    ASSERT_TRUE(setup(*rig, at, want - 4096, psp::kTmrFlagVirtPhyAddr, at).ok());
    EXPECT_TRUE(rig->HasViolation("smaller than the")) << rig->file().CheckNoViolations();
  }
  {
    std::unique_ptr<Rig> rig = RingRig();
    ASSERT_TRUE(setup(*rig, at, want, 0, at).ok());
    EXPECT_TRUE(rig->HasViolation("without virt_phy_addr")) << rig->file().CheckNoViolations();
  }
  {
    std::unique_ptr<Rig> rig = RingRig();
    ASSERT_TRUE(setup(*rig, at, want, psp::kTmrFlagVirtPhyAddr, rig->gmc->VramMc(at)).ok());
    EXPECT_TRUE(rig->HasViolation("system_phy_addr")) << rig->file().CheckNoViolations();
  }
  {
    std::unique_ptr<Rig> rig = RingRig();
    ASSERT_TRUE(setup(*rig, kVram - (1 << 20), want, psp::kTmrFlagVirtPhyAddr, 0).ok());
    EXPECT_TRUE(rig->HasViolation("inside VRAM")) << rig->file().CheckNoViolations();
  }
  {  // an image whose address lies inside the TMR
    std::unique_ptr<Rig> rig = RingRig();
    ASSERT_TRUE(rig->psp->LoadIpFw(gfx_fw::kSmu, PatternBytes(64, 3)).ok());
    ASSERT_TRUE(rig->psp->SetupTmr().ok());
    const uint64_t mc = rig->gmc->VramMc(rig->psp->tmr() + 8192);
    absl::StatusOr<uint32_t> st = rig->psp->Submit(
        psp::kCmdLoadIpFw, Words({static_cast<uint32_t>(mc), static_cast<uint32_t>(mc >> 32), 4096,
                                  gfx_fw::kRs64Mec}));
    ASSERT_TRUE(st.ok());
    EXPECT_NE(*st, 0u);
    EXPECT_TRUE(rig->HasViolation("overlap the TMR")) << rig->file().CheckNoViolations();
  }
}

TEST(AmPsp, BringUpWaitsAreBounded) {
  EmulatedPspConfig lost;
  lost.sos_alive_at_start = true;
  lost.drop_fences = true;
  std::unique_ptr<Rig> rig = MakeRig(lost, absl::Milliseconds(20));
  const std::vector<AmIpFirmware> images = Images(*rig, Navi31IpFirmware());
  const absl::Time start = absl::Now();
  absl::Status s = rig->psp->BringUp(SosWithToc(), images);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_NE(s.message().find("command 32"), std::string::npos) << s;  // LOAD_TOC
  EXPECT_GE(took, absl::Milliseconds(20));
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_FALSE(rig->psp->tmr_ready());
}

}  // namespace
}  // namespace uop
