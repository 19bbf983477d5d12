// Interrupt-driven waits on the AM path without a kernel driver: through
// VFIO the emulated Navi31's IH vectors arrive as MSIs on an eventfd
// (AmVfio::EnableMsi), and AmPciInterface::WaitEvents sleeps in poll() on it
// instead of napping. End to end through AmDevice: kernels complete with
// waits woken by the interrupt, a wait for something that never comes
// returns at its timeout, and a second waiter does not hold up the first.
#include <atomic>
#include <thread>
#include <vector>

#include "drivers/am/am_device.h"
#include "drivers/am/emulator/am_pci_emu_device.h"
#include "drivers/am/emulator/test_kernels.h"
#include "drivers/am/pci/am_pci_interface.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/ih.h"
#include "drivers/am/pci/nbio.h"
#include "drivers/am/pci/vfio.h"
#include "drivers/am/pci/vfio_abi.h"
#include "drivers/device_test_util.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

EmulatedAmPci ThroughVfio(bool msi = true) {
  EmulatedNavi31Config chip;
  chip.vfio = true;
  AmPciGpuOptions bring_up;
  bring_up.vfio_msi = msi;
  absl::StatusOr<EmulatedAmPci> emu = CreateEmulatedAmPci(chip, bring_up);
  EXPECT_TRUE(emu.ok()) << emu.status();
  return std::move(*emu);
}

// Launches `count` kernels that each add one to a counter, waits, and
// returns the counter.
int32_t RunCount(EmulatedAmPci& emu, int launches) {
  Device& d = *emu.device;
  std::unique_ptr<Program> count = LoadForTest(d, "count", am_test::kCount, {4}, 0);
  ScopedBuffer counter = UploadForTest<int32_t>(d, {0});
  absl::StatusOr<std::unique_ptr<Queue>> q = d.CreateQueue("compute");
  EXPECT_TRUE(q.ok()) << q.status();
  if (!q.ok()) return -1;
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* bufs[] = {counter.get()};
  for (int i = 0; i < launches; ++i) cb->Exec(count.get(), bufs, {}, LaunchDims{}, LaunchDims{});
  EXPECT_TRUE((*q)->Submit(cb).ok());
  absl::Status done = (*q)->Wait(absl::Seconds(20));
  EXPECT_TRUE(done.ok()) << done;
  return ReadForTest<int32_t>(d, *counter, 1)[0];
}

TEST(AmPciMsi, KernelsCompleteWithWaitsWokenByTheInterrupt) {
  EmulatedAmPci emu = ThroughVfio();
  ASSERT_NE(emu.device, nullptr);
  EXPECT_TRUE(emu.gpu->interrupt_driven());
  EmulatedVfio& model = *emu.chip->vfio();
  EXPECT_EQ(model.irq_index(), static_cast<int>(vfio::kPciMsixIrq));
  // The emulated GPU may finish before AmDevice's own wait starts (then
  // that wait returns without sleeping), so a second waiter is already
  // asleep on the eventfd when the work goes in: the CP's end-of-pipe MSI
  // must wake it well before its timeout.
  absl::StatusOr<AmEvent> never = emu.gpu->CreateEvent(AmEventType::kSignal, true);
  ASSERT_TRUE(never.ok());
  std::thread sleeper([&] {
    absl::StatusOr<std::vector<AmEventData>> r = emu.gpu->WaitEvents({never->id}, 400);
    EXPECT_TRUE(r.ok() && r->empty());
  });
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(RunCount(emu, 5), 5);
  sleeper.join();
  const AmPciInterface::WaitStats stats = emu.gpu->wait_stats();
  EXPECT_GT(stats.interrupt_wakeups, 0u);
  EXPECT_EQ(stats.naps, 0u);  // never the polling back-off
  EXPECT_GT(model.interrupts_signalled(), 0u);
  EXPECT_EQ(model.interrupts_signalled(), emu.chip->interrupts_raised());
  EXPECT_GT(emu.gpu->interrupts_seen(), 0u);
  EXPECT_TRUE(model.refusals().empty()) << model.refusals()[0];
  ASSERT_TRUE(emu.gpu->DestroyEvent(never->id).ok());
  EXPECT_TRUE(emu.chip->CheckNoViolations().ok()) << emu.chip->CheckNoViolations();
}

// The IH's storm/flood control as ih_v6_0_irq_init leaves it, and NBIO's
// IH control as nbio_v4_3_ih_control.
TEST(AmPciMsi, TheIhIsSetUpForInterrupts) {
  EmulatedAmPci emu = ThroughVfio();
  ASSERT_NE(emu.device, nullptr);
  const AmRegisterIo& regs = emu.gpu->gpu().regs();
  using namespace am_field;
  EXPECT_NE(*regs.Read(kOsssys600StormRegs.int_flood_cntl) & kIhFloodCntlEnable, 0u);
  EXPECT_NE(*regs.Read(kOsssys600StormRegs.storm_client_list_cntl) & kIhClient18IsStormClient, 0u);
  EXPECT_EQ(*regs.Read(kOsssys600StormRegs.msi_storm_ctrl) & kIhMsiStormDelayMask,
            kIhMsiStormDelay);
  // NBIO's IH control: a dummy-read page the IOMMU maps, and no dummy read
  // with MSI.
  const uint64_t dummy = uint64_t{*regs.Read(kNbio430IhRegs.interrupt_cntl2)} << 8;
  EXPECT_NE(dummy, 0u);
  EXPECT_NE(emu.chip->vfio()->iommu().Resolve(dummy, AmVfio::kPage), nullptr);
  EXPECT_EQ(*regs.Read(kNbio430IhRegs.interrupt_cntl) &
                (nbio::kIhDummyRdOverride | nbio::kIhReqNonsnoopEn),
            0u);
  EXPECT_EQ(emu.gpu->gpu().nbio().ConfigureIhInterrupts(0x1234).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(emu.gpu->gpu().nbio().ConfigureIhInterrupts(0).code(),
            absl::StatusCode::kInvalidArgument);
  const uint32_t rb_cntl = *regs.Read(kOsssys600Regs.rb_cntl);
  EXPECT_NE(rb_cntl & kIhEnableIntr, 0u);
  EXPECT_NE(rb_cntl & kIhRptrRearm, 0u);
  EXPECT_TRUE(emu.chip->CheckNoViolations().ok()) << emu.chip->CheckNoViolations();
}

// The IH sends no MSI with RB_CNTL.ENABLE_INTR off: the model drops the
// vector and signals nothing; the work still completes (mailboxes, checked
// at the waits' timeouts).
TEST(AmPciMsi, NoMsiWithTheIhInterruptsOff) {
  EmulatedAmPci emu = ThroughVfio();
  ASSERT_NE(emu.device, nullptr);
  ASSERT_TRUE(
      emu.gpu->gpu().regs().Update(kOsssys600Regs.rb_cntl, am_field::kIhEnableIntr, 0).ok());
  const uint64_t signalled = emu.chip->vfio()->interrupts_signalled();
  EXPECT_EQ(RunCount(emu, 2), 2);
  EXPECT_EQ(emu.chip->vfio()->interrupts_signalled(), signalled);
  EXPECT_GT(emu.chip->interrupts_dropped(), 0u);
  EXPECT_EQ(emu.gpu->wait_stats().interrupt_wakeups, 0u);
}

TEST(AmPciMsi, WithoutMsiTheWaitsPoll) {
  EmulatedAmPci emu = ThroughVfio(/*msi=*/false);
  ASSERT_NE(emu.device, nullptr);
  EXPECT_FALSE(emu.gpu->interrupt_driven());
  EXPECT_EQ(emu.chip->vfio()->irq_index(), -1);
  EXPECT_EQ(RunCount(emu, 3), 3);
  // A wait that must sleep (AmDevice's may find its work done already).
  absl::StatusOr<AmEvent> never = emu.gpu->CreateEvent(AmEventType::kSignal, true);
  ASSERT_TRUE(never.ok());
  absl::StatusOr<std::vector<AmEventData>> r = emu.gpu->WaitEvents({never->id}, 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->empty());
  const AmPciInterface::WaitStats stats = emu.gpu->wait_stats();
  EXPECT_EQ(stats.interrupt_wakeups, 0u);
  EXPECT_EQ(stats.timeout_wakeups, 0u);
  EXPECT_GT(stats.naps, 0u);
  EXPECT_EQ(emu.chip->vfio()->interrupts_signalled(), 0u);
  EXPECT_TRUE(emu.chip->CheckNoViolations().ok()) << emu.chip->CheckNoViolations();
}

TEST(AmPciMsi, AWaitForAnEventThatNeverFiresReturnsAtItsTimeout) {
  EmulatedAmPci emu = ThroughVfio();
  ASSERT_NE(emu.device, nullptr);
  absl::StatusOr<AmEvent> ev = emu.gpu->CreateEvent(AmEventType::kSignal, true);
  ASSERT_TRUE(ev.ok()) << ev.status();
  const AmPciInterface::WaitStats before = emu.gpu->wait_stats();
  const absl::Time t0 = absl::Now();
  absl::StatusOr<std::vector<AmEventData>> r = emu.gpu->WaitEvents({ev->id}, 60);
  const absl::Duration took = absl::Now() - t0;
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->empty());  // timed out
  EXPECT_GE(took, absl::Milliseconds(59));
  EXPECT_LT(took, absl::Milliseconds(60 + 500));  // generous: a loaded CI machine
  const AmPciInterface::WaitStats after = emu.gpu->wait_stats();
  EXPECT_GT(after.timeout_wakeups, before.timeout_wakeups);
  EXPECT_EQ(after.interrupt_wakeups, before.interrupt_wakeups);
  EXPECT_EQ(after.naps, 0u);
  // A zero timeout checks once and returns.
  r = emu.gpu->WaitEvents({ev->id}, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(emu.gpu->WaitEvents({ev->id + 1000}, 10).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(emu.gpu->DestroyEvent(ev->id).ok());
}

// One waiter sleeps on the eventfd; another waiting meanwhile must still
// see its event when the interrupt comes (the sleeper drains the IH and
// wakes the others), not only when the sleeper's long timeout ends.
TEST(AmPciMsi, ASecondWaiterIsWokenByTheOneSleepingOnTheEventfd) {
  EmulatedAmPci emu = ThroughVfio();
  ASSERT_NE(emu.device, nullptr);
  absl::StatusOr<AmEvent> never = emu.gpu->CreateEvent(AmEventType::kSignal, true);
  ASSERT_TRUE(never.ok());
  std::atomic<bool> sleeper_done{false};
  std::thread sleeper([&] {
    absl::StatusOr<std::vector<AmEventData>> r = emu.gpu->WaitEvents({never->id}, 3000);
    EXPECT_TRUE(r.ok() && r->empty());
    sleeper_done = true;
  });
  absl::SleepFor(absl::Milliseconds(20));  // the sleeper is on the eventfd first (likely)
  const absl::Time t0 = absl::Now();
  EXPECT_EQ(RunCount(emu, 2), 2);
  EXPECT_LT(absl::Now() - t0, absl::Milliseconds(2500));
  EXPECT_FALSE(sleeper_done.load());
  sleeper.join();
  EXPECT_GT(emu.gpu->wait_stats().interrupt_wakeups, 0u);
  ASSERT_TRUE(emu.gpu->DestroyEvent(never->id).ok());
  EXPECT_TRUE(emu.chip->CheckNoViolations().ok()) << emu.chip->CheckNoViolations();
}

}  // namespace
}  // namespace uop
