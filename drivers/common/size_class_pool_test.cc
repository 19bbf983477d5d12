#include "drivers/common/size_class_pool.h"

#include <atomic>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace uop {
namespace {

struct Block {
  uint64_t handle = 0;
  size_t size = 0;
};
using Pool = SizeClassPool<Block>;

// A kernel allocator with a fixed capacity: ResourceExhausted once the live
// blocks would pass it, or the error it was told to give next.
struct FakeKernel {
  std::mutex mu;
  size_t capacity = std::numeric_limits<size_t>::max();
  size_t live_bytes = 0;
  std::set<uint64_t> live;
  uint64_t next_handle = 1;
  int alloc_calls = 0;
  int free_calls = 0;
  std::vector<size_t> asked;
  absl::Status fail;   // given instead of a block while fail_left > 0
  int fail_left = 0;   // -1: always
  bool record = true;  // keep `asked` (off for the long threaded runs)

  absl::StatusOr<Block> Alloc(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu);
    ++alloc_calls;
    if (record) asked.push_back(bytes);
    if (fail_left != 0) {
      if (fail_left > 0) --fail_left;
      return fail;
    }
    if (bytes > capacity - live_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat("fake: ", bytes, " bytes do not fit"));
    }
    live_bytes += bytes;
    const Block b{next_handle++, bytes};
    live.insert(b.handle);
    return b;
  }
  void Free(const Block& b) {
    std::lock_guard<std::mutex> lock(mu);
    ++free_calls;
    ASSERT_EQ(live.erase(b.handle), 1u) << "block " << b.handle << " freed twice or never made";
    live_bytes -= b.size;
  }
};

Pool MakePool(FakeKernel& k, uint64_t limit = 0) {
  return Pool(
      "TEST:0", [&k](size_t n) { return k.Alloc(n); }, [&k](const Block& b) { k.Free(b); },
      {.memory_limit = limit});
}

TEST(SizeClassPool, RoundsUpToPowersOfTwoFrom4KiB) {
  EXPECT_EQ(Pool::SizeClass(0), 4096u);
  EXPECT_EQ(Pool::SizeClass(1), 4096u);
  EXPECT_EQ(Pool::SizeClass(4096), 4096u);
  EXPECT_EQ(Pool::SizeClass(4097), 8192u);
  EXPECT_EQ(Pool::SizeClass(5000), 8192u);
  EXPECT_EQ(Pool::SizeClass(size_t{1} << 20), size_t{1} << 20);
  EXPECT_EQ(Pool::SizeClass((size_t{1} << 20) + 1), size_t{2} << 20);
  EXPECT_EQ(Pool::SizeClass(Pool::kMaxClass), Pool::kMaxClass);
}

TEST(SizeClassPool, AsksTheKernelForWholeSizeClasses) {
  FakeKernel k;
  Pool pool = MakePool(k);
  absl::StatusOr<Pool::Block> a = pool.Acquire(1000);
  absl::StatusOr<Pool::Block> b = pool.Acquire(0);
  absl::StatusOr<Pool::Block> c = pool.Acquire(70000);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(k.asked, (std::vector<size_t>{4096, 4096, 131072}));
  EXPECT_EQ(a->memory.size, 4096u);
  EXPECT_EQ(c->memory.size, 131072u);
  EXPECT_NE(a->memory.handle, b->memory.handle);
  EXPECT_EQ(a->id, 1u);
  EXPECT_EQ(b->id, 2u);
  EXPECT_EQ(c->id, 3u);
  pool.Release(a->memory, 1000);
  pool.Release(b->memory, 0);
  pool.Release(c->memory, 70000);
}

TEST(SizeClassPool, ReusesAFreedBlockOfTheSameClassOnly) {
  FakeKernel k;
  Pool pool = MakePool(k);
  Pool::Block a = *pool.Acquire(5000);
  pool.Release(a.memory, 5000);
  EXPECT_EQ(pool.stats().cached_bytes, 8192u);

  Pool::Block b = *pool.Acquire(6000);  // same 8 KiB class: the cached block
  EXPECT_EQ(b.memory.handle, a.memory.handle);
  EXPECT_EQ(k.alloc_calls, 1);
  EXPECT_EQ(pool.stats().cache_hits, 1u);
  EXPECT_EQ(pool.stats().cached_bytes, 0u);
  EXPECT_EQ(b.id, 2u);  // a new buffer, even on the same block

  Pool::Block c = *pool.Acquire(9000);  // 16 KiB class: nothing cached
  EXPECT_NE(c.memory.handle, a.memory.handle);
  EXPECT_EQ(k.alloc_calls, 2);
  EXPECT_EQ(pool.stats().cache_hits, 1u);
  pool.Release(b.memory, 6000);
  pool.Release(c.memory, 9000);
}

TEST(SizeClassPool, KeepsTheStats) {
  FakeKernel k;
  Pool pool = MakePool(k);
  Pool::Block a = *pool.Acquire(3000);
  Pool::Block b = *pool.Acquire(10000);
  AllocatorStats s = pool.stats();
  EXPECT_EQ(s.bytes_in_use, 13000u);  // as asked, not rounded
  EXPECT_EQ(s.peak_bytes_in_use, 13000u);
  EXPECT_EQ(s.num_allocs, 2u);
  EXPECT_EQ(s.num_frees, 0u);
  EXPECT_EQ(s.cached_bytes, 0u);
  pool.Release(b.memory, 10000);
  Pool::Block c = *pool.Acquire(100);  // another 4 KiB block from the kernel
  s = pool.stats();
  EXPECT_EQ(s.bytes_in_use, 3100u);
  EXPECT_EQ(s.peak_bytes_in_use, 13000u);
  EXPECT_EQ(s.num_allocs, 3u);
  EXPECT_EQ(s.num_frees, 1u);
  EXPECT_EQ(s.cached_bytes, 16384u);
  EXPECT_EQ(s.cache_hits, 0u);
  pool.Release(a.memory, 3000);
  pool.Release(c.memory, 100);
  s = pool.stats();
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_EQ(s.num_frees, 3u);
  EXPECT_EQ(s.cached_bytes, 16384u + 4096u + 4096u);
}

TEST(SizeClassPool, ReleaseCachedAndTheDestructorFreeEveryCachedBlock) {
  FakeKernel k;
  Block kept;
  {
    Pool pool = MakePool(k);
    Pool::Block a = *pool.Acquire(100);
    Pool::Block b = *pool.Acquire(100);
    Pool::Block c = *pool.Acquire(20000);
    kept = c.memory;  // still in use when the pool goes: not the pool's to free
    pool.Release(a.memory, 100);
    pool.Release(b.memory, 100);
    pool.ReleaseCached();
    EXPECT_EQ(k.free_calls, 2);
    EXPECT_EQ(pool.stats().cached_bytes, 0u);
    EXPECT_EQ(k.live, (std::set<uint64_t>{c.memory.handle}));

    Pool::Block d = *pool.Acquire(100);  // nothing cached any more
    EXPECT_EQ(k.alloc_calls, 4);
    pool.Release(d.memory, 100);
  }
  EXPECT_EQ(k.free_calls, 3);  // d, by the destructor
  EXPECT_EQ(k.live, (std::set<uint64_t>{kept.handle}));
  k.Free(kept);
}

TEST(SizeClassPool, ExhaustionReleasesTheCacheAndRetriesOnce) {
  FakeKernel k;
  k.capacity = 16384;
  Pool pool = MakePool(k);
  Pool::Block small = *pool.Acquire(8192);
  pool.Release(small.memory, 8192);  // cached: the kernel still counts it
  absl::StatusOr<Pool::Block> big = pool.Acquire(16384);
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(k.asked, (std::vector<size_t>{8192, 16384, 16384}));
  EXPECT_EQ(k.live, (std::set<uint64_t>{big->memory.handle}));
  EXPECT_EQ(pool.stats().cached_bytes, 0u);
  EXPECT_EQ(pool.stats().bytes_in_use, 16384u);
  pool.Release(big->memory, 16384);
}

TEST(SizeClassPool, PersistentExhaustionSurfacesTheKernelsError) {
  FakeKernel k;
  Pool pool = MakePool(k);
  Pool::Block cached = *pool.Acquire(4096);
  pool.Release(cached.memory, 4096);
  k.fail = absl::ResourceExhaustedError("fake: out of VRAM");
  k.fail_left = -1;
  absl::StatusOr<Pool::Block> got = pool.Acquire(8192);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status(), absl::ResourceExhaustedError("fake: out of VRAM"));
  EXPECT_EQ(k.alloc_calls, 3);  // the first block, then one try and one retry
  EXPECT_TRUE(k.live.empty());  // the cache went back before the retry
  AllocatorStats s = pool.stats();
  EXPECT_EQ(s.num_allocs, 1u);
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_EQ(s.cached_bytes, 0u);
}

TEST(SizeClassPool, OtherKernelErrorsAreNotRetriedAndKeepTheCache) {
  FakeKernel k;
  Pool pool = MakePool(k);
  Pool::Block cached = *pool.Acquire(4096);
  pool.Release(cached.memory, 4096);
  k.fail = absl::InternalError("fake: ioctl failed");
  k.fail_left = 1;
  absl::StatusOr<Pool::Block> got = pool.Acquire(8192);
  EXPECT_EQ(got.status(), absl::InternalError("fake: ioctl failed"));
  EXPECT_EQ(k.alloc_calls, 2);
  EXPECT_EQ(pool.stats().cached_bytes, 4096u);
  absl::StatusOr<Pool::Block> again = pool.Acquire(4096);  // the cached block is still there
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->memory.handle, cached.memory.handle);
  EXPECT_EQ(pool.stats().cache_hits, 1u);
  pool.Release(again->memory, 4096);
}

TEST(SizeClassPool, TheLimitCountsBytesAsAskedAndIsRestoredOnFailure) {
  FakeKernel k;
  Pool pool = MakePool(k, /*limit=*/10000);
  Pool::Block a = *pool.Acquire(6000);
  absl::StatusOr<Pool::Block> over = pool.Acquire(5000);
  ASSERT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(over.status().message(),
            "TEST:0: allocating 5000 bytes exceeds the memory limit of 10000 (6000 in use)");
  EXPECT_EQ(k.alloc_calls, 1);  // refused before the kernel is asked
  EXPECT_EQ(pool.Acquire(std::numeric_limits<size_t>::max() / 2).status().code(),
            absl::StatusCode::kResourceExhausted);

  // A failed kernel allocation gives its reservation back.
  k.fail = absl::InternalError("fake: ioctl failed");
  k.fail_left = 1;
  EXPECT_FALSE(pool.Acquire(4000).ok());
  absl::StatusOr<Pool::Block> fits = pool.Acquire(4000);  // exactly 10000 in use
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(pool.stats().bytes_in_use, 10000u);
  pool.Release(a.memory, 6000);
  pool.Release(fits->memory, 4000);
}

TEST(SizeClassPool, RefusesSizesPastTheLargestClass) {
  FakeKernel k;
  Pool pool = MakePool(k);
  for (size_t bytes : {Pool::kMaxClass + 1, std::numeric_limits<size_t>::max()}) {
    absl::StatusOr<Pool::Block> got = pool.Acquire(bytes);
    ASSERT_EQ(got.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(got.status().message().find("exceeds the largest size class"),
              absl::string_view::npos)
        << got.status();
  }
  EXPECT_EQ(k.alloc_calls, 0);
  EXPECT_EQ(pool.stats().num_allocs, 0u);
}

// Many threads acquiring and releasing: no block is handed to two holders,
// the counters add up, and concurrent Acquires never pass the limit together.
TEST(SizeClassPool, IsThreadSafe) {
  constexpr int kThreads = 8, kIterations = 20000;
  constexpr uint64_t kLimit = 64 * 1024;
  FakeKernel k;
  k.record = false;
  k.capacity = 128 * 1024;  // small enough to exhaust, so the release-and-retry path runs
  Pool pool = MakePool(k, kLimit);
  std::mutex held_mu;
  std::set<uint64_t> held;
  std::atomic<uint64_t> in_use{0}, acquired{0};
  std::atomic<bool> overshoot{false}, shared{false}, wrong_error{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<std::pair<Block, size_t>> mine;
      for (int i = 0; i < kIterations; ++i) {
        if (mine.size() < 4 && rng() % 2 == 0) {
          const size_t bytes = 1 + rng() % 20000;
          absl::StatusOr<Pool::Block> b = pool.Acquire(bytes);
          if (!b.ok()) {
            // Only the limit or a full kernel may refuse.
            if (b.status().code() != absl::StatusCode::kResourceExhausted) wrong_error = true;
            continue;
          }
          ++acquired;
          if (in_use.fetch_add(bytes) + bytes > kLimit) overshoot = true;
          {
            std::lock_guard<std::mutex> lock(held_mu);
            if (!held.insert(b->memory.handle).second) shared = true;
          }
          mine.push_back({b->memory, bytes});
        } else if (!mine.empty()) {
          auto [m, bytes] = mine.back();
          mine.pop_back();
          {
            std::lock_guard<std::mutex> lock(held_mu);
            held.erase(m.handle);
          }
          in_use -= bytes;
          pool.Release(m, bytes);
        }
        if (i % 500 == 0) pool.ReleaseCached();
      }
      for (auto [m, bytes] : mine) {
        {
          std::lock_guard<std::mutex> lock(held_mu);
          held.erase(m.handle);
        }
        in_use -= bytes;
        pool.Release(m, bytes);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(overshoot);
  EXPECT_FALSE(shared);
  EXPECT_FALSE(wrong_error);
  EXPECT_GT(acquired, 0u);
  const AllocatorStats s = pool.stats();
  EXPECT_EQ(s.num_allocs, acquired.load());
  EXPECT_EQ(s.num_frees, acquired.load());
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_LE(s.peak_bytes_in_use, kLimit);
  pool.ReleaseCached();
  EXPECT_TRUE(k.live.empty());
  EXPECT_EQ(k.live_bytes, 0u);
}

}  // namespace
}  // namespace uop
