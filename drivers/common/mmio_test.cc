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

// A register file whose reads are computed: register 0x0 counts the reads
// of itself, 0x4 reads back twice what was last written, everything else
// reads `fill`. Every access is logged in order.
class CountingRegisters final : public MmioBackend {
 public:
  struct Access {
    bool write;
    uint64_t offset;
    uint32_t value;
  };
  uint32_t Load32(uint64_t offset) override {
    uint32_t v = fill;
    if (offset == 0x0) v = ++reads_of_zero;
    if (offset == 0x4) v = 2 * last_write;
    log.push_back({false, offset, v});
    return v;
  }
  void Store32(uint64_t offset, uint32_t value) override {
    if (offset == 0x4) last_write = value;
    log.push_back({true, offset, value});
  }
  uint32_t fill = 0x12345678;
  uint32_t reads_of_zero = 0;
  uint32_t last_write = 0;
  std::vector<Access> log;
};

TEST(MmioRegionBackend, ReadsAreComputedAndWritesLoggedInOrder) {
  auto regs = std::make_shared<CountingRegisters>();
  MmioRegion r("AM:0", "BAR5 registers", regs, 0x1000, [] { return absl::OkStatus(); });
  EXPECT_TRUE(r.trapped());
  EXPECT_EQ(*r.Read32(0x0), 1u);
  EXPECT_EQ(*r.Read32(0x0), 2u);  // the same register answers differently
  ASSERT_TRUE(r.Write32(0x4, 21).ok());
  EXPECT_EQ(*r.Read32(0x4), 42u);
  ASSERT_TRUE(r.Write64(0x8, 0x1111222233334444ull).ok());  // low dword first
  ASSERT_EQ(regs->log.size(), 6u);
  EXPECT_TRUE(regs->log[2].write);
  EXPECT_EQ(regs->log[4].offset, 0x8u);
  EXPECT_EQ(regs->log[4].value, 0x33334444u);
  EXPECT_EQ(regs->log[5].offset, 0xCu);
  EXPECT_EQ(regs->log[5].value, 0x11112222u);
  // Bounds and alignment are checked before the backend sees anything.
  EXPECT_EQ(r.Read32(0x1000).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(r.Write32(0x2, 0).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(regs->log.size(), 6u);
  // Block reads go dword by dword, unaligned edges included.
  std::vector<uint8_t> out(6);
  ASSERT_TRUE(r.ReadBlock(0x11, absl::MakeSpan(out)).ok());
  EXPECT_EQ(out[0], 0x56);  // byte 1 of 0x12345678
  EXPECT_EQ(out[3], 0x78);  // byte 0 of the next dword
}

TEST(MmioRegionBackend, AllOnesFromABackendRunsTheProbe) {
  auto regs = std::make_shared<CountingRegisters>();
  regs->fill = 0xFFFFFFFF;
  bool alive = true;
  MmioRegion r("AM:0", "BAR5 registers", regs, 0x1000, [&] {
    return alive ? absl::OkStatus() : absl::UnavailableError("config space reads 0xffff");
  });
  EXPECT_EQ(*r.Read32(0x10), 0xFFFFFFFFu);  // live device: data
  alive = false;
  absl::StatusOr<uint32_t> v = r.Read32(0x10);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(v.status().message().find("0x10 of BAR5 registers"), std::string::npos) << v.status();
  std::vector<uint8_t> out(64);
  EXPECT_EQ(r.ReadBlock(0x100, absl::MakeSpan(out)).code(), absl::StatusCode::kUnavailable);
}

TEST(MmioTrap, RegionsOnATrappedMappingUseItsBackend) {
  // The emulator hands out `mapping`; the driver builds its region on that
  // address exactly as on hardware.
  std::vector<uint8_t> mapping(0x2000, 0);
  auto regs = std::make_shared<CountingRegisters>();
  {
    MmioTrap trap(mapping.data(), mapping.size(), regs);
    MmioRegion whole("AM:0", "BAR5", mapping.data(), mapping.size(),
                     [] { return absl::OkStatus(); });
    EXPECT_TRUE(whole.trapped());
    ASSERT_TRUE(whole.Write32(0x100, 7).ok());
    EXPECT_EQ(mapping[0x100], 0);  // the write went to the model, not to memory
    ASSERT_EQ(regs->log.size(), 1u);
    EXPECT_EQ(regs->log[0].offset, 0x100u);
    // A region on part of the range sees offsets relative to itself.
    MmioRegion tail("AM:0", "BAR5 tail", mapping.data() + 0x1000, 0x1000,
                    [] { return absl::OkStatus(); });
    ASSERT_TRUE(tail.Write32(0x8, 9).ok());
    EXPECT_EQ(regs->log[1].offset, 0x1008u);
    // A region reaching past a trapped range is not served by it.
    std::vector<uint8_t> other(0x200, 0);
    MmioTrap small(other.data(), 0x100, regs);
    MmioRegion past("AM:0", "x", other.data(), 0x200, [] { return absl::OkStatus(); });
    EXPECT_FALSE(past.trapped());
  }
  // Trap gone (munmap): a new region on the address is direct again.
  MmioRegion direct("AM:0", "BAR5", mapping.data(), mapping.size(),
                    [] { return absl::OkStatus(); });
  EXPECT_FALSE(direct.trapped());
  ASSERT_TRUE(direct.Write32(0x100, 7).ok());
  EXPECT_EQ(mapping[0x100], 7);
}

}  // namespace
}  // namespace uop
