#include "drivers/common/fenced_ring.h"

#include <algorithm>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(FencedRing, ReusesSpaceOnlyAfterItsFence) {
  std::vector<uint64_t> awaited;
  FencedRing ring("test ring", 1024, [&](uint64_t f, const char*) {
    awaited.push_back(f);
    return absl::OkStatus();
  });
  EXPECT_EQ(*ring.Reserve(100, 64), 0u);
  EXPECT_EQ(*ring.Reserve(100, 64), 128u);
  EXPECT_EQ(ring.pending_bytes(), 200u);
  ring.Commit(1);
  EXPECT_EQ(*ring.Reserve(300, 64), 256u);
  ring.Commit(2);
  EXPECT_EQ(*ring.Reserve(300, 64), 576u);  // 576 + 300 <= 1024
  ring.Commit(3);
  EXPECT_TRUE(awaited.empty());
  // Wraps to 0 and must wait for the batch that used [0, 228).
  EXPECT_EQ(*ring.Reserve(200, 64), 0u);
  EXPECT_EQ(awaited, std::vector<uint64_t>{1});
  ring.Commit(4);
  // [256, 556) belonged to fence 2.
  EXPECT_EQ(*ring.Reserve(300, 64), 256u);
  EXPECT_EQ(awaited, (std::vector<uint64_t>{1, 2}));
}

TEST(FencedRing, ErrorsAndOversizedRequests) {
  FencedRing ring("test ring", 1024, [](uint64_t f, const char* why) {
    return absl::DeadlineExceededError(absl::StrCat("fence ", f, ": ", why));
  });
  EXPECT_EQ(ring.Reserve(600, 64).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ring.Reserve(16, 3).status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(ring.Reserve(512, 64).ok());
  ring.Commit(9);
  ASSERT_TRUE(ring.Reserve(500, 64).ok());
  ring.Commit(10);
  absl::StatusOr<size_t> blocked = ring.Reserve(100, 64);  // needs fence 9, which never comes
  EXPECT_EQ(blocked.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(blocked.status().message().find("fence 9"), absl::string_view::npos);
}

// A reservation that wraps skips the ring's tail; the pieces there must be
// waited for and dropped too, or the ring order breaks and a later
// reservation overwrites a piece the GPU has not read (seen as a QCOM
// launch reading zeroed arguments after many laps of the command ring).
// The drivers' usage (argument blocks, then the batch's command words at
// submit) against a model: no reservation may overlap a piece whose fence
// was not awaited.
TEST(FencedRing, RandomBatchesNeverOverwriteUnretiredPieces) {
  constexpr size_t kSize = 1 << 16;
  uint64_t retired = 0;
  FencedRing ring("test ring", kSize, [&](uint64_t f, const char*) {
    retired = std::max(retired, f);
    return absl::OkStatus();
  });
  struct Live {
    size_t begin, end;
    uint64_t fence;
  };
  std::vector<Live> live, pending;
  std::mt19937 rng(7);
  uint64_t fence = 0;
  auto reserve = [&](size_t bytes, size_t align) {
    absl::StatusOr<size_t> at = ring.Reserve(bytes, align);
    ASSERT_TRUE(at.ok()) << at.status();
    for (const Live& l : live) {
      ASSERT_FALSE(l.fence > retired && l.begin < *at + bytes && *at < l.end)
          << "[" << *at << ", " << *at + bytes << ") overwrites [" << l.begin << ", " << l.end
          << ") of fence " << l.fence << " (retired " << retired << ")";
    }
    pending.push_back({*at, *at + bytes, 0});
  };
  auto commit = [&] {
    ++fence;
    for (Live& p : pending) live.push_back({p.begin, p.end, fence});
    pending.clear();
    ring.Commit(fence);
  };
  for (int round = 0; round < 20000 && !testing::Test::HasFatalFailure(); ++round) {
    const int launches = std::uniform_int_distribution<int>(1, 40)(rng);
    size_t words = 0;
    for (int i = 0; i < launches && !testing::Test::HasFatalFailure(); ++i) {
      if (ring.pending_bytes() + 4096 + words + 1024 > kSize / 2) {
        reserve(words, 64);
        commit();
        words = 0;
      }
      reserve(4096, 256);
      words += 300 + 100 * std::uniform_int_distribution<int>(0, 2)(rng);
    }
    if (words > 0 && !testing::Test::HasFatalFailure()) {
      reserve(words, 64);
      commit();
    }
    // Now and then the GPU catches up on its own.
    if (rng() % 100 == 0) retired = fence;
    if (live.size() > 4096) live.erase(live.begin(), live.begin() + 2048);
  }
}

TEST(FencedRing, OneBatchOverrunningTheRingIsAnError) {
  FencedRing ring("test ring", 1024, [](uint64_t, const char*) { return absl::OkStatus(); });
  ASSERT_TRUE(ring.Reserve(500, 64).ok());
  ASSERT_TRUE(ring.Reserve(500, 64).ok());  // [512, 1012)
  // Wraps onto [0, 500): the same batch's own piece.
  absl::Status st = ring.Reserve(500, 64).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("overrun"), absl::string_view::npos) << st;
}

}  // namespace
}  // namespace uop
