// AmDevice on the AM path without a kernel driver, end to end on the
// emulated Navi31: the driver brings the chip up itself (PCI, discovery,
// GMC, IH, PSP with every firmware image, SMU, MEC, SDMA, VMID page tables),
// then runs kernels through an HQD it programmed and copies through an SDMA
// ring it programmed — and every device model's protocol checks hold.
#include "drivers/am/pci/am_pci_device.h"

#include <chrono>
#include <cstdlib>
#include <vector>

#include "drivers/am/am_device.h"
#include "drivers/am/amdgpu_compiler.h"
#include "drivers/am/emulator/am_pci_emu_device.h"
#include "drivers/am/emulator/test_kernels.h"
#include "drivers/am/pci/ip_firmware.h"
#include "drivers/device_registry.h"
#include "drivers/device_test_util.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

EmulatedAmPci Emulated(AmDevice::Options options = {}) {
  absl::StatusOr<EmulatedAmPci> emu = CreateEmulatedAmPci({}, {}, std::move(options));
  EXPECT_TRUE(emu.ok()) << emu.status();
  return std::move(*emu);
}

TEST(AmPciEmulated, BringsTheChipUpInOrderWithEveryFirmware) {
  EmulatedAmPci emu = Emulated();
  ASSERT_NE(emu.device, nullptr);
  const DeviceInfo& info = emu.device->info();
  EXPECT_EQ(info.name, "AM_PCI_EMU:0");
  EXPECT_EQ(info.language, "amdgcn");
  EXPECT_NE(info.description.find("gfx1100"), std::string::npos) << info.description;
  EXPECT_NE(info.description.find("no kernel driver"), std::string::npos) << info.description;
  EXPECT_EQ(info.compute_units, 96);
  EmulatedNavi31& chip = *emu.chip;
  EXPECT_TRUE(chip.gpu().CheckEnabled().ok());
  // PSP: TOC/TMR, then the SMU and every other image, then the autoload.
  ASSERT_TRUE(chip.psp().tmr().has_value());
  EXPECT_TRUE(chip.psp().autoload_started());
  ASSERT_FALSE(chip.psp().ip_fw_loads().empty());
  EXPECT_EQ(chip.psp().ip_fw_loads().front().fw_type, gfx_fw::kSmu);
  // SMU alive with its features on; MEC unhalted; both SDMA engines running.
  EXPECT_TRUE(chip.smu().features_enabled());
  EXPECT_FALSE(chip.mec().halted());
  EXPECT_TRUE(chip.sdma().running(0));
  EXPECT_TRUE(chip.sdma().running(1));
  // AmDevice's AQL queue is an HQD the driver programmed, in VMID 8.
  std::vector<EmulatedMec::ActiveQueue> queues = chip.mec().active_queues();
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_EQ(queues[0].vmid, 8u);
  EXPECT_TRUE(chip.CheckNoViolations().ok()) << chip.CheckNoViolations();
}

TEST(AmPciEmulated, RunsKernelsThroughTheMecAndCopiesThroughSdma) {
  EmulatedAmPci emu = Emulated();
  Device& d = *emu.device;
  std::unique_ptr<Program> axpy = LoadForTest(d, "axpy", am_test::kAxpy, {32, 32, 32}, 1);
  ASSERT_NE(axpy, nullptr);
  ScopedBuffer out = UploadForTest<float>(d, std::vector<float>(8, 0)),
               a = UploadForTest<float>(d, {1, 2, 3, 4, 5, 6, 7, 8}),
               b = UploadForTest<float>(d, {10, 20, 30, 40, 50, 60, 70, 80});
  DeviceBuffer* bufs[] = {out.get(), a.get(), b.get()};
  const int64_t k[] = {3};
  ASSERT_TRUE(axpy->Run(bufs, k, LaunchDims{2}, LaunchDims{4}).ok());
  EXPECT_EQ(ReadForTest<float>(d, *out, 8),
            (std::vector<float>{31, 62, 93, 124, 155, 186, 217, 248}));

  // A command buffer: five dispatches, an SDMA copy, a signal.
  std::unique_ptr<Program> count = LoadForTest(d, "count", am_test::kCount, {4}, 0);
  ScopedBuffer counter = UploadForTest<int32_t>(d, {0}), copy = UploadForTest<int32_t>(d, {-1});
  absl::StatusOr<std::unique_ptr<Queue>> q = d.CreateQueue("compute");
  ASSERT_TRUE(q.ok()) << q.status();
  absl::StatusOr<std::unique_ptr<Signal>> done = d.CreateSignal("done");
  ASSERT_TRUE(done.ok()) << done.status();
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* cbufs[] = {counter.get()};
  for (int i = 0; i < 5; ++i) cb->Exec(count.get(), cbufs, {}, LaunchDims{}, LaunchDims{});
  cb->Copy(copy.get(), 0, counter.get(), 0, 4).SignalValue(done->get(), 1);
  ASSERT_TRUE((*q)->Submit(cb).ok());
  ASSERT_TRUE((*done)->Wait(1, absl::Seconds(10)).ok());
  ASSERT_TRUE((*q)->Wait(absl::Seconds(10)).ok());
  EXPECT_EQ(ReadForTest<int32_t>(d, *copy, 1), std::vector<int32_t>{5});
  // Completions came back as interrupt vectors on the IH ring the driver polls.
  EXPECT_GT(emu.chip->interrupts_raised(), 0u);
  EXPECT_EQ(emu.chip->interrupts_dropped(), 0u);
  EXPECT_GT(emu.gpu->interrupts_seen(), 0u);
  EXPECT_TRUE(emu.chip->CheckNoViolations().ok()) << emu.chip->CheckNoViolations();
}

TEST(AmPciEmulated, ManyLaunchesWrapTheRings) {
  AmDevice::Options o;
  o.aql_packets = 64;
  o.kernarg_bytes = 16 << 10;
  EmulatedAmPci emu = Emulated(std::move(o));
  Device& d = *emu.device;
  std::unique_ptr<Program> count = LoadForTest(d, "count", am_test::kCount, {4}, 0);
  ScopedBuffer counter = UploadForTest<int32_t>(d, {0});
  absl::StatusOr<std::unique_ptr<Queue>> q = d.CreateQueue("compute");
  ASSERT_TRUE(q.ok()) << q.status();
  DeviceBuffer* bufs[] = {counter.get()};
  auto big = std::make_shared<CommandBuffer>();
  for (int i = 0; i < 50; ++i) big->Exec(count.get(), bufs, {}, LaunchDims{}, LaunchDims{});
  for (int s = 0; s < 8; ++s) ASSERT_TRUE((*q)->Submit(big).ok());
  ASSERT_TRUE((*q)->Wait(absl::Seconds(30)).ok());
  EXPECT_EQ(ReadForTest<int32_t>(d, *counter, 1), std::vector<int32_t>{400});
  EXPECT_TRUE(emu.chip->CheckNoViolations().ok()) << emu.chip->CheckNoViolations();
}

TEST(AmPciEmulated, KernelWithScratch) {
  EmulatedAmPci emu = Emulated();
  Device& d = *emu.device;
  std::unique_ptr<Program> p = LoadForTest(d, "scratch", am_test::kScratch, {32, 32}, 0);
  ASSERT_NE(p, nullptr);
  ScopedBuffer out = UploadForTest<float>(d, std::vector<float>(8, -1)),
               idx = UploadForTest<int32_t>(d, {5, 0, 511, 512 + 7, 100, 3, 250, 1});
  DeviceBuffer* bufs[] = {out.get(), idx.get()};
  ASSERT_TRUE(p->Run(bufs, {}, LaunchDims{2}, LaunchDims{4}).ok());
  EXPECT_EQ(ReadForTest<float>(d, *out, 8), (std::vector<float>{5, 0, 511, 7, 100, 3, 250, 1}));
}

TEST(AmPciEmulated, GpuFaultComesBackAsAnInterruptNotATimeout) {
  EmulatedAmPci emu = Emulated();
  Device& d = *emu.device;
  // A code object without the host twin the emulator needs: the emulated
  // MEC faults on it, the model raises the UTCL2 vector, the driver's IH
  // poll turns it into the memory-fault event.
  absl::StatusOr<std::unique_ptr<AmdgpuCompiler>> plain =
      AmdgpuCompiler::Create({.arch = "gfx1100"});
  ASSERT_TRUE(plain.ok());
  absl::StatusOr<std::string> bin = (*plain)->Compile("count", am_test::kCount);
  ASSERT_TRUE(bin.ok()) << bin.status();
  absl::StatusOr<std::unique_ptr<Program>> p =
      d.LoadProgram({.name = "count", .buffer_bytes = {4}}, *bin);
  ASSERT_TRUE(p.ok()) << p.status();
  ScopedBuffer a = UploadForTest<int32_t>(d, {0});
  absl::StatusOr<std::unique_ptr<Queue>> q = d.CreateQueue("compute");
  ASSERT_TRUE(q.ok());
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* bufs[] = {a.get()};
  cb->Exec(p->get(), bufs, {}, LaunchDims{}, LaunchDims{});
  ASSERT_TRUE((*q)->Submit(cb).ok());
  const auto t0 = std::chrono::steady_clock::now();
  absl::Status st = (*q)->Wait(absl::Seconds(30));
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("GPU memory fault"), absl::string_view::npos) << st;
  EXPECT_LT(waited, 5.0);
  ASSERT_FALSE(emu.chip->mec().faults().empty());
  EXPECT_NE(emu.chip->mec().faults()[0].message.find("no host twin"), std::string::npos);
}

TEST(AmPciEmulated, MissingFirmwareFailsTheBringUpNamingTheFile) {
  EmulatedNavi31Config chip;
  AmPciGpuOptions up;
  up.firmware_dir = "/nonexistent";  // CreateEmulatedAmPci installs into chip.firmware_dir
  chip.firmware_dir = "/lib/firmware/amdgpu";
  absl::StatusOr<EmulatedAmPci> emu = [&]() -> absl::StatusOr<EmulatedAmPci> {
    EmulatedAmPci e;
    e.io = std::make_shared<EmulatedKernelIo>();
    absl::StatusOr<std::unique_ptr<EmulatedNavi31>> c = EmulatedNavi31::Install(*e.io, chip);
    if (!c.ok()) return c.status();
    e.chip = std::move(*c);
    absl::StatusOr<std::vector<PciFunction>> gpus = FindAmdGpus(*e.io, kPciDevicesDir);
    if (!gpus.ok()) return gpus.status();
    absl::StatusOr<std::unique_ptr<AmPciGpu>> g = AmPciGpu::Open(*e.io, (*gpus)[0], up);
    if (!g.ok()) return g.status();
    return e;
  }();
  ASSERT_FALSE(emu.ok());
  EXPECT_EQ(emu.status().code(), absl::StatusCode::kNotFound) << emu.status();
  EXPECT_NE(emu.status().message().find("PSP firmware"), absl::string_view::npos) << emu.status();
  EXPECT_NE(emu.status().message().find("/nonexistent/psp_13_0_0_sos.bin"), absl::string_view::npos)
      << emu.status();
}

// Bound to vfio-pci: BARs from the VFIO device fd, and every kAmMemGtt
// allocation (the AQL ring, the queue page with its signal, kernel
// arguments, the SDMA ring, the event page) in pinned host memory the
// engines reach through the emulated IOMMU.
TEST(AmPciEmulated, ThroughVfioHostMemoryCarriesTheRingsAndSignals) {
  EmulatedNavi31Config chip;
  chip.vfio = true;
  absl::StatusOr<EmulatedAmPci> e = CreateEmulatedAmPci(chip);
  ASSERT_TRUE(e.ok()) << e.status();
  EmulatedAmPci& emu = *e;
  Device& d = *emu.device;
  EXPECT_NE(d.info().description.find("through VFIO"), std::string::npos) << d.info().description;
  ASSERT_NE(emu.chip->vfio(), nullptr);
  const size_t mapped = emu.chip->vfio()->dma_mappings();
  EXPECT_GE(mapped, 4u);  // event page, AQL ring, queue page, kernel arguments
  std::unique_ptr<Program> count = LoadForTest(d, "count", am_test::kCount, {4}, 0);
  ScopedBuffer counter = UploadForTest<int32_t>(d, {0}), copy = UploadForTest<int32_t>(d, {-1});
  absl::StatusOr<std::unique_ptr<Queue>> q = d.CreateQueue("compute");
  ASSERT_TRUE(q.ok()) << q.status();
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* bufs[] = {counter.get()};
  for (int i = 0; i < 7; ++i) cb->Exec(count.get(), bufs, {}, LaunchDims{}, LaunchDims{});
  cb->Copy(copy.get(), 0, counter.get(), 0, 4);
  ASSERT_TRUE((*q)->Submit(cb).ok());
  ASSERT_TRUE((*q)->Wait(absl::Seconds(10)).ok());
  EXPECT_EQ(ReadForTest<int32_t>(d, *copy, 1), std::vector<int32_t>{7});
  EXPECT_GT(emu.chip->vfio()->dma_mappings(), mapped);  // the new queue's ring and page, SDMA's
  EXPECT_TRUE(emu.chip->vfio()->refusals().empty());
  EXPECT_TRUE(emu.chip->CheckNoViolations().ok()) << emu.chip->CheckNoViolations();
}

TEST(AmPciEmulated, OnlyGpusWithoutAKernelDriverAreOffered) {
  EmulatedKernelIo io;
  absl::StatusOr<std::unique_ptr<EmulatedNavi31>> chip = EmulatedNavi31::Install(io);
  ASSERT_TRUE(chip.ok()) << chip.status();
  absl::StatusOr<std::vector<PciFunction>> free = FindDriverlessAmdGpus(io);
  ASSERT_TRUE(free.ok()) << free.status();
  ASSERT_EQ(free->size(), 1u);
  EXPECT_EQ((*free)[0].bdf, "0000:03:00.0");
  // amdgpu bound: the function belongs to the KFD backend.
  io.AddFile((*free)[0].dir + "/driver/bind", "");
  free = FindDriverlessAmdGpus(io);
  ASSERT_TRUE(free.ok()) << free.status();
  EXPECT_TRUE(free->empty());
}

TEST(AmPciEmulated, RegistryOffersItOnlyWhenEnabled) {
  unsetenv("UOP_ENABLE_EMULATED");
  EXPECT_EQ(DeviceRegistry::Global().Get("AM_PCI_EMU").status().code(),
            absl::StatusCode::kNotFound);
  setenv("UOP_ENABLE_EMULATED", "1", 1);
  absl::StatusOr<Device*> d = DeviceRegistry::Global().Get("AM_PCI_EMU");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().name, "AM_PCI_EMU:0");
  unsetenv("UOP_ENABLE_EMULATED");
}

}  // namespace
}  // namespace uop
