#include "drivers/qcom/emulator/kgsl_emulator.h"

#include <chrono>
#include <cstring>

#include "drivers/common/emulated_kernel_io.h"
#include "drivers/qcom/abi/adreno_a6xx.h"
#include "drivers/qcom/adreno_binary.h"
#include "drivers/qcom/emulator/qcom_emu_compiler.h"
#include "drivers/qcom/emulator/test_kernels.h"
#include "drivers/qcom/kgsl.h"
#include "drivers/qcom/qcom_pm4.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

using namespace a6xx;  // NOLINT

struct Fixture {
  std::shared_ptr<EmulatedKernelIo> io = std::make_shared<EmulatedKernelIo>();
  std::shared_ptr<KgslEmulator> emu = std::make_shared<KgslEmulator>(KgslEmulator::Options{});
  std::unique_ptr<Kgsl> kgsl;
  Fixture() {
    io->AddNode("/dev/kgsl-3d0", emu);
    absl::StatusOr<std::unique_ptr<Kgsl>> k = Kgsl::Open(*io, "/dev/kgsl-3d0", "QCOM_EMU:0");
    EXPECT_TRUE(k.ok()) << k.status();
    kgsl = std::move(*k);
  }
  // Copies `w` into a fresh GPU object and submits it on `ctx`.
  absl::StatusOr<uint32_t> SubmitIb(uint32_t ctx, const Pm4Writer& w, Kgsl::Memory* ib) {
    absl::StatusOr<Kgsl::Memory> m = kgsl->Alloc(w.bytes(), 0);
    if (!m.ok()) return m.status();
    std::memcpy(m->cpu, w.dwords().data(), w.bytes());
    *ib = *m;
    return kgsl->Submit(ctx, m->gpu, w.bytes());
  }
};

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(KgslEmulator, ReportsTheDeviceAndManagesContexts) {
  Fixture f;
  absl::StatusOr<kgsl::kgsl_devinfo> info = f.kgsl->DeviceInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->chip_id, 0x06030001u);
  EXPECT_EQ(info->gpu_id, 630u);
  absl::StatusOr<uint32_t> a = f.kgsl->CreateContext(0), b = f.kgsl->CreateContext(0);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(f.kgsl->SetMaxPower(*a).ok());
  EXPECT_TRUE(f.kgsl->DestroyContext(*a).ok());
  absl::Status again = f.kgsl->DestroyContext(*a);
  EXPECT_EQ(again.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(again.message().find("IOCTL_KGSL_DRAWCTXT_DESTROY"), absl::string_view::npos);
  EXPECT_EQ(f.kgsl->SetMaxPower(*a).code(), absl::StatusCode::kInvalidArgument);
}

TEST(KgslEmulator, CpuMappedObjectsShareOneAddress) {
  Fixture f;
  absl::StatusOr<Kgsl::Memory> m = f.kgsl->Alloc(100, 0);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->gpu, reinterpret_cast<uint64_t>(m->cpu));
  EXPECT_EQ(m->mapped, 4096u);
  m->cpu[10] = 42;
  uint8_t* gpu_view = f.emu->memory().Translate(m->gpu + 10, 1);
  ASSERT_NE(gpu_view, nullptr);
  EXPECT_EQ(*gpu_view, 42);
  EXPECT_TRUE(f.kgsl->Free(*m).ok());
  EXPECT_EQ(f.emu->memory().Translate(m->gpu, 1), nullptr);
  f.kgsl.reset();
  EXPECT_TRUE(f.io->CheckClean().ok()) << f.io->CheckClean();
}

TEST(KgslEmulator, SubmissionsRetireInOrderAndWrite) {
  Fixture f;
  uint32_t ctx = *f.kgsl->CreateContext(0);
  Kgsl::Memory target = *f.kgsl->Alloc(4096, 0);
  Pm4Writer w;
  w.Cmd(kCpWaitForIdle, {});
  w.Cmd(kCpMemWrite,
        {static_cast<uint32_t>(target.gpu), static_cast<uint32_t>(target.gpu >> 32), 0xC0FFEE});
  Kgsl::Memory ib1, ib2;
  absl::StatusOr<uint32_t> t1 = f.SubmitIb(ctx, w, &ib1);
  w.Cmd(kCpEventWrite, {kEventCacheFlushTs, static_cast<uint32_t>(target.gpu + 4),
                        static_cast<uint32_t>((target.gpu + 4) >> 32), 77});
  absl::StatusOr<uint32_t> t2 = f.SubmitIb(ctx, w, &ib2);
  ASSERT_TRUE(t1.ok() && t2.ok()) << t1.status() << t2.status();
  EXPECT_EQ(*t1, 1u);
  EXPECT_EQ(*t2, 2u);
  absl::StatusOr<bool> done = f.kgsl->WaitTimestamp(ctx, *t2, 5000);
  ASSERT_TRUE(done.ok() && *done) << done.status();
  EXPECT_EQ(*f.kgsl->RetiredTimestamp(ctx), 2u);
  uint32_t words[2];
  std::memcpy(words, target.cpu, 8);
  EXPECT_EQ(words[0], 0xC0FFEEu);
  EXPECT_EQ(words[1], 77u);
  EXPECT_EQ(f.emu->stats().retired, 2u);
}

TEST(KgslEmulator, WaitsAreBoundedAndEventDriven) {
  Fixture f;
  uint32_t ctx = *f.kgsl->CreateContext(0);
  Pm4Writer w;
  w.Cmd(kCpNop, {});
  f.emu->Pause();
  Kgsl::Memory ib;
  uint32_t ts = *f.SubmitIb(ctx, w, &ib);
  auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<bool> done = f.kgsl->WaitTimestamp(ctx, ts, 40);
  const double waited = Since(t0);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_FALSE(*done);
  EXPECT_GE(waited, 0.039);
  EXPECT_LT(waited, 0.5);
  std::thread resume([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    f.emu->Resume();
  });
  t0 = std::chrono::steady_clock::now();
  done = f.kgsl->WaitTimestamp(ctx, ts, 10000);
  resume.join();
  ASSERT_TRUE(done.ok() && *done);
  EXPECT_LT(Since(t0), 2.0);  // woken by the retire, not the 10 s timeout
  // A timestamp never issued can never retire.
  EXPECT_EQ(f.kgsl->WaitTimestamp(ctx, ts + 5, 10).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KgslEmulator, GpuFaultInvalidatesTheContext) {
  Fixture f;
  uint32_t ctx = *f.kgsl->CreateContext(0);
  Pm4Writer w;
  w.Cmd(0x7f, {1, 2});
  Kgsl::Memory ib;
  uint32_t ts = *f.SubmitIb(ctx, w, &ib);
  absl::StatusOr<bool> done = f.kgsl->WaitTimestamp(ctx, ts, 5000);
  EXPECT_EQ(done.status().code(), absl::StatusCode::kUnavailable) << done.status();
  EXPECT_NE(done.status().message().find("EDEADLK"), absl::string_view::npos);
  EXPECT_NE(f.emu->fault().find("opcode 0x7f"), std::string::npos) << f.emu->fault();
  EXPECT_EQ(f.kgsl->Submit(ctx, ib.gpu, 8).status().code(), absl::StatusCode::kUnavailable);
  // Another context is unaffected.
  uint32_t other = *f.kgsl->CreateContext(0);
  Pm4Writer nop;
  nop.Cmd(kCpNop, {});
  Kgsl::Memory ib2;
  uint32_t t2 = *f.SubmitIb(other, nop, &ib2);
  EXPECT_TRUE(*f.kgsl->WaitTimestamp(other, t2, 5000));
}

TEST(KgslEmulator, RejectsIndirectBuffersOutsideGpuMemory) {
  Fixture f;
  uint32_t ctx = *f.kgsl->CreateContext(0);
  absl::StatusOr<uint32_t> ts = f.kgsl->Submit(ctx, 0xdead0000, 64);
  EXPECT_EQ(ts.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.kgsl->Submit(ctx + 100, 0xdead0000, 64).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KgslEmulator, RunOpenclRunsTheHostTwinOfTheUploadedImage) {
  absl::StatusOr<std::unique_ptr<QcomEmuCompiler>> cc = QcomEmuCompiler::Create();
  ASSERT_TRUE(cc.ok()) << cc.status();
  absl::StatusOr<std::string> binary = (*cc)->Compile("count", qcom_test::kCount);
  ASSERT_TRUE(binary.ok()) << binary.status();
  absl::StatusOr<AdrenoProgramInfo> info = ParseAdrenoBinary(*binary, "count");
  ASSERT_TRUE(info.ok()) << info.status();

  Fixture f;
  uint32_t ctx = *f.kgsl->CreateContext(0);
  QcomKernel k = KernelFromBinary("count", *info);
  Kgsl::Memory image = *f.kgsl->Alloc(k.image_bytes, 0), args = *f.kgsl->Alloc(kQcomArgsBytes, 0),
               counter = *f.kgsl->Alloc(64, 0), flush = *f.kgsl->Alloc(64, 0);
  std::memcpy(image.cpu, info->image.data(), info->image.size());
  k.image_gpu = image.gpu;
  DeviceBuffer buf(nullptr, 1, 64, {}, counter.cpu, counter.gpu);
  DeviceBuffer* bufs[] = {&buf};
  ASSERT_TRUE(WriteLaunchArgs(k, bufs, {}, args.cpu, kQcomArgsBytes).ok());
  Pm4Writer w;
  for (int i = 0; i < 3; ++i)
    EmitLaunch(w, k, args.gpu, 0, flush.gpu, LaunchDims{1}, LaunchDims{1});
  Kgsl::Memory ib;
  uint32_t ts = *f.SubmitIb(ctx, w, &ib);
  absl::StatusOr<bool> done = f.kgsl->WaitTimestamp(ctx, ts, 10000);
  ASSERT_TRUE(done.ok() && *done) << done.status() << f.emu->fault();
  int32_t count;
  std::memcpy(&count, counter.cpu, 4);
  EXPECT_EQ(count, 3);
  EXPECT_EQ(f.emu->stats().cp.dispatches, 3u);

  // The same launch with an ND-range that is not groups x group size faults.
  Pm4Writer broken;
  EmitLaunch(broken, k, args.gpu, 0, flush.gpu, LaunchDims{1}, LaunchDims{1});
  std::vector<uint32_t> dw = broken.dwords();
  for (size_t i = 0; i + 2 < dw.size(); ++i) {
    if (PacketType(dw[i]) == 4 && Pkt4Reg(dw[i]) == kHlsqCsNdrange0) dw[i + 2] = 99;
  }
  Kgsl::Memory ib2 = *f.kgsl->Alloc(dw.size() * 4, 0);
  std::memcpy(ib2.cpu, dw.data(), dw.size() * 4);
  uint32_t ts2 = *f.kgsl->Submit(ctx, ib2.gpu, dw.size() * 4);
  EXPECT_FALSE(f.kgsl->WaitTimestamp(ctx, ts2, 10000).ok());
  EXPECT_NE(f.emu->fault().find("ND-range"), std::string::npos) << f.emu->fault();
}

}  // namespace
}  // namespace uop
