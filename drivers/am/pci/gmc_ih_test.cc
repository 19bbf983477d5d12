// GMC and IH bring-up on the emulated Navi31 (trapped register model):
// the right sequence passes every check and works (GART translation, IV
// decoding); each wrong sequence is caught.
#include <memory>

#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/gmc_ih_model.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/driver_start_for_test.h"
#include "drivers/am/pci/gmc.h"
#include "drivers/am/pci/ih.h"
#include "drivers/am/pci/pci_bars.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

constexpr uint64_t kVram = 256 << 20;

struct Rig {
  EmulatedKernelIo io;
  std::shared_ptr<EmulatedPciGpu> gpu;
  std::unique_ptr<EmulatedGmcIh> model;
  std::unique_ptr<AmPciBars> bars;
  std::unique_ptr<AmRegisterIo> regs;
  AmVramArena arena{1 << 20, kVram - kDiscoveryTmrOffset};

  EmulatedRegisterFile& file() { return gpu->registers(); }
  uint32_t Dword(const AmReg& r) { return regs->map().Dword(r); }
};

std::unique_ptr<Rig> MakeRig(EmulatedGmcIhConfig model_config = {}) {
  auto rig = std::make_unique<Rig>();
  EmulatedPciGpuConfig c;
  c.device_id = 0x744c;  // Navi31
  c.vram_size = kVram;
  c.discovery = BuildDiscoveryBinary(Navi31Ips());
  absl::StatusOr<std::shared_ptr<EmulatedPciGpu>> gpu = EmulatedPciGpu::Install(rig->io, c);
  EXPECT_TRUE(gpu.ok()) << gpu.status();
  rig->gpu = *gpu;
  absl::StatusOr<std::unique_ptr<EmulatedGmcIh>> model =
      EmulatedGmcIh::Attach(*rig->gpu, model_config);
  EXPECT_TRUE(model.ok()) << model.status();
  rig->model = std::move(*model);
  absl::StatusOr<AmPciDriverStart> start = StartAmPciDriverForTest(rig->io);
  EXPECT_TRUE(start.ok()) << start.status();
  EXPECT_EQ(start->discovery.vram_size, kVram);
  rig->bars = std::move(start->bars);
  rig->regs = std::move(start->regs);
  return rig;
}

std::unique_ptr<AmGmc> MakeGmc(Rig& rig, absl::Duration timeout = absl::Milliseconds(100)) {
  AmGmcConfig config;
  config.wait_timeout = timeout;
  absl::StatusOr<std::unique_ptr<AmGmc>> gmc =
      AmGmc::Create(*rig.regs, rig.bars->vram(), kVram, rig.arena, config);
  EXPECT_TRUE(gmc.ok()) << gmc.status();
  return std::move(*gmc);
}

bool HasViolation(Rig& rig, const std::string& text) {
  for (const std::string& v : rig.file().violations())
    if (v.find(text) != std::string::npos) return true;
  return false;
}

TEST(AmRegisterMap, ResolvesThroughDiscoveryAndRefusesOtherGenerations) {
  absl::StatusOr<IpDiscoveryTable> t = ParseIpDiscovery(BuildDiscoveryBinary(Navi31Ips()));
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<AmRegisterMap> map = AmRegisterMap::Create(*t);
  ASSERT_TRUE(map.ok()) << map.status();
  // MMHUB segment 0 base 0x1A000; GC 0x1260; OSSSYS 0x10A0; NBIO seg 2 0xD20.
  EXPECT_EQ(map->ByteOffset(kMmhub300Regs.ctx0_cntl), 4u * (0x1A000 + 0x740));
  EXPECT_EQ(map->ByteOffset(kGcHub1100Regs.inv_req), 4u * (0x1260 + 0x16bc));
  EXPECT_EQ(map->ByteOffset(kOsssys600Regs.rb_cntl), 4u * (0x10A0 + 0x80));
  EXPECT_EQ(map->ByteOffset(kNbio430RemapHdpMemFlushCntl), 4u * (0xD20 + 0x12d));

  absl::StatusOr<IpDiscoveryTable> navi24 = ParseIpDiscovery(BuildDiscoveryBinary(Navi24Ips()));
  ASSERT_TRUE(navi24.ok());
  absl::StatusOr<AmRegisterMap> refused = AmRegisterMap::Create(*navi24);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(refused.status().message().find("GC 10.3.5"), std::string::npos) << refused.status();
}

TEST(AmGmc, BringUpPassesEveryCheckAndTheGartTranslates) {
  auto rig = MakeRig();
  std::unique_ptr<AmGmc> gmc = MakeGmc(*rig);
  EXPECT_EQ(gmc->fb_base(), 0x8000000000u);
  EXPECT_EQ(gmc->fb_top(), 0x8000000000u + kVram - 1);
  EXPECT_EQ(gmc->gart_start(), 0u);  // below VRAM, as Linux's best fit
  ASSERT_TRUE(gmc->Init().ok());
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
  for (const AmVmHubRegs* hub : {&kMmhub300Regs, &kGcHub1100Regs}) {
    EXPECT_EQ(rig->gpu->Register(rig->Dword(hub->sys_aperture_low)), 0x8000000000u >> 18);
    EXPECT_EQ(rig->model->invalidations(*hub), 1);
    // The base was written before the enable, the enable exactly once.
    const int base = rig->file().FirstWriteOf(rig->Dword(hub->ctx0_base_lo));
    const int cntl = rig->file().FirstWriteOf(rig->Dword(hub->ctx0_cntl));
    EXPECT_GE(base, 0);
    EXPECT_LT(base, cntl);
    // Nothing mapped yet.
    EXPECT_EQ(rig->model->TranslateGart(*hub, 0x5000).status().code(), absl::StatusCode::kNotFound);
  }
  EXPECT_EQ(rig->model->hdp_flushes(), 1);

  ASSERT_TRUE(gmc->MapGart(0x5000, 0x300000, 2).ok());
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
  for (const AmVmHubRegs* hub : {&kMmhub300Regs, &kGcHub1100Regs}) {
    EXPECT_EQ(*rig->model->TranslateGart(*hub, 0x5010), 0x300010u);
    EXPECT_EQ(*rig->model->TranslateGart(*hub, 0x6ff8), 0x301ff8u);
    EXPECT_EQ(rig->model->TranslateGart(*hub, 0x7000).status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(rig->model->TranslateGart(*hub, 64 << 20).status().code(),
              absl::StatusCode::kOutOfRange);
  }
  // The semaphore was taken (read 1) before each MMHUB request.
  const std::vector<EmulatedRegisterFile::Access> log = rig->file().log();
  const uint32_t sem = rig->Dword(kMmhub300Regs.inv_sem), req = rig->Dword(kMmhub300Regs.inv_req);
  int requests = 0;
  bool taken = false;
  for (const auto& a : log) {
    if (!a.write && a.dword == sem && a.value == 1) taken = true;
    if (a.write && a.dword == req) {
      EXPECT_TRUE(taken);
      taken = false;
      ++requests;
    }
  }
  EXPECT_EQ(requests, 2);
  EXPECT_EQ(gmc->MapGart(64 << 20, 0, 1).code(), absl::StatusCode::kOutOfRange);
}

TEST(AmGmc, PteWithoutHdpFlushOrInvalidationIsNotSeen) {
  auto rig = MakeRig();
  std::unique_ptr<AmGmc> gmc = MakeGmc(*rig);
  ASSERT_TRUE(gmc->Init().ok());
  const uint64_t pte = 0x400000 | kPteValid | kPteReadable;
  auto write_pte = [&](uint64_t index) {
    ASSERT_TRUE(rig->bars->vram()
                    .WriteBlock(gmc->gart_table() + index * 8,
                                absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(&pte), 8))
                    .ok());
  };
  // Written, invalidated, but no HDP flush: the GPU does not see it.
  write_pte(3);
  ASSERT_TRUE(gmc->InvalidateTlb(kMmhub300Regs, 0).ok());
  EXPECT_EQ(rig->model->TranslateGart(kMmhub300Regs, 0x3000).status().code(),
            absl::StatusCode::kNotFound);
  // Flushed but not invalidated: the TLB still holds the old entry.
  ASSERT_TRUE(gmc->FlushHdp().ok());
  EXPECT_EQ(rig->model->TranslateGart(kMmhub300Regs, 0x3000).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(gmc->InvalidateTlb(kMmhub300Regs, 0).ok());
  EXPECT_EQ(*rig->model->TranslateGart(kMmhub300Regs, 0x3000), 0x400000u);
  // The GC hub was not invalidated: still stale.
  EXPECT_EQ(rig->model->TranslateGart(kGcHub1100Regs, 0x3000).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(AmGmc, ContextEnabledBeforeItsPageTableIsAViolation) {
  auto rig = MakeRig();
  ASSERT_TRUE(rig->regs->Write(kGcHub1100Regs.ctx0_cntl, am_field::kCtxEnable).ok());
  EXPECT_TRUE(HasViolation(*rig, "GCHUB: CONTEXT0_CNTL enabled before the page table base"));
  EXPECT_TRUE(HasViolation(*rig, "before the system aperture covered the FB location"));
  EXPECT_TRUE(HasViolation(*rig, "before the L1 TLB was enabled"));
}

TEST(AmGmc, HdpFlushBeforeTheNbioRemapIsAViolation) {
  auto rig = MakeRig();
  std::unique_ptr<AmGmc> gmc = MakeGmc(*rig);
  ASSERT_TRUE(gmc->FlushHdp().ok());  // Init (which remaps) never ran
  EXPECT_TRUE(HasViolation(*rig, "HDP flush written to the MMIO remap page while NBIO"));
  EXPECT_EQ(rig->model->hdp_flushes(), 0);
}

TEST(AmGmc, InvalidationWithoutWaitingOrSemaphoreIsCaught) {
  auto rig = MakeRig();
  std::unique_ptr<AmGmc> gmc = MakeGmc(*rig);
  ASSERT_TRUE(gmc->Init().ok());
  ASSERT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
  // GC hub: two requests, the ACK never polled in between.
  const uint32_t req = 1u | am_field::kInvAllLevels;
  ASSERT_TRUE(rig->regs->Write(kGcHub1100Regs.inv_req, req).ok());
  ASSERT_TRUE(rig->regs->Write(kGcHub1100Regs.inv_req, req).ok());
  EXPECT_TRUE(HasViolation(*rig, "GCHUB: invalidation requested while the previous one was never"));
  // MMHUB: a request without the semaphore, then the semaphore released
  // without being taken.
  ASSERT_TRUE(rig->regs->Write(kMmhub300Regs.inv_req, req).ok());
  EXPECT_TRUE(HasViolation(*rig, "MMHUB: invalidation requested without the ENG17 semaphore"));
  ASSERT_TRUE(rig->regs->Write(kMmhub300Regs.inv_sem, 0).ok());
  EXPECT_TRUE(HasViolation(*rig, "MMHUB: ENG17 semaphore released but never taken"));
  rig->model->FinishChecks();
  EXPECT_TRUE(HasViolation(*rig, "GCHUB: an invalidation request was never waited for"));
  // A request that does not invalidate every level.
  ASSERT_TRUE(rig->regs->Write(kGcHub1100Regs.inv_req, 1u).ok());
  EXPECT_TRUE(HasViolation(*rig, "does not invalidate every level"));
}

TEST(AmGmc, AHubThatNeverAcknowledgesTimesOutWithinTheBound) {
  EmulatedGmcIhConfig config;
  config.never_ack = true;
  auto rig = MakeRig(config);
  std::unique_ptr<AmGmc> gmc = MakeGmc(*rig, absl::Milliseconds(20));
  const absl::Time start = absl::Now();
  absl::Status s = gmc->Init();
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(s.message().find("MMHUB: TLB invalidation not acknowledged"), std::string::npos) << s;
  EXPECT_NE(s.message().find("regMMVM_INVALIDATE_ENG17_ACK"), std::string::npos) << s;
  EXPECT_GE(took, absl::Milliseconds(20));
  EXPECT_LT(took, absl::Seconds(1));
  // The semaphore was still released.
  rig->model->FinishChecks();
  EXPECT_FALSE(HasViolation(*rig, "semaphore left held"));
}

TEST(AmGmc, RemovedDeviceIsUnavailableNotGarbage) {
  auto rig = MakeRig();
  rig->gpu->Remove();
  AmVramArena arena(1 << 20, 2 << 20);
  absl::StatusOr<std::unique_ptr<AmGmc>> gmc =
      AmGmc::Create(*rig->regs, rig->bars->vram(), kVram, arena);
  EXPECT_EQ(gmc.status().code(), absl::StatusCode::kUnavailable) << gmc.status();
  EXPECT_NE(gmc.status().message().find("regMMMC_VM_FB_LOCATION_BASE"), std::string::npos);
}

std::unique_ptr<AmIh> MakeIh(Rig& rig, uint64_t fb_base, uint32_t ring_bytes = 256 << 10) {
  absl::StatusOr<std::unique_ptr<AmIh>> ih =
      AmIh::Create(*rig.regs, rig.bars->vram(), fb_base, rig.arena, ring_bytes);
  EXPECT_TRUE(ih.ok()) << ih.status();
  return std::move(*ih);
}

TEST(AmIh, InjectedInterruptsAreDecoded) {
  auto rig = MakeRig();
  std::unique_ptr<AmGmc> gmc = MakeGmc(*rig);
  std::unique_ptr<AmIh> ih = MakeIh(*rig, gmc->fb_base());
  IvEntry eop;
  eop.client_id = 20;  // SOC21_IH_CLIENTID_GRBM_CP
  eop.src_id = 181;    // GFX 11 CP_EOP_INTERRUPT
  eop.ring_id = 2;
  eop.vmid = 3;
  eop.pasid = 0x1234;
  eop.node_id = 1;
  eop.timestamp = 0xABCD12345678;
  eop.src_data = {0x11, 0x22, 0x33, 0x44};
  // Before Init the ring is off: the interrupt is dropped.
  EXPECT_EQ(rig->model->InjectInterrupt(eop).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(ih->Init().ok());
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
  absl::StatusOr<AmIhPoll> none = ih->Poll();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->entries.empty());

  ASSERT_TRUE(rig->model->InjectInterrupt(eop).ok());
  IvEntry fault;
  fault.client_id = 18;  // SOC21_IH_CLIENTID_VMC
  fault.src_id = 146;
  fault.vmid_type = true;
  ASSERT_TRUE(rig->model->InjectInterrupt(fault).ok());
  absl::StatusOr<AmIhPoll> got = ih->Poll();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->entries.size(), 2u);
  EXPECT_FALSE(got->overflowed);
  const IvEntry& e = got->entries[0];
  EXPECT_EQ(e.client_id, 20);
  EXPECT_EQ(e.src_id, 181);
  EXPECT_EQ(e.ring_id, 2);
  EXPECT_EQ(e.vmid, 3);
  EXPECT_EQ(e.pasid, 0x1234);
  EXPECT_EQ(e.node_id, 1);
  EXPECT_EQ(e.timestamp, 0xABCD12345678u);
  EXPECT_EQ(e.src_data[3], 0x44u);
  EXPECT_EQ(got->entries[1].client_id, 18);
  EXPECT_TRUE(got->entries[1].vmid_type);
  // The read pointer went back to the IH: two 32-byte entries.
  EXPECT_EQ(rig->gpu->Register(rig->Dword(kOsssys600Regs.rb_rptr)), 64u);
  EXPECT_TRUE(ih->Poll()->entries.empty());
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmIh, OverflowIsReportedAndCleared) {
  auto rig = MakeRig();
  std::unique_ptr<AmIh> ih = MakeIh(*rig, 0x8000000000, 4096);  // 128 entries
  ASSERT_TRUE(ih->Init().ok());
  IvEntry e;
  e.client_id = 20;
  for (int i = 0; i < 127; ++i) {
    e.src_data[0] = i;
    ASSERT_TRUE(rig->model->InjectInterrupt(e).ok()) << i;
  }
  EXPECT_EQ(rig->model->InjectInterrupt(e).code(), absl::StatusCode::kResourceExhausted);
  absl::StatusOr<AmIhPoll> got = ih->Poll();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->overflowed);
  ASSERT_EQ(got->entries.size(), 127u);
  EXPECT_EQ(got->entries[126].src_data[0], 126u);
  // Cleared: the next interrupt is delivered normally.
  ASSERT_TRUE(rig->model->InjectInterrupt(e).ok());
  absl::StatusOr<AmIhPoll> next = ih->Poll();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_FALSE(next->overflowed);
  EXPECT_EQ(next->entries.size(), 1u);
}

TEST(AmIh, EnableBeforeTheRingIsAViolation) {
  auto rig = MakeRig();
  ASSERT_TRUE(rig->regs
                  ->Write(kOsssys600Regs.rb_cntl, am_field::kIhRbEnable | am_field::kIhEnableIntr |
                                                      am_field::kIhWptrWritebackEnable |
                                                      (16u << am_field::kIhRbSizeShift))
                  .ok());
  EXPECT_TRUE(HasViolation(*rig, "IH: RB_ENABLE set before IH_RB_BASE/BASE_HI were set"));
  EXPECT_TRUE(HasViolation(*rig, "before the write-pointer writeback address was set"));
  EXPECT_TRUE(HasViolation(*rig, "before IH_RB_WPTR/RPTR were zeroed"));
  AmVramArena arena(0, 1 << 20);
  EXPECT_EQ(AmIh::Create(*rig->regs, rig->bars->vram(), 0, arena, 3000).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace uop
