#include "drivers/common/mmio.h"

#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace uop {
namespace {

// A fake BAR in host memory with a canary at its end.
struct FakeBar {
  static constexpr size_t kSize = 64 * 1024;
  static constexpr uint64_t kCanary = 0x55AA00FF1234ABCDull;
  std::vector<uint8_t> mem = std::vector<uint8_t>(kSize, 0);
  FakeBar() { std::memcpy(mem.data() + kSize - 8, &kCanary, 8); }
  uint64_t* canary() { return reinterpret_cast<uint64_t*>(mem.data() + kSize - 8); }
  MmioRegion Region() {
    return MmioRegion("AM:0", "BAR0 VRAM", mem.data(), kSize,
                      CanaryProbe(canary(), kCanary, "VRAM+0xfff8"));
  }
  // What a vanished device looks like: every byte reads 0xFF.
  void Unplug() { std::memset(mem.data(), 0xFF, kSize); }
};

TEST(MmioRegion, ReadsAndWritesRegisters) {
  FakeBar bar;
  MmioRegion r = bar.Region();
  ASSERT_TRUE(r.Write32(0x10, 0xDEADBEEF).ok());
  EXPECT_EQ(*r.Read32(0x10), 0xDEADBEEFu);
  ASSERT_TRUE(r.Write64(0x18, 0x0102030405060708ull).ok());
  EXPECT_EQ(*r.Read64(0x18), 0x0102030405060708ull);
  EXPECT_EQ(r.Read32(0x11).status().code(), absl::StatusCode::kOutOfRange);  // unaligned
  EXPECT_EQ(r.Read32(FakeBar::kSize).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(r.Write32(FakeBar::kSize - 2, 0).code(), absl::StatusCode::kOutOfRange);
}

TEST(MmioRegion, AllOnesFromALiveDeviceIsData) {
  FakeBar bar;
  MmioRegion r = bar.Region();
  ASSERT_TRUE(r.Write32(0x20, 0xFFFFFFFF).ok());
  absl::StatusOr<uint32_t> v = r.Read32(0x20);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 0xFFFFFFFFu);
  // A whole page of int32 -1 is legitimate data while the canary answers.
  std::memset(bar.mem.data(), 0xFF, 8192);
  std::vector<uint8_t> out(8192);
  ASSERT_TRUE(r.ReadBlock(0, absl::MakeSpan(out)).ok());
  EXPECT_TRUE(AllOnes(out));
}

TEST(MmioRegion, AllOnesFromAGoneDeviceFailsClearly) {
  FakeBar bar;
  MmioRegion r = bar.Region();
  ASSERT_TRUE(r.Write32(0x40, 7).ok());
  bar.Unplug();
  absl::StatusOr<uint32_t> v = r.Read32(0x40);
  ASSERT_EQ(v.status().code(), absl::StatusCode::kUnavailable);
  const std::string msg(v.status().message());
  EXPECT_NE(msg.find("AM:0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("BAR0 VRAM"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0x40"), std::string::npos) << msg;
  EXPECT_NE(msg.find("canary"), std::string::npos) << msg;
  EXPECT_EQ(r.Read64(0x40).status().code(), absl::StatusCode::kUnavailable);

  std::vector<uint8_t> out(3 * MmioRegion::kCheckBytes);
  absl::Status st = r.ReadBlock(0x1000, absl::MakeSpan(out));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("0x1000"), absl::string_view::npos) << st;
}

TEST(MmioRegion, PartiallyMappedBlockIsCaughtAtTheFirstDeadPage) {
  FakeBar bar;
  MmioRegion r = bar.Region();
  std::vector<uint8_t> bytes(3 * MmioRegion::kCheckBytes, 0x12);
  // The tail of a copy after the device went away.
  std::memset(bytes.data() + 2 * MmioRegion::kCheckBytes, 0xFF, MmioRegion::kCheckBytes);
  *bar.canary() = ~uint64_t{0};
  absl::Status st = r.CheckRead(0x4000, bytes);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("0x6000"), absl::string_view::npos) << st;
  // Without an all-ones page there is nothing to probe.
  bytes.back() = 0;
  EXPECT_TRUE(r.CheckRead(0x4000, bytes).ok());
}

TEST(AllOnes, SmallAndEmptyInputs) {
  EXPECT_FALSE(AllOnes({}));
  const uint8_t ones[3] = {0xFF, 0xFF, 0xFF};
  const uint8_t mixed[9] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE};
  EXPECT_TRUE(AllOnes(ones));
  EXPECT_FALSE(AllOnes(mixed));
}

}  // namespace
}  // namespace uop
