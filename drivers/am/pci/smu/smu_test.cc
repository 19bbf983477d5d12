// SMU (MP1 13.0.0) bring-up on the emulated Navi31: Init and
// SetPerformanceLevel pass every mailbox check with Linux's exact message
// sequence; every response code maps to its error; a dead, busy, absent or
// removed SMU fails within its bound naming the register; each protocol
// breach driven by hand is a violation of the model.
#include "drivers/am/pci/smu/smu.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/gmc_ih_model.h"
#include "drivers/am/emulator/smu/smu_model.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/driver_start_for_test.h"
#include "drivers/am/pci/gmc.h"
#include "drivers/am/pci/indirect_regs.h"
#include "drivers/am/pci/pci_bars.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

using smu::PpClk;
using smu::SmuMsg;

constexpr uint64_t kVram = 64 << 20;  // small: Remove() fills all of it with 0xFF
constexpr uint32_t U(SmuMsg m) { return static_cast<uint32_t>(m); }

struct Rig {
  EmulatedKernelIo io;
  std::shared_ptr<EmulatedPciGpu> gpu;
  std::unique_ptr<EmulatedGmcIh> gmc_model;
  std::unique_ptr<EmulatedSmu> model;
  std::unique_ptr<AmPciBars> bars;
  std::unique_ptr<AmRegisterIo> regs;
  std::unique_ptr<AmIndirectRegs> indirect;
  AmVramArena arena{1 << 20, kVram - kDiscoveryTmrOffset};
  std::unique_ptr<AmGmc> gmc;
  std::unique_ptr<AmSmu> smu;

  EmulatedRegisterFile& file() { return gpu->registers(); }
  uint32_t Dword(const AmReg& r) { return regs->map().Dword(r); }
  bool HasViolation(const std::string& text) {
    for (const std::string& v : file().violations())
      if (v.find(text) != std::string::npos) return true;
    return false;
  }
  // (id, argument) of every message the model saw.
  std::vector<std::pair<uint32_t, uint32_t>> Sent() {
    std::vector<std::pair<uint32_t, uint32_t>> out;
    for (const EmulatedSmu::Message& m : model->messages()) out.emplace_back(m.id, m.arg);
    return out;
  }
};

std::unique_ptr<Rig> MakeRig(EmulatedSmuConfig model_config = {}, AmSmuConfig smu_config = {}) {
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
  absl::StatusOr<std::unique_ptr<EmulatedSmu>> sm = EmulatedSmu::Attach(*rig->gpu, model_config);
  EXPECT_TRUE(sm.ok()) << sm.status();
  rig->model = std::move(*sm);
  absl::StatusOr<AmPciDriverStart> start = StartAmPciDriverForTest(rig->io);
  EXPECT_TRUE(start.ok()) << start.status();
  rig->bars = std::move(start->bars);
  rig->regs = std::move(start->regs);
  rig->indirect = std::make_unique<AmIndirectRegs>(*rig->regs);
  absl::StatusOr<std::unique_ptr<AmGmc>> gmc =
      AmGmc::Create(*rig->regs, rig->bars->vram(), kVram, rig->arena);
  EXPECT_TRUE(gmc.ok()) << gmc.status();
  rig->gmc = std::move(*gmc);
  EXPECT_TRUE(rig->gmc->Init().ok());
  smu_config.mode1_reset_wait = absl::Milliseconds(1);
  absl::StatusOr<std::unique_ptr<AmSmu>> s =
      AmSmu::Create(*rig->regs, *rig->indirect, *rig->gmc, rig->arena, smu_config);
  EXPECT_TRUE(s.ok()) << s.status();
  rig->smu = std::move(*s);
  return rig;
}

AmSmuConfig Timeout(absl::Duration d) {
  AmSmuConfig c;
  c.message_timeout = d;
  c.alive_timeout = d;
  return c;
}

bool Contains(const absl::Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

TEST(AmSmu, RegistersComeFromTheDiscoveryBases) {
  std::unique_ptr<Rig> rig = MakeRig();
  // Navi31Ips: MP1 segment 0 at 0x16000, NBIO segment 1 at 0x14.
  EXPECT_EQ(rig->Dword(kSmu1300Regs.msg), 0x16000u + 0x282);
  EXPECT_EQ(rig->Dword(kSmu1300Regs.arg), 0x16000u + 0x292);
  EXPECT_EQ(rig->Dword(kSmu1300Regs.resp), 0x16000u + 0x29a);
  EXPECT_EQ(rig->Dword(kNbio430RsmuPair.index), 0x14u);
  EXPECT_EQ(rig->Dword(kNbio430RsmuPair.data), 0x15u);
  EXPECT_EQ(smu::kSmnMp1FirmwareFlags, 0x03B10024u);
  EXPECT_STREQ(smu::SmuMsgName(0x2F), "Mode1Reset");
  EXPECT_EQ(smu::SmuMsgName(0x4D), nullptr);  // a hole in the header
  EXPECT_EQ(smu::ClockArg(PpClk::UCLK, 1249), 0x000204E1u);
}

TEST(AmSmu, InitAndMaxPerformanceSendLinuxsSequence) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->smu->Init().ok());
  EXPECT_EQ(rig->smu->driver_if_version(), smu::kDriverIfVersion);
  EXPECT_EQ(rig->smu->smu_version(), 0x004E5100u);
  EXPECT_TRUE(rig->smu->features_enabled());
  EXPECT_TRUE(rig->model->features_enabled());
  const uint64_t mc = rig->gmc->VramMc(rig->smu->driver_table());
  EXPECT_EQ(rig->model->driver_table_mc(), mc);
  EXPECT_EQ(rig->smu->driver_table() % 4096, 0u);
  EXPECT_FALSE(rig->model->allowed_features().has_value());
  // The firmware flags were read over SMN at their address.
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(kNbio430RsmuPair.index)),
            std::vector<uint32_t>{smu::kSmnMp1FirmwareFlags});

  absl::StatusOr<std::vector<AmSmuClockRange>> set =
      rig->smu->SetPerformanceLevel(AmSmuPerfLevel::kHigh);
  ASSERT_TRUE(set.ok()) << set.status();
  const std::vector<std::pair<uint32_t, uint32_t>> want = {
      {U(SmuMsg::GetDriverIfVersion), 0},
      {U(SmuMsg::GetSmuVersion), 0},
      {U(SmuMsg::SetDriverDramAddrHigh), static_cast<uint32_t>(mc >> 32)},
      {U(SmuMsg::SetDriverDramAddrLow), static_cast<uint32_t>(mc)},
      {U(SmuMsg::EnableAllSmuFeatures), 0},
      {U(SmuMsg::GetMaxDpmFreq), 0x00000000},  // GFXCLK
      {U(SmuMsg::SetSoftMaxByFreq), 0x000009DE},
      {U(SmuMsg::SetSoftMinByFreq), 0x000009DE},
      {U(SmuMsg::GetMaxDpmFreq), 0x00020000},  // UCLK
      {U(SmuMsg::SetSoftMaxByFreq), 0x000204E1},
      {U(SmuMsg::SetSoftMinByFreq), 0x000204E1},
      {U(SmuMsg::GetMaxDpmFreq), 0x00010000},  // SOCCLK
      {U(SmuMsg::SetSoftMaxByFreq), 0x000104B0},
      {U(SmuMsg::SetSoftMinByFreq), 0x000104B0},
      {U(SmuMsg::GetMaxDpmFreq), 0x00030000},  // FCLK
      {U(SmuMsg::SetSoftMaxByFreq), 0x0003076C},
      {U(SmuMsg::SetSoftMinByFreq), 0x0003076C},
  };
  EXPECT_EQ(rig->Sent(), want);
  for (const EmulatedSmu::Message& m : rig->model->messages()) EXPECT_EQ(m.response, 1u) << m.id;
  const std::pair<PpClk, uint32_t> maxima[] = {
      {PpClk::GFXCLK, 2526}, {PpClk::UCLK, 1249}, {PpClk::SOCCLK, 1200}, {PpClk::FCLK, 1900}};
  ASSERT_EQ(set->size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const auto [clk, mhz] = maxima[i];
    EXPECT_EQ((*set)[i].clock, clk);
    EXPECT_EQ((*set)[i].soft_min_mhz, mhz);
    EXPECT_EQ((*set)[i].soft_max_mhz, mhz);
    EXPECT_EQ(rig->model->soft_min_mhz(clk), mhz) << smu::PpClkName(clk);
    EXPECT_EQ(rig->model->soft_max_mhz(clk), mhz) << smu::PpClkName(clk);
  }
  rig->model->FinishChecks();
  rig->gmc_model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSmu, OneMessageIsExactlyLinuxsRegisterHandshake) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->smu->Init().ok());
  const size_t before = rig->file().log().size();
  absl::StatusOr<uint32_t> r = rig->smu->SendMessage(SmuMsg::TestMessage, 0x1234);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 0x1235u);
  const uint32_t msg = rig->Dword(kSmu1300Regs.msg), arg = rig->Dword(kSmu1300Regs.arg),
                 resp = rig->Dword(kSmu1300Regs.resp);
  struct A {
    bool write;
    uint32_t dword, value;
  };
  // Previous response polled, cleared, argument, message, polled until the
  // answer (the model answers on the third read), result.
  const A want[] = {{false, resp, 1}, {true, resp, 0},  {true, arg, 0x1234}, {true, msg, 1},
                    {false, resp, 0}, {false, resp, 0}, {false, resp, 1},    {false, arg, 0x1235}};
  const std::vector<EmulatedRegisterFile::Access> log = rig->file().log();
  ASSERT_EQ(log.size() - before, std::size(want));
  for (size_t i = 0; i < std::size(want); ++i) {
    const EmulatedRegisterFile::Access& a = log[before + i];
    EXPECT_EQ(a.write, want[i].write) << i;
    EXPECT_EQ(a.dword, want[i].dword) << i;
    EXPECT_EQ(a.value, want[i].value) << i;
  }
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSmu, AutoLevelAllowedMaskModeOneResetAndUnload) {
  AmSmuConfig c;
  c.allowed_features = 0x0000123400005678ull;
  std::unique_ptr<Rig> rig = MakeRig({}, c);
  ASSERT_TRUE(rig->smu->Init().ok());
  const std::vector<std::pair<uint32_t, uint32_t>> sent = rig->Sent();
  ASSERT_EQ(sent.size(), 7u);
  EXPECT_EQ(sent[4], std::make_pair(U(SmuMsg::SetAllowedFeaturesMaskHigh), 0x1234u));
  EXPECT_EQ(sent[5], std::make_pair(U(SmuMsg::SetAllowedFeaturesMaskLow), 0x5678u));
  EXPECT_EQ(sent[6].first, U(SmuMsg::EnableAllSmuFeatures));
  EXPECT_EQ(rig->model->allowed_features(), 0x0000123400005678ull);

  ASSERT_TRUE(rig->smu->SetPerformanceLevel(AmSmuPerfLevel::kHigh).ok());
  absl::StatusOr<std::vector<AmSmuClockRange>> autos =
      rig->smu->SetPerformanceLevel(AmSmuPerfLevel::kAuto);
  ASSERT_TRUE(autos.ok()) << autos.status();
  EXPECT_EQ((*autos)[0].soft_min_mhz, 500u);  // GFXCLK back to its DPM range
  EXPECT_EQ((*autos)[0].soft_max_mhz, 2526u);
  EXPECT_EQ(rig->model->soft_min_mhz(PpClk::UCLK), 97u);
  EXPECT_EQ(rig->model->soft_max_mhz(PpClk::UCLK), 1249u);
  // kAuto asks for the minimum after the maximum, then sets max before min.
  const std::vector<std::pair<uint32_t, uint32_t>> all = rig->Sent();
  const size_t gfx = 7 + 12;
  EXPECT_EQ(all[gfx], std::make_pair(U(SmuMsg::GetMaxDpmFreq), 0u));
  EXPECT_EQ(all[gfx + 1], std::make_pair(U(SmuMsg::GetMinDpmFreq), 0u));
  EXPECT_EQ(all[gfx + 2], std::make_pair(U(SmuMsg::SetSoftMaxByFreq), 2526u));
  EXPECT_EQ(all[gfx + 3], std::make_pair(U(SmuMsg::SetSoftMinByFreq), 500u));

  ASSERT_TRUE(rig->smu->Mode1Reset().ok());
  EXPECT_EQ(rig->model->mode1_resets(), 1);
  EXPECT_EQ(rig->Sent().back(), std::make_pair(U(SmuMsg::Mode1Reset), 0u));
  EXPECT_FALSE(rig->smu->features_enabled());
  EXPECT_FALSE(rig->model->features_enabled());
  EXPECT_EQ(rig->smu->SetPerformanceLevel(AmSmuPerfLevel::kHigh).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Brought up again after the reset, then handed back.
  ASSERT_TRUE(rig->smu->Init().ok());
  ASSERT_TRUE(rig->smu->PrepareForUnload().ok());
  EXPECT_EQ(rig->Sent().back(), std::make_pair(U(SmuMsg::PrepareMp1ForUnload), 0x55u));
  EXPECT_TRUE(rig->model->unloaded());
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSmu, AClockWithoutDpmIsLeftAlone) {
  EmulatedSmuConfig m;
  m.dpm_max_mhz[static_cast<size_t>(PpClk::FCLK)] = 0;
  m.dpm_min_mhz[static_cast<size_t>(PpClk::FCLK)] = 0;
  std::unique_ptr<Rig> rig = MakeRig(m);
  ASSERT_TRUE(rig->smu->Init().ok());
  absl::StatusOr<std::vector<AmSmuClockRange>> set =
      rig->smu->SetPerformanceLevel(AmSmuPerfLevel::kHigh);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ((*set)[3].clock, PpClk::FCLK);
  EXPECT_EQ((*set)[3].soft_max_mhz, 0u);
  EXPECT_EQ(rig->Sent().back(), std::make_pair(U(SmuMsg::GetMaxDpmFreq), 0x00030000u));
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSmu, EveryResponseCodeMapsToItsError) {
  const struct {
    uint32_t response;
    absl::StatusCode code;
    const char* text;
  } kCases[] = {
      {0xFF, absl::StatusCode::kInternal, "PPSMC_Result_Failed"},
      {0xFE, absl::StatusCode::kUnimplemented, "PPSMC_Result_UnknownCmd"},
      {0xFD, absl::StatusCode::kFailedPrecondition, "PPSMC_Result_CmdRejectedPrereq"},
      {0xFC, absl::StatusCode::kUnavailable, "PPSMC_Result_CmdRejectedBusy"},
      {0xFB, absl::StatusCode::kInternal, "SMC_Result_DebugDataDumpEnd"},
      {0x42, absl::StatusCode::kDataLoss, "not a PPSMC_Result"},
  };
  for (const auto& c : kCases) {
    EmulatedSmuConfig m;
    m.forced_responses[U(SmuMsg::TestMessage)] = c.response;
    std::unique_ptr<Rig> rig = MakeRig(m);
    ASSERT_TRUE(rig->smu->Init().ok());
    absl::StatusOr<uint32_t> r = rig->smu->SendMessage(SmuMsg::TestMessage, 0xABCD);
    EXPECT_EQ(r.status().code(), c.code) << r.status();
    EXPECT_TRUE(Contains(r.status(), c.text)) << r.status();
    EXPECT_TRUE(Contains(r.status(), "TestMessage (0x1, argument 0xABCD)")) << r.status();
    EXPECT_TRUE(Contains(r.status(), "regMP1_SMN_C2PMSG_90")) << r.status();
    if (c.response == 0x42) {
      // The mailbox holds no PPSMC_Result now: the next message is refused
      // before anything is written.
      const size_t msgs = rig->model->messages().size();
      absl::StatusOr<uint32_t> next = rig->smu->SendMessage(SmuMsg::GetSmuVersion);
      EXPECT_EQ(next.status().code(), absl::StatusCode::kDataLoss) << next.status();
      EXPECT_TRUE(Contains(next.status(), "unknown state")) << next.status();
      EXPECT_EQ(rig->model->messages().size(), msgs);
    } else {
      // A defined failure leaves the mailbox usable, as Linux expects.
      absl::StatusOr<uint32_t> next = rig->smu->SendMessage(SmuMsg::GetSmuVersion);
      EXPECT_TRUE(next.ok()) << next.status();
    }
    EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
  }
}

TEST(AmSmu, TheModelsOwnRefusalsReachTheCaller) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->smu->WaitFirmwareAlive().ok());
  // DPM limits before the features run: prerequisites not met.
  absl::StatusOr<uint32_t> r =
      rig->smu->SendMessage(SmuMsg::SetSoftMinByFreq, smu::ClockArg(PpClk::GFXCLK, 1000));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_TRUE(Contains(r.status(), "SetSoftMinByFreq (0x19, argument 0x3E8)")) << r.status();
  // A clock without DPM: failed; an id the header has a hole at: unknown.
  r = rig->smu->SendMessage(SmuMsg::GetMaxDpmFreq, smu::ClockArg(PpClk::DTBCLK));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal) << r.status();
  r = rig->smu->SendMessage(static_cast<SmuMsg>(0x4D), 7);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented) << r.status();
  EXPECT_TRUE(Contains(r.status(), "unknown message (0x4D, argument 0x7)")) << r.status();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSmu, ADeadSmuTimesOutNamingTheRegisterAndMessage) {
  EmulatedSmuConfig dead;
  dead.never_respond = true;
  std::unique_ptr<Rig> rig = MakeRig(dead, Timeout(absl::Milliseconds(20)));
  absl::Time start = absl::Now();
  absl::Status s = rig->smu->Init();
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_TRUE(Contains(s, "GetDriverIfVersion (0x3, argument 0x0) not answered")) << s;
  EXPECT_TRUE(Contains(s, "regMP1_SMN_C2PMSG_90 reads 0x0 after 20ms")) << s;
  EXPECT_GE(took, absl::Milliseconds(20));
  EXPECT_LT(took, absl::Seconds(1));

  // The next message waits for the unanswered one, then gives up without
  // writing anything.
  start = absl::Now();
  absl::StatusOr<uint32_t> r = rig->smu->SendMessage(SmuMsg::GetSmuVersion);
  took = absl::Now() - start;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_TRUE(Contains(r.status(), "before sending GetSmuVersion")) << r.status();
  EXPECT_TRUE(Contains(r.status(), "regMP1_SMN_C2PMSG_66 = 0x3")) << r.status();
  EXPECT_GE(took, absl::Milliseconds(20));
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_EQ(rig->model->messages().size(), 1u);
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(kSmu1300Regs.msg)), std::vector<uint32_t>{3});
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSmu, APmfwThatNeverStartsIsNamedAndLateOneIsWaitedFor) {
  EmulatedSmuConfig absent;
  absent.never_alive = true;
  std::unique_ptr<Rig> rig = MakeRig(absent, Timeout(absl::Milliseconds(20)));
  const absl::Time start = absl::Now();
  absl::Status s = rig->smu->Init();
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_TRUE(Contains(s, "MP1_FIRMWARE_FLAGS (SMN 0x03B10024")) << s;
  EXPECT_TRUE(Contains(s, "regBIF_BX_PF0_RSMU_INDEX")) << s;
  EXPECT_GE(took, absl::Milliseconds(20));
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_TRUE(rig->file().WritesOf(rig->Dword(kSmu1300Regs.msg)).empty());

  EmulatedSmuConfig late;
  late.alive_after_reads = 50;
  std::unique_ptr<Rig> r2 = MakeRig(late);
  ASSERT_TRUE(r2->smu->Init().ok());
  EXPECT_EQ(r2->file().WritesOf(r2->Dword(kNbio430RsmuPair.index)).size(), 51u);
  EXPECT_TRUE(r2->file().CheckNoViolations().ok()) << r2->file().CheckNoViolations();
}

TEST(AmSmu, VersionMismatchNamesBothAndCanBeOverridden) {
  EmulatedSmuConfig older;
  older.driver_if_version = 0x32;
  std::unique_ptr<Rig> rig = MakeRig(older);
  absl::Status s = rig->smu->Init();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(Contains(s, "driver interface 0x32")) << s;
  EXPECT_TRUE(Contains(s, "driver interface 0x3D")) << s;
  EXPECT_TRUE(Contains(s, "allow_version_mismatch")) << s;
  EXPECT_EQ(rig->Sent().size(), 2u);  // nothing programmed after the versions
  EXPECT_FALSE(rig->model->features_enabled());

  EmulatedSmuConfig navi21;
  navi21.smu_version = 0x003A5800;  // 58.88.0: another chip's PMFW
  std::unique_ptr<Rig> r2 = MakeRig(navi21);
  s = r2->smu->Init();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(Contains(s, "version 0x003A5800 (program 0, 58.88.0)")) << s;
  EXPECT_TRUE(Contains(s, "PMFW 78.x")) << s;

  AmSmuConfig allow;
  allow.allow_version_mismatch = true;
  std::unique_ptr<Rig> r3 = MakeRig(older, allow);
  ASSERT_TRUE(r3->smu->Init().ok());
  EXPECT_EQ(r3->smu->driver_if_version(), 0x32u);
  EXPECT_TRUE(r3->model->features_enabled());
}

TEST(AmSmu, ABusySmuIsUnavailableNamingTheMessage) {
  EmulatedSmuConfig busy;
  busy.busy_messages = 1;
  std::unique_ptr<Rig> rig = MakeRig(busy);
  absl::Status s = rig->smu->Init();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(Contains(s, "GetDriverIfVersion")) << s;
  EXPECT_TRUE(Contains(s, "busy")) << s;
  // Busy once: the retry goes through.
  ASSERT_TRUE(rig->smu->Init().ok());
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSmu, ARemovedDeviceIsUnavailableNamingTheRegister) {
  std::unique_ptr<Rig> rig = MakeRig();
  rig->gpu->Remove();
  absl::Status s = rig->smu->Init();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(Contains(s, "regBIF_BX_PF0_RSMU_INDEX")) << s;

  std::unique_ptr<Rig> r2 = MakeRig();
  ASSERT_TRUE(r2->smu->Init().ok());
  r2->gpu->Remove();
  absl::StatusOr<uint32_t> r = r2->smu->SendMessage(SmuMsg::GetSmuVersion);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_TRUE(Contains(r.status(), "GetSmuVersion")) << r.status();
  EXPECT_TRUE(Contains(r.status(), "regMP1_SMN_C2PMSG_90")) << r.status();
}

TEST(AmSmu, CreateRefusesAFullArena) {
  std::unique_ptr<Rig> rig = MakeRig();
  AmVramArena tiny(0, 0x1000);
  absl::StatusOr<std::unique_ptr<AmSmu>> s =
      AmSmu::Create(*rig->regs, *rig->indirect, *rig->gmc, tiny);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted) << s.status();
  EXPECT_TRUE(Contains(s.status(), "SMU driver table")) << s.status();
}

// Each block drives the registers by hand, as a faulty driver would.
TEST(AmSmu, MailboxBreachesAreViolations) {
  const AmSmuRegs& r = kSmu1300Regs;
  const uint32_t test = U(SmuMsg::TestMessage);
  {  // a first message without the ready response read
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->regs->Write(r.resp, 0).ok());
    ASSERT_TRUE(rig->regs->Write(r.arg, 5).ok());
    ASSERT_TRUE(rig->regs->Write(r.msg, test).ok());
    EXPECT_TRUE(rig->HasViolation("TestMessage written without the previous response read"))
        << rig->file().CheckNoViolations();
  }
  {  // a message while the previous one is unanswered
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->regs->Read(r.resp).ok());
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(rig->regs->Write(r.resp, 0).ok());
      ASSERT_TRUE(rig->regs->Write(r.arg, 5).ok());
      ASSERT_TRUE(rig->regs->Write(r.msg, test).ok());
    }
    EXPECT_TRUE(rig->HasViolation("TestMessage written while TestMessage is unanswered"))
        << rig->file().CheckNoViolations();
    EXPECT_TRUE(rig->HasViolation("C2PMSG_90 written while TestMessage is executing"));
    EXPECT_TRUE(rig->HasViolation("C2PMSG_82 (argument) written with 0x5 while TestMessage"));
  }
  {  // no zeroing; no argument; the stale response reads as the answer
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->regs->Read(r.resp).ok());
    ASSERT_TRUE(rig->regs->Write(r.arg, 5).ok());
    ASSERT_TRUE(rig->regs->Write(r.msg, test).ok());
    EXPECT_TRUE(rig->HasViolation("TestMessage written without C2PMSG_90 zeroed first"))
        << rig->file().CheckNoViolations();
    absl::StatusOr<uint32_t> stale = rig->regs->Read(r.resp);
    ASSERT_TRUE(stale.ok());
    EXPECT_EQ(*stale, 1u);  // the old OK, not this message's
    EXPECT_EQ(rig->model->messages().back().response, 0u);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(rig->regs->Read(r.resp).ok());
    ASSERT_TRUE(rig->regs->Write(r.resp, 0).ok());
    ASSERT_TRUE(rig->regs->Write(r.msg, test).ok());
    EXPECT_TRUE(rig->HasViolation("TestMessage written without its argument"));
  }
  {  // argument written after the message; response written non-zero
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->regs->Read(r.resp).ok());
    ASSERT_TRUE(rig->regs->Write(r.resp, 0).ok());
    ASSERT_TRUE(rig->regs->Write(r.msg, test).ok());
    ASSERT_TRUE(rig->regs->Write(r.arg, 9).ok());
    EXPECT_TRUE(rig->HasViolation("C2PMSG_82 (argument) written with 0x9 while TestMessage"))
        << rig->file().CheckNoViolations();
    ASSERT_TRUE(rig->regs->Write(r.resp, 7).ok());
    EXPECT_TRUE(rig->HasViolation("C2PMSG_90 written with 0x7"));
  }
  {  // the driver stops polling / never reads the answer
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->regs->Read(r.resp).ok());
    ASSERT_TRUE(rig->regs->Write(r.resp, 0).ok());
    ASSERT_TRUE(rig->regs->Write(r.arg, 0).ok());
    ASSERT_TRUE(rig->regs->Write(r.msg, test).ok());
    ASSERT_TRUE(rig->regs->Read(r.resp).ok());
    rig->model->FinishChecks();
    EXPECT_TRUE(rig->HasViolation("TestMessage: the driver stopped polling C2PMSG_90"))
        << rig->file().CheckNoViolations();
  }
  {  // SMN data read with no address; an address the model does not serve
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->regs->Read(kNbio430RsmuPair.data).ok());
    EXPECT_TRUE(rig->HasViolation("RSMU_DATA read with no SMN address"));
    absl::StatusOr<uint32_t> other = rig->smu->ReadSmn(0x11140288);
    ASSERT_TRUE(other.ok());
    EXPECT_TRUE(rig->HasViolation("SMN read of 0x11140288"));
  }
}

TEST(AmSmu, FirmwareStateBreachesAreViolations) {
  {  // features enabled before the driver table address
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->smu->SendMessage(SmuMsg::EnableAllSmuFeatures).ok());
    EXPECT_TRUE(rig->HasViolation("EnableAllSmuFeatures before the driver table address"))
        << rig->file().CheckNoViolations();
  }
  {  // the low half first; a table outside VRAM
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->smu->SendMessage(SmuMsg::SetDriverDramAddrLow, 0x1000).ok());
    EXPECT_TRUE(rig->HasViolation("SetDriverDramAddrLow without SetDriverDramAddrHigh first"));
    ASSERT_TRUE(rig->smu->SendMessage(SmuMsg::SetDriverDramAddrHigh, 0x7).ok());
    ASSERT_TRUE(rig->smu->SendMessage(SmuMsg::SetDriverDramAddrLow, 0).ok());
    EXPECT_TRUE(rig->HasViolation("SMU driver table at MC 0x700000000"))
        << rig->file().CheckNoViolations();
    EXPECT_FALSE(rig->model->driver_table_mc().has_value());
  }
  {  // soft min above soft max, max below min, outside the DPM range
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->smu->Init().ok());
    ASSERT_TRUE(
        rig->smu->SendMessage(SmuMsg::SetSoftMaxByFreq, smu::ClockArg(PpClk::GFXCLK, 1000)).ok());
    ASSERT_TRUE(
        rig->smu->SendMessage(SmuMsg::SetSoftMinByFreq, smu::ClockArg(PpClk::GFXCLK, 2000)).ok());
    EXPECT_TRUE(rig->HasViolation("GFXCLK soft min 2000 MHz above its soft max 1000 MHz"))
        << rig->file().CheckNoViolations();
    ASSERT_TRUE(
        rig->smu->SendMessage(SmuMsg::SetSoftMaxByFreq, smu::ClockArg(PpClk::GFXCLK, 1500)).ok());
    EXPECT_TRUE(rig->HasViolation("GFXCLK soft max 1500 MHz below its soft min 2000 MHz"));
    ASSERT_TRUE(
        rig->smu->SendMessage(SmuMsg::SetSoftMinByFreq, smu::ClockArg(PpClk::UCLK, 3000)).ok());
    EXPECT_TRUE(rig->HasViolation("UCLK 3000 MHz: outside the DPM range [97, 1249] MHz"));
  }
  {  // a message after PrepareMp1ForUnload
    std::unique_ptr<Rig> rig = MakeRig();
    ASSERT_TRUE(rig->smu->Init().ok());
    ASSERT_TRUE(rig->smu->PrepareForUnload().ok());
    absl::StatusOr<uint32_t> r = rig->smu->SendMessage(SmuMsg::GetSmuVersion);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
    EXPECT_TRUE(rig->HasViolation("GetSmuVersion after PrepareMp1ForUnload"));
  }
}

}  // namespace
}  // namespace uop
