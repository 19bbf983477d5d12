// PSP (MP0 13.0) bring-up on the emulated Navi31: the bootloader stages of
// an sOS file, the KM ring and LOAD_IP_FW pass every handshake check and
// deliver the right bytes; each out-of-order handshake is a violation and
// every bounded wait times out naming what it waited for.
#include "drivers/am/pci/psp.h"

#include <memory>

#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/gmc_ih_model.h"
#include "drivers/am/emulator/psp_firmware_file.h"
#include "drivers/am/emulator/psp_model.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/gmc.h"
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
  absl::StatusOr<std::unique_ptr<AmPciBars>> bars =
      AmPciBars::Open(rig->io, (*FindAmdGpus(rig->io, "/sys/bus/pci/devices"))[0]);
  EXPECT_TRUE(bars.ok()) << bars.status();
  rig->bars = std::move(*bars);
  absl::StatusOr<AmDiscovery> d = ReadAmDiscovery(rig->bars->regs(), rig->bars->vram());
  EXPECT_TRUE(d.ok()) << d.status();
  absl::StatusOr<AmRegisterMap> map = AmRegisterMap::Create(d->ip);
  EXPECT_TRUE(map.ok()) << map.status();
  rig->regs = std::make_unique<AmRegisterIo>(rig->bars->regs(), std::move(*map));
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

  const std::vector<uint8_t> mec = PatternBytes(300000, 89);
  ASSERT_TRUE(rig->psp->LoadIpFw(/*GFX_FW_TYPE_RS64_MEC=*/89, mec).ok());
  ASSERT_EQ(rig->psp_model->ip_fw_loads().size(), 1u);
  EXPECT_EQ(rig->psp_model->ip_fw_loads()[0].fw_type, 89u);
  EXPECT_EQ(rig->psp_model->ip_fw_loads()[0].bytes, mec);
  uint32_t fence = 0;
  rig->gpu->ReadVram(rig->psp->fence_buffer(),
                     absl::MakeSpan(reinterpret_cast<uint8_t*>(&fence), 4));
  EXPECT_EQ(fence, 1u);
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(kMp01300Regs.c2pmsg_67)), std::vector<uint32_t>{16});

  const std::vector<uint8_t> pfp = PatternBytes(4000, 87);
  ASSERT_TRUE(rig->psp->LoadIpFw(/*GFX_FW_TYPE_RS64_PFP=*/87, pfp).ok());
  EXPECT_EQ(rig->psp_model->ip_fw_loads()[1].bytes, pfp);
  EXPECT_EQ(rig->psp->last_fence(), 2u);
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

}  // namespace
}  // namespace uop
