#include "drivers/cpu/cpu_device.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <vector>

#include "absl/strings/str_cat.h"
#include "drivers/cpu/test_kernels.h"
#include "drivers/device_registry.h"
#include "drivers/kernel_cache.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

// One two-thread device for the whole test (LLVM setup costs milliseconds).
CpuDevice& Dev() {
  static CpuDevice* d = [] {
    absl::StatusOr<std::unique_ptr<CpuDevice>> c = CpuDevice::Create({.threads = 2});
    EXPECT_TRUE(c.ok()) << c.status();
    return c->release();
  }();
  return *d;
}

std::unique_ptr<Program> Build(Device& dev, const ProgramDesc& desc, const char* ir) {
  absl::StatusOr<std::string> bin = dev.compiler().Compile(desc.name, ir);
  EXPECT_TRUE(bin.ok()) << bin.status();
  if (!bin.ok()) return nullptr;
  absl::StatusOr<std::unique_ptr<Program>> p = dev.LoadProgram(desc, *bin);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : nullptr;
}

ScopedBuffer Upload(Device& dev, const std::vector<float>& host) {
  ScopedBuffer b(*dev.allocator().Alloc(host.size() * sizeof(float)));
  EXPECT_TRUE(dev.allocator().CopyIn(*b, 0, AsBytes(absl::MakeConstSpan(host))).ok());
  return b;
}

std::vector<float> Download(Device& dev, const DeviceBuffer& b) {
  std::vector<float> host(b.size() / sizeof(float));
  EXPECT_TRUE(dev.allocator().CopyOut(b, 0, AsWritableBytes(absl::MakeSpan(host))).ok());
  return host;
}

TEST(CpuDevice, RegistryFindsItWithItsCapabilities) {
  absl::StatusOr<Device*> d = DeviceRegistry::Global().Get("CPU");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->name(), "CPU:0");
  EXPECT_EQ(*DeviceRegistry::Global().Get("cpu:0"), *d);
  const DeviceInfo& info = (*d)->info();
  EXPECT_EQ(info.language, "llvm-ir");
  EXPECT_GE(info.compute_units, 1);
  EXPECT_GE(info.max_vector_bytes, 16);
  EXPECT_GT(info.total_memory, uint64_t{1} << 20);
  EXPECT_FALSE(info.has_local);
  EXPECT_EQ(info.max_local, (LaunchDims{1, 1, 1}));
  EXPECT_EQ(DeviceRegistry::Global().Get("CPU:1").status().code(), absl::StatusCode::kNotFound);
}

TEST(CpuDevice, ElementwiseAddSplitsOverCoreIds) {
  const int64_t n = 1001;  // not a multiple of the 4 core ids
  std::vector<float> a(n), b(n);
  for (int64_t i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i) * 0.5f;
    b[i] = static_cast<float>(n - i);
  }
  ScopedBuffer out(*Dev().allocator().Alloc(n * sizeof(float)));
  ScopedBuffer ba = Upload(Dev(), a), bb = Upload(Dev(), b);
  const uint64_t bytes = n * sizeof(float);
  std::unique_ptr<Program> p = Build(Dev(), {"add", {bytes, bytes, bytes}, 1}, test_kernels::kAdd);
  ASSERT_NE(p, nullptr);
  DeviceBuffer* bufs[] = {out.get(), ba.get(), bb.get()};
  const int64_t vars[] = {n};
  RunTiming timing;
  ASSERT_TRUE(p->Run(bufs, vars, LaunchDims{4}, LaunchDims{}, &timing).ok());
  EXPECT_GT(timing.seconds, 0);
  std::vector<float> got = Download(Dev(), *out);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], a[i] + b[i]) << i;
}

TEST(CpuDevice, ReductionPerCore) {
  const int cores = 4;
  std::vector<float> in(cores * 1024);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i % 7);  // exact in any order
  ScopedBuffer bin = Upload(Dev(), in);
  ScopedBuffer out(*Dev().allocator().Alloc(cores * sizeof(float)));
  std::unique_ptr<Program> p =
      Build(Dev(), {"reduce", {cores * sizeof(float), in.size() * sizeof(float)}, 0},
            test_kernels::kReduce);
  ASSERT_NE(p, nullptr);
  DeviceBuffer* bufs[] = {out.get(), bin.get()};
  ASSERT_TRUE(p->Run(bufs, {}, LaunchDims{cores}, LaunchDims{}).ok());
  std::vector<float> got = Download(Dev(), *out);
  for (int c = 0; c < cores; ++c) {
    const float want = std::accumulate(in.begin() + c * 1024, in.begin() + (c + 1) * 1024, 0.0f);
    EXPECT_EQ(got[c], want) << c;
  }
}

TEST(CpuDevice, ExplicitSixteenWideVectors) {
  const int64_t vecs = 10;
  std::vector<float> a(16 * vecs);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i) - 50.0f;
  ScopedBuffer ba = Upload(Dev(), a);
  ScopedBuffer out(*Dev().allocator().Alloc(a.size() * sizeof(float)));
  const uint64_t bytes = a.size() * sizeof(float);
  std::unique_ptr<Program> p = Build(Dev(), {"vec16", {bytes, bytes}, 1}, test_kernels::kVec16);
  ASSERT_NE(p, nullptr);
  DeviceBuffer* bufs[] = {out.get(), ba.get()};
  ASSERT_TRUE(p->Run(bufs, {&vecs, 1}, LaunchDims{}, LaunchDims{}).ok());
  std::vector<float> got = Download(Dev(), *out);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(got[i], a[i] * 2 + 1) << i;
}

TEST(CpuDevice, ConstantPoolKernel) {
  std::vector<float> a(64);
  for (int i = 0; i < 64; ++i) a[i] = static_cast<float>(i) / 4;
  ScopedBuffer ba = Upload(Dev(), a);
  ScopedBuffer out(*Dev().allocator().Alloc(64 * sizeof(float)));
  std::unique_ptr<Program> p = Build(Dev(), {"table", {256, 256}, 0}, test_kernels::kTable);
  ASSERT_NE(p, nullptr);
  DeviceBuffer* bufs[] = {out.get(), ba.get()};
  ASSERT_TRUE(p->Run(bufs, {}, LaunchDims{}, LaunchDims{}).ok());
  std::vector<float> got = Download(Dev(), *out);
  for (int i = 0; i < 64; ++i) {
    ASSERT_EQ(got[i], a[i] * static_cast<float>((i & 7) + 1) + (static_cast<float>(i & 7) + 0.5f))
        << i;
  }
}

TEST(CpuDevice, RunRejectsBadLaunches) {
  std::unique_ptr<Program> p = Build(Dev(), {"vec16", {64, 64}, 1}, test_kernels::kVec16);
  ASSERT_NE(p, nullptr);
  ScopedBuffer small(*Dev().allocator().Alloc(32)), ok(*Dev().allocator().Alloc(64));
  const int64_t one = 1;
  DeviceBuffer* good[] = {ok.get(), ok.get()};
  DeviceBuffer* too_small[] = {ok.get(), small.get()};
  EXPECT_TRUE(p->Run(good, {&one, 1}, {}, {}).ok());
  absl::Status st = p->Run(too_small, {&one, 1}, {}, {});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("CPU:0: program 'vec16': buffer slot 1"), std::string::npos) << st;
  EXPECT_EQ(p->Run(good, {}, {}, {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(p->Run(good, {&one, 1}, LaunchDims{1, 2, 1}, {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(p->Run(good, {&one, 1}, {}, LaunchDims{4, 1, 1}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CpuDevice, LoadErrorsNameDeviceKernelAndSymbol) {
  absl::StatusOr<std::string> bin = Dev().compiler().Compile("uses_expf", test_kernels::kCallsExpf);
  ASSERT_TRUE(bin.ok()) << bin.status();
  absl::Status st = Dev().LoadProgram({"uses_expf", {4}, 0}, *bin).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("CPU:0: loading kernel 'uses_expf'"), std::string::npos) << st;
  EXPECT_NE(st.message().find("'expf'"), std::string::npos) << st;

  absl::StatusOr<std::string> add = Dev().compiler().Compile("add", test_kernels::kAdd);
  ASSERT_TRUE(add.ok());
  EXPECT_EQ(Dev().LoadProgram({"other", {4, 4, 4}, 1}, *add).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Dev().LoadProgram({"add", {4, 4, 4}, 1}, "garbage").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CpuDevice, QueueRunsKernelsAndSignals) {
  std::vector<float> a(16 * 4, 1.0f);
  ScopedBuffer ba = Upload(Dev(), a);
  ScopedBuffer out(*Dev().allocator().Alloc(a.size() * sizeof(float)));
  std::unique_ptr<Program> p = Build(Dev(), {"vec16", {256, 256}, 1}, test_kernels::kVec16);
  ASSERT_NE(p, nullptr);
  absl::StatusOr<std::unique_ptr<Queue>> q = Dev().CreateQueue("compute");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)->name(), "CPU:0/compute");
  absl::StatusOr<std::unique_ptr<Signal>> done = Dev().CreateSignal("done");
  ASSERT_TRUE(done.ok());
  auto cmds = std::make_shared<CommandBuffer>();
  DeviceBuffer* bufs[] = {out.get(), ba.get()};
  const int64_t vecs = 4;
  cmds->Exec(p.get(), bufs, {&vecs, 1}, {}, {}).SignalValue(done->get(), 1);
  ASSERT_TRUE((*q)->Submit(cmds).ok());
  ASSERT_TRUE((*done)->Wait(1, absl::Seconds(10)).ok());
  EXPECT_EQ(Download(Dev(), *out), std::vector<float>(64, 3.0f));
  EXPECT_TRUE((*q)->Wait(absl::Seconds(10)).ok());
  EXPECT_EQ(Dev()
                .CreateQueue("q", QueueOptions{.wait_timeout = absl::InfiniteDuration()})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CpuDevice, MemoryInfoFollowsAllocations) {
  const uint64_t before = Dev().memory_info().bytes_in_use;
  {
    ScopedBuffer b(*Dev().allocator().Alloc(12345));
    EXPECT_EQ(Dev().memory_info().bytes_in_use, before + 12345);
    EXPECT_GE(Dev().memory_info().peak_bytes_in_use, before + 12345);
  }
  EXPECT_EQ(Dev().memory_info().bytes_in_use, before);
}

// The on-disk cache with the real compiler: a hit loads and runs like a
// fresh compile; a damaged entry is recompiled, never loaded.
TEST(CpuDevice, KernelCacheHitLoadsAndRuns) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/cpu_cache_", getpid());
  std::filesystem::remove_all(dir);
  KernelCache cache(dir);
  bool hit = true;
  absl::StatusOr<std::string> first =
      CompileCached(Dev().compiler(), &cache, "vec16", test_kernels::kVec16, &hit);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(hit);
  absl::StatusOr<std::string> second =
      CompileCached(Dev().compiler(), &cache, "vec16", test_kernels::kVec16, &hit);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(hit);
  EXPECT_EQ(*first, *second);

  const std::string path = cache.EntryPath(
      KernelCache::MakeKey(Dev().compiler().CacheKey(), "vec16", test_kernels::kVec16));
  {
    // Truncate the entry as a crash would.
    std::filesystem::resize_file(path, std::filesystem::file_size(path) - 100);
  }
  absl::StatusOr<std::string> third =
      CompileCached(Dev().compiler(), &cache, "vec16", test_kernels::kVec16, &hit);
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(hit);
  EXPECT_EQ(*third, *first);
  EXPECT_EQ(cache.stats().corrupt, 1u);

  absl::StatusOr<std::unique_ptr<Program>> p = Dev().LoadProgram({"vec16", {64, 64}, 1}, *second);
  ASSERT_TRUE(p.ok()) << p.status();
  std::vector<float> a(16, 2.0f);
  ScopedBuffer ba = Upload(Dev(), a);
  ScopedBuffer out(*Dev().allocator().Alloc(64));
  DeviceBuffer* bufs[] = {out.get(), ba.get()};
  const int64_t one = 1;
  ASSERT_TRUE((*p)->Run(bufs, {&one, 1}, {}, {}).ok());
  EXPECT_EQ(Download(Dev(), *out), std::vector<float>(16, 5.0f));
}

}  // namespace
}  // namespace uop
