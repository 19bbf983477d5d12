// PSP firmware container parsing: synthetic files with correct headers parse
// to exactly their components; each malformed field is a DataLoss naming it.
#include "drivers/am/pci/psp_firmware.h"

#include <cstring>

#include "drivers/am/emulator/psp_firmware_file.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

void Put32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }

void ExpectDataLoss(std::vector<uint8_t> b, const std::string& text) {
  absl::StatusOr<PspFirmware> fw = ParsePspFirmware(std::move(b), "sos.bin");
  ASSERT_FALSE(fw.ok());
  EXPECT_EQ(fw.status().code(), absl::StatusCode::kDataLoss) << fw.status();
  EXPECT_NE(fw.status().message().find(text), std::string::npos) << fw.status();
  EXPECT_NE(fw.status().message().find("sos.bin"), std::string::npos) << fw.status();
}

TEST(PspFirmware, ParsesEveryComponentOfV20AndV21) {
  const std::vector<EmuPspComponent> comps = Navi31SosComponents(5000);
  for (uint16_t minor : {0, 1}) {
    absl::StatusOr<PspFirmware> fw =
        ParsePspFirmware(BuildPspFirmwareFile(comps, minor), "psp_13_0_0_sos.bin");
    ASSERT_TRUE(fw.ok()) << fw.status();
    EXPECT_EQ(fw->header.header_version_major, 2);
    EXPECT_EQ(fw->header.header_version_minor, minor);
    EXPECT_EQ(fw->header.ip_version_major, 13);
    ASSERT_EQ(fw->components.size(), comps.size());
    for (size_t i = 0; i < comps.size(); ++i) {
      EXPECT_EQ(fw->components[i].type, comps[i].type);
      EXPECT_EQ(fw->components[i].version, comps[i].version);
      absl::Span<const uint8_t> got = fw->Bytes(comps[i].type);
      EXPECT_EQ(std::vector<uint8_t>(got.begin(), got.end()), comps[i].bytes)
          << PspFwTypeName(comps[i].type);
    }
    EXPECT_TRUE(fw->Bytes(PspFwType::kToc).empty());
    EXPECT_EQ(fw->Find(PspFwType::kToc), nullptr);
  }
}

TEST(PspFirmware, ReadsThroughKernelIo) {
  EmulatedKernelIo io;
  std::vector<uint8_t> file = BuildPspFirmwareFile(Navi31SosComponents());
  io.AddFile("/lib/firmware/amdgpu/psp_13_0_0_sos.bin", std::string(file.begin(), file.end()));
  absl::StatusOr<PspFirmware> fw = ReadPspFirmware(io, "/lib/firmware/amdgpu/psp_13_0_0_sos.bin");
  ASSERT_TRUE(fw.ok()) << fw.status();
  EXPECT_EQ(fw->components.size(), 8u);
  EXPECT_EQ(fw->name, "/lib/firmware/amdgpu/psp_13_0_0_sos.bin");
  absl::StatusOr<PspFirmware> missing = ReadPspFirmware(io, "/lib/firmware/amdgpu/nope.bin");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.bin"), std::string::npos) << missing.status();
}

TEST(PspFirmware, RejectsMalformedHeaders) {
  const std::vector<uint8_t> good = BuildPspFirmwareFile(Navi31SosComponents(1000));
  // Layout of `good` (v2.0, 8 components): table at 36, header 164 bytes,
  // payload at 256.
  ExpectDataLoss(std::vector<uint8_t>(good.begin(), good.begin() + 20), "shorter than");
  ExpectDataLoss(std::vector<uint8_t>(good.begin(), good.end() - 1), "size_bytes");
  {
    std::vector<uint8_t> b = good;
    Put32(b, 4, 20);  // header smaller than its own table start
    ExpectDataLoss(b, "header_size_bytes");
  }
  {
    std::vector<uint8_t> b = good;
    Put32(b, 32, 9);  // nine descriptors do not fit a 164-byte header
    ExpectDataLoss(b, "psp_fw_bin_count 9");
  }
  {
    std::vector<uint8_t> b = good;
    Put32(b, 32, 0);
    ExpectDataLoss(b, "psp_fw_bin_count 0");
  }
  {
    std::vector<uint8_t> b = good;
    Put32(b, 24, 100);  // payload inside the header
    ExpectDataLoss(b, "ucode_array_offset_bytes");
  }
  {
    std::vector<uint8_t> b = good;
    Put32(b, 20, static_cast<uint32_t>(b.size()));
    ExpectDataLoss(b, "ucode_size_bytes");
  }
  {
    std::vector<uint8_t> b = good;
    Put32(b, 36 + 16 * 2, 12);  // fw_type past PSP_FW_TYPE_MAX_INDEX
    ExpectDataLoss(b, "fw_type 12");
  }
  {
    std::vector<uint8_t> b = good;
    Put32(b, 36 + 16 * 2, 3);  // a second KDB
    ExpectDataLoss(b, "second KDB");
  }
  {
    std::vector<uint8_t> b = good;
    Put32(b, 36 + 16 * 7 + 8, static_cast<uint32_t>(b.size()));  // SOS offset past the end
    ExpectDataLoss(b, "descriptor 7 (SOS)");
  }
  {
    std::vector<uint8_t> b = good;
    Put32(b, 36 + 16 * 7 + 12, 0xFFFFFFF0u);  // SOS size wraps
    ExpectDataLoss(b, "descriptor 7 (SOS)");
  }
  {
    std::vector<uint8_t> b = good;
    Put32(b, 36 + 16 * 0 + 12, 0);  // empty component
    ExpectDataLoss(b, "descriptor 0 (KDB)");
  }
  {
    std::vector<uint8_t> b = good;
    b[8] = 1;  // header v1.0
    absl::StatusOr<PspFirmware> fw = ParsePspFirmware(b, "old.bin");
    EXPECT_EQ(fw.status().code(), absl::StatusCode::kUnimplemented) << fw.status();
  }
}

TEST(PspFirmware, RandomCorruptionNeverReadsOutOfBounds) {
  const std::vector<uint8_t> good = BuildPspFirmwareFile(Navi31SosComponents(600));
  uint32_t x = 12345;
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> b = good;
    for (int k = 0; k < 4; ++k) {
      x = x * 1664525u + 1013904223u;
      const size_t at = (x >> 8) % 200;  // header and table
      b[at] = static_cast<uint8_t>(x);
    }
    if (i % 4 == 0) b.resize((x >> 4) % b.size());
    absl::StatusOr<PspFirmware> fw = ParsePspFirmware(std::move(b), "fuzz");
    if (fw.ok()) {
      ++parsed;
      for (const PspFwComponent& c : fw->components)
        EXPECT_LE(c.file_offset + c.size, fw->bytes.size());
    }
  }
  EXPECT_LT(parsed, 3000);
}

}  // namespace
}  // namespace uop
