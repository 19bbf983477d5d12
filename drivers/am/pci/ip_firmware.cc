#include "drivers/am/pci/ip_firmware.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr size_t kCommonHeaderSize = 32;  // struct common_firmware_header

// One file being parsed: bounded field reads and part extraction, errors
// naming the file.
class FwFile {
 public:
  FwFile(absl::Span<const uint8_t> bytes, absl::string_view name) : bytes_(bytes), name_(name) {}

  absl::Status Bad(const std::string& what) const {
    return absl::DataLossError(absl::StrFormat("firmware %s: %s", name_, what));
  }
  absl::Status Unsupported(const std::string& what) const {
    return absl::UnimplementedError(absl::StrFormat("firmware %s: %s", name_, what));
  }

  // Checks the common header: the file holds it and size_bytes is its length.
  absl::Status CheckCommon() {
    if (bytes_.size() < kCommonHeaderSize) {
      return Bad(absl::StrFormat("%u bytes: shorter than the %u-byte common_firmware_header",
                                 bytes_.size(), kCommonHeaderSize));
    }
    if (U32(0) != bytes_.size()) {
      return Bad(absl::StrFormat("size_bytes says %u, the file has %u bytes (truncated?)", U32(0),
                                 bytes_.size()));
    }
    return absl::OkStatus();
  }
  uint16_t major() const { return U16(8); }
  uint16_t minor() const { return U16(10); }
  uint32_t ucode_size() const { return U32(20); }
  uint32_t ucode_offset() const { return U32(24); }

  // The versioned header `what` (`size` bytes) must fit the file.
  absl::Status NeedHeader(size_t size, const char* what) const {
    if (bytes_.size() < size) {
      return Bad(
          absl::StrFormat("%u bytes: shorter than its %u-byte %s", bytes_.size(), size, what));
    }
    return absl::OkStatus();
  }

  // Only called for offsets inside the checked header.
  uint32_t U32(size_t at) const {
    uint32_t v;
    std::memcpy(&v, bytes_.data() + at, 4);
    return v;
  }
  uint16_t U16(size_t at) const {
    uint16_t v;
    std::memcpy(&v, bytes_.data() + at, 2);
    return v;
  }

  // `size` bytes at file offset `offset` (both from header fields named in
  // `field`). Empty: DataLoss when `required`, else nullopt (Linux skips
  // parts whose ucode_size is 0).
  absl::StatusOr<std::optional<absl::Span<const uint8_t>>> Part(uint64_t offset, uint64_t size,
                                                                const std::string& field,
                                                                bool required) const {
    if (size == 0) {
      if (required) return Bad(absl::StrFormat("%s: the part is empty (size 0)", field));
      return std::optional<absl::Span<const uint8_t>>();
    }
    if (offset > bytes_.size() || size > bytes_.size() - offset) {
      return Bad(absl::StrFormat("%s: %u bytes at offset %u are not inside the %u-byte file", field,
                                 size, offset, bytes_.size()));
    }
    return std::optional<absl::Span<const uint8_t>>(bytes_.subspan(offset, size));
  }

  // Adds the part as one or more images (the same bytes per fw_type).
  absl::Status Add(std::vector<AmIpFirmware>& out, uint64_t offset, uint64_t size,
                   const std::string& field, bool required,
                   const std::vector<uint32_t>& fw_types) const {
    ASSIGN_OR_RETURN(std::optional<absl::Span<const uint8_t>> part,
                     Part(offset, size, field, required));
    if (!part.has_value()) return absl::OkStatus();
    for (uint32_t t : fw_types) {
      out.push_back({t, absl::StrCat(name_, " ", GfxFwTypeName(t)),
                     std::vector<uint8_t>(part->begin(), part->end())});
    }
    return absl::OkStatus();
  }

 private:
  absl::Span<const uint8_t> bytes_;
  std::string name_;
};

// enum AMDGPU_UCODE_ID order of the parts a GC 11 chip loads (amdgpu_ucode.h),
// which psp_load_non_psp_fw iterates; the SMU goes first (psp_hw_start).
constexpr uint32_t kLoadOrder[] = {
    gfx_fw::kSmu,
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
    gfx_fw::kRlcG,
};

size_t LoadRank(uint32_t fw_type) {
  const auto* it = std::find(std::begin(kLoadOrder), std::end(kLoadOrder), fw_type);
  return static_cast<size_t>(it - std::begin(kLoadOrder));
}

std::string VersionTag(const IpBlock& b) {
  return absl::StrFormat("%d_%d_%d", b.major, b.minor, b.revision);
}

}  // namespace

std::string GfxFwTypeName(uint32_t fw_type) {
  switch (fw_type) {
    case gfx_fw::kRlcV:
      return "RLC_V";
    case gfx_fw::kRlcG:
      return "RLC_G";
    case gfx_fw::kSmu:
      return "SMU";
    case gfx_fw::kRlcRestoreListGpmMem:
      return "RLC_RESTORE_LIST_GPM_MEM";
    case gfx_fw::kRlcRestoreListSrmMem:
      return "RLC_RESTORE_LIST_SRM_MEM";
    case gfx_fw::kRlcRestoreListSrmCntl:
      return "RLC_RESTORE_LIST_SRM_CNTL";
    case gfx_fw::kRlcP:
      return "RLC_P";
    case gfx_fw::kRlcIram:
      return "RLC_IRAM";
    case gfx_fw::kRlcDramBoot:
      return "RLC_DRAM_BOOT";
    case gfx_fw::kImuI:
      return "IMU_I";
    case gfx_fw::kImuD:
      return "IMU_D";
    case gfx_fw::kSdmaUcodeTh0:
      return "SDMA_UCODE_TH0";
    case gfx_fw::kSdmaUcodeTh1:
      return "SDMA_UCODE_TH1";
    case gfx_fw::kRs64Pfp:
      return "RS64_PFP";
    case gfx_fw::kRs64Me:
      return "RS64_ME";
    case gfx_fw::kRs64Mec:
      return "RS64_MEC";
    case gfx_fw::kRs64PfpP0Stack:
      return "RS64_PFP_P0_STACK";
    case gfx_fw::kRs64PfpP1Stack:
      return "RS64_PFP_P1_STACK";
    case gfx_fw::kRs64MeP0Stack:
      return "RS64_ME_P0_STACK";
    case gfx_fw::kRs64MeP1Stack:
      return "RS64_ME_P1_STACK";
    case gfx_fw::kRs64MecP0Stack:
      return "RS64_MEC_P0_STACK";
    case gfx_fw::kRs64MecP1Stack:
      return "RS64_MEC_P1_STACK";
    case gfx_fw::kRs64MecP2Stack:
      return "RS64_MEC_P2_STACK";
    case gfx_fw::kRs64MecP3Stack:
      return "RS64_MEC_P3_STACK";
  }
  return absl::StrCat("fw_type ", fw_type);
}

absl::StatusOr<std::vector<AmIpFirmware>> ParseSmuFirmware(absl::Span<const uint8_t> bytes,
                                                           absl::string_view name) {
  FwFile f(bytes, name);
  RETURN_IF_ERROR(f.CheckCommon());
  const int major = f.major(), minor = f.minor();
  if (!((major == 1 && minor == 0) || (major == 2 && minor <= 1))) {
    return f.Unsupported(absl::StrFormat(
        "smc_firmware_header version %d.%d (1.0, 2.0 and 2.1 are known)", major, minor));
  }
  std::vector<AmIpFirmware> out;
  // smc_firmware_header_v1_0: common + ucode_start_addr.
  RETURN_IF_ERROR(f.NeedHeader(36, "smc_firmware_header_v1_0"));
  if (major == 2 && minor == 0) {
    // + ppt_offset_bytes, ppt_size_bytes (from the file start).
    RETURN_IF_ERROR(f.NeedHeader(44, "smc_firmware_header_v2_0"));
    RETURN_IF_ERROR(f.Part(f.U32(36), f.U32(40), "ppt_offset_bytes/ppt_size_bytes (soft pptable)",
                           /*required=*/false)
                        .status());
  } else if (major == 2) {
    // + pptable_count, pptable_entry_offset: smc_soft_pptable_entry {id,
    // ppt_offset_bytes, ppt_size_bytes}, offsets from the file start.
    RETURN_IF_ERROR(f.NeedHeader(44, "smc_firmware_header_v2_1"));
    const uint32_t count = f.U32(36), table = f.U32(40);
    ASSIGN_OR_RETURN(
        std::optional<absl::Span<const uint8_t>> entries,
        f.Part(table, uint64_t{count} * 12, "pptable_count/pptable_entry_offset", false));
    if (entries.has_value()) {
      for (uint32_t i = 0; i < count; ++i) {
        const size_t e = table + size_t{i} * 12;
        RETURN_IF_ERROR(f.Part(f.U32(e + 4), f.U32(e + 8),
                               absl::StrFormat("pptable entry %u (id 0x%x)", i, f.U32(e)), false)
                            .status());
      }
    }
  }
  RETURN_IF_ERROR(f.Add(out, f.ucode_offset(), f.ucode_size(),
                        "ucode_array_offset_bytes/ucode_size_bytes (PMFW)", true, {gfx_fw::kSmu}));
  return out;
}

absl::StatusOr<std::vector<AmIpFirmware>> ParseSdmaFirmware(absl::Span<const uint8_t> bytes,
                                                            absl::string_view name) {
  FwFile f(bytes, name);
  RETURN_IF_ERROR(f.CheckCommon());
  if (f.major() != 2 || f.minor() != 0) {
    return f.Unsupported(absl::StrFormat(
        "sdma_firmware_header version %d.%d; SDMA 6.x ships v2.0 (context + control threads)",
        f.major(), f.minor()));
  }
  // sdma_firmware_header_v2_0: common, ucode_feature_version (32),
  // ctx_ucode_size_bytes (36), ctx_jt_offset, ctx_jt_size, ctl_ucode_offset
  // (48), ctl_ucode_size_bytes (52), ctl_jt_offset, ctl_jt_size.
  RETURN_IF_ERROR(f.NeedHeader(64, "sdma_firmware_header_v2_0"));
  std::vector<AmIpFirmware> out;
  RETURN_IF_ERROR(f.Add(out, f.ucode_offset(), f.U32(36),
                        "ucode_array_offset_bytes/ctx_ucode_size_bytes (context thread)", true,
                        {gfx_fw::kSdmaUcodeTh0}));
  RETURN_IF_ERROR(f.Add(out, f.U32(48), f.U32(52),
                        "ctl_ucode_offset/ctl_ucode_size_bytes (control thread)", false,
                        {gfx_fw::kSdmaUcodeTh1}));
  return out;
}

absl::StatusOr<std::vector<AmIpFirmware>> ParseCpFirmware(absl::Span<const uint8_t> bytes,
                                                          absl::string_view name,
                                                          AmCpEngine engine) {
  FwFile f(bytes, name);
  RETURN_IF_ERROR(f.CheckCommon());
  if (f.major() != 2 || f.minor() != 0) {
    return f.Unsupported(absl::StrFormat(
        "gfx_firmware_header version %d.%d; only the RS64 layout v2.0 is supported (v1 is the "
        "F32 CP of GC 10 and older)",
        f.major(), f.minor()));
  }
  // gfx_firmware_header_v2_0: common, ucode_feature_version (32),
  // ucode_size_bytes (36), ucode_offset_bytes (40), data_size_bytes (44),
  // data_offset_bytes (48), ucode_start_addr_lo/hi (52, 56).
  RETURN_IF_ERROR(f.NeedHeader(60, "gfx_firmware_header_v2_0"));
  uint32_t code = 0;
  std::vector<uint32_t> stacks;
  switch (engine) {
    case AmCpEngine::kPfp:
      code = gfx_fw::kRs64Pfp;
      stacks = {gfx_fw::kRs64PfpP0Stack, gfx_fw::kRs64PfpP1Stack};
      break;
    case AmCpEngine::kMe:
      code = gfx_fw::kRs64Me;
      stacks = {gfx_fw::kRs64MeP0Stack, gfx_fw::kRs64MeP1Stack};
      break;
    case AmCpEngine::kMec:
      code = gfx_fw::kRs64Mec;
      stacks = {gfx_fw::kRs64MecP0Stack, gfx_fw::kRs64MecP1Stack, gfx_fw::kRs64MecP2Stack,
                gfx_fw::kRs64MecP3Stack};
      break;
  }
  std::vector<AmIpFirmware> out;
  // Linux takes the code at the common header's ucode_array_offset_bytes
  // with v2.0's ucode_size_bytes (amdgpu_ucode_init_single_fw), not at
  // ucode_offset_bytes.
  RETURN_IF_ERROR(f.Add(out, f.ucode_offset(), f.U32(36),
                        "ucode_array_offset_bytes/ucode_size_bytes (RS64 code)", true, {code}));
  RETURN_IF_ERROR(
      f.Add(out, f.U32(48), f.U32(44), "data_offset_bytes/data_size_bytes (stack)", false, stacks));
  return out;
}

absl::StatusOr<std::vector<AmIpFirmware>> ParseImuFirmware(absl::Span<const uint8_t> bytes,
                                                           absl::string_view name) {
  FwFile f(bytes, name);
  RETURN_IF_ERROR(f.CheckCommon());
  if (f.major() != 1 || f.minor() != 0) {
    return f.Unsupported(
        absl::StrFormat("imu_firmware_header version %d.%d (1.0 is known)", f.major(), f.minor()));
  }
  // imu_firmware_header_v1_0: common, imu_iram_ucode_size_bytes (32),
  // imu_iram_ucode_offset_bytes (36), imu_dram_ucode_size_bytes (40),
  // imu_dram_ucode_offset_bytes (44). Linux places IRAM at
  // ucode_array_offset_bytes and DRAM right after it.
  RETURN_IF_ERROR(f.NeedHeader(48, "imu_firmware_header_v1_0"));
  const uint64_t iram = f.U32(32);
  std::vector<AmIpFirmware> out;
  RETURN_IF_ERROR(f.Add(out, f.ucode_offset(), iram,
                        "ucode_array_offset_bytes/imu_iram_ucode_size_bytes", true,
                        {gfx_fw::kImuI}));
  RETURN_IF_ERROR(f.Add(out, f.ucode_offset() + iram, f.U32(40),
                        "imu_dram_ucode_size_bytes (after the IRAM)", false, {gfx_fw::kImuD}));
  return out;
}

absl::StatusOr<std::vector<AmIpFirmware>> ParseRlcFirmware(absl::Span<const uint8_t> bytes,
                                                           absl::string_view name) {
  FwFile f(bytes, name);
  RETURN_IF_ERROR(f.CheckCommon());
  const int minor = f.minor();
  if (f.major() != 2 || minor > 3) {
    return f.Unsupported(absl::StrFormat("rlc_firmware_header version %d.%d (2.0 to 2.3 are known)",
                                         f.major(), minor));
  }
  constexpr size_t kSize[] = {104, 156, 172, 204};  // rlc_firmware_header_v2_0..v2_3
  RETURN_IF_ERROR(
      f.NeedHeader(kSize[minor], absl::StrFormat("rlc_firmware_header_v2_%d", minor).c_str()));
  // v2.0: the register list arrays Linux copies out (reg_list_format_size_
  // bytes at 72 / array offset at 76, reg_list_size_bytes 80 / offset 84).
  RETURN_IF_ERROR(f.Part(f.U32(76), f.U32(72),
                         "reg_list_format_array_offset_bytes/reg_list_format_size_bytes", false)
                      .status());
  RETURN_IF_ERROR(
      f.Part(f.U32(84), f.U32(80), "reg_list_array_offset_bytes/reg_list_size_bytes", false)
          .status());
  std::vector<AmIpFirmware> out;
  if (minor >= 1) {
    // save_restore_list_{cntl,gpm,srm}: size at 116/132/148, offset +4.
    RETURN_IF_ERROR(f.Add(out, f.U32(120), f.U32(116), "save_restore_list_cntl offset/size", false,
                          {gfx_fw::kRlcRestoreListSrmCntl}));
    RETURN_IF_ERROR(f.Add(out, f.U32(136), f.U32(132), "save_restore_list_gpm offset/size", false,
                          {gfx_fw::kRlcRestoreListGpmMem}));
    RETURN_IF_ERROR(f.Add(out, f.U32(152), f.U32(148), "save_restore_list_srm offset/size", false,
                          {gfx_fw::kRlcRestoreListSrmMem}));
  }
  if (minor >= 2) {
    RETURN_IF_ERROR(f.Add(out, f.U32(160), f.U32(156), "rlc_iram_ucode offset/size", false,
                          {gfx_fw::kRlcIram}));
    RETURN_IF_ERROR(f.Add(out, f.U32(168), f.U32(164), "rlc_dram_ucode offset/size", false,
                          {gfx_fw::kRlcDramBoot}));
  }
  if (minor == 3) {
    RETURN_IF_ERROR(
        f.Add(out, f.U32(184), f.U32(180), "rlcp_ucode offset/size", false, {gfx_fw::kRlcP}));
    RETURN_IF_ERROR(
        f.Add(out, f.U32(200), f.U32(196), "rlcv_ucode offset/size", false, {gfx_fw::kRlcV}));
  }
  RETURN_IF_ERROR(f.Add(out, f.ucode_offset(), f.ucode_size(),
                        "ucode_array_offset_bytes/ucode_size_bytes (RLC_G)", true,
                        {gfx_fw::kRlcG}));
  return out;
}

absl::StatusOr<std::vector<std::string>> AmIpFirmwareFileNames(const IpDiscoveryTable& table) {
  const IpBlock* gc = table.Find(kHwIdGc);
  const IpBlock* mp1 = table.Find(kHwIdMp1);
  const IpBlock* sdma = table.Find(kHwIdSdma0);
  if (gc == nullptr) return absl::FailedPreconditionError("IP firmware: no GC in IP discovery");
  if (gc->major != 11) {
    return absl::UnimplementedError(absl::StrFormat(
        "IP firmware: GC %d.%d.%d; only GC 11.x (RS64 CP, IMU, PSP RLC autoload) is supported",
        gc->major, gc->minor, gc->revision));
  }
  if (mp1 == nullptr || sdma == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrFormat("IP firmware: IP discovery has no %s, whose firmware the PSP loads",
                        mp1 == nullptr ? "MP1 (SMU)" : "SDMA0"));
  }
  const std::string g = absl::StrCat("gc_", VersionTag(*gc));
  return std::vector<std::string>{absl::StrCat("smu_", VersionTag(*mp1), ".bin"),
                                  absl::StrCat("sdma_", VersionTag(*sdma), ".bin"),
                                  g + "_pfp.bin",
                                  g + "_me.bin",
                                  g + "_mec.bin",
                                  g + "_imu.bin",
                                  g + "_rlc.bin"};
}

void SortInPspLoadOrder(std::vector<AmIpFirmware>& images) {
  std::stable_sort(images.begin(), images.end(), [](const AmIpFirmware& a, const AmIpFirmware& b) {
    return LoadRank(a.fw_type) < LoadRank(b.fw_type);
  });
}

absl::StatusOr<std::vector<AmIpFirmware>> ReadAmIpFirmware(KernelIo& io, const std::string& dir,
                                                           const IpDiscoveryTable& table) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, AmIpFirmwareFileNames(table));
  std::vector<AmIpFirmware> all;
  for (const std::string& file : names) {
    const std::string path = absl::StrCat(dir, "/", file);
    absl::StatusOr<std::string> text = io.ReadFile(path);
    if (!text.ok()) {
      if (text.status().code() == absl::StatusCode::kNotFound) {
        return absl::NotFoundError(
            absl::StrFormat("IP firmware %s is missing (linux-firmware's amdgpu/%s)", path, file));
      }
      return text.status();
    }
    const absl::Span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(text->data()),
                                          text->size());
    absl::StatusOr<std::vector<AmIpFirmware>> parts;
    const absl::string_view f = file;
    if (absl::StartsWith(f, "smu_")) {
      parts = ParseSmuFirmware(bytes, path);
    } else if (absl::StartsWith(f, "sdma_")) {
      parts = ParseSdmaFirmware(bytes, path);
    } else if (absl::EndsWith(f, "_pfp.bin")) {
      parts = ParseCpFirmware(bytes, path, AmCpEngine::kPfp);
    } else if (absl::EndsWith(f, "_me.bin")) {
      parts = ParseCpFirmware(bytes, path, AmCpEngine::kMe);
    } else if (absl::EndsWith(f, "_mec.bin")) {
      parts = ParseCpFirmware(bytes, path, AmCpEngine::kMec);
    } else if (absl::EndsWith(f, "_imu.bin")) {
      parts = ParseImuFirmware(bytes, path);
    } else {
      parts = ParseRlcFirmware(bytes, path);
    }
    if (!parts.ok()) return parts.status();
    for (AmIpFirmware& p : *parts) all.push_back(std::move(p));
  }
  SortInPspLoadOrder(all);
  return all;
}

}  // namespace uop
