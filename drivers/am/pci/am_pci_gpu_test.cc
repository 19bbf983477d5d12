// The chip's lifecycle across processes on the AM path without a kernel
// driver, on the emulated Navi31: exclusive ownership, the boot path chosen
// from what the last owner left (full, partial, MODE1 reset then full), the
// teardown, and the MODE1 reset the chip models. Each "process" here is an
// AmPciGpu (or an AmDevice on one) opened on the same EmulatedKernelIo and
// chip, which outlive it as the hardware outlives a process.
#include "drivers/am/pci/am_pci_gpu.h"

#include <memory>
#include <vector>

#include "drivers/am/am_device.h"
#include "drivers/am/am_topology.h"
#include "drivers/am/emulator/am_emu_compiler.h"
#include "drivers/am/emulator/emulated_navi31.h"
#include "drivers/am/emulator/test_kernels.h"
#include "drivers/am/pci/am_pci_device.h"
#include "drivers/am/pci/am_pci_interface.h"
#include "drivers/am/pci/gfx/gfx_regs.h"
#include "drivers/am/pci/ip_discovery.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

// One machine: the seam and the chip on its bus (the seam outlives the chip).
struct Machine {
  std::unique_ptr<EmulatedKernelIo> io = std::make_unique<EmulatedKernelIo>();
  std::unique_ptr<EmulatedNavi31> chip;
  PciFunction fn;
  AmRegisterMap map;

  // The model side of a driver register (no hooks, not logged).
  uint32_t Reg(const AmReg& r) const { return chip->gpu().registers().Get(map.Dword(r)); }
  void SetReg(const AmReg& r, uint32_t v) { chip->gpu().registers().Set(map.Dword(r), v); }
  size_t Accesses() const { return chip->gpu().registers().log().size(); }

  // Nothing of a process left running: no active HQD, the MEC halted, no
  // SDMA ring enabled and both engines halted, VMID 8 off on both hubs.
  void ExpectQuiet() const {
    EXPECT_TRUE(chip->mec().active_queues().empty());
    EXPECT_TRUE(chip->mec().halted());
    for (int i = 0; i < 2; ++i) {
      EXPECT_FALSE(chip->sdma().queue(i).enabled) << "SDMA" << i;
      EXPECT_FALSE(chip->sdma().running(i)) << "SDMA" << i;
    }
    EXPECT_FALSE(chip->gmc_ih().TlbOf(kGcHub1100Regs, 8).enabled);
    EXPECT_FALSE(chip->gmc_ih().TlbOf(kMmhub300Regs, 8).enabled);
  }
};

std::unique_ptr<Machine> NewMachine(EmulatedNavi31Config config = {}) {
  auto m = std::make_unique<Machine>();
  absl::StatusOr<std::unique_ptr<EmulatedNavi31>> chip = EmulatedNavi31::Install(*m->io, config);
  EXPECT_TRUE(chip.ok()) << chip.status();
  if (!chip.ok()) return nullptr;
  m->chip = std::move(*chip);
  absl::StatusOr<std::vector<PciFunction>> gpus = FindDriverlessAmdGpus(*m->io);
  EXPECT_TRUE(gpus.ok() && gpus->size() == 1);
  if (!gpus.ok() || gpus->empty()) return nullptr;
  m->fn = (*gpus)[0];
  absl::StatusOr<IpDiscoveryTable> table = ParseIpDiscovery(m->chip->gpu().config().discovery);
  EXPECT_TRUE(table.ok());
  absl::StatusOr<AmRegisterMap> map = AmRegisterMap::Create(*table);
  EXPECT_TRUE(map.ok());
  m->map = std::move(*map);
  return m;
}

AmPciGpuOptions Fast() {
  AmPciGpuOptions o;
  o.smu.mode1_reset_wait = absl::Milliseconds(1);
  return o;
}

std::unique_ptr<AmPciGpu> OpenOk(Machine& m, AmPciGpuOptions o = Fast()) {
  absl::StatusOr<std::unique_ptr<AmPciGpu>> gpu = AmPciGpu::Open(*m.io, m.fn, o);
  EXPECT_TRUE(gpu.ok()) << gpu.status();
  return gpu.ok() ? std::move(*gpu) : nullptr;
}

// What the PSP and SMU models have seen so far.
struct FirmwareTraffic {
  size_t bootloader = 0, ip_fw = 0, smu_messages = 0;
  int frames = 0;
  static FirmwareTraffic Of(EmulatedNavi31& chip) {
    return {chip.psp().bootloader_loads().size(), chip.psp().ip_fw_loads().size(),
            chip.smu().messages().size(), chip.psp().frames_executed()};
  }
};

std::unique_ptr<AmDevice> OpenDevice(Machine& m) {
  absl::StatusOr<std::unique_ptr<AmEmuCompiler>> cc =
      AmEmuCompiler::Create(GfxArchFromTargetVersion(110000));
  EXPECT_TRUE(cc.ok()) << cc.status();
  AmDevice::Options options;
  options.name = "AM_PCI_EMU:0";
  options.compiler = std::move(*cc);
  absl::StatusOr<std::unique_ptr<AmDevice>> d =
      CreateAmPciDevice(*m.io, m.fn, Fast(), std::move(options), /*emulated=*/true);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? std::move(*d) : nullptr;
}

AmPciGpu& GpuOf(AmDevice& d) { return static_cast<AmPciInterface&>(d.gpu_interface()).gpu(); }

// axpy on the device: out = 3 * a + b.
void ExpectAxpyRuns(AmDevice& d) {
  absl::StatusOr<std::string> bin = d.compiler().Compile("axpy", am_test::kAxpy);
  ASSERT_TRUE(bin.ok()) << bin.status();
  absl::StatusOr<std::unique_ptr<Program>> p =
      d.LoadProgram({.name = "axpy", .buffer_bytes = {32, 32, 32}, .num_vars = 1}, *bin);
  ASSERT_TRUE(p.ok()) << p.status();
  auto upload = [&](const std::vector<float>& v) {
    absl::StatusOr<DeviceBuffer*> b = d.allocator().Alloc(v.size() * sizeof(float));
    EXPECT_TRUE(b.ok()) << b.status();
    EXPECT_TRUE(d.allocator().CopyIn(**b, 0, AsBytes(absl::MakeConstSpan(v))).ok());
    return ScopedBuffer(*b);
  };
  ScopedBuffer out = upload(std::vector<float>(8, 0)), a = upload({1, 2, 3, 4, 5, 6, 7, 8}),
               b = upload({10, 20, 30, 40, 50, 60, 70, 80});
  DeviceBuffer* bufs[] = {out.get(), a.get(), b.get()};
  const int64_t k[] = {3};
  ASSERT_TRUE((*p)->Run(bufs, k, LaunchDims{2}, LaunchDims{4}).ok());
  std::vector<float> got(8);
  ASSERT_TRUE(d.allocator().CopyOut(*out, 0, AsWritableBytes(absl::MakeSpan(got))).ok());
  EXPECT_EQ(got, (std::vector<float>{31, 62, 93, 124, 155, 186, 217, 248}));
}

TEST(AmPciLifecycle, FirstOpenBootsFullyAndCloseLeavesTheChipResumable) {
  std::unique_ptr<Machine> m = NewMachine();
  ASSERT_NE(m, nullptr);
  std::unique_ptr<AmPciGpu> gpu = OpenOk(*m);
  ASSERT_NE(gpu, nullptr);
  EXPECT_EQ(gpu->boot_path(), AmBootPath::kFull);
  EXPECT_FALSE(gpu->found().sos_alive);
  EXPECT_EQ(gpu->found().layout_marker, 0u);
  EXPECT_TRUE(m->chip->psp().sos_alive());
  EXPECT_EQ(m->chip->mode1_resets(), 0);
  // Booted and owned: the layout marker, the session flag set.
  EXPECT_EQ(m->Reg(kAmScratchReg7), kAmLayoutMarker);
  EXPECT_EQ(m->Reg(kAmScratchReg6), kAmSessionOpen);

  ASSERT_TRUE(gpu->Close().ok());
  EXPECT_TRUE(gpu->Close().ok());  // idempotent
  EXPECT_EQ(m->Reg(kAmScratchReg7), kAmLayoutMarker);
  EXPECT_EQ(m->Reg(kAmScratchReg6), 0u);  // a clean session
  m->ExpectQuiet();
  // The PSP keeps its sOS and ring for the next process.
  EXPECT_TRUE(m->chip->psp().sos_alive());
  EXPECT_TRUE(m->chip->psp().ring_created());
  gpu.reset();
  EXPECT_TRUE(m->chip->CheckNoViolations().ok()) << m->chip->CheckNoViolations();
}

TEST(AmPciLifecycle, SecondOpenWhileTheFirstLivesIsRefusedBeforeTouchingTheChip) {
  std::unique_ptr<Machine> m = NewMachine();
  ASSERT_NE(m, nullptr);
  std::unique_ptr<AmPciGpu> first = OpenOk(*m);
  ASSERT_NE(first, nullptr);
  const size_t accesses = m->Accesses();
  absl::StatusOr<std::unique_ptr<AmPciGpu>> second = AmPciGpu::Open(*m->io, m->fn, Fast());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("0000:03:00.0 is in use"), std::string::npos)
      << second.status();
  EXPECT_EQ(m->Accesses(), accesses);  // not one register read
  // Once the first is gone the second gets the chip.
  first.reset();
  std::unique_ptr<AmPciGpu> again = OpenOk(*m);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->boot_path(), AmBootPath::kPartial);
  again.reset();
  EXPECT_TRUE(m->chip->CheckNoViolations().ok()) << m->chip->CheckNoViolations();
}

TEST(AmPciLifecycle, ReopenAfterACleanCloseBootsPartiallyAndRunsKernels) {
  std::unique_ptr<Machine> m = NewMachine();
  ASSERT_NE(m, nullptr);
  {
    std::unique_ptr<AmDevice> d = OpenDevice(*m);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(GpuOf(*d).boot_path(), AmBootPath::kFull);
    ExpectAxpyRuns(*d);
  }
  m->ExpectQuiet();
  const FirmwareTraffic before = FirmwareTraffic::Of(*m->chip);
  ASSERT_GT(before.bootloader, 0u);
  ASSERT_GT(before.ip_fw, 0u);
  {
    std::unique_ptr<AmDevice> d = OpenDevice(*m);
    ASSERT_NE(d, nullptr);
    AmPciGpu& gpu = GpuOf(*d);
    EXPECT_EQ(gpu.boot_path(), AmBootPath::kPartial);
    EXPECT_TRUE(gpu.found().Resumable()) << gpu.found().Describe();
    // Not one PSP command (bootloader stage, ring frame, image) and not one
    // SMU message: the firmware kept running.
    const FirmwareTraffic after = FirmwareTraffic::Of(*m->chip);
    EXPECT_EQ(after.bootloader, before.bootloader);
    EXPECT_EQ(after.ip_fw, before.ip_fw);
    EXPECT_EQ(after.frames, before.frames);
    EXPECT_EQ(after.smu_messages, before.smu_messages);
    EXPECT_EQ(m->chip->mode1_resets(), 0);
    // The MEC, SDMA and the VMID were started again: kernels run.
    EXPECT_FALSE(m->chip->mec().halted());
    ExpectAxpyRuns(*d);
  }
  // A third process resumes the same way.
  std::unique_ptr<AmPciGpu> third = OpenOk(*m);
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(third->boot_path(), AmBootPath::kPartial);
  third.reset();
  m->ExpectQuiet();
  EXPECT_TRUE(m->chip->CheckNoViolations().ok()) << m->chip->CheckNoViolations();
}

TEST(AmPciLifecycle, AChipLeftRunningByAmdgpuIsResetThenBootedFully) {
  std::unique_ptr<Machine> m = NewMachine();
  ASSERT_NE(m, nullptr);
  m->chip->LeaveRunningByOtherDriver();
  std::unique_ptr<AmPciGpu> gpu = OpenOk(*m);
  ASSERT_NE(gpu, nullptr);
  EXPECT_EQ(gpu->boot_path(), AmBootPath::kResetThenFull);
  EXPECT_TRUE(gpu->found().sos_alive);
  EXPECT_NE(gpu->found().layout_marker, kAmLayoutMarker);
  EXPECT_EQ(m->chip->mode1_resets(), 1);
  EXPECT_EQ(m->chip->smu().mode1_resets(), 1);
  // After the reset the sOS was booted again from its stages, the images
  // loaded and the SMU brought up.
  EXPECT_FALSE(m->chip->psp().bootloader_loads().empty());
  EXPECT_TRUE(m->chip->psp().autoload_started());
  EXPECT_TRUE(m->chip->smu().features_enabled());
  EXPECT_EQ(m->Reg(kAmScratchReg7), kAmLayoutMarker);
  gpu.reset();
  m->ExpectQuiet();
  EXPECT_TRUE(m->chip->CheckNoViolations().ok()) << m->chip->CheckNoViolations();
}

// What an unclean previous session leaves, each alone enough to reset.
struct Unclean {
  const char* what;
  void (*leave)(Machine&);
};

class AmPciLifecycleUnclean : public testing::TestWithParam<Unclean> {};

TEST_P(AmPciLifecycleUnclean, IsResetThenBootedFully) {
  std::unique_ptr<Machine> m = NewMachine();
  ASSERT_NE(m, nullptr);
  ASSERT_NE(OpenOk(*m), nullptr);  // opened and closed cleanly
  GetParam().leave(*m);
  std::unique_ptr<AmPciGpu> gpu = OpenOk(*m);
  ASSERT_NE(gpu, nullptr);
  EXPECT_EQ(gpu->boot_path(), AmBootPath::kResetThenFull) << gpu->found().Describe();
  EXPECT_FALSE(gpu->found().Resumable());
  EXPECT_EQ(m->chip->mode1_resets(), 1);
  gpu.reset();
  EXPECT_TRUE(m->chip->CheckNoViolations().ok()) << m->chip->CheckNoViolations();
}

INSTANTIATE_TEST_SUITE_P(
    States, AmPciLifecycleUnclean,
    testing::Values(
        // A process that died during its session: the flag it set stays.
        Unclean{"session", [](Machine& m) { m.SetReg(kAmScratchReg6, kAmSessionOpen); }},
        // Another driver's (or version's) layout.
        Unclean{"marker", [](Machine& m) { m.SetReg(kAmScratchReg7, 0xA0000008); }},
        // The MEC left running.
        Unclean{"mec",
                [](Machine& m) {
                  m.SetReg(kGc1100GfxRegs.mec_rs64_cntl,
                           m.Reg(kGc1100GfxRegs.mec_rs64_cntl) & ~gfx11::kMecHalt);
                }},
        // A GPU page fault latched in the GC hub.
        Unclean{"fault", [](Machine& m) { m.SetReg(kAmGcFaultStatus, 0x1); }}),
    [](const testing::TestParamInfo<Unclean>& info) { return info.param.what; });

TEST(AmPciLifecycle, ForceResetResetsAResumableChip) {
  std::unique_ptr<Machine> m = NewMachine();
  ASSERT_NE(m, nullptr);
  ASSERT_NE(OpenOk(*m), nullptr);
  AmPciGpuOptions o = Fast();
  o.force_reset = true;
  std::unique_ptr<AmPciGpu> gpu = OpenOk(*m, o);
  ASSERT_NE(gpu, nullptr);
  EXPECT_TRUE(gpu->found().Resumable());
  EXPECT_EQ(gpu->boot_path(), AmBootPath::kResetThenFull);
  EXPECT_EQ(m->chip->mode1_resets(), 1);
  gpu.reset();
  EXPECT_TRUE(m->chip->CheckNoViolations().ok()) << m->chip->CheckNoViolations();
}

TEST(AmPciLifecycle, ExplicitResetLeavesAChipTheNextOpenBootsFully) {
  std::unique_ptr<Machine> m = NewMachine();
  ASSERT_NE(m, nullptr);
  std::unique_ptr<AmPciGpu> gpu = OpenOk(*m);
  ASSERT_NE(gpu, nullptr);
  ASSERT_TRUE(gpu->Reset().ok());
  // The chip forgot everything: sOS stopped, engines halted, markers clear.
  EXPECT_EQ(m->chip->mode1_resets(), 1);
  EXPECT_FALSE(m->chip->psp().sos_alive());
  EXPECT_FALSE(m->chip->psp().ring_created());
  EXPECT_FALSE(m->chip->smu().features_enabled());
  EXPECT_EQ(m->Reg(kAmScratchReg7), 0u);
  EXPECT_EQ(m->Reg(kAmScratchReg6), 0u);
  m->ExpectQuiet();
  // Close has nothing to stop: it only releases the lock.
  const size_t accesses = m->Accesses();
  EXPECT_TRUE(gpu->Close().ok());
  EXPECT_EQ(m->Accesses(), accesses);
  EXPECT_EQ(gpu->Reset().code(), absl::StatusCode::kFailedPrecondition);
  gpu.reset();
  std::unique_ptr<AmPciGpu> next = OpenOk(*m);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->boot_path(), AmBootPath::kFull);
  EXPECT_EQ(m->chip->mode1_resets(), 1);
  next.reset();
  EXPECT_TRUE(m->chip->CheckNoViolations().ok()) << m->chip->CheckNoViolations();
}

TEST(AmPciLifecycle, CloseStopsQueuesTheCallerLeftRunning) {
  std::unique_ptr<Machine> m = NewMachine();
  ASSERT_NE(m, nullptr);
  std::unique_ptr<AmPciGpu> gpu = OpenOk(*m);
  ASSERT_NE(gpu, nullptr);
  // One page each for an AQL ring, an SDMA ring and their pointers, mapped
  // in VMID 8.
  absl::StatusOr<uint64_t> pa = gpu->vram().Allocate(64 << 10);
  ASSERT_TRUE(pa.ok()) << pa.status();
  absl::StatusOr<uint64_t> va = gpu->vm().AllocateVa(64 << 10);
  ASSERT_TRUE(va.ok()) << va.status();
  ASSERT_TRUE(gpu->vm().Map(*va, *pa, 64 << 10).ok());
  AmAqlQueueSpec aql;
  aql.pipe = 1;
  aql.queue = 2;
  aql.ring_va = *va;
  aql.ring_bytes = 4096;
  aql.rptr_report_va = *va + 0x8000;
  aql.wptr_poll_va = *va + 0x8008;
  aql.eop_va = *va + 0x9000;
  aql.mqd_va = *va + 0xA000;
  aql.doorbell_index = kAmComputeDoorbellDword;
  absl::StatusOr<AmHqd> hqd = gpu->gfx().MapAqlQueue(aql);
  ASSERT_TRUE(hqd.ok()) << hqd.status();
  AmSdmaQueueSpec ring;
  ring.instance = 1;
  ring.vmid = 8;
  ring.ring_va = *va + 0x4000;
  ring.ring_bytes = 4096;
  ring.rptr_va = *va + 0x8100;
  ring.doorbell_index = kAmSdmaDoorbellDword[1];
  absl::StatusOr<AmSdmaQueue> q = gpu->sdma().CreateQueue(ring);
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(m->chip->mec().active_queues().size(), 1u);
  ASSERT_TRUE(m->chip->sdma().queue(1).enabled);

  ASSERT_TRUE(gpu->Close().ok());
  m->ExpectQuiet();
  EXPECT_EQ(m->Reg(kAmScratchReg6), 0u);
  gpu.reset();
  EXPECT_TRUE(m->chip->CheckNoViolations().ok()) << m->chip->CheckNoViolations();
}

TEST(AmPciLifecycle, ALeftRunningChipWhoseSmuIsDeadCannotBeResetAndSaysSo) {
  EmulatedNavi31Config config;
  config.smu.never_alive = true;
  std::unique_ptr<Machine> m = NewMachine(config);
  ASSERT_NE(m, nullptr);
  m->chip->LeaveRunningByOtherDriver();
  absl::StatusOr<std::unique_ptr<AmPciGpu>> gpu = AmPciGpu::Open(*m->io, m->fn, Fast());
  ASSERT_FALSE(gpu.ok());
  EXPECT_EQ(gpu.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(gpu.status().message().find("cannot be MODE1-reset"), std::string::npos)
      << gpu.status();
  EXPECT_NE(gpu.status().message().find("0000:03:00.0/reset"), std::string::npos);
  EXPECT_EQ(m->chip->mode1_resets(), 0);
  // The failed Open released the lock and the seam.
  EXPECT_TRUE(m->io->CheckClean().ok()) << m->io->CheckClean();
  EXPECT_TRUE(m->chip->CheckNoViolations().ok()) << m->chip->CheckNoViolations();
}

TEST(AmPciLifecycle, AFailedBringUpLeavesTheChipToBeReset) {
  std::unique_ptr<Machine> m = NewMachine();
  ASSERT_NE(m, nullptr);
  // The IP firmware is missing: the bring-up stops after the sOS came up.
  m->io->RemoveFile("/lib/firmware/amdgpu/gc_11_0_0_mec.bin");
  absl::StatusOr<std::unique_ptr<AmPciGpu>> gpu = AmPciGpu::Open(*m->io, m->fn, Fast());
  ASSERT_FALSE(gpu.ok());
  EXPECT_EQ(m->Reg(kAmScratchReg6), kAmSessionOpen);  // never closed cleanly
  EXPECT_NE(m->Reg(kAmScratchReg7), kAmLayoutMarker);
  EXPECT_TRUE(m->io->CheckClean().ok()) << m->io->CheckClean();
}

}  // namespace
}  // namespace uop
