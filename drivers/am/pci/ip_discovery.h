// The IP discovery binary of an AMD GPU (Navi1x and later, gfx9.4+): which IP
// blocks the chip has, their versions and the base addresses of their
// register segments.
//
// The firmware leaves the binary 64 KiB below the top of VRAM (Linux:
// DISCOVERY_TMR_OFFSET); its layout is Linux's include/discovery.h (all
// little-endian, packed):
//
//   binary_header (60 B)  u32 signature 0x28211407, u16 version major/minor,
//                         u16 checksum (byte sum of [10, binary_size)),
//                         u16 binary_size, table_info[6] {u16 offset,
//                         checksum, size, padding}; table 0 is IP_DISCOVERY
//   ip_discovery_header   u32 signature "IPDS" (0x53445049), u16 version,
//   (80 B)                u16 size (the byte-summed span), u32 id,
//                         u16 num_dies, die_info[16] {u16 die_id,
//                         u16 die_offset}, u8 flags (v4: bit 0 = 64-bit bases),
//                         u8 reserved
//   die_header (4 B)      u16 die_id, u16 num_ips; then num_ips entries:
//   ip (8 B + bases)      u16 hw_id, u8 instance, u8 num_base_address,
//                         u8 major, minor, revision, u8 sub_revision:4
//                         variant:4 (harvest:4 before v3); then
//                         num_base_address u32 (u64 with 64-bit bases)
//
// Bases are in dwords: register `reg` of segment `seg` is at BAR5 byte
// 4 * (base[seg] + reg). hw_ids are soc15_hw_ip.h's.
//
// Parsing checks both signatures and both checksums and bounds every
// offset, so a corrupt or truncated binary is an error naming what is wrong,
// never an out-of-bounds read. Only the IP_DISCOVERY table is read (GC,
// HARVEST, VCN, MALL/NPS tables are not parsed yet).
#ifndef UOP_DRIVERS_AM_PCI_IP_DISCOVERY_H_
#define UOP_DRIVERS_AM_PCI_IP_DISCOVERY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace uop {

// Layout constants (discovery.h, amdgpu_discovery.[ch]).
inline constexpr uint32_t kDiscoveryBinarySignature = 0x28211407;
inline constexpr uint32_t kDiscoveryTableSignature = 0x53445049;  // "IPDS"
inline constexpr uint64_t kDiscoveryTmrOffset = 64 << 10;         // below the top of VRAM
inline constexpr size_t kDiscoveryTmrSize = 10 << 10;             // bytes read
inline constexpr size_t kDiscoveryBinaryHeaderSize = 60;
inline constexpr size_t kDiscoveryIpHeaderSize = 80;
inline constexpr int kDiscoveryTables = 6;
inline constexpr int kDiscoveryMaxDies = 16;
inline constexpr uint16_t kDiscoveryMaxHwId = 300;    // HW_ID_MAX
inline constexpr uint8_t kDiscoveryMaxInstance = 44;  // HWIP_MAX_INSTANCE

// soc15_hw_ip.h hardware ids of the blocks the AM path programs.
enum AmdHwId : uint16_t {
  kHwIdMp1 = 1,  // SMU
  kHwIdThm = 3,
  kHwIdSmuio = 4,
  kHwIdGc = 11,
  kHwIdVcn = 12,
  kHwIdMmhub = 34,
  kHwIdAthub = 35,
  kHwIdOsssys = 40,  // IH
  kHwIdHdp = 41,
  kHwIdSdma0 = 42,
  kHwIdSdma1 = 43,
  kHwIdDf = 46,
  kHwIdSdma2 = 68,
  kHwIdSdma3 = 69,
  kHwIdNbif = 108,  // NBIO
  kHwIdUmc = 150,
  kHwIdMp0 = 255,  // PSP
  kHwIdDmu = 271,  // DCN
};

// "GC", "MMHUB", ...; "hw_id N" for ids without a name here.
std::string AmdHwIdName(uint16_t hw_id);

struct IpBlock {
  uint16_t die = 0;
  uint16_t hw_id = 0;
  uint8_t instance = 0;
  uint8_t major = 0, minor = 0, revision = 0;
  uint8_t sub_revision = 0;     // low nibble of byte 7 (harvest before v3)
  uint8_t variant = 0;          // high nibble; 1 marks a harvested block (Linux)
  std::vector<uint64_t> bases;  // per segment, in dwords
};

struct IpDiscoveryTable {
  uint16_t binary_version_major = 0;
  uint16_t binary_version_minor = 0;
  uint16_t table_version = 0;
  bool bases_64bit = false;
  std::vector<IpBlock> blocks;  // in table order

  // The block with this id and instance, or nullptr.
  const IpBlock* Find(uint16_t hw_id, uint8_t instance = 0) const;
  // BAR5 byte offset of dword register `reg` in segment `segment` of the
  // block: NotFound for a missing block, OutOfRange for a missing segment.
  absl::StatusOr<uint64_t> RegisterOffset(uint16_t hw_id, uint8_t instance, int segment,
                                          uint32_t reg) const;
};

absl::StatusOr<IpDiscoveryTable> ParseIpDiscovery(absl::Span<const uint8_t> binary);

// The byte sum discovery checksums use (16-bit, wrapping).
uint16_t DiscoveryChecksum(absl::Span<const uint8_t> bytes);

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_IP_DISCOVERY_H_
