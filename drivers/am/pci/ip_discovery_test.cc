#include "drivers/am/pci/ip_discovery.h"

#include <cstring>
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

// A GC info table whose every field has a distinct value (100 + its dword
// index after the header), so a field read from the wrong offset shows.
GcInfo Distinct(uint16_t major, uint16_t minor) {
  GcInfo g;
  g.version_major = major;
  g.version_minor = minor;
  uint32_t v = 100;
  g.num_se = v++;
  if (major == 1) {
    g.num_wgp0_per_sa = v++;
    g.num_wgp1_per_sa = v++;
  } else {
    g.num_cu_per_sh = v++;
    g.num_sh_per_se = v++;
  }
  for (uint32_t* f :
       {&g.num_rb_per_se, &g.num_gl2c, &g.num_gprs, &g.num_max_gs_thds, &g.gs_table_depth,
        &g.gsprim_buff_depth, &g.parameter_cache_depth, &g.double_offchip_lds_buffer, &g.wave_size,
        &g.max_waves_per_simd, &g.max_scratch_slots_per_cu, &g.lds_size, &g.num_sc_per_se})
    *f = v++;
  if (major == 1) {
    for (uint32_t* f : {&g.num_sa_per_se, &g.num_packer_per_sc, &g.num_gl2a}) *f = v++;
    if (minor >= 1)
      for (uint32_t* f : {&g.num_tcp_per_sa, &g.num_sdp_interface, &g.num_tcps}) *f = v++;
    if (minor >= 2)
      for (uint32_t* f : {&g.num_tcp_per_wgp, &g.tcp_l1_size, &g.num_sqc_per_wgp,
                          &g.l1_instruction_cache_size_per_sqc, &g.l1_data_cache_size_per_sqc,
                          &g.gl1c_per_sa, &g.gl1c_size_per_instance, &g.gl2c_per_gpu})
        *f = v++;
  } else {
    g.num_packer_per_sc = v++;
    if (minor >= 1)
      for (uint32_t* f :
           {&g.num_tcp_per_sh, &g.tcp_size_per_cu, &g.num_sdp_interface, &g.num_cu_per_sqc,
            &g.instruction_cache_size_per_sqc, &g.scalar_data_cache_size_per_sqc, &g.tcc_size})
        *f = v++;
  }
  return g;
}

// Little-endian u32 of the binary.
uint32_t Get32(const std::vector<uint8_t>& b, size_t at) {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (static_cast<uint32_t>(b[at + 3]) << 24);
}

TEST(IpDiscoveryGcInfo, ParsesEveryFieldOfEveryVersion) {
  const struct {
    uint16_t major, minor;
    size_t size;
  } versions[] = {{1, 0, kGcInfoV1_0Size},
                  {1, 1, kGcInfoV1_1Size},
                  {1, 2, kGcInfoV1_2Size},
                  {2, 0, kGcInfoV2_0Size},
                  {2, 1, kGcInfoV2_1Size}};
  for (const auto& v : versions) {
    SCOPED_TRACE(testing::Message() << "v" << v.major << "." << v.minor);
    const GcInfo want = Distinct(v.major, v.minor);
    const std::vector<uint8_t> bin = BuildDiscoveryBinary(Navi31Ips(), 3, false, want);
    // The builder wrote the layout by hand too: check it against discovery.h's
    // offsets independently (the last field sits at size - 4).
    const size_t off = EmuGcInfoOffset(bin);
    ASSERT_NE(off, 0u);
    EXPECT_EQ(Get32(bin, off), kDiscoveryGcTableId);
    EXPECT_EQ(Get32(bin, off + 8), v.size);
    EXPECT_EQ(Get32(bin, off + 12), 100u);  // num_se, first after the header
    EXPECT_EQ(Get32(bin, off + v.size - 4), 100u + (v.size - 12) / 4 - 1);
    absl::StatusOr<IpDiscoveryTable> t = ParseIpDiscovery(bin);
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_TRUE(t->gc_info.has_value());
    const GcInfo& g = *t->gc_info;
    EXPECT_EQ(g.version_major, v.major);
    EXPECT_EQ(g.version_minor, v.minor);
    EXPECT_EQ(g.size, v.size);
    // Every field, compared as the raw structs (GcInfo is all integers).
    GcInfo expected = want;
    expected.size = static_cast<uint32_t>(v.size);
    EXPECT_EQ(0, std::memcmp(&g, &expected, sizeof(GcInfo)));
    EXPECT_EQ(g.num_se, 100u);
    EXPECT_EQ(g.lds_size, 114u);  // the same dword in v1 and v2
    EXPECT_EQ(g.num_sc_per_se, 115u);
    if (v.major == 1) {
      EXPECT_EQ(g.num_sa_per_se, 116u);
      EXPECT_EQ(g.num_gl2a, 118u);
      EXPECT_EQ(g.cu_per_sa(), 2u * (101 + 102));
      EXPECT_EQ(g.num_tcps, v.minor >= 1 ? 121u : 0u);
      EXPECT_EQ(g.gl2c_per_gpu, v.minor >= 2 ? 129u : 0u);
    } else {
      EXPECT_EQ(g.num_packer_per_sc, 116u);
      EXPECT_EQ(g.cu_per_sa(), 101u);
      EXPECT_EQ(g.sa_per_se(), 102u);
      EXPECT_EQ(g.tcc_size, v.minor >= 1 ? 123u : 0u);
    }
  }
}

TEST(IpDiscoveryGcInfo, Navi3xTopologies) {
  const struct {
    EmuChip chip;
    uint32_t se, sa, cu_per_sa, cus;
  } chips[] = {
      {Navi31Chip(), 6, 2, 8, 96}, {Navi32Chip(), 3, 2, 10, 60}, {Navi33Chip(), 2, 2, 8, 32}};
  for (const auto& c : chips) {
    absl::StatusOr<IpDiscoveryTable> t = ParseIpDiscovery(BuildChipDiscoveryBinary(c.chip));
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_TRUE(t->gc_info.has_value()) << c.chip.name;
    EXPECT_EQ(t->gc_info->num_se, c.se) << c.chip.name;
    EXPECT_EQ(t->gc_info->sa_per_se(), c.sa) << c.chip.name;
    EXPECT_EQ(t->gc_info->cu_per_sa(), c.cu_per_sa) << c.chip.name;
    EXPECT_EQ(t->gc_info->cu_count(), c.cus) << c.chip.name;
  }
}

TEST(IpDiscoveryGcInfo, NoTableIsNotAnError) {
  absl::StatusOr<IpDiscoveryTable> t = ParseIpDiscovery(BuildDiscoveryBinary(Navi31Ips()));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->gc_info.has_value());
}

TEST(IpDiscoveryGcInfo, RejectsMalformedTablesNamingTheField) {
  const std::vector<uint8_t> good = BuildChipDiscoveryBinary(Navi31Chip());
  const size_t off = EmuGcInfoOffset(good);
  auto put32 = [](std::vector<uint8_t>& b, size_t at, uint32_t v) {
    Put16(b, at, v & 0xFFFF);
    Put16(b, at + 2, v >> 16);
  };
  std::vector<uint8_t> b = good;
  b[off + 20] ^= 1;  // a data byte, checksums not resealed
  EXPECT_NE(ErrorOf(b).find("binary checksum"), std::string::npos);
  b = good;
  b[off + 20] ^= 1;
  Put16(b, 8, DiscoveryChecksum(absl::MakeConstSpan(b).subspan(10)));  // binary sum only
  EXPECT_NE(ErrorOf(b).find("GC info checksum"), std::string::npos) << ErrorOf(b);
  b = good;
  put32(b, off, 0x1234);
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("GC info table_id 0x00001234"), std::string::npos) << ErrorOf(b);
  b = good;
  Put16(b, off + 4, 3);  // version 3.2
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("GC info version 3.2"), std::string::npos) << ErrorOf(b);
  b = good;
  Put16(b, off + 6, 7);  // version 1.7
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("GC info version 1.7"), std::string::npos) << ErrorOf(b);
  b = good;
  put32(b, off + 8, kGcInfoV1_2Size - 4);  // shorter than v1.2
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("GC info v1.2 size 128"), std::string::npos) << ErrorOf(b);
  b = good;
  put32(b, off + 8, 0x10000);  // past the binary
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("GC info v1.2 size 65536"), std::string::npos) << ErrorOf(b);
  b = good;
  Put16(b, 12 + 8, static_cast<uint16_t>(b.size() - 4));  // header past the end
  ResealDiscoveryBinary(b);
  EXPECT_NE(ErrorOf(b).find("GC info table header"), std::string::npos) << ErrorOf(b);
  // Truncated: the binary header's size still says the full size.
  b = good;
  b.resize(b.size() - 8);
  EXPECT_NE(ErrorOf(b).find("binary_size"), std::string::npos) << ErrorOf(b);
  // Zero topology fields are named.
  const struct {
    size_t field;  // dword index after the header
    const char* name;
  } zeros[] = {{0, "num_se"},
               {1, "num_wgp0_per_sa + num_wgp1_per_sa"},
               {11, "wave_size"},
               {12, "max_waves_per_simd"},
               {16, "num_sa_per_se"}};
  for (const auto& z : zeros) {
    b = good;
    put32(b, off + kGpuInfoHeaderSize + 4 * z.field, 0);
    ResealDiscoveryBinary(b);
    EXPECT_NE(ErrorOf(b).find(std::string("GC info ") + z.name + " is 0"), std::string::npos)
        << ErrorOf(b);
  }
}

TEST(IpDiscoveryGcInfo, RandomCorruptionNeverReadsOutOfBounds) {
  const std::vector<uint8_t> good = BuildChipDiscoveryBinary(Navi33Chip());
  const size_t off = EmuGcInfoOffset(good);
  std::mt19937 rng(34);
  int rejected = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    std::vector<uint8_t> b = good;
    const int flips = 1 + rng() % 3;
    // Mostly inside the GC info table and the table list.
    for (int f = 0; f < flips; ++f) {
      const size_t at = rng() % 3 == 0 ? 12 + 8 + rng() % 8 : off + rng() % (b.size() - off);
      b[at] = static_cast<uint8_t>(rng());
    }
    if (rng() % 2 == 0) ResealDiscoveryBinary(b);
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
