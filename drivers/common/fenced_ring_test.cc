#include "drivers/common/fenced_ring.h"

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

}  // namespace
}  // namespace uop
