// The CUDA device against the device contract (drivers/device.h): info,
// allocator (pool, pinned staging, chunked copies), programs, signals.
// Skips without a GPU.
#include <cstring>
#include <numeric>
#include <random>

#include "drivers/cuda/cuda_program.h"
#include "drivers/cuda/cuda_test_util.h"

namespace uop::cuda {
namespace {

using testing::kScaleKernel;
using testing::LoadKernel;

TEST(CudaDevice, InfoDescribesTheGpu) {
  UOP_GPU_OR_SKIP(gpu);
  const DeviceInfo& info = gpu->info();
  EXPECT_EQ(info.name, "CUDA:0");
  EXPECT_EQ(info.language, "cuda");
  EXPECT_NE(info.description.find("(sm_"), std::string::npos) << info.description;
  EXPECT_GE(info.compute_units, 1);
  EXPECT_TRUE(info.has_local && info.has_shared);
  EXPECT_GE(info.max_local.x, 1024);
  EXPECT_GT(info.total_memory, uint64_t{1} << 30);
  EXPECT_NE(gpu->compiler().CacheKey().find("sm_"), std::string::npos);
  std::printf("GPU: %s\n", info.description.c_str());
}

TEST(CudaAllocator, TracksUseChecksRangesAndPools) {
  UOP_GPU_OR_SKIP(gpu);
  Allocator& a = gpu->allocator();
  const AllocatorStats before = a.stats();
  absl::StatusOr<DeviceBuffer*> b = a.Alloc(1000);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->size(), 1000u);
  EXPECT_EQ((*b)->host_ptr(), nullptr);
  EXPECT_EQ((*b)->device_address() % 256, 0u);
  EXPECT_EQ(a.stats().bytes_in_use, before.bytes_in_use + 1000);
  std::vector<uint8_t> host(100, 3);
  EXPECT_TRUE(a.CopyIn(**b, 900, host).ok());
  EXPECT_EQ(a.CopyIn(**b, 901, host).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(a.CopyOut(**b, 901, absl::MakeSpan(host)).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(a.Alloc(8, BufferOptions{.alignment = 3}).status().code(),
            absl::StatusCode::kInvalidArgument);
  const uint64_t address = (*b)->device_address();
  a.Free(*b);
  EXPECT_EQ(a.stats().bytes_in_use, before.bytes_in_use);
  // The same size class comes back from the pool.
  absl::StatusOr<DeviceBuffer*> again = a.Alloc(1000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->device_address(), address);
  EXPECT_EQ(a.stats().cache_hits, before.cache_hits + 1);
  a.Free(*again);
  absl::StatusOr<DeviceBuffer*> aligned = a.Alloc(100, BufferOptions{.alignment = 4096});
  ASSERT_TRUE(aligned.ok());
  EXPECT_EQ((*aligned)->device_address() % 4096, 0u);
  a.Free(*aligned);
  a.ReleaseCached();
  EXPECT_EQ(a.stats().cached_bytes, 0u);
}

TEST(CudaAllocator, LargeCopiesRoundTripThroughTheStagingChunks) {
  UOP_GPU_OR_SKIP(gpu);
  Allocator& a = gpu->allocator();
  const size_t n = (size_t{37} << 20) + 123;  // several 8 MiB chunks and a tail
  std::vector<uint8_t> in(n), out(n, 0);
  std::mt19937 rng(5);
  for (uint8_t& x : in) x = static_cast<uint8_t>(rng());
  ScopedBuffer b(*a.Alloc(n + 64));
  ASSERT_TRUE(a.CopyIn(*b, 64, in).ok());
  ASSERT_TRUE(a.CopyOut(*b, 64, absl::MakeSpan(out)).ok());
  EXPECT_TRUE(in == out);
  // Device to device, and through a pinned (host-visible) buffer.
  ScopedBuffer c(*a.Alloc(n));
  ASSERT_TRUE(a.CopyBetween(*c, 0, *b, 64, n).ok());
  ScopedBuffer pinned(*a.Alloc(n, BufferOptions{.host_visible = true}));
  ASSERT_NE(pinned->host_ptr(), nullptr);
  ASSERT_TRUE(a.CopyBetween(*pinned, 0, *c, 0, n).ok());
  EXPECT_EQ(std::memcmp(pinned->host_ptr(), in.data(), n), 0);
}

TEST(CudaAllocator, SubBuffersCopyWithinTheirRange) {
  UOP_GPU_OR_SKIP(gpu);
  Allocator& a = gpu->allocator();
  ScopedBuffer arena(*a.Alloc(4096));
  absl::StatusOr<std::unique_ptr<DeviceBuffer>> v = MakeSubBuffer(*arena, 1024, 256);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)->device_address(), arena->device_address() + 1024);
  std::vector<uint8_t> host(256, 7), back(4096);
  EXPECT_TRUE(a.CopyIn(**v, 0, host).ok());
  EXPECT_EQ(a.CopyIn(**v, 1, host).code(), absl::StatusCode::kOutOfRange);
  ASSERT_TRUE(a.CopyOut(*arena, 0, absl::MakeSpan(back)).ok());
  EXPECT_EQ(back[1024], 7);
  EXPECT_EQ(back[1279], 7);
}

TEST(CudaProgram, RunsWithVariablesAndTimesTheKernel) {
  UOP_GPU_OR_SKIP(gpu);
  const int n = 1000;
  absl::StatusOr<std::unique_ptr<Program>> p =
      LoadKernel(*gpu, "scale", kScaleKernel, {n * 4, n * 4}, 1);
  ASSERT_TRUE(p.ok()) << p.status();
  Allocator& a = gpu->allocator();
  ScopedBuffer out(*a.Alloc(n * 4)), in(*a.Alloc(n * 4));
  std::vector<float> x(n), y(n);
  std::iota(x.begin(), x.end(), 0.5f);
  ASSERT_TRUE(a.CopyIn(*in, 0, AsBytes(absl::MakeConstSpan(x))).ok());
  DeviceBuffer* bufs[] = {out.get(), in.get()};
  RunTiming timing;
  absl::Status st = (*p)->Run(bufs, {int64_t{n}}, LaunchDims{8}, LaunchDims{128}, &timing);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_GT(timing.seconds, 0);
  EXPECT_LT(timing.seconds, 0.1);
  ASSERT_TRUE(a.CopyOut(*out, 0, AsWritableBytes(absl::MakeSpan(y))).ok());
  for (int i = 0; i < n; ++i) ASSERT_EQ(y[i], x[i] * 2 + i) << i;
}

TEST(CudaProgram, BadLaunchesAreInvalidArgumentsNotCrashes) {
  UOP_GPU_OR_SKIP(gpu);
  absl::StatusOr<std::unique_ptr<Program>> p =
      LoadKernel(*gpu, "scale", kScaleKernel, {4096, 4096}, 1);
  ASSERT_TRUE(p.ok()) << p.status();
  ScopedBuffer out(*gpu->allocator().Alloc(4096)), in(*gpu->allocator().Alloc(4096));
  DeviceBuffer* bufs[] = {out.get(), in.get()};
  EXPECT_EQ((*p)->Run(bufs, {}, LaunchDims{8}, LaunchDims{128}).code(),
            absl::StatusCode::kInvalidArgument);  // missing variable
  absl::Status st = (*p)->Run(bufs, {1}, LaunchDims{1}, LaunchDims{2048});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("exceeds the GPU's limits"), std::string::npos) << st;
  DeviceBuffer* one[] = {out.get()};
  EXPECT_EQ((*p)->Run(one, {1}, LaunchDims{1}, LaunchDims{1}).code(),
            absl::StatusCode::kInvalidArgument);
  // A host buffer of another allocator is refused by the launch.
  std::vector<float> host(1024);
  DeviceBuffer foreign(nullptr, 1, 4096, {}, host.data(), 0);
  DeviceBuffer* mixed[] = {out.get(), &foreign};
  st = (*p)->Run(mixed, {1}, LaunchDims{1}, LaunchDims{1});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("belongs to another device"), std::string::npos) << st;
}

TEST(CudaProgram, LoadingGarbageOrAMissingEntryIsInvalidArgument) {
  UOP_GPU_OR_SKIP(gpu);
  EXPECT_EQ(gpu->LoadProgram({"k", {}, 0}, std::string("\x7f"
                                                       "ELF garbage",
                                                       12))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::string> bin = gpu->compiler().Compile("scale", kScaleKernel);
  ASSERT_TRUE(bin.ok()) << bin.status();
  absl::Status st = gpu->LoadProgram({"nothere", {4, 4}, 1}, *bin).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'nothere'"), std::string::npos) << st;
  EXPECT_EQ(gpu->LoadProgram({"scale", {4}, 1}, *bin).status().code(),
            absl::StatusCode::kInvalidArgument);  // the kernel takes two buffers
}

TEST(CudaSignal, MonotonicAndBounded) {
  UOP_GPU_OR_SKIP(gpu);
  absl::StatusOr<std::unique_ptr<Signal>> s = gpu->CreateSignal("conformance", 2);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->device(), "CUDA:0");
  EXPECT_EQ((*s)->Set(1).code(), absl::StatusCode::kInvalidArgument);
  absl::Status st = (*s)->Wait(3, absl::Milliseconds(5));
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(st.message().find("'conformance'"), std::string::npos) << st;
  EXPECT_EQ((*s)->Wait(3, absl::InfiniteDuration()).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace uop::cuda
