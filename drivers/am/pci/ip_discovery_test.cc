#include "drivers/am/pci/ip_discovery.h"

#include <random>

#include "drivers/am/emulator/discovery_table.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

constexpr size_t kOff = kEmuIpTableOffset;
constexpr size_t kFirstIp = kOff + kDiscoveryIpHeaderSize + 4;  // after the die header

void Put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = v & 0xFF;
  b[at + 1] = v >> 8;
}

// The parse error of `bin`, which must not parse.
std::string ErrorOf(const std::vector<uint8_t>& bin) {
  absl::StatusOr<IpDiscoveryTable> t = ParseIpDiscovery(bin);
  EXPECT_FALSE(t.ok());
  if (t.ok()) return "";
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss) << t.status();
  return std::string(t.status().message());
}

TEST(IpDiscovery, ParsesANavi24Table) {
  const std::vector<EmuIpEntry> ips = Navi24Ips();
  absl::StatusOr<IpDiscoveryTable> t = ParseIpDiscovery(BuildDiscoveryBinary(ips));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->table_version, 3);
  EXPECT_FALSE(t->bases_64bit);
  ASSERT_EQ(t->blocks.size(), ips.size());
  for (size_t i = 0; i < ips.size(); ++i) {
    const IpBlock& b = t->blocks[i];
    EXPECT_EQ(b.hw_id, ips[i].hw_id);
    EXPECT_EQ(b.instance, ips[i].instance);
    EXPECT_EQ(b.major, ips[i].major);
    EXPECT_EQ(b.minor, ips[i].minor);
    EXPECT_EQ(b.revision, ips[i].revision);
    EXPECT_EQ(b.bases, ips[i].bases) << AmdHwIdName(b.hw_id);
  }
  const IpBlock* gc = t->Find(kHwIdGc);
  ASSERT_NE(gc, nullptr);
  EXPECT_EQ(gc->major * 100 + gc->minor * 10 + gc->revision, 1035);  // gfx1034's GC 10.3.5
  ASSERT_NE(t->Find(kHwIdUmc, 1), nullptr);
  EXPECT_EQ(t->Find(kHwIdUmc, 2), nullptr);

  // Register placement: GC segment 1 (0xA000) + dword 0x1 -> byte 0x28004.
  absl::StatusOr<uint64_t> off = t->RegisterOffset(kHwIdGc, 0, 1, 0x1);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, 4u * (0xA000 + 0x1));
  off = t->RegisterOffset(kHwIdMmhub, 0, 0, 0x10);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, 4u * (0x1A000 + 0x10));
  EXPECT_EQ(t->RegisterOffset(kHwIdSdma1, 0, 0, 0).status().code(), absl::StatusCode::kNotFound);
  absl::Status s = t->RegisterOffset(kHwIdHdp, 0, 2, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("HDP"), absl::string_view::npos) << s;
}

TEST(IpDiscovery, ParsesVersion4With64BitBasesAndVariants) {
  std::vector<EmuIpEntry> ips = {
      {kHwIdGc, 0, 9, 4, 2, 0, {0x00002000, 0x0000A000, uint64_t{0x1} << 34}},
      {kHwIdVcn, 1, 4, 0, 3, 0x10, {0x7800}},  // variant 1: harvested
  };
  absl::StatusOr<IpDiscoveryTable> t =
      ParseIpDiscovery(BuildDiscoveryBinary(ips, /*table_version=*/4, /*bases_64bit=*/true));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->bases_64bit);
  EXPECT_EQ(t->Find(kHwIdGc)->bases[2], uint64_t{1} << 34);
  EXPECT_EQ(t->Find(kHwIdVcn, 1)->variant, 1);
  EXPECT_EQ(t->Find(kHwIdVcn, 1)->sub_revision, 0);
}

TEST(IpDiscovery, RejectsCorruptTablesNamingWhatIsWrong) {
  const std::vector<uint8_t> good = BuildDiscoveryBinary(Navi24Ips());
  ASSERT_TRUE(ParseIpDiscovery(good).ok());

  std::vector<uint8_t> b = good;
  b[0] ^= 1;
  EXPECT_NE(ErrorOf(b).find("signature 0x28211406"), std::string::npos);

  b = good;
  b[kFirstIp + 4] ^= 0x40;  // a version byte flipped in flight
  EXPECT_NE(ErrorOf(b).find("binary checksum"), std::string::npos);

  b = good;
  b[kOff] = 'X';  // table signature, checksums recomputed
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("IPDS"), std::string::npos);

  b = good;
  b[kFirstIp + 4] ^= 0x40;
  Put16(b, 8, DiscoveryChecksum(absl::MakeConstSpan(b).subspan(10)));  // binary sum only
  EXPECT_NE(ErrorOf(b).find("IP_DISCOVERY checksum"), std::string::npos);

  b = std::vector<uint8_t>(good.begin(), good.end() - 16);  // truncated
  EXPECT_NE(ErrorOf(b).find("binary_size"), std::string::npos);
  EXPECT_NE(ErrorOf(std::vector<uint8_t>(good.begin(), good.begin() + 20)).find("header"),
            std::string::npos);

  b = good;
  Put16(b, 12, 0);  // no IP_DISCOVERY table
  Put16(b, 8, DiscoveryChecksum(absl::MakeConstSpan(b).subspan(10)));
  EXPECT_NE(ErrorOf(b).find("offset 0"), std::string::npos);

  b = good;
  Put16(b, kOff + 12, 0);  // zero dies
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("0 dies"), std::string::npos);

  b = good;
  Put16(b, kOff + 16, 8);  // die header inside the binary header
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("die 0 header"), std::string::npos);

  b = good;
  Put16(b, kOff + kDiscoveryIpHeaderSize + 2, 200);  // more IPs than fit
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("runs past the table end"), std::string::npos);

  b = good;
  b[kFirstIp + 3] = 250;  // GC claims 250 base addresses
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("250 base addresses"), std::string::npos);

  b = good;
  Put16(b, kFirstIp, 300);  // hw_id out of range
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("hw_id 300"), std::string::npos);

  b = good;
  Put16(b, kOff + 4, 5);  // unknown version
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("version 5"), std::string::npos);

  b = BuildDiscoveryBinary({{kHwIdMmhub, 0, 2, 1, 0, 0, {0x1A000}}});
  EXPECT_NE(ErrorOf(b).find("no GC block"), std::string::npos);

  b = BuildDiscoveryBinary({{kHwIdGc, 0, 11, 0, 0, 0, {0x1260}}, {kHwIdGc, 0, 11, 0, 0, 0, {0}}});
  EXPECT_NE(ErrorOf(b).find("GC instance 0 is listed twice"), std::string::npos);
}

TEST(IpDiscovery, RandomCorruptionNeverReadsOutOfBounds) {
  // Every byte flip or truncation either parses (a flip in a version byte
  // with the checksums recomputed) or fails cleanly; AddressSanitizer
  // catches any read past the buffer (each trial parses an exact-size copy).
  const std::vector<uint8_t> good = BuildDiscoveryBinary(Navi24Ips());
  std::mt19937 rng(12);
  int rejected = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    std::vector<uint8_t> b = good;
    const int flips = 1 + rng() % 3;
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<uint8_t>(rng());
    if (rng() % 2 == 0) ResealDiscoveryBinary(b);  // past the checksums: the bounds must hold
    if (rng() % 4 == 0) b.resize(rng() % b.size());
    absl::StatusOr<IpDiscoveryTable> t = ParseIpDiscovery(b);
    if (!t.ok()) {
      ++rejected;
      EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss) << t.status();
    }
  }
  EXPECT_GT(rejected, 1000);
}

}  // namespace
}  // namespace uop
