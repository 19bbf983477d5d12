#include "drivers/qcom/qcom_device.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "drivers/device_registry.h"
#include "drivers/device_test_util.h"
#include "drivers/qcom/adreno_binary.h"
#include "drivers/qcom/emulator/qcom_emu_device.h"
#include "drivers/qcom/emulator/test_kernels.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

EmulatedQcom Emulated(QcomDevice::Options options = {}) {
  absl::StatusOr<EmulatedQcom> emu = CreateEmulatedQcom({}, std::move(options));
  EXPECT_TRUE(emu.ok()) << emu.status();
  return std::move(*emu);
}

TEST(QcomEmulated, RegistryOffersItOnlyWhenEnabled) {
  unsetenv("UOP_ENABLE_EMULATED");
  EXPECT_EQ(DeviceRegistry::Global().Get("QCOM_EMU").status().code(), absl::StatusCode::kNotFound);
  setenv("UOP_ENABLE_EMULATED", "1", 1);
  absl::StatusOr<Device*> d = DeviceRegistry::Global().Get("QCOM_EMU");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().name, "QCOM_EMU:0");
  EXPECT_EQ((*d)->info().language, "opencl");
  EXPECT_NE((*d)->info().description.find("Adreno 630"), std::string::npos);
  EXPECT_NE((*d)->info().description.find("emulated"), std::string::npos);
  unsetenv("UOP_ENABLE_EMULATED");
}

TEST(QcomEmulated, ProgramRunsAndTheDriverCleansUp) {
  EmulatedQcom emu = Emulated();
  Device& d = *emu.device;
  {
    std::unique_ptr<Program> add = LoadForTest(d, "add", qcom_test::kAdd, {32, 32, 32}, 0);
    ScopedBuffer a = UploadForTest<float>(d, {1, 2, 3, 4, 5, 6, 7, 8}),
                 b = UploadForTest<float>(d, {10, 20, 30, 40, 50, 60, 70, 80}),
                 out = UploadForTest<float>(d, std::vector<float>(8, 0));
    DeviceBuffer* bufs[] = {out.get(), a.get(), b.get()};
    RunTiming timing;
    ASSERT_TRUE(add->Run(bufs, {}, LaunchDims{2}, LaunchDims{4}, &timing).ok());
    EXPECT_GT(timing.seconds, 0);
    EXPECT_EQ(ReadForTest<float>(d, *out, 8), (std::vector<float>{11, 22, 33, 44, 55, 66, 77, 88}));
  }
  EXPECT_GT(emu.io->CountOf(IoCall::kIoctl, kgsl::kIoctlGpuCommand), 0u);
  emu.device.reset();
  EXPECT_TRUE(emu.io->CheckClean().ok()) << emu.io->CheckClean();
  EXPECT_TRUE(emu.kgsl->fault().empty()) << emu.kgsl->fault();
}

TEST(QcomEmulated, QueueRunsTwoDimensionalLaunchesWithVariablesAndSignals) {
  EmulatedQcom emu = Emulated();
  Device& d = *emu.device;
  std::unique_ptr<Program> scale =
      LoadForTest(d, "scale", qcom_test::kScale, {32 * 4 * 4, 32 * 4 * 4}, 1);
  std::vector<float> in(128);
  for (int i = 0; i < 128; ++i) in[i] = static_cast<float>(i);
  ScopedBuffer src = UploadForTest<float>(d, in),
               dst = UploadForTest<float>(d, std::vector<float>(128, -1));
  absl::StatusOr<std::unique_ptr<Queue>> q = d.CreateQueue("compute");
  ASSERT_TRUE(q.ok()) << q.status();
  absl::StatusOr<std::unique_ptr<Signal>> done = d.CreateSignal("done");
  ASSERT_TRUE(done.ok());
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* bufs[] = {dst.get(), src.get()};
  const int64_t k[] = {3};
  cb->Exec(scale.get(), bufs, k, LaunchDims{4, 2}, LaunchDims{8, 2}).SignalValue(done->get(), 1);
  ASSERT_TRUE((*q)->Submit(cb).ok());
  ASSERT_TRUE((*done)->Wait(1, absl::Seconds(10)).ok());
  ASSERT_TRUE((*q)->Wait(absl::Seconds(10)).ok());
  std::vector<float> out = ReadForTest<float>(d, *dst, 128);
  for (int i = 0; i < 128; ++i) EXPECT_EQ(out[i], 3.0f * i) << i;
}

TEST(QcomEmulated, CopiesRunAfterTheKernelsBeforeThem) {
  EmulatedQcom emu = Emulated();
  Device& d = *emu.device;
  std::unique_ptr<Program> count = LoadForTest(d, "count", qcom_test::kCount, {4}, 0);
  ScopedBuffer counter = UploadForTest<float>(d, {0}), copy = UploadForTest<float>(d, {-1});
  emu.kgsl->set_latency(absl::Milliseconds(2), absl::Milliseconds(5));
  absl::StatusOr<std::unique_ptr<Queue>> q = d.CreateQueue("compute");
  ASSERT_TRUE(q.ok());
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* bufs[] = {counter.get()};
  for (int i = 0; i < 5; ++i) cb->Exec(count.get(), bufs, {}, LaunchDims{}, LaunchDims{});
  cb->Copy(copy.get(), 0, counter.get(), 0, 4);
  ASSERT_TRUE((*q)->Submit(cb).ok());
  ASSERT_TRUE((*q)->Wait(absl::Seconds(10)).ok());
  int32_t n;
  ASSERT_TRUE(d.allocator().CopyOut(*copy, 0, AsWritableBytes(absl::MakeSpan(&n, 1))).ok());
  EXPECT_EQ(n, 5);
}

TEST(QcomEmulated, ManyLaunchesReuseASmallCommandRing) {
  QcomDevice::Options o;
  o.ring_bytes = 64 << 10;  // 16 argument blocks: the ring wraps many times
  EmulatedQcom emu = Emulated(std::move(o));
  Device& d = *emu.device;
  std::unique_ptr<Program> count = LoadForTest(d, "count", qcom_test::kCount, {4}, 0);
  ScopedBuffer counter = UploadForTest<float>(d, {0});
  absl::StatusOr<std::unique_ptr<Queue>> q = d.CreateQueue("compute");
  ASSERT_TRUE(q.ok());
  DeviceBuffer* bufs[] = {counter.get()};
  auto big = std::make_shared<CommandBuffer>();
  for (int i = 0; i < 40; ++i) big->Exec(count.get(), bufs, {}, LaunchDims{}, LaunchDims{});
  for (int s = 0; s < 10; ++s) ASSERT_TRUE((*q)->Submit(big).ok());
  ASSERT_TRUE((*q)->Wait(absl::Seconds(30)).ok());
  int32_t n;
  ASSERT_TRUE(d.allocator().CopyOut(*counter, 0, AsWritableBytes(absl::MakeSpan(&n, 1))).ok());
  EXPECT_EQ(n, 400);
}

TEST(QcomEmulated, BadLaunchesAndBinariesAreErrors) {
  EmulatedQcom emu = Emulated();
  Device& d = *emu.device;
  std::unique_ptr<Program> add = LoadForTest(d, "add", qcom_test::kAdd, {32, 32, 32}, 0);
  ScopedBuffer a = UploadForTest<float>(d, std::vector<float>(8, 1));
  DeviceBuffer* two[] = {a.get(), a.get()};
  EXPECT_EQ(add->Run(two, {}, LaunchDims{2}, LaunchDims{4}).code(),
            absl::StatusCode::kInvalidArgument);
  DeviceBuffer* three[] = {a.get(), a.get(), a.get()};
  absl::Status st = add->Run(three, {}, LaunchDims{1}, LaunchDims{2048});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'add'"), absl::string_view::npos) << st;

  absl::StatusOr<std::string> bin = d.compiler().Compile("add", qcom_test::kAdd);
  ASSERT_TRUE(bin.ok());
  EXPECT_EQ(d.LoadProgram({.name = "add", .buffer_bytes = {32, 32}}, *bin).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(d.LoadProgram({.name = "add", .buffer_bytes = {32, 32, 32}}, "junk").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::string> broken = d.compiler().Compile("add", "__kernel void add( {");
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(QcomEmulated, GpuFaultFailsTheQueueWithoutWaitingOutItsTimeout) {
  EmulatedQcom emu = Emulated();
  Device& d = *emu.device;
  // A well-formed binary whose instructions are not a program the GPU runs.
  const std::string junk = BuildAdrenoBinary(std::string(256, '\x5a'), "junk", {0}, 4, 0);
  absl::StatusOr<std::unique_ptr<Program>> p =
      d.LoadProgram({.name = "junk", .buffer_bytes = {4}}, junk);
  ASSERT_TRUE(p.ok()) << p.status();
  ScopedBuffer a = UploadForTest<float>(d, {0});
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
  EXPECT_LT(waited, 5.0);
  EXPECT_NE(emu.kgsl->fault().find("no program the emulator can run"), std::string::npos)
      << emu.kgsl->fault();
  EXPECT_EQ((*q)->Submit(cb).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(QcomEmulated, AllocatorHonorsTheMemoryLimit) {
  QcomDevice::Options o;
  o.memory.memory_limit = 64 << 10;
  EmulatedQcom emu = Emulated(std::move(o));
  Allocator& a = emu.device->allocator();
  absl::StatusOr<DeviceBuffer*> b = a.Alloc(40000);
  ASSERT_TRUE(b.ok()) << b.status();
  absl::StatusOr<DeviceBuffer*> over = a.Alloc(30000);
  ASSERT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted) << over.status();
  EXPECT_NE(over.status().message().find(": allocating 30000 bytes exceeds the memory "
                                         "limit of 65536"),
            absl::string_view::npos)
      << over.status();
  a.Free(*b);
  absl::StatusOr<DeviceBuffer*> fits = a.Alloc(30000);  // the cached block does not count
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(a.stats().bytes_in_use, 30000u);
  a.Free(*fits);
}

TEST(QcomEmulated, AllocatorPoolsFreedMemory) {
  EmulatedQcom emu = Emulated();
  Allocator& a = emu.device->allocator();
  DeviceBuffer* b = *a.Alloc(5000);
  EXPECT_TRUE(b->options().host_visible);
  EXPECT_NE(b->device_address(), 0u);
  a.Free(b);
  EXPECT_EQ(a.stats().cached_bytes, 8192u);
  DeviceBuffer* c = *a.Alloc(6000);
  EXPECT_EQ(a.stats().cache_hits, 1u);
  EXPECT_EQ(a.stats().bytes_in_use, 6000u);
  std::vector<uint8_t> big(7000, 1);
  EXPECT_EQ(a.CopyIn(*c, 0, big).code(), absl::StatusCode::kOutOfRange);
  a.Free(c);
  a.ReleaseCached();
  EXPECT_EQ(a.stats().cached_bytes, 0u);
}

}  // namespace
}  // namespace uop
