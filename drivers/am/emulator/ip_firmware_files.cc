#include "drivers/am/emulator/ip_firmware_files.h"

#include <cstring>

#include "drivers/am/emulator/psp_firmware_file.h"

namespace uop {
namespace {

// A file under construction: the versioned header, then each part 256-byte
// aligned.
class FileWriter {
 public:
  FileWriter(size_t header_size, uint16_t major, uint16_t minor, uint16_t ip_major)
      : b_((header_size + 255) & ~size_t{255}, 0) {
    Put32(4, static_cast<uint32_t>(header_size));
    Put16(8, major);
    Put16(10, minor);
    Put16(12, ip_major);
    Put32(16, 0x00010000u | minor);  // ucode_version
  }
  // Appends `part` and returns its file offset (0 for an empty part).
  uint32_t Place(const std::vector<uint8_t>& part) {
    if (part.empty()) return 0;
    const size_t at = b_.size();
    b_.resize((at + part.size() + 255) & ~size_t{255}, 0);
    std::memcpy(b_.data() + at, part.data(), part.size());
    return static_cast<uint32_t>(at);
  }
  void Put32(size_t at, uint32_t v) { std::memcpy(b_.data() + at, &v, 4); }
  void Put16(size_t at, uint16_t v) { std::memcpy(b_.data() + at, &v, 2); }
  // The common header's ucode fields.
  void Ucode(uint32_t offset, uint32_t size) {
    Put32(emu_fw::kUcodeSize, size);
    Put32(emu_fw::kUcodeOffset, offset);
  }
  std::vector<uint8_t> Finish() {
    Put32(emu_fw::kSizeBytes, static_cast<uint32_t>(b_.size()));
    return std::move(b_);
  }

 private:
  std::vector<uint8_t> b_;
};

uint32_t Size(const std::vector<uint8_t>& v) { return static_cast<uint32_t>(v.size()); }

}  // namespace

std::vector<uint8_t> BuildSmuFirmwareFile(const std::vector<uint8_t>& pmfw,
                                          const std::vector<uint8_t>& pptable) {
  FileWriter w(44, 2, 1, 13);
  const uint32_t code = w.Place(pmfw);
  w.Ucode(code, Size(pmfw));
  w.Put32(32, 0x20000);  // ucode_start_addr
  // One smc_soft_pptable_entry {id, offset, size}.
  std::vector<uint8_t> entry(12);
  const uint32_t ppt = w.Place(pptable);
  const uint32_t fields[3] = {0x50325358, ppt, Size(pptable)};
  std::memcpy(entry.data(), fields, 12);
  const uint32_t table = w.Place(entry);
  w.Put32(36, 1);
  w.Put32(40, table);
  return w.Finish();
}

std::vector<uint8_t> BuildSdmaFirmwareFile(const std::vector<uint8_t>& ctx,
                                           const std::vector<uint8_t>& ctl) {
  FileWriter w(64, 2, 0, 6);
  const uint32_t a = w.Place(ctx);
  const uint32_t c = w.Place(ctl);
  w.Ucode(a, Size(ctx) + Size(ctl));
  w.Put32(36, Size(ctx));
  w.Put32(48, c);
  w.Put32(52, Size(ctl));
  return w.Finish();
}

std::vector<uint8_t> BuildRs64FirmwareFile(const std::vector<uint8_t>& code,
                                           const std::vector<uint8_t>& data) {
  FileWriter w(60, 2, 0, 11);
  const uint32_t c = w.Place(code);
  const uint32_t d = w.Place(data);
  w.Ucode(c, Size(code));
  w.Put32(36, Size(code));
  w.Put32(40, c);  // ucode_offset_bytes (Linux reads ucode_array_offset_bytes)
  w.Put32(44, Size(data));
  w.Put32(48, d);
  w.Put32(52, 0x1000);  // ucode_start_addr_lo
  return w.Finish();
}

std::vector<uint8_t> BuildImuFirmwareFile(const std::vector<uint8_t>& iram,
                                          const std::vector<uint8_t>& dram) {
  FileWriter w(48, 1, 0, 11);
  // IRAM and DRAM back to back (Linux finds DRAM at the IRAM's end).
  std::vector<uint8_t> both = iram;
  both.insert(both.end(), dram.begin(), dram.end());
  const uint32_t at = w.Place(both);
  w.Ucode(at, Size(both));
  w.Put32(32, Size(iram));
  w.Put32(36, at);
  w.Put32(40, Size(dram));
  w.Put32(44, at + Size(iram));
  return w.Finish();
}

std::vector<uint8_t> BuildRlcFirmwareFile(const EmuRlcParts& p, uint16_t minor) {
  constexpr size_t kSize[] = {104, 156, 172, 204};
  FileWriter w(kSize[minor > 3 ? 3 : minor], 2, minor, 11);
  const uint32_t g = w.Place(p.rlc_g);
  w.Ucode(g, Size(p.rlc_g));
  w.Put32(72, Size(p.reg_list_format));
  w.Put32(76, w.Place(p.reg_list_format));
  w.Put32(80, Size(p.reg_list));
  w.Put32(84, w.Place(p.reg_list));
  // {size, offset} pairs of the later versions.
  auto pair = [&](size_t size_at, size_t offset_at, const std::vector<uint8_t>& part) {
    w.Put32(size_at, Size(part));
    w.Put32(offset_at, w.Place(part));
  };
  if (minor >= 1) {
    pair(116, 120, p.srm_cntl);
    pair(132, 136, p.gpm);
    pair(148, 152, p.srm);
  }
  if (minor >= 2) {
    pair(156, 160, p.iram);
    pair(164, 168, p.dram);
  }
  if (minor >= 3) {
    pair(180, 184, p.rlcp);
    pair(196, 200, p.rlcv);
  }
  return w.Finish();
}

EmuIpFirmwareSet Navi31IpFirmware(const EmuIpFirmwareConfig& c) {
  // Each part its own size and pattern, so a part loaded as another type or
  // from the wrong offset is caught byte by byte.
  uint32_t seed = 1000;
  auto part = [&](size_t extra) { return PatternBytes(c.part_bytes + extra, ++seed); };
  const std::vector<uint8_t> smu = part(100), ppt = part(7);
  const std::vector<uint8_t> sdma_ctx = part(20), sdma_ctl = part(24);
  const std::vector<uint8_t> pfp = part(40), pfp_data = part(44);
  const std::vector<uint8_t> me = part(48), me_data = part(52);
  const std::vector<uint8_t> mec = PatternBytes(c.mec_bytes != 0 ? c.mec_bytes : c.part_bytes + 56,
                                                ++seed),
                             mec_data = part(60);
  const std::vector<uint8_t> imu_i = part(64), imu_d = part(68);
  EmuRlcParts rlc;
  rlc.rlc_g = part(72);
  rlc.reg_list_format = part(3);
  rlc.reg_list = part(5);
  if (c.rlc_minor >= 1) {
    rlc.srm_cntl = part(76);
    rlc.gpm = part(80);
    rlc.srm = part(84);
  }
  if (c.rlc_minor >= 2) {
    rlc.iram = part(88);
    rlc.dram = part(92);
  }
  if (c.rlc_minor >= 3) {
    rlc.rlcp = part(96);
    rlc.rlcv = part(104);
  }

  EmuIpFirmwareSet set;
  set.files["smu_13_0_0.bin"] = BuildSmuFirmwareFile(smu, ppt);
  set.files["sdma_6_0_0.bin"] = BuildSdmaFirmwareFile(sdma_ctx, sdma_ctl);
  set.files["gc_11_0_0_pfp.bin"] = BuildRs64FirmwareFile(pfp, pfp_data);
  set.files["gc_11_0_0_me.bin"] = BuildRs64FirmwareFile(me, me_data);
  set.files["gc_11_0_0_mec.bin"] = BuildRs64FirmwareFile(mec, mec_data);
  set.files["gc_11_0_0_imu.bin"] = BuildImuFirmwareFile(imu_i, imu_d);
  set.files["gc_11_0_0_rlc.bin"] = BuildRlcFirmwareFile(rlc, c.rlc_minor);

  // enum AMDGPU_UCODE_ID order, SMU first (what psp_load_non_psp_fw sends).
  auto add = [&](uint32_t type, const std::vector<uint8_t>& bytes) {
    if (!bytes.empty()) set.expected.push_back({type, "", bytes});
  };
  add(gfx_fw::kSmu, smu);
  add(gfx_fw::kSdmaUcodeTh0, sdma_ctx);
  add(gfx_fw::kSdmaUcodeTh1, sdma_ctl);
  add(gfx_fw::kRs64Pfp, pfp);
  add(gfx_fw::kRs64Me, me);
  add(gfx_fw::kRs64Mec, mec);
  add(gfx_fw::kRs64PfpP0Stack, pfp_data);
  add(gfx_fw::kRs64PfpP1Stack, pfp_data);
  add(gfx_fw::kRs64MeP0Stack, me_data);
  add(gfx_fw::kRs64MeP1Stack, me_data);
  for (uint32_t t : {gfx_fw::kRs64MecP0Stack, gfx_fw::kRs64MecP1Stack, gfx_fw::kRs64MecP2Stack,
                     gfx_fw::kRs64MecP3Stack}) {
    add(t, mec_data);
  }
  add(gfx_fw::kImuI, imu_i);
  add(gfx_fw::kImuD, imu_d);
  add(gfx_fw::kRlcRestoreListSrmCntl, rlc.srm_cntl);
  add(gfx_fw::kRlcRestoreListGpmMem, rlc.gpm);
  add(gfx_fw::kRlcRestoreListSrmMem, rlc.srm);
  add(gfx_fw::kRlcIram, rlc.iram);
  add(gfx_fw::kRlcDramBoot, rlc.dram);
  add(gfx_fw::kRlcP, rlc.rlcp);
  add(gfx_fw::kRlcV, rlc.rlcv);
  add(gfx_fw::kRlcG, rlc.rlc_g);
  return set;
}

void InstallIpFirmware(EmulatedKernelIo& io, const std::string& dir, const EmuIpFirmwareSet& set) {
  for (const auto& [name, bytes] : set.files) {
    io.AddFile(dir + "/" + name, std::string(bytes.begin(), bytes.end()));
  }
}

}  // namespace uop
