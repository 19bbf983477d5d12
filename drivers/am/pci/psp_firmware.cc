#include "drivers/am/pci/psp_firmware.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

uint32_t Le32(const std::vector<uint8_t>& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
uint16_t Le16(const std::vector<uint8_t>& b, size_t at) {
  uint16_t v;
  std::memcpy(&v, b.data() + at, 2);
  return v;
}

constexpr size_t kDescSize = 16;

}  // namespace

const char* PspFwTypeName(PspFwType type) {
  switch (type) {
    case PspFwType::kSos:
      return "SOS";
    case PspFwType::kSysDrv:
      return "SYS_DRV";
    case PspFwType::kKdb:
      return "KDB";
    case PspFwType::kToc:
      return "TOC";
    case PspFwType::kSpl:
      return "SPL";
    case PspFwType::kRl:
      return "RL";
    case PspFwType::kSocDrv:
      return "SOC_DRV";
    case PspFwType::kIntfDrv:
      return "INTF_DRV";
    case PspFwType::kDbgDrv:
      return "DBG_DRV";
    case PspFwType::kRasDrv:
      return "RAS_DRV";
    case PspFwType::kIpKeyMgrDrv:
      return "IPKEYMGR_DRV";
  }
  return "?";
}

const PspFwComponent* PspFirmware::Find(PspFwType type) const {
  for (const PspFwComponent& c : components)
    if (c.type == type) return &c;
  return nullptr;
}

absl::Span<const uint8_t> PspFirmware::Bytes(PspFwType type) const {
  const PspFwComponent* c = Find(type);
  if (c == nullptr) return {};
  return absl::MakeConstSpan(bytes).subspan(c->file_offset, c->size);
}

absl::StatusOr<PspFirmware> ParsePspFirmware(std::vector<uint8_t> bytes, absl::string_view name) {
  auto bad = [&](const std::string& what) {
    return absl::DataLossError(absl::StrFormat("PSP firmware %s: %s", name, what));
  };
  if (bytes.size() < kCommonFirmwareHeaderSize) {
    return bad(absl::StrFormat("%u bytes: shorter than the %u-byte common_firmware_header",
                               bytes.size(), kCommonFirmwareHeaderSize));
  }
  PspFirmware fw;
  fw.name = std::string(name);
  CommonFirmwareHeader& h = fw.header;
  h.size_bytes = Le32(bytes, 0);
  h.header_size_bytes = Le32(bytes, 4);
  h.header_version_major = Le16(bytes, 8);
  h.header_version_minor = Le16(bytes, 10);
  h.ip_version_major = Le16(bytes, 12);
  h.ip_version_minor = Le16(bytes, 14);
  h.ucode_version = Le32(bytes, 16);
  h.ucode_size_bytes = Le32(bytes, 20);
  h.ucode_array_offset_bytes = Le32(bytes, 24);
  h.crc32 = Le32(bytes, 28);

  if (h.size_bytes != bytes.size()) {
    return bad(absl::StrFormat("size_bytes says %u, the file has %u bytes (truncated?)",
                               h.size_bytes, bytes.size()));
  }
  if (h.header_version_major != 2) {
    return absl::UnimplementedError(absl::StrFormat(
        "PSP firmware %s: header version %d.%d; only the v2 layout (psp_fw_bin_desc table, "
        "MP0 11.0 and later) is supported",
        name, h.header_version_major, h.header_version_minor));
  }
  if (h.header_version_minor > 1) {
    return absl::UnimplementedError(
        absl::StrFormat("PSP firmware %s: header version 2.%d (2.0 and 2.1 are known)", name,
                        h.header_version_minor));
  }
  const size_t table = h.header_version_minor == 0 ? 36 : 40;
  if (h.header_size_bytes < table || h.header_size_bytes > bytes.size()) {
    return bad(absl::StrFormat("header_size_bytes %u is not within [%u, %u]", h.header_size_bytes,
                               table, bytes.size()));
  }
  const uint32_t count = Le32(bytes, 32);
  if (count == 0 || count > kPspFwTypeCount ||
      table + uint64_t{count} * kDescSize > h.header_size_bytes) {
    return bad(absl::StrFormat(
        "psp_fw_bin_count %u: the descriptor table (%u bytes at %u) does not fit the %u-byte "
        "header (at most %u components)",
        count, uint64_t{count} * kDescSize, table, h.header_size_bytes, kPspFwTypeCount));
  }
  const uint64_t payload = h.ucode_array_offset_bytes;
  if (payload < h.header_size_bytes || payload > bytes.size()) {
    return bad(absl::StrFormat("ucode_array_offset_bytes %u is not within [header end %u, %u]",
                               payload, h.header_size_bytes, bytes.size()));
  }
  if (h.ucode_size_bytes > bytes.size() - payload) {
    return bad(absl::StrFormat("ucode_size_bytes %u runs past the end (%u bytes after offset %u)",
                               h.ucode_size_bytes, bytes.size() - payload, payload));
  }
  for (uint32_t i = 0; i < count; ++i) {
    const size_t d = table + i * kDescSize;
    const uint32_t type = Le32(bytes, d);
    const uint32_t offset = Le32(bytes, d + 8);
    const uint32_t size = Le32(bytes, d + 12);
    if (type == 0 || type >= kPspFwTypeCount) {
      return bad(absl::StrFormat("descriptor %u: fw_type %u is not a psp_fw_type (1-%u)", i, type,
                                 kPspFwTypeCount - 1));
    }
    PspFwComponent c{static_cast<PspFwType>(type), Le32(bytes, d + 4), payload + offset, size};
    if (fw.Find(c.type) != nullptr) {
      return bad(absl::StrFormat("descriptor %u: a second %s component", i, PspFwTypeName(c.type)));
    }
    if (size == 0 || c.file_offset > bytes.size() || size > bytes.size() - c.file_offset) {
      return bad(absl::StrFormat(
          "descriptor %u (%s): %u bytes at payload offset %u (file offset %u) are not inside the "
          "%u-byte file",
          i, PspFwTypeName(c.type), size, offset, c.file_offset, bytes.size()));
    }
    fw.components.push_back(c);
  }
  fw.bytes = std::move(bytes);
  return fw;
}

absl::StatusOr<PspFirmware> ReadPspFirmware(KernelIo& io, absl::string_view path) {
  ASSIGN_OR_RETURN(std::string text, io.ReadFile(path));
  return ParsePspFirmware(std::vector<uint8_t>(text.begin(), text.end()), path);
}

}  // namespace uop
