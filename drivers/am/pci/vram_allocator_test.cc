// AmVramAllocator: alignment, reserved ranges, errors, coalescing, and a
// randomized alloc/free run checked against a plain model.
#include "drivers/am/pci/vram_allocator.h"

#include <map>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace uop {
namespace {

constexpr uint64_t kMiB = 1 << 20;

std::unique_ptr<AmVramAllocator> Make(uint64_t begin, uint64_t end) {
  absl::StatusOr<std::unique_ptr<AmVramAllocator>> a = AmVramAllocator::Create(begin, end);
  EXPECT_TRUE(a.ok()) << a.status();
  return std::move(*a);
}

TEST(AmVramAllocator, StaysInsideItsRangeAndAligns) {
  // As the device uses it: the boot arena's first 4 MiB and the top 1 MiB
  // (discovery/TMR) of 64 MiB are never handed out.
  auto a = Make(4 * kMiB, 63 * kMiB);
  EXPECT_EQ(*a->Allocate(1), 4 * kMiB);  // rounded to a page
  EXPECT_EQ(*a->SizeOf(4 * kMiB), 4096u);
  absl::StatusOr<uint64_t> b = a->Allocate(8192, 64 << 10);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b % (64 << 10), 0u);
  // 2 MiB and more: 2 MiB-aligned even when 4 KiB was asked.
  absl::StatusOr<uint64_t> big = a->Allocate(3 * kMiB);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(*big % (2 * kMiB), 0u);
  EXPECT_GE(*big, 4 * kMiB);
  EXPECT_LE(*big + 3 * kMiB, 63 * kMiB);
  // Everything handed out lies in [begin, end): fill it.
  std::vector<uint64_t> all;
  while (true) {
    absl::StatusOr<uint64_t> p = a->Allocate(64 << 10);
    if (!p.ok()) break;
    EXPECT_GE(*p, 4 * kMiB);
    EXPECT_LE(*p + (64 << 10), 63 * kMiB);
    all.push_back(*p);
  }
  EXPECT_GT(all.size(), 800u);
}

TEST(AmVramAllocator, FallsBackToSmallerAlignmentForBigAllocations) {
  // 3 MiB free starting at 1 MiB: no 2 MiB-aligned 2 MiB block exists
  // ([2 MiB, 4 MiB) does) -> aligned; but 2.5 MiB only fits unaligned.
  auto a = Make(kMiB, 4 * kMiB);
  absl::StatusOr<uint64_t> p = a->Allocate(2 * kMiB + kMiB / 2);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, kMiB);
}

TEST(AmVramAllocator, ErrorsNameWhatWasWrong) {
  auto a = Make(0, 8 * kMiB);
  EXPECT_EQ(a->Allocate(0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a->Allocate(4096, 3 * 4096).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a->Allocate(4096, 2048).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a->Allocate(16 * kMiB).status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(a->Allocate(5 * kMiB).ok());
  absl::StatusOr<uint64_t> p = a->Allocate(4 * kMiB, 4096, "the weights");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(p.status().message().find("4194304 bytes"), std::string::npos) << p.status();
  EXPECT_NE(p.status().message().find("the weights"), std::string::npos) << p.status();
  EXPECT_NE(p.status().message().find("largest free block is 3145728 bytes"), std::string::npos)
      << p.status();

  absl::StatusOr<uint64_t> q = a->Allocate(8192);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(a->Free(*q + 4096).code(), absl::StatusCode::kInvalidArgument);  // inside
  ASSERT_TRUE(a->Free(*q).ok());
  absl::Status twice = a->Free(*q);
  EXPECT_EQ(twice.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(twice.message().find("double free"), std::string::npos) << twice;
  EXPECT_EQ(AmVramAllocator::Create(4096, 4096).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AmVramAllocator::Create(100, 8192).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AmVramAllocator, FreeCoalescesNeighbours) {
  auto a = Make(0, 16 * 4096);
  std::vector<uint64_t> p;
  for (int i = 0; i < 16; ++i) p.push_back(*a->Allocate(4096));
  EXPECT_EQ(a->free_bytes(), 0u);
  // Free every other page: 8 blocks; then the rest: one block again.
  for (int i = 0; i < 16; i += 2) ASSERT_TRUE(a->Free(p[i]).ok());
  EXPECT_EQ(a->free_blocks(), 8u);
  EXPECT_EQ(a->largest_free_block(), 4096u);
  EXPECT_EQ(a->Allocate(8192).status().code(), absl::StatusCode::kResourceExhausted);
  for (int i = 1; i < 16; i += 2) ASSERT_TRUE(a->Free(p[i]).ok());
  EXPECT_EQ(a->free_blocks(), 1u);
  EXPECT_EQ(a->largest_free_block(), 16 * 4096u);
  EXPECT_EQ(*a->Allocate(16 * 4096), 0u);
}

TEST(AmVramAllocator, RandomAllocFreeMatchesAModel) {
  constexpr uint64_t kBegin = 3 * kMiB, kEnd = 67 * kMiB;
  auto a = Make(kBegin, kEnd);
  std::mt19937_64 rng(12345);
  std::map<uint64_t, uint64_t> live;  // start -> size: the model
  uint64_t live_bytes = 0;
  for (int op = 0; op < 20000; ++op) {
    if (live.empty() || rng() % 5 < 3) {
      const int kind = rng() % 10;
      const uint64_t bytes = kind < 7   ? (1 + rng() % 64) * 4096 - rng() % 4096
                             : kind < 9 ? (1 + rng() % 8) * (256 << 10)
                                        : (2 + rng() % 6) * kMiB;
      const uint64_t align = uint64_t{4096} << (rng() % 6);
      absl::StatusOr<uint64_t> p = a->Allocate(bytes, align);
      if (!p.ok()) {
        ASSERT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted) << p.status();
        continue;
      }
      const uint64_t size = (bytes + 4095) & ~uint64_t{4095};
      ASSERT_EQ(*p % align, 0u);
      ASSERT_GE(*p, kBegin);
      ASSERT_LE(*p + size, kEnd);
      // No overlap with any live allocation.
      auto next = live.lower_bound(*p);
      if (next != live.end()) {
        ASSERT_LE(*p + size, next->first) << op;
      }
      if (next != live.begin()) {
        auto prev = std::prev(next);
        ASSERT_LE(prev->first + prev->second, *p) << op;
      }
      live.emplace(*p, size);
      live_bytes += size;
    } else {
      auto it = live.begin();
      std::advance(it, rng() % live.size());
      ASSERT_TRUE(a->Free(it->first).ok());
      live_bytes -= it->second;
      live.erase(it);
    }
    ASSERT_EQ(a->free_bytes(), (kEnd - kBegin) - live_bytes) << op;
    ASSERT_EQ(a->allocations(), live.size());
  }
  for (const auto& [start, size] : live) ASSERT_TRUE(a->Free(start).ok());
  EXPECT_EQ(a->free_blocks(), 1u);
  EXPECT_EQ(a->largest_free_block(), kEnd - kBegin);
}

TEST(AmVramAllocator, ThreadsAllocateDisjointRanges) {
  auto a = Make(0, 256 * kMiB);
  std::vector<std::vector<uint64_t>> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        absl::StatusOr<uint64_t> p = a->Allocate(4096 * (1 + i % 3));
        if (p.ok()) got[t].push_back(*p);
        if (i % 2 == 1 && !got[t].empty()) {
          EXPECT_TRUE(a->Free(got[t].back()).ok());
          got[t].pop_back();
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::map<uint64_t, uint64_t> all;
  for (const auto& v : got)
    for (uint64_t p : v) all.emplace(p, *a->SizeOf(p));
  uint64_t end = 0;
  for (const auto& [start, size] : all) {
    EXPECT_GE(start, end);
    end = start + size;
  }
  EXPECT_EQ(all.size(), a->allocations());
}

}  // namespace
}  // namespace uop
