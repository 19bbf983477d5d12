// The IP firmware files of a Navi31 parse into exactly the images the PSP
// must receive, in Linux's load order; every malformed header field is an
// error naming the file and the field, and random corruption never yields
// bytes from outside the file.
#include "drivers/am/pci/ip_firmware.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/ip_firmware_files.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

constexpr char kDir[] = "/lib/firmware/amdgpu";

IpDiscoveryTable Table(const std::vector<EmuIpEntry>& ips) {
  absl::StatusOr<IpDiscoveryTable> t = ParseIpDiscovery(BuildDiscoveryBinary(ips));
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

void Put32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
void Put16(std::vector<uint8_t>& b, size_t at, uint16_t v) { std::memcpy(b.data() + at, &v, 2); }

void ExpectSameImages(const std::vector<AmIpFirmware>& got, const std::vector<AmIpFirmware>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(GfxFwTypeName(got[i].fw_type), GfxFwTypeName(want[i].fw_type)) << i;
    EXPECT_TRUE(got[i].image == want[i].image) << i << " " << got[i].name;
  }
}

TEST(AmIpFirmware, Navi31FilesGiveEveryImageInLinuxLoadOrder) {
  EmulatedKernelIo io;
  const EmuIpFirmwareSet set = Navi31IpFirmware();
  InstallIpFirmware(io, kDir, set);
  absl::StatusOr<std::vector<AmIpFirmware>> fw = ReadAmIpFirmware(io, kDir, Table(Navi31Ips()));
  ASSERT_TRUE(fw.ok()) << fw.status();
  ExpectSameImages(*fw, set.expected);
  // The order spelled out: SMU, SDMA, RS64 code, stacks, IMU, RLC parts, RLC_G.
  const std::vector<uint32_t> want = {gfx_fw::kSmu,
                                      gfx_fw::kSdmaUcodeTh0,
                                      gfx_fw::kSdmaUcodeTh1,
                                      gfx_fw::kRs64Pfp,
                                      gfx_fw::kRs64Me,
                                      gfx_fw::kRs64Mec,
                                      gfx_fw::kRs64PfpP0Stack,
                                      gfx_fw::kRs64PfpP1Stack,
                                      gfx_fw::kRs64MeP0Stack,
                                      gfx_fw::kRs64MeP1Stack,
                                      gfx_fw::kRs64MecP0Stack,
                                      gfx_fw::kRs64MecP1Stack,
                                      gfx_fw::kRs64MecP2Stack,
                                      gfx_fw::kRs64MecP3Stack,
                                      gfx_fw::kImuI,
                                      gfx_fw::kImuD,
                                      gfx_fw::kRlcRestoreListSrmCntl,
                                      gfx_fw::kRlcRestoreListGpmMem,
                                      gfx_fw::kRlcRestoreListSrmMem,
                                      gfx_fw::kRlcIram,
                                      gfx_fw::kRlcDramBoot,
                                      gfx_fw::kRlcP,
                                      gfx_fw::kRlcV,
                                      gfx_fw::kRlcG};
  std::vector<uint32_t> got;
  for (const AmIpFirmware& f : *fw) got.push_back(f.fw_type);
  EXPECT_EQ(got, want);
  EXPECT_EQ((*fw)[0].name, "/lib/firmware/amdgpu/smu_13_0_0.bin SMU");
  EXPECT_EQ((*fw)[10].name, "/lib/firmware/amdgpu/gc_11_0_0_mec.bin RS64_MEC_P0_STACK");
  // The stacks of one engine are the same bytes (one data part per file).
  EXPECT_EQ((*fw)[10].image, (*fw)[13].image);
  EXPECT_NE((*fw)[6].image, (*fw)[8].image);
}

TEST(AmIpFirmware, OlderRlcHeadersCarryFewerParts) {
  for (uint16_t minor : {0, 1, 2}) {
    EmulatedKernelIo io;
    EmuIpFirmwareConfig c;
    c.rlc_minor = minor;
    const EmuIpFirmwareSet set = Navi31IpFirmware(c);
    InstallIpFirmware(io, kDir, set);
    absl::StatusOr<std::vector<AmIpFirmware>> fw = ReadAmIpFirmware(io, kDir, Table(Navi31Ips()));
    ASSERT_TRUE(fw.ok()) << fw.status();
    ExpectSameImages(*fw, set.expected);
    EXPECT_EQ(fw->size(), 17u + (minor >= 1 ? 3 : 0) + (minor >= 2 ? 2 : 0)) << minor;
    EXPECT_EQ(fw->back().fw_type, gfx_fw::kRlcG);
  }
}

TEST(AmIpFirmware, FileNamesComeFromDiscoveryAndOnlyGc11IsSupported) {
  absl::StatusOr<std::vector<std::string>> names = AmIpFirmwareFileNames(Table(Navi31Ips()));
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, (std::vector<std::string>{
                        "smu_13_0_0.bin", "sdma_6_0_0.bin", "gc_11_0_0_pfp.bin", "gc_11_0_0_me.bin",
                        "gc_11_0_0_mec.bin", "gc_11_0_0_imu.bin", "gc_11_0_0_rlc.bin"}));
  names = AmIpFirmwareFileNames(Table(Navi24Ips()));
  EXPECT_EQ(names.status().code(), absl::StatusCode::kUnimplemented) << names.status();
  EXPECT_NE(names.status().message().find("GC 10.3.5"), std::string::npos) << names.status();
  std::vector<EmuIpEntry> no_sdma;
  for (const EmuIpEntry& e : Navi31Ips())
    if (e.hw_id != kHwIdSdma0) no_sdma.push_back(e);
  names = AmIpFirmwareFileNames(Table(no_sdma));
  EXPECT_EQ(names.status().code(), absl::StatusCode::kFailedPrecondition) << names.status();
}

TEST(AmIpFirmware, AMissingFileIsNotFoundNamingThePath) {
  EmulatedKernelIo io;
  EmuIpFirmwareSet set = Navi31IpFirmware();
  set.files.erase("gc_11_0_0_imu.bin");
  InstallIpFirmware(io, kDir, set);
  absl::StatusOr<std::vector<AmIpFirmware>> fw = ReadAmIpFirmware(io, kDir, Table(Navi31Ips()));
  EXPECT_EQ(fw.status().code(), absl::StatusCode::kNotFound) << fw.status();
  EXPECT_NE(fw.status().message().find("/lib/firmware/amdgpu/gc_11_0_0_imu.bin"), std::string::npos)
      << fw.status();
}

// One corruption of one file and the words its error must contain.
struct Corruption {
  const char* file;
  std::function<void(std::vector<uint8_t>&)> edit;
  absl::StatusCode code;
  const char* says;
};

TEST(AmIpFirmware, EachMalformedFieldIsAnErrorNamingIt) {
  const EmuIpFirmwareSet good = Navi31IpFirmware();
  auto ucode_off = [](std::vector<uint8_t>& b, uint32_t v) { Put32(b, emu_fw::kUcodeOffset, v); };
  const std::vector<Corruption> cases = {
      {"smu_13_0_0.bin", [](auto& b) { b.resize(20); }, absl::StatusCode::kDataLoss,
       "shorter than the 32-byte common_firmware_header"},
      {"smu_13_0_0.bin", [](auto& b) { b.pop_back(); }, absl::StatusCode::kDataLoss,
       "size_bytes says"},
      {"smu_13_0_0.bin", [](auto& b) { Put16(b, emu_fw::kVersionMajor, 3); },
       absl::StatusCode::kUnimplemented, "smc_firmware_header version 3.1"},
      {"smu_13_0_0.bin", [&](auto& b) { ucode_off(b, static_cast<uint32_t>(b.size()) - 8); },
       absl::StatusCode::kDataLoss, "ucode_array_offset_bytes/ucode_size_bytes (PMFW)"},
      {"smu_13_0_0.bin", [](auto& b) { Put32(b, emu_fw::kUcodeSize, 0); },
       absl::StatusCode::kDataLoss, "(PMFW): the part is empty"},
      {"smu_13_0_0.bin", [](auto& b) { Put32(b, 40, 0xFFFFFFF8u); }, absl::StatusCode::kDataLoss,
       "pptable_count/pptable_entry_offset"},
      {"smu_13_0_0.bin", [](auto& b) { Put32(b, 36, 0x40000000u); }, absl::StatusCode::kDataLoss,
       "pptable_count/pptable_entry_offset"},
      {"sdma_6_0_0.bin", [](auto& b) { Put16(b, emu_fw::kVersionMajor, 1); },
       absl::StatusCode::kUnimplemented, "sdma_firmware_header version 1.0"},
      {"sdma_6_0_0.bin", [](auto& b) { Put32(b, 36, 1u << 30); }, absl::StatusCode::kDataLoss,
       "ctx_ucode_size_bytes"},
      {"sdma_6_0_0.bin", [](auto& b) { Put32(b, 48, 0xFFFFFF00u); }, absl::StatusCode::kDataLoss,
       "ctl_ucode_offset/ctl_ucode_size_bytes"},
      {"gc_11_0_0_mec.bin", [](auto& b) { Put16(b, emu_fw::kVersionMajor, 1); },
       absl::StatusCode::kUnimplemented, "RS64 layout v2.0"},
      {"gc_11_0_0_mec.bin", [](auto& b) { Put32(b, 36, 0); }, absl::StatusCode::kDataLoss,
       "(RS64 code): the part is empty"},
      {"gc_11_0_0_pfp.bin", [](auto& b) { Put32(b, 48, static_cast<uint32_t>(b.size())); },
       absl::StatusCode::kDataLoss, "data_offset_bytes/data_size_bytes"},
      {"gc_11_0_0_me.bin", [](auto& b) { Put32(b, 44, 0xFFFFFFFFu); }, absl::StatusCode::kDataLoss,
       "data_offset_bytes/data_size_bytes"},
      {"gc_11_0_0_imu.bin", [](auto& b) { Put16(b, emu_fw::kVersionMinor, 1); },
       absl::StatusCode::kUnimplemented, "imu_firmware_header version 1.1"},
      {"gc_11_0_0_imu.bin", [](auto& b) { Put32(b, 40, 1u << 20); }, absl::StatusCode::kDataLoss,
       "imu_dram_ucode_size_bytes"},
      {"gc_11_0_0_imu.bin", [](auto& b) { Put32(b, 32, 0); }, absl::StatusCode::kDataLoss,
       "imu_iram_ucode_size_bytes: the part is empty"},
      {"gc_11_0_0_rlc.bin", [](auto& b) { Put16(b, emu_fw::kVersionMinor, 4); },
       absl::StatusCode::kUnimplemented, "rlc_firmware_header version 2.4"},
      {"gc_11_0_0_rlc.bin",
       [](auto& b) {
         b.resize(180);
         Put32(b, emu_fw::kSizeBytes, 180);
       },
       absl::StatusCode::kDataLoss, "shorter than its 204-byte rlc_firmware_header_v2_3"},
      {"gc_11_0_0_rlc.bin", [](auto& b) { Put32(b, 120, 0xFFFFFFF0u); },
       absl::StatusCode::kDataLoss, "save_restore_list_cntl offset/size"},
      {"gc_11_0_0_rlc.bin", [](auto& b) { Put32(b, 156, 1u << 24); }, absl::StatusCode::kDataLoss,
       "rlc_iram_ucode offset/size"},
      {"gc_11_0_0_rlc.bin", [](auto& b) { Put32(b, 200, 0x7FFFFFFFu); },
       absl::StatusCode::kDataLoss, "rlcv_ucode offset/size"},
      {"gc_11_0_0_rlc.bin", [](auto& b) { Put32(b, 84, 0xFFFFFFFFu); }, absl::StatusCode::kDataLoss,
       "reg_list_array_offset_bytes"},
      {"gc_11_0_0_rlc.bin", [](auto& b) { Put32(b, emu_fw::kUcodeSize, 0); },
       absl::StatusCode::kDataLoss, "(RLC_G): the part is empty"},
  };
  for (const Corruption& c : cases) {
    EmuIpFirmwareSet set = good;
    std::vector<uint8_t>& file = set.files.at(c.file);
    c.edit(file);
    EmulatedKernelIo io;
    InstallIpFirmware(io, kDir, set);
    absl::StatusOr<std::vector<AmIpFirmware>> fw = ReadAmIpFirmware(io, kDir, Table(Navi31Ips()));
    ASSERT_FALSE(fw.ok()) << c.file << " / " << c.says;
    EXPECT_EQ(fw.status().code(), c.code) << fw.status();
    EXPECT_NE(fw.status().message().find(c.file), std::string::npos) << fw.status();
    EXPECT_NE(fw.status().message().find(c.says), std::string::npos)
        << fw.status() << " (wanted: " << c.says << ")";
  }
}

// Random multi-byte corruption of the headers (the first 256 bytes) of every
// file: a parse either fails or yields images that are byte ranges of the
// file (ASan run: --config=asan).
TEST(AmIpFirmware, RandomCorruptionNeverReadsOutsideTheFile) {
  EmuIpFirmwareConfig c;
  c.part_bytes = 200;
  const EmuIpFirmwareSet good = Navi31IpFirmware(c);
  using Parser =
      std::function<absl::StatusOr<std::vector<AmIpFirmware>>(absl::Span<const uint8_t>)>;
  const std::vector<std::pair<std::string, Parser>> parsers = {
      {"smu_13_0_0.bin", [](auto b) { return ParseSmuFirmware(b, "smu"); }},
      {"sdma_6_0_0.bin", [](auto b) { return ParseSdmaFirmware(b, "sdma"); }},
      {"gc_11_0_0_mec.bin", [](auto b) { return ParseCpFirmware(b, "mec", AmCpEngine::kMec); }},
      {"gc_11_0_0_imu.bin", [](auto b) { return ParseImuFirmware(b, "imu"); }},
      {"gc_11_0_0_rlc.bin", [](auto b) { return ParseRlcFirmware(b, "rlc"); }},
  };
  uint32_t x = 777;
  int parsed = 0, failed = 0;
  for (const auto& [file, parse] : parsers) {
    const std::vector<uint8_t>& clean = good.files.at(file);
    for (int i = 0; i < 800; ++i) {
      std::vector<uint8_t> b = clean;
      for (int k = 0; k < 3; ++k) {
        x = x * 1664525u + 1013904223u;
        const size_t at = (x >> 8) % std::min<size_t>(256, b.size() - 4);
        x = x * 1664525u + 1013904223u;
        // Half the time a plausible small value, else random bits.
        const uint32_t v = (x & 1) ? (x >> 20) : x;
        Put32(b, at & ~size_t{3}, v);
      }
      if (i % 4 == 0) Put32(b, emu_fw::kSizeBytes, static_cast<uint32_t>(b.size()));
      absl::StatusOr<std::vector<AmIpFirmware>> fw = parse(b);
      if (!fw.ok()) {
        ++failed;
        continue;
      }
      ++parsed;
      for (const AmIpFirmware& img : *fw) {
        ASSERT_FALSE(img.image.empty());
        ASSERT_LE(img.image.size(), b.size());
        ASSERT_NE(std::search(b.begin(), b.end(), img.image.begin(), img.image.end()), b.end())
            << file << " " << img.name;
      }
    }
  }
  // Both outcomes happen: the corruption hits fields that matter and some
  // that do not.
  EXPECT_GT(parsed, 100);
  EXPECT_GT(failed, 100);
}

}  // namespace
}  // namespace uop
