// The PSP firmware container (Linux amdgpu_ucode.h): a common_firmware_header
// followed, for header version 2, by a psp_fw_bin_desc table naming each
// component of the file (sys_drv, sos, kdb, spl, soc/intf/dbg/ras drivers,
// toc, ...). This is how /lib/firmware/amdgpu/psp_13_0_0_sos.bin (Navi31)
// packs the bootloader stages the AM path loads into the PSP (psp.h).
//
// Layout (little-endian):
//   common_firmware_header (32 bytes): size_bytes (whole file),
//     header_size_bytes, header_version_major/minor (u16), ip_version
//     major/minor (u16), ucode_version, ucode_size_bytes,
//     ucode_array_offset_bytes (where the payload starts), crc32;
//   v2.0: psp_fw_bin_count at 32, descriptors at 36;
//   v2.1: psp_fw_bin_count at 32, psp_aux_fw_bin_index at 36, descriptors at 40;
//   psp_fw_bin_desc (16 bytes): fw_type, fw_version, offset_bytes (from the
//     payload start), size_bytes.
//
// Everything is bounds-checked: a file whose size_bytes disagrees with its
// length, a descriptor table past the header, a component outside the
// payload, an unknown or repeated component type are DataLoss naming the
// file and the field. Version 1 headers (pre-MP0 11.0 layouts) are
// Unimplemented.
#ifndef UOP_DRIVERS_AM_PCI_PSP_FIRMWARE_H_
#define UOP_DRIVERS_AM_PCI_PSP_FIRMWARE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "drivers/common/kernel_io.h"

namespace uop {

// enum psp_fw_type (amdgpu_ucode.h).
enum class PspFwType : uint32_t {
  kSos = 1,
  kSysDrv = 2,
  kKdb = 3,
  kToc = 4,
  kSpl = 5,
  kRl = 6,
  kSocDrv = 7,
  kIntfDrv = 8,
  kDbgDrv = 9,
  kRasDrv = 10,
  kIpKeyMgrDrv = 11,
};
inline constexpr uint32_t kPspFwTypeCount = 12;  // PSP_FW_TYPE_MAX_INDEX
const char* PspFwTypeName(PspFwType type);

struct CommonFirmwareHeader {
  uint32_t size_bytes = 0;
  uint32_t header_size_bytes = 0;
  uint16_t header_version_major = 0, header_version_minor = 0;
  uint16_t ip_version_major = 0, ip_version_minor = 0;
  uint32_t ucode_version = 0;
  uint32_t ucode_size_bytes = 0;
  uint32_t ucode_array_offset_bytes = 0;
  uint32_t crc32 = 0;
};
inline constexpr size_t kCommonFirmwareHeaderSize = 32;

struct PspFwComponent {
  PspFwType type;
  uint32_t version = 0;
  uint64_t file_offset = 0;  // ucode_array_offset_bytes + offset_bytes
  uint32_t size = 0;
};

struct PspFirmware {
  std::string name;  // the path, for error messages
  CommonFirmwareHeader header;
  std::vector<PspFwComponent> components;  // in file order
  std::vector<uint8_t> bytes;              // the whole file

  const PspFwComponent* Find(PspFwType type) const;
  // The component's bytes (empty span when the file has none of that type).
  absl::Span<const uint8_t> Bytes(PspFwType type) const;
};

// Parses a PSP firmware file; `name` is used in errors.
absl::StatusOr<PspFirmware> ParsePspFirmware(std::vector<uint8_t> bytes, absl::string_view name);
// Reads it through the KernelIo seam (e.g. "/lib/firmware/amdgpu/psp_13_0_0_sos.bin").
absl::StatusOr<PspFirmware> ReadPspFirmware(KernelIo& io, absl::string_view path);

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_PSP_FIRMWARE_H_
