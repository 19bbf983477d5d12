#include "drivers/am/am_device.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "drivers/am/abi/kfd.h"
#include "drivers/am/amdgpu_compiler.h"
#include "drivers/am/code_object.h"
#include "drivers/am/emulator/am_emu_device.h"
#include "drivers/am/emulator/test_kernels.h"
#include "drivers/device_registry.h"
#include "drivers/device_test_util.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

EmulatedAm Emulated(AmDevice::Options options = {}) {
  absl::StatusOr<EmulatedAm> emu = CreateEmulatedAm({}, std::move(options));
  EXPECT_TRUE(emu.ok()) << emu.status();
  return std::move(*emu);
}

TEST(AmEmulated, RegistryOffersItOnlyWhenEnabled) {
  unsetenv("UOP_ENABLE_EMULATED");
  EXPECT_EQ(DeviceRegistry::Global().Get("AM_EMU").status().code(), absl::StatusCode::kNotFound);
  setenv("UOP_ENABLE_EMULATED", "1", 1);
  absl::StatusOr<Device*> d = DeviceRegistry::Global().Get("AM_EMU");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().name, "AM_EMU:0");
  EXPECT_EQ((*d)->info().language, "amdgcn");
  EXPECT_NE((*d)->info().description.find("gfx1100"), std::string::npos);
  EXPECT_NE((*d)->info().description.find("emulated"), std::string::npos);
  EXPECT_EQ((*d)->info().compute_units, 48);
  unsetenv("UOP_ENABLE_EMULATED");
}

TEST(AmEmulated, KernelWithScratchGetsTheQueuesScratch) {
  EmulatedAm emu = Emulated();
  Device& d = *emu.device;
  absl::StatusOr<std::string> bin = d.compiler().Compile("scratch", am_test::kScratch);
  ASSERT_TRUE(bin.ok()) << bin.status();
  absl::StatusOr<AmdCodeObject> co = LoadAmdCodeObject(*bin, "scratch");
  ASSERT_TRUE(co.ok()) << co.status();
  ASSERT_GE(co->kd.private_segment_fixed_size, 2048u);  // the array is in scratch
  std::unique_ptr<Program> p = LoadForTest(d, "scratch", am_test::kScratch, {32, 32}, 0);
  ASSERT_NE(p, nullptr);
  ScopedBuffer out = UploadForTest<float>(d, std::vector<float>(8, -1)),
               idx = UploadForTest<int32_t>(d, {5, 0, 511, 512 + 7, 100, 3, 250, 1});
  DeviceBuffer* bufs[] = {out.get(), idx.get()};
  // Twice: the second dispatch reuses the scratch the first set up.
  for (int run = 0; run < 2; ++run) {
    absl::Status st = p->Run(bufs, {}, LaunchDims{2}, LaunchDims{4});
    ASSERT_TRUE(st.ok()) << st;
  }
  EXPECT_EQ(ReadForTest<float>(d, *out, 8), (std::vector<float>{5, 0, 511, 7, 100, 3, 250, 1}));
  EXPECT_EQ(emu.kfd->stats().scratch_dispatches, 2u);
  EXPECT_EQ(emu.kfd->fault(), "");
}

TEST(AmEmulated, ScratchBeyondTheLimitIsRefusedAtLoad) {
  AmDevice::Options o;
  o.max_scratch_bytes = 64 * 1024;  // not one 64 KiB slot per shader engine
  EmulatedAm emu = Emulated(std::move(o));
  Device& d = *emu.device;
  absl::StatusOr<std::string> bin = d.compiler().Compile("scratch", am_test::kScratch);
  ASSERT_TRUE(bin.ok()) << bin.status();
  absl::StatusOr<std::unique_ptr<Program>> p =
      d.LoadProgram({.name = "scratch", .buffer_bytes = {32, 32}, .num_vars = 0}, *bin);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(p.status().message().find("kernel 'scratch'"), absl::string_view::npos) << p.status();
}

TEST(AmEmulated, ProgramRunsAndTheDriverCleansUp) {
  EmulatedAm emu = Emulated();
  Device& d = *emu.device;
  emu.kfd->set_latency(absl::Milliseconds(5), absl::Milliseconds(5));  // the watcher must sleep
  {
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
  }
  EXPECT_EQ(emu.io->CountOf(IoCall::kIoctl, kfd::kIoctlAcquireVm), 1u);
  EXPECT_GT(emu.io->CountOf(IoCall::kIoctl, kfd::kIoctlMapMemoryToGpu), 0u);
  EXPECT_GT(emu.io->CountOf(IoCall::kIoctl, kfd::kIoctlWaitEvents), 0u);
  emu.device.reset();
  EXPECT_TRUE(emu.io->CheckClean().ok()) << emu.io->CheckClean();
  EXPECT_TRUE(emu.kfd->fault().empty()) << emu.kfd->fault();
  EXPECT_EQ(emu.kfd->memory().bytes_in_use(), 8192u);  // only the emulator's doorbell page
}

TEST(AmEmulated, QueueSignalsAndSdmaCopies) {
  EmulatedAm emu = Emulated();
  Device& d = *emu.device;
  std::unique_ptr<Program> count = LoadForTest(d, "count", am_test::kCount, {4}, 0);
  ScopedBuffer counter = UploadForTest<int32_t>(d, {0}), copy = UploadForTest<int32_t>(d, {-1});
  emu.kfd->set_latency(absl::Milliseconds(1), absl::Milliseconds(3));
  absl::StatusOr<std::unique_ptr<Queue>> q = d.CreateQueue("compute");
  ASSERT_TRUE(q.ok()) << q.status();
  absl::StatusOr<std::unique_ptr<Signal>> done = d.CreateSignal("done");
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* bufs[] = {counter.get()};
  for (int i = 0; i < 5; ++i) cb->Exec(count.get(), bufs, {}, LaunchDims{}, LaunchDims{});
  cb->Copy(copy.get(), 0, counter.get(), 0, 4).SignalValue(done->get(), 1);
  ASSERT_TRUE((*q)->Submit(cb).ok());
  ASSERT_TRUE((*done)->Wait(1, absl::Seconds(10)).ok());
  ASSERT_TRUE((*q)->Wait(absl::Seconds(10)).ok());
  EXPECT_EQ(ReadForTest<int32_t>(d, *copy, 1), std::vector<int32_t>{5});
  EXPECT_EQ(emu.kfd->stats().copied_bytes, 4u);
  EXPECT_EQ(emu.kfd->stats().dispatches, 5u);
}

TEST(AmEmulated, ManyLaunchesWrapTheRings) {
  AmDevice::Options o;
  o.aql_packets = 64;
  o.kernarg_bytes = 16 << 10;
  EmulatedAm emu = Emulated(std::move(o));
  Device& d = *emu.device;
  std::unique_ptr<Program> count = LoadForTest(d, "count", am_test::kCount, {4}, 0);
  ScopedBuffer counter = UploadForTest<int32_t>(d, {0});
  absl::StatusOr<std::unique_ptr<Queue>> q = d.CreateQueue("compute");
  ASSERT_TRUE(q.ok());
  DeviceBuffer* bufs[] = {counter.get()};
  auto big = std::make_shared<CommandBuffer>();
  for (int i = 0; i < 50; ++i) big->Exec(count.get(), bufs, {}, LaunchDims{}, LaunchDims{});
  for (int s = 0; s < 8; ++s) ASSERT_TRUE((*q)->Submit(big).ok());
  ASSERT_TRUE((*q)->Wait(absl::Seconds(30)).ok());
  EXPECT_EQ(ReadForTest<int32_t>(d, *counter, 1), std::vector<int32_t>{400});
}

TEST(AmEmulated, AllOnesFromAGoneDeviceIsAnErrorNotData) {
  EmulatedAm emu = Emulated();
  Device& d = *emu.device;
  // A live device may hold 0xFF bytes: they are data.
  ScopedBuffer ones = UploadForTest<int32_t>(d, std::vector<int32_t>(4096, -1));
  EXPECT_EQ(ReadForTest<int32_t>(d, *ones, 4096), std::vector<int32_t>(4096, -1));
  ScopedBuffer other = UploadForTest<float>(d, {1, 2, 3});
  emu.kfd->Unplug();
  std::vector<float> out(3);
  absl::Status st = d.allocator().CopyOut(*other, 0, AsWritableBytes(absl::MakeSpan(out)));
  ASSERT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("AM_EMU:0"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("gone"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("canary"), absl::string_view::npos) << st;
  EXPECT_EQ(d.allocator().CopyOut(*ones, 0, AsWritableBytes(absl::MakeSpan(out))).code(),
            absl::StatusCode::kUnavailable);
}

TEST(AmEmulated, BadLaunchesAndBinariesAreErrors) {
  EmulatedAm emu = Emulated();
  Device& d = *emu.device;
  absl::StatusOr<std::string> bin = d.compiler().Compile("axpy", am_test::kAxpy);
  ASSERT_TRUE(bin.ok()) << bin.status();
  absl::StatusOr<std::unique_ptr<Program>> wrong =
      d.LoadProgram({.name = "axpy", .buffer_bytes = {32, 32}, .num_vars = 1}, *bin);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("bytes of kernel arguments"), absl::string_view::npos);
  EXPECT_EQ(d.LoadProgram({.name = "axpy", .buffer_bytes = {32, 32, 32}, .num_vars = 1}, "junk")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  std::unique_ptr<Program> axpy = LoadForTest(d, "axpy", am_test::kAxpy, {32, 32, 32}, 1);
  ScopedBuffer a = UploadForTest<float>(d, std::vector<float>(8, 1));
  DeviceBuffer* bufs[] = {a.get(), a.get(), a.get()};
  const int64_t k[] = {1};
  absl::Status st = axpy->Run(bufs, k, LaunchDims{1}, LaunchDims{2048});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'axpy'"), absl::string_view::npos) << st;
  EXPECT_EQ(d.compiler().Compile("axpy", "not IR").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AmEmulated, GpuFaultFailsTheQueueWithoutWaitingOutItsTimeout) {
  EmulatedAm emu = Emulated();
  Device& d = *emu.device;
  // A real code object, but without the host twin the emulator needs: the
  // emulated GPU faults on it like a GPU on bad code.
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
  EXPECT_NE(emu.kfd->fault().find("no host twin"), std::string::npos) << emu.kfd->fault();
}

}  // namespace
}  // namespace uop
