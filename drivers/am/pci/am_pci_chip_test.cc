// AmPciGpuNode / IdentifyAmGfx11Chip / CheckAmPciBringUpSupported on the
// three emulated Navi3x discovery binaries (IP table + GC info table).
#include "drivers/am/pci/am_pci_chip.h"

#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/pci/ip_discovery.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

IpDiscoveryTable Parse(const std::vector<uint8_t>& binary) {
  absl::StatusOr<IpDiscoveryTable> t = ParseIpDiscovery(binary);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : IpDiscoveryTable{};
}

struct Want {
  EmuChip chip;
  const char* arch;
  uint64_t target, cus, arrays;
};

TEST(AmPciChip, NodeOfEachNavi3xComesFromItsGcInfoTable) {
  const Want wants[] = {{Navi31Chip(), "gfx1100", 110000, 96, 12},
                        {Navi32Chip(), "gfx1101", 110001, 60, 6},
                        {Navi33Chip(), "gfx1102", 110002, 32, 4}};
  for (const Want& w : wants) {
    SCOPED_TRACE(w.chip.name);
    const IpDiscoveryTable t = Parse(BuildChipDiscoveryBinary(w.chip));
    absl::StatusOr<AmGpuNode> n = AmPciGpuNode(t, w.chip.device_id, 8ull << 30);
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(n->arch, w.arch);
    EXPECT_EQ(n->property("gfx_target_version"), w.target);
    EXPECT_EQ(n->compute_units(), static_cast<int>(w.cus));
    EXPECT_EQ(n->property("simd_count"), 2 * w.cus);
    EXPECT_EQ(n->property("simd_per_cu"), 2u);
    EXPECT_EQ(n->property("array_count"), w.arrays);
    EXPECT_EQ(n->property("simd_arrays_per_engine"), 2u);
    EXPECT_EQ(n->property("max_waves_per_simd"), 16u);
    EXPECT_EQ(n->property("lds_size_in_kb"), 64u);
    EXPECT_EQ(n->property("max_slots_scratch_cu"), 32u);
    EXPECT_EQ(n->property("wave_front_size"), 32u);
    EXPECT_EQ(n->property("vendor_id"), 0x1002u);
    EXPECT_EQ(n->property("device_id"), w.chip.device_id);
    EXPECT_EQ(n->property("local_mem_size"), 8ull << 30);
  }
}

TEST(AmPciChip, NodeFollowsTheTableNotTheChipName) {
  // A harvested-looking table (5 SEs, 3 WGPs per array) gives its own numbers.
  EmuChip c = Navi31Chip();
  c.gc.num_se = 5;
  c.gc.num_wgp0_per_sa = 2;
  c.gc.num_wgp1_per_sa = 1;
  c.gc.max_waves_per_simd = 8;
  c.gc.lds_size = 32;
  absl::StatusOr<AmGpuNode> n = AmPciGpuNode(Parse(BuildChipDiscoveryBinary(c)), 0x744c, 1 << 30);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->compute_units(), 5 * 2 * 6);
  EXPECT_EQ(n->property("array_count"), 10u);
  EXPECT_EQ(n->property("max_waves_per_simd"), 8u);
  EXPECT_EQ(n->property("lds_size_in_kb"), 32u);
}

TEST(AmPciChip, NoGcInfoTableIsAnErrorNotADefault) {
  const IpDiscoveryTable t = Parse(BuildDiscoveryBinary(Navi31Ips()));
  ASSERT_FALSE(t.gc_info.has_value());
  absl::StatusOr<AmGpuNode> n = AmPciGpuNode(t, 0x744c, 1 << 30);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(n.status().message().find("no GC info table"), std::string::npos) << n.status();
}

TEST(AmPciChip, UnknownGcVersionsAreUnimplemented) {
  EmuChip c = Navi31Chip();
  for (EmuIpEntry& ip : c.ips)
    if (ip.hw_id == kHwIdGc) ip.revision = 1;  // Phoenix, an APU
  const IpDiscoveryTable t = Parse(BuildChipDiscoveryBinary(c));
  absl::StatusOr<AmGpuNode> n = AmPciGpuNode(t, 0x15bf, 1 << 30);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(n.status().message().find("GC 11.0.1"), std::string::npos) << n.status();
  EXPECT_EQ(CheckAmPciBringUpSupported(t).code(), absl::StatusCode::kUnimplemented);
  // Navi24 (GC 10.3.5).
  EXPECT_EQ(IdentifyAmGfx11Chip(Parse(BuildDiscoveryBinary(Navi24Ips()))).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST(AmPciChip, BringUpFollowsNavi31OnlyAndNamesTheOthers) {
  EXPECT_TRUE(CheckAmPciBringUpSupported(Parse(BuildChipDiscoveryBinary(Navi31Chip()))).ok());
  for (const EmuChip& c : {Navi32Chip(), Navi33Chip()}) {
    const absl::Status s = CheckAmPciBringUpSupported(Parse(BuildChipDiscoveryBinary(c)));
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << c.name;
    EXPECT_NE(s.message().find(c.name), std::string::npos) << s;
    EXPECT_NE(s.message().find("SMU driver-interface version"), std::string::npos) << s;
  }
  const absl::Status s = CheckAmPciBringUpSupported(Parse(BuildChipDiscoveryBinary(Navi33Chip())));
  EXPECT_NE(s.message().find("GC 11.0.2, MP1 13.0.7, SDMA 6.0.2"), std::string::npos) << s;
}

}  // namespace
}  // namespace uop
