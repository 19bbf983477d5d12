#include "drivers/cpu/cpu_allocator.h"

#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(CpuAllocator, AllocIsAlignedHostVisibleAndRoundTrips) {
  CpuAllocator a("CPU:0", {});
  absl::StatusOr<DeviceBuffer*> b = a.Alloc(100);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->size(), 100u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>((*b)->host_ptr()) % 64, 0u);
  EXPECT_TRUE((*b)->options().host_visible);
  EXPECT_EQ((*b)->owner(), &a);
  std::vector<uint8_t> in(100), out(100);
  for (int i = 0; i < 100; ++i) in[i] = static_cast<uint8_t>(i * 3);
  ASSERT_TRUE(a.CopyIn(**b, 0, in).ok());
  ASSERT_TRUE(a.CopyOut(**b, 0, absl::MakeSpan(out)).ok());
  EXPECT_EQ(in, out);
  std::vector<uint8_t> part(10);
  ASSERT_TRUE(a.CopyOut(**b, 90, absl::MakeSpan(part)).ok());
  EXPECT_EQ(part[0], static_cast<uint8_t>(270));
  a.Free(*b);
}

TEST(CpuAllocator, HonorsLargeAlignment) {
  CpuAllocator a("CPU:0", {});
  absl::StatusOr<DeviceBuffer*> b = a.Alloc(10, BufferOptions{.alignment = 4096});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(reinterpret_cast<uintptr_t>((*b)->host_ptr()) % 4096, 0u);
  a.Free(*b);
  EXPECT_EQ(a.Alloc(10, BufferOptions{.alignment = 48}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CpuAllocator, CopiesOutOfRangeAreErrors) {
  CpuAllocator a("CPU:0", {});
  ScopedBuffer b(*a.Alloc(16));
  std::vector<uint8_t> data(8);
  EXPECT_EQ(a.CopyIn(*b, 9, data).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(a.CopyOut(*b, 12, absl::MakeSpan(data)).code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(a.CopyIn(*b, 8, data).ok());
  ScopedBuffer c(*a.Alloc(16));
  EXPECT_EQ(a.CopyBetween(*c, 0, *b, 4, 16).code(), absl::StatusCode::kOutOfRange);
}

TEST(CpuAllocator, CopyBetweenHandlesOverlap) {
  CpuAllocator a("CPU:0", {});
  ScopedBuffer b(*a.Alloc(8));
  const uint8_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(a.CopyIn(*b, 0, in).ok());
  ASSERT_TRUE(a.CopyBetween(*b, 2, *b, 0, 6).ok());
  uint8_t out[8];
  ASSERT_TRUE(a.CopyOut(*b, 0, absl::MakeSpan(out)).ok());
  EXPECT_EQ(std::vector<uint8_t>(out, out + 8), (std::vector<uint8_t>{1, 2, 1, 2, 3, 4, 5, 6}));
}

TEST(CpuAllocator, TracksBytesInUsePeakAndReusesFreedBlocks) {
  CpuAllocator a("CPU:0", {});
  DeviceBuffer* x = *a.Alloc(1000);
  DeviceBuffer* y = *a.Alloc(5000);
  EXPECT_EQ(a.stats().bytes_in_use, 6000u);
  void* x_block = x->host_ptr();
  a.Free(x);
  EXPECT_EQ(a.stats().bytes_in_use, 5000u);
  EXPECT_EQ(a.stats().peak_bytes_in_use, 6000u);
  EXPECT_EQ(a.stats().cached_bytes, CpuAllocator::SizeClass(1000));
  // Same size class (1024): the cached block comes back.
  DeviceBuffer* z = *a.Alloc(900);
  EXPECT_EQ(z->host_ptr(), x_block);
  EXPECT_EQ(a.stats().cache_hits, 1u);
  EXPECT_EQ(a.stats().cached_bytes, 0u);
  a.Free(y);
  a.Free(z);
  EXPECT_EQ(a.stats().bytes_in_use, 0u);
  EXPECT_EQ(a.stats().num_allocs, 3u);
  EXPECT_EQ(a.stats().num_frees, 3u);
  a.ReleaseCached();
  EXPECT_EQ(a.stats().cached_bytes, 0u);
}

TEST(CpuAllocator, CacheIsBounded) {
  CpuAllocator a("CPU:0", CpuAllocator::Options{.max_cached_bytes = 8192});
  DeviceBuffer* b1 = *a.Alloc(8192);
  DeviceBuffer* b2 = *a.Alloc(8192);
  a.Free(b1);
  a.Free(b2);
  EXPECT_EQ(a.stats().cached_bytes, 8192u);
}

TEST(CpuAllocator, MemoryLimitGivesResourceExhausted) {
  CpuAllocator a("CPU:0", CpuAllocator::Options{.memory_limit = 1 << 20});
  ScopedBuffer big(*a.Alloc(1 << 19));
  absl::StatusOr<DeviceBuffer*> over = a.Alloc((1 << 19) + 1);
  ASSERT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(over.status().message().find("memory limit"), std::string::npos) << over.status();
  EXPECT_EQ(a.Alloc(size_t{1} << 60).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(a.stats().bytes_in_use, size_t{1} << 19);
}

TEST(CpuAllocator, ZeroByteBuffersAreValid) {
  CpuAllocator a("CPU:0", {});
  absl::StatusOr<DeviceBuffer*> b = a.Alloc(0);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->size(), 0u);
  EXPECT_TRUE(a.CopyIn(**b, 0, {}).ok());
  a.Free(*b);
}

TEST(CpuAllocator, SizeClasses) {
  EXPECT_EQ(CpuAllocator::SizeClass(0), 64u);
  EXPECT_EQ(CpuAllocator::SizeClass(65), 128u);
  EXPECT_EQ(CpuAllocator::SizeClass(4096), 4096u);
  EXPECT_EQ(CpuAllocator::SizeClass(4097), 8192u);
  EXPECT_EQ(CpuAllocator::SizeClass(10000), 12288u);
}

}  // namespace
}  // namespace uop
