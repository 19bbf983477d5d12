// The NV driver end to end on the emulated GPU: device bring-up through the
// RM/UVM model, memory and copies on the copy engine, programs launched by
// QMD and run as host twins, queues with signals across the compute and
// copy channels, JIT replay, bounded waits, and failures with their
// messages. Every test ends with the seam clean (fds closed, maps unmapped).
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "drivers/common/host_twin.h"
#include "drivers/cpu/llvm_compiler.h"
#include "drivers/nv/emulator/nv_emu_cubin.h"
#include "drivers/nv/emulator/nv_emu_device.h"
#include "drivers/nv/emulator/test_kernels.h"
#include "drivers/nv/nv_device.h"
#include "drivers/nv/nv_queue.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

std::string Twin(const char* ir, int globals, int vars) {
  static auto* cc = [] {
    absl::StatusOr<std::unique_ptr<LlvmCompiler>> c = LlvmCompiler::Create();
    EXPECT_TRUE(c.ok()) << c.status();
    return c->release();
  }();
  absl::StatusOr<std::string> obj = cc->Compile("uop_emu_entry", ir);
  EXPECT_TRUE(obj.ok()) << obj.status();
  return MakeTwinBlob(*obj, globals, vars);
}

struct Emu {
  NvEmulator* emu = nullptr;
  EmulatedKernelIo* io = nullptr;
  std::unique_ptr<NvDevice> dev;
};

Emu Make(NvEmulator::Options eo = {}, NvDevice::Options o = {}) {
  Emu e;
  absl::StatusOr<std::unique_ptr<NvDevice>> d =
      CreateEmulatedNvDevice(std::move(eo), std::move(o), &e.emu, &e.io);
  EXPECT_TRUE(d.ok()) << d.status();
  if (d.ok()) e.dev = std::move(*d);
  return e;
}

std::vector<float> Iota(int n, float start) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = start + i;
  return v;
}

TEST(NvDeviceEmulated, BringsUpTheGpuAndReleasesEverything) {
  auto models = std::make_shared<EmulatedKernelIo>();
  NvEmulator* emu;
  EmulatedKernelIo* io;
  {
    absl::StatusOr<std::unique_ptr<NvDevice>> d = CreateEmulatedNvDevice({}, {}, &emu, &io);
    ASSERT_TRUE(d.ok()) << d.status();
    const DeviceInfo& info = (*d)->info();
    EXPECT_EQ(info.name, "NV:0");
    EXPECT_EQ(info.language, "cuda");
    EXPECT_TRUE(absl::StrContains(info.description, "(sm_90, 8 SMs")) << info.description;
    EXPECT_TRUE(absl::StrContains(info.description, "NV direct")) << info.description;
    EXPECT_TRUE(absl::StrContains(info.description, "emulated")) << info.description;
    EXPECT_EQ((*d)->gpu().compute_class, 0xcbc0u);
    EXPECT_EQ((*d)->gpu().dma_class, 0xc8b5u);
    EXPECT_EQ((*d)->gpu().gpfifo_class, 0xc86fu);
    EXPECT_TRUE((*d)->interrupt_waits());
    // Clocks boosted at bring-up, once (the sync engine's queue asks nothing).
    EXPECT_TRUE((*d)->perf_boosted());
    EXPECT_EQ(emu->stats().perf_boosts, 1u);
    EXPECT_TRUE(absl::StrContains(info.description, "boosted")) << info.description;
    EXPECT_EQ(emu->fault(), "");
    // The sync engine set up both channels: two segments ran, both released.
    EXPECT_GE(emu->stats().releases, 2u);
    // The device is destroyed last in this scope; check the seam after.
    d->reset();
    EXPECT_TRUE(io->CheckClean().ok()) << io->CheckClean();
  }
}

// The SM count comes from the floorsweeping masks, not the full-die litter
// counts (an H100 SXM enables 132 of GH100's 144 SMs).
TEST(NvDeviceEmulated, CountsOnlyTheSmsFloorsweepingLeftEnabled) {
  NvEmulator::Options eo;
  eo.tpc_mask[0] = 0x2;  // GPC 0: one TPC fused off
  absl::StatusOr<std::unique_ptr<NvDevice>> d = CreateEmulatedNvDevice(eo, {});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().compute_units, 6);
  EXPECT_TRUE(absl::StrContains((*d)->info().description, "(sm_90, 6 SMs"))
      << (*d)->info().description;

  eo.gpc_mask = 0x2;  // GPC 0 off: its TPC mask is not counted
  eo.tpc_mask[0] = 0x3;
  d = CreateEmulatedNvDevice(eo, {});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().compute_units, 4);

  eo.gpc_mask = 0;
  d = CreateEmulatedNvDevice(eo, {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition) << d.status();
  EXPECT_TRUE(absl::StrContains(d.status().message(), "no enabled TPC")) << d.status();
}

TEST(NvDeviceEmulated, RefusesAGpuWithoutTheHopperComputeClass) {
  NvEmulator::Options eo;
  eo.hopper_compute = false;
  absl::StatusOr<std::unique_ptr<NvDevice>> d = CreateEmulatedNvDevice(eo, {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(absl::StrContains(d.status().message(), "HOPPER_COMPUTE_A")) << d.status();
  EXPECT_TRUE(absl::StrContains(d.status().message(), "0xc9c0")) << d.status();
}

TEST(NvDeviceEmulated, FailedRmCallsNameTheCallAndLeaveNothingBehind) {
  auto emu = std::make_shared<NvEmulator>(NvEmulator::Options{});
  auto io = std::make_shared<EmulatedKernelIo>();
  emu->Install(*io);
  io->FailNext(IoCall::kIoctl, nvrm::kIoctlRmControl, EACCES);
  NvDevice::Options o;
  o.io = io.get();
  absl::StatusOr<std::unique_ptr<NvDevice>> d = NvDevice::Create(std::move(o));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kPermissionDenied) << d.status();
  EXPECT_TRUE(absl::StrContains(d.status().message(), "GET_ID_INFO_V2")) << d.status();
  EXPECT_TRUE(io->CheckClean().ok()) << io->CheckClean();
}

TEST(NvDeviceEmulated, CopiesThroughTheCopyEngineAndDirectly) {
  Emu e = Make();
  ASSERT_NE(e.dev, nullptr);
  Allocator& a = e.dev->allocator();
  const std::vector<float> src = Iota(5000, 1.5f);
  for (BufferOptions opts :
       {BufferOptions{}, BufferOptions{.host_visible = true}, BufferOptions{.pinned = true}}) {
    absl::StatusOr<DeviceBuffer*> b = a.Alloc(src.size() * 4, opts);
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_TRUE(a.CopyIn(**b, 0, AsBytes(absl::MakeConstSpan(src))).ok());
    std::vector<float> back(src.size());
    ASSERT_TRUE(a.CopyOut(**b, 0, AsWritableBytes(absl::MakeSpan(back))).ok());
    EXPECT_EQ(back, src);
    // Device to device, at offsets, and through a view.
    absl::StatusOr<DeviceBuffer*> c = a.Alloc(src.size() * 4);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(a.CopyBetween(**c, 8, **b, 4, 400).ok());
    std::vector<float> part(100);
    absl::StatusOr<std::unique_ptr<DeviceBuffer>> view = MakeSubBuffer(**c, 8, 400);
    ASSERT_TRUE(view.ok());
    ASSERT_TRUE(a.CopyOut(**view, 0, AsWritableBytes(absl::MakeSpan(part))).ok());
    EXPECT_EQ(part[0], src[1]);
    EXPECT_EQ(part[99], src[100]);
    a.Free(*c);
    a.Free(*b);
  }
  EXPECT_GE(e.emu->stats().copies, 4u);
  EXPECT_EQ(e.emu->fault(), "");
  // Out-of-range copies are errors, not faults.
  absl::StatusOr<DeviceBuffer*> b = a.Alloc(64);
  ASSERT_TRUE(b.ok());
  std::vector<uint8_t> big(65);
  EXPECT_EQ(a.CopyIn(**b, 0, big).code(), absl::StatusCode::kOutOfRange);
  a.Free(*b);
  // Freed blocks are reused.
  const uint64_t hits = a.stats().cache_hits;
  ASSERT_TRUE(a.Alloc(64).ok());
  EXPECT_EQ(a.stats().cache_hits, hits + 1);
}

TEST(NvDeviceEmulated, OutOfMemoryIsResourceExhaustedNamingTheSize) {
  NvDevice::Options o;
  o.memory.memory_limit = 64 << 20;
  Emu e = Make({}, std::move(o));
  ASSERT_NE(e.dev, nullptr);
  absl::StatusOr<DeviceBuffer*> b = e.dev->allocator().Alloc(size_t{1} << 30);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(b.status().message(), "1073741824")) << b.status();
}

TEST(NvDeviceEmulated, RunsKernelsFromQmdLaunches) {
  Emu e = Make();
  ASSERT_NE(e.dev, nullptr);
  Allocator& a = e.dev->allocator();
  const int n = 256;
  ProgramDesc desc{"add", {n * 4, n * 4, n * 4}, 0};
  absl::StatusOr<std::unique_ptr<Program>> p =
      e.dev->LoadProgram(desc, BuildTwinCubin("add", Twin(nv_test::kAddIr, 3, 0), 3, 0));
  ASSERT_TRUE(p.ok()) << p.status();
  DeviceBuffer* out = *a.Alloc(n * 4);
  DeviceBuffer* x = *a.Alloc(n * 4);
  DeviceBuffer* y = *a.Alloc(n * 4);
  const std::vector<float> xs = Iota(n, 0), ys = Iota(n, 1000);
  ASSERT_TRUE(a.CopyIn(*x, 0, AsBytes(absl::MakeConstSpan(xs))).ok());
  ASSERT_TRUE(a.CopyIn(*y, 0, AsBytes(absl::MakeConstSpan(ys))).ok());
  DeviceBuffer* bufs[] = {out, x, y};
  RunTiming t;
  absl::Status st = (*p)->Run(bufs, {}, LaunchDims{8}, LaunchDims{32}, &t);
  ASSERT_TRUE(st.ok()) << st << " fault: " << e.emu->fault();
  EXPECT_GT(t.seconds, 0);
  std::vector<float> got(n);
  ASSERT_TRUE(a.CopyOut(*out, 0, AsWritableBytes(absl::MakeSpan(got))).ok());
  for (int i = 0; i < n; ++i) ASSERT_EQ(got[i], xs[i] + ys[i]) << i;
  const std::vector<NvEmulator::LaunchRecord> l = e.emu->launches();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].grid[0], 8u);
  EXPECT_EQ(l[0].block[0], 32u);
  EXPECT_EQ(l[0].registers, 16u);
  EXPECT_EQ(e.emu->stats().twin_launches, 1u);
  // A bad launch is refused before it reaches the GPU.
  EXPECT_EQ((*p)->Run(bufs, {}, LaunchDims{8}, LaunchDims{2048}).code(),
            absl::StatusCode::kInvalidArgument);
  DeviceBuffer* two[] = {out, x};
  EXPECT_EQ((*p)->Run(two, {}, LaunchDims{8}, LaunchDims{32}).code(),
            absl::StatusCode::kInvalidArgument);
  for (DeviceBuffer* b : {out, x, y}) a.Free(b);
}

TEST(NvDeviceEmulated, LoadRejectsForeignAndMismatchedBinaries) {
  Emu e = Make();
  ASSERT_NE(e.dev, nullptr);
  ProgramDesc desc{"add", {64, 64, 64}, 0};
  EXPECT_EQ(e.dev->LoadProgram(desc, "not a kernel").status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string twin = Twin(nv_test::kAddIr, 3, 0);
  EmuCubinOptions sm80;
  sm80.sm = 80;
  absl::Status st = e.dev->LoadProgram(desc, BuildTwinCubin("add", twin, 3, 0, sm80)).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(st.message(), "sm_80")) << st;
  st = e.dev->LoadProgram({"sub", {64, 64, 64}, 0}, BuildTwinCubin("add", twin, 3, 0)).status();
  EXPECT_TRUE(absl::StrContains(st.message(), "the cubin has: add")) << st;
  EmuCubinOptions huge;
  huge.dynamic_shared = 300 * 1024;
  st = e.dev->LoadProgram(desc, BuildTwinCubin("add", twin, 3, 0, huge)).status();
  EXPECT_TRUE(absl::StrContains(st.message(), "shared memory")) << st;
}

TEST(NvDeviceEmulated, QueuesOrderKernelsCopiesAndSignalsAcrossChannels) {
  Emu e = Make();
  ASSERT_NE(e.dev, nullptr);
  Allocator& a = e.dev->allocator();
  const int n = 128;
  absl::StatusOr<std::unique_ptr<Program>> scale = e.dev->LoadProgram(
      {"scale", {n * 4, n * 4}, 1}, BuildTwinCubin("scale", Twin(nv_test::kScaleIr, 2, 1), 2, 1));
  ASSERT_TRUE(scale.ok()) << scale.status();
  DeviceBuffer* x = *a.Alloc(n * 4);
  DeviceBuffer* y = *a.Alloc(n * 4);
  DeviceBuffer* z = *a.Alloc(n * 4);
  const std::vector<float> xs = Iota(n, 1);
  ASSERT_TRUE(a.CopyIn(*x, 0, AsBytes(absl::MakeConstSpan(xs))).ok());
  absl::StatusOr<std::unique_ptr<Queue>> q = e.dev->CreateQueue("compute");
  ASSERT_TRUE(q.ok()) << q.status();
  absl::StatusOr<std::unique_ptr<Signal>> done = e.dev->CreateSignal("done");
  ASSERT_TRUE(done.ok());
  // y = 3x; z = copy of y (copy channel waits for compute); z = 2z (compute
  // waits for the copy).
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* b1[] = {y, x};
  DeviceBuffer* b2[] = {z, z};
  const int64_t three[] = {3}, two[] = {2};
  cb->Exec(scale->get(), b1, three, LaunchDims{4}, LaunchDims{32})
      .Copy(z, 0, y, 0, n * 4)
      .Exec(scale->get(), b2, two, LaunchDims{4}, LaunchDims{32})
      .SignalValue(done->get(), 7);
  ASSERT_TRUE((*q)->Submit(cb).ok());
  ASSERT_TRUE((*done)->Wait(7, absl::Seconds(10)).ok()) << e.emu->fault();
  ASSERT_TRUE((*q)->Wait(absl::Seconds(10)).ok());
  std::vector<float> got(n);
  ASSERT_TRUE(a.CopyOut(*z, 0, AsWritableBytes(absl::MakeSpan(got))).ok());
  for (int i = 0; i < n; ++i) ASSERT_EQ(got[i], 6 * xs[i]) << i;
  EXPECT_EQ(e.emu->fault(), "");
  q->reset();
  for (DeviceBuffer* b : {x, y, z}) a.Free(b);
}

TEST(NvDeviceEmulated, ReplaysRepeatedBatchesFromTheCache) {
  Emu e = Make();
  ASSERT_NE(e.dev, nullptr);
  Allocator& a = e.dev->allocator();
  absl::StatusOr<std::unique_ptr<Program>> count = e.dev->LoadProgram(
      {"count", {4}, 0}, BuildTwinCubin("count", Twin(nv_test::kCountIr, 1, 0), 1, 0));
  ASSERT_TRUE(count.ok()) << count.status();
  DeviceBuffer* c = *a.Alloc(4);
  const int32_t zero = 0;
  ASSERT_TRUE(a.CopyIn(*c, 0, AsBytes(absl::MakeConstSpan(&zero, 1))).ok());
  absl::StatusOr<std::unique_ptr<Queue>> q = e.dev->CreateQueue("jit");
  ASSERT_TRUE(q.ok()) << q.status();
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* bufs[] = {c};
  for (int i = 0; i < 10; ++i) cb->Exec(count->get(), bufs, {}, LaunchDims{1}, LaunchDims{1});
  for (int r = 0; r < 6; ++r) ASSERT_TRUE((*q)->Submit(cb).ok());
  ASSERT_TRUE((*q)->Wait(absl::Seconds(10)).ok()) << e.emu->fault();
  int32_t got = 0;
  ASSERT_TRUE(a.CopyOut(*c, 0, AsWritableBytes(absl::MakeSpan(&got, 1))).ok());
  EXPECT_EQ(got, 60);
  auto* dq = static_cast<DeviceQueue*>(q->get());
  const NvEngineStats s = static_cast<NvEngine&>(dq->engine()).stats();
  EXPECT_EQ(s.replays, 4u);  // the first runs, the second is recorded, the rest replay
  EXPECT_EQ(e.emu->stats().launches, 60u);
  q->reset();
  a.Free(c);
}

// Replays never wait for the previous run of their recording: with the GPU
// held, every submission is still flushed at once, and the semaphore values
// then arrive in order.
TEST(NvDeviceEmulated, ReplaysDoNotWaitForThePreviousRun) {
  Emu e = Make();
  ASSERT_NE(e.dev, nullptr);
  Allocator& a = e.dev->allocator();
  absl::StatusOr<std::unique_ptr<Program>> count = e.dev->LoadProgram(
      {"count", {4}, 0}, BuildTwinCubin("count", Twin(nv_test::kCountIr, 1, 0), 1, 0));
  ASSERT_TRUE(count.ok()) << count.status();
  DeviceBuffer* c = *a.Alloc(4);
  const int32_t zero = 0;
  ASSERT_TRUE(a.CopyIn(*c, 0, AsBytes(absl::MakeConstSpan(&zero, 1))).ok());
  absl::StatusOr<std::unique_ptr<Queue>> q = e.dev->CreateQueue("jit");
  ASSERT_TRUE(q.ok()) << q.status();
  auto* dq = static_cast<DeviceQueue*>(q->get());
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* bufs[] = {c};
  for (int i = 0; i < 5; ++i) cb->Exec(count->get(), bufs, {}, LaunchDims{1}, LaunchDims{1});
  for (int r = 0; r < 2; ++r) ASSERT_TRUE((*q)->Submit(cb).ok());  // runs, then recorded
  ASSERT_TRUE((*q)->Wait(absl::Seconds(10)).ok()) << e.emu->fault();
  e.emu->Pause();
  for (int r = 0; r < 6; ++r) ASSERT_TRUE((*q)->Submit(cb).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (dq->stats().flushes < 8 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(dq->stats().flushes, 8u) << "a replay waited for the held GPU";
  EXPECT_EQ((*q)->Wait(absl::Milliseconds(20)).code(), absl::StatusCode::kDeadlineExceeded);
  e.emu->Resume();
  ASSERT_TRUE((*q)->Wait(absl::Seconds(10)).ok()) << e.emu->fault();
  int32_t got = 0;
  ASSERT_TRUE(a.CopyOut(*c, 0, AsWritableBytes(absl::MakeSpan(&got, 1))).ok());
  EXPECT_EQ(got, 40);
  const NvEmulator::Stats es = e.emu->stats();
  EXPECT_EQ(es.releases_backward, 0u);
  EXPECT_EQ(es.launches, 40u);
  // Launches of one batch are a QMD chain: one SEND_PCAS, four dependents,
  // the last one's release acquired before the timeline moves; no WFI.
  EXPECT_EQ(es.wfis, 0u);
  EXPECT_EQ(es.chained_launches, 8u * 4u);
  EXPECT_EQ(es.qmd_releases, 8u);
  EXPECT_EQ(es.overlapping_launches, 0u);
  EXPECT_EQ(es.early_releases, 0u);
  EXPECT_EQ(static_cast<NvEngine&>(dq->engine()).stats().replays, 6u);
  q->reset();
  a.Free(c);
}

struct OrderRun {
  int32_t count = 0;
  NvEmulator::Stats stats;
};

// Four submissions of a five-launch batch of `count` (data0[0] += 1; each
// launch reads what the one before wrote) under `order`.
OrderRun RunCountBatches(NvDevice::Options::LaunchOrder order) {
  NvDevice::Options o;
  o.launch_order = order;
  Emu e = Make({}, std::move(o));
  OrderRun run;
  if (e.dev == nullptr) return run;
  Allocator& a = e.dev->allocator();
  absl::StatusOr<std::unique_ptr<Program>> count = e.dev->LoadProgram(
      {"count", {4}, 0}, BuildTwinCubin("count", Twin(nv_test::kCountIr, 1, 0), 1, 0));
  EXPECT_TRUE(count.ok()) << count.status();
  if (!count.ok()) return run;
  DeviceBuffer* c = *a.Alloc(4);
  const int32_t zero = 0;
  EXPECT_TRUE(a.CopyIn(*c, 0, AsBytes(absl::MakeConstSpan(&zero, 1))).ok());
  absl::StatusOr<std::unique_ptr<Queue>> q = e.dev->CreateQueue("jit");
  EXPECT_TRUE(q.ok()) << q.status();
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* bufs[] = {c};
  for (int i = 0; i < 5; ++i) cb->Exec(count->get(), bufs, {}, LaunchDims{1}, LaunchDims{1});
  for (int r = 0; r < 4; ++r) EXPECT_TRUE((*q)->Submit(cb).ok());
  EXPECT_TRUE((*q)->Wait(absl::Seconds(10)).ok()) << e.emu->fault();
  EXPECT_TRUE(a.CopyOut(*c, 0, AsWritableBytes(absl::MakeSpan(&run.count, 1))).ok());
  EXPECT_EQ(e.emu->fault(), "");
  run.stats = e.emu->stats();
  q->reset();
  a.Free(c);
  return run;
}

// The default order chains each batch's QMDs: the second and later grids
// start only when the grid before completed (no overlap, no WFI), and the
// timeline moves only after the chain's end (no early release), whether the
// batch is encoded in the ring (first two) or replayed (last two).
TEST(NvDeviceEmulated, LaunchOrderChainOrdersGridsOnTheGpu) {
  const OrderRun run = RunCountBatches(NvDevice::Options::LaunchOrder::kChain);
  EXPECT_EQ(run.count, 20);
  EXPECT_EQ(run.stats.launches, 20u);
  EXPECT_EQ(run.stats.chained_launches, 16u);
  EXPECT_EQ(run.stats.qmd_releases, 4u);
  EXPECT_EQ(run.stats.wfis, 0u);
  EXPECT_EQ(run.stats.overlapping_launches, 0u);
  EXPECT_EQ(run.stats.early_releases, 0u);
}

// The fallback: every QMD sent, a host WFI between launches.
TEST(NvDeviceEmulated, LaunchOrderWfiWaitsForIdleBetweenLaunches) {
  const OrderRun run = RunCountBatches(NvDevice::Options::LaunchOrder::kWfi);
  EXPECT_EQ(run.count, 20);
  EXPECT_EQ(run.stats.wfis, 16u);
  EXPECT_EQ(run.stats.chained_launches, 0u);
  EXPECT_EQ(run.stats.overlapping_launches, 0u);
}

// Neither (a measurement setting): the emulator sees every later launch of a
// batch start while the one before may still run.
TEST(NvDeviceEmulated, LaunchOrderNoneIsSeenAsOverlappingGrids) {
  const OrderRun run = RunCountBatches(NvDevice::Options::LaunchOrder::kNone);
  EXPECT_EQ(run.stats.launches, 20u);
  EXPECT_EQ(run.stats.wfis, 0u);
  EXPECT_EQ(run.stats.overlapping_launches, 16u);
}

TEST(NvDeviceEmulated, PerfBoostCanBeTurnedOff) {
  NvDevice::Options o;
  o.perf_boost = false;
  Emu e = Make({}, std::move(o));
  ASSERT_NE(e.dev, nullptr);
  EXPECT_FALSE(e.dev->perf_boosted());
  EXPECT_EQ(e.emu->stats().perf_boosts, 0u);
  EXPECT_FALSE(absl::StrContains(e.dev->info().description, "boosted"));
}

// Two threads waiting on one engine share the one sleep in poll(): the
// queue's watcher (Queue::Wait) and a direct AwaitFence both return once the
// GPU runs again.
TEST(NvDeviceEmulated, ConcurrentWaitersShareOneSleep) {
  Emu e = Make();
  ASSERT_NE(e.dev, nullptr);
  Allocator& a = e.dev->allocator();
  absl::StatusOr<std::unique_ptr<Program>> count = e.dev->LoadProgram(
      {"count", {4}, 0}, BuildTwinCubin("count", Twin(nv_test::kCountIr, 1, 0), 1, 0));
  ASSERT_TRUE(count.ok()) << count.status();
  DeviceBuffer* c = *a.Alloc(4);
  absl::StatusOr<std::unique_ptr<Queue>> q = e.dev->CreateQueue("q", {absl::Seconds(5)});
  ASSERT_TRUE(q.ok()) << q.status();
  auto* dq = static_cast<DeviceQueue*>(q->get());
  auto& engine = static_cast<NvEngine&>(dq->engine());
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* bufs[] = {c};
  cb->Exec(count->get(), bufs, {}, LaunchDims{1}, LaunchDims{1});
  e.emu->Pause();
  ASSERT_TRUE((*q)->Submit(cb).ok());
  while (dq->stats().flushes < 1) absl::SleepFor(absl::Milliseconds(1));
  absl::Status direct;
  std::thread waiter([&] {
    // The executor is idle: the fence of the one flush is the engine's last.
    direct = engine.AwaitFence(2 + 1, absl::Seconds(5), "test");
  });
  absl::SleepFor(absl::Milliseconds(30));  // both threads asleep
  e.emu->Resume();
  EXPECT_TRUE((*q)->Wait(absl::Seconds(5)).ok());
  waiter.join();
  EXPECT_TRUE(direct.ok()) << direct;
  const NvEngineStats s = engine.stats();
  EXPECT_GT(s.interrupt_waits, 0u);
  EXPECT_GT(s.shared_waits, 0u);
  q->reset();
  a.Free(c);
}

TEST(NvDeviceEmulated, WaitsAreBoundedAndNameWhatTheyWaitedFor) {
  NvDevice::Options o;
  o.run_timeout = absl::Milliseconds(100);
  Emu e = Make({}, std::move(o));
  ASSERT_NE(e.dev, nullptr);
  Allocator& a = e.dev->allocator();
  absl::StatusOr<std::unique_ptr<Program>> count = e.dev->LoadProgram(
      {"count", {4}, 0}, BuildTwinCubin("count", Twin(nv_test::kCountIr, 1, 0), 1, 0));
  ASSERT_TRUE(count.ok());
  DeviceBuffer* c = *a.Alloc(4);
  DeviceBuffer* bufs[] = {c};
  e.emu->Pause();
  const absl::Time t0 = absl::Now();
  absl::Status st = (*count)->Run(bufs, {}, LaunchDims{1}, LaunchDims{1});
  const absl::Duration took = absl::Now() - t0;
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "NV:0")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "NV:0/sync")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "Run of program 'count'")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "semaphore")) << st;
  EXPECT_GE(took, absl::Milliseconds(100));
  EXPECT_LT(took, absl::Seconds(5));
  // The launch that timed out completes once the GPU runs again.
  e.emu->Resume();
  int32_t ran = 0;
  ASSERT_TRUE(e.dev->allocator().CopyOut(*c, 0, AsWritableBytes(absl::MakeSpan(&ran, 1))).ok());
  EXPECT_EQ(ran, 1);
  // A queue wait times out too, and the work completes once the GPU runs.
  absl::StatusOr<std::unique_ptr<Queue>> q = e.dev->CreateQueue("q", {absl::Seconds(5)});
  e.emu->Pause();
  ASSERT_TRUE(q.ok()) << q.status();
  auto cb = std::make_shared<CommandBuffer>();
  cb->Exec(count->get(), bufs, {}, LaunchDims{1}, LaunchDims{1});
  ASSERT_TRUE((*q)->Submit(cb).ok());
  EXPECT_EQ((*q)->Wait(absl::Milliseconds(30)).code(), absl::StatusCode::kDeadlineExceeded);
  std::thread resume([&] {
    absl::SleepFor(absl::Milliseconds(20));
    e.emu->Resume();
  });
  EXPECT_TRUE((*q)->Wait(absl::Seconds(5)).ok());
  resume.join();
  auto* dq = static_cast<DeviceQueue*>(q->get());
  EXPECT_GT(static_cast<NvEngine&>(dq->engine()).stats().interrupt_waits, 0u);
  q->reset();
  a.Free(c);
}

TEST(NvDeviceEmulated, ProgramsOfAnotherDeviceAreRefusedByQueues) {
  Emu e1 = Make();
  NvDevice::Options o2;
  o2.name = "NV:1";
  Emu e2 = Make({}, std::move(o2));
  ASSERT_NE(e1.dev, nullptr);
  ASSERT_NE(e2.dev, nullptr);
  absl::StatusOr<std::unique_ptr<Program>> count = e1.dev->LoadProgram(
      {"count", {4}, 0}, BuildTwinCubin("count", Twin(nv_test::kCountIr, 1, 0), 1, 0));
  ASSERT_TRUE(count.ok());
  DeviceBuffer* c = *e2.dev->allocator().Alloc(4);
  absl::StatusOr<std::unique_ptr<Queue>> q = e2.dev->CreateQueue("q");
  ASSERT_TRUE(q.ok()) << q.status();
  auto cb = std::make_shared<CommandBuffer>();
  DeviceBuffer* bufs[] = {c};
  cb->Exec(count->get(), bufs, {}, LaunchDims{1}, LaunchDims{1});
  absl::Status st = (*q)->Submit(cb);
  if (st.ok()) st = (*q)->Wait(absl::Seconds(5));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "was not loaded on NV:1")) << st;
  EXPECT_EQ(e2.emu->stats().launches, 0u);
  q->reset();
  e2.dev->allocator().Free(c);
}

}  // namespace
}  // namespace uop
