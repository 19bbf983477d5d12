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
// never an out-of-bounds read. The IP_DISCOVERY table (table 0) and the GC
// info table (table 1) are read; HARVEST, VCN, MALL and NPS are not.
//
// GC info (discovery.h's gpu_info_header + gc_info_v1_0..v2_1, all u32 after
// the header): gpu_info_header {u32 table_id 0x4347 "GC", u16 version_major,
// u16 version_minor, u32 size (header + data, the byte-summed span)}, then
//   v1.x (gfx10/11): num_se, num_wgp0_per_sa, num_wgp1_per_sa, num_rb_per_se,
//     num_gl2c, num_gprs, num_max_gs_thds, gs_table_depth, gsprim_buff_depth,
//     parameter_cache_depth, double_offchip_lds_buffer, wave_size,
//     max_waves_per_simd, max_scratch_slots_per_cu, lds_size, num_sc_per_se,
//     num_sa_per_se, num_packer_per_sc, num_gl2a (v1.0, 88 B);
//     + num_tcp_per_sa, num_sdp_interface, num_tcps (v1.1, 100 B);
//     + num_tcp_per_wgp, tcp_l1_size, num_sqc_per_wgp,
//     l1_instruction_cache_size_per_sqc, l1_data_cache_size_per_sqc,
//     gl1c_per_sa, gl1c_size_per_instance, gl2c_per_gpu (v1.2, 132 B)
//   v2.x (gfx9): num_se, num_cu_per_sh, num_sh_per_se, num_rb_per_se,
//     num_tccs, num_gprs, ... lds_size (as v1), num_sc_per_se,
//     num_packer_per_sc (v2.0, 80 B); + num_tcp_per_sh, tcp_size_per_cu,
//     num_sdp_interface, num_cu_per_sqc, instruction_cache_size_per_sqc,
//     scalar_data_cache_size_per_sqc, tcc_size (v2.1, 108 B)
// Linux (amdgpu_discovery_init) checks the table id and the byte sum of
// `size` bytes against table_list[GC].checksum; so does the parser. CUs per
// shader array are 2 * (wgp0 + wgp1) in v1 (a WGP is 2 CUs), num_cu_per_sh
// in v2 (amdgpu_discovery_get_gfx_info). The numbers are the chip's full
// configuration: CUs fused off or harvested are not in this table (Linux
// reads them from CC_GC_SHADER_ARRAY_CONFIG / GC_USER_SHADER_ARRAY_CONFIG).
#ifndef UOP_DRIVERS_AM_PCI_IP_DISCOVERY_H_
#define UOP_DRIVERS_AM_PCI_IP_DISCOVERY_H_

#include <cstdint>
#include <optional>
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
inline constexpr uint32_t kDiscoveryGcTableId = 0x4347;  // "GC"
inline constexpr size_t kGpuInfoHeaderSize = 12;
// Sizes of gc_info_v1_0, v1_1, v1_2, v2_0, v2_1 (header included).
inline constexpr size_t kGcInfoV1_0Size = 88;
inline constexpr size_t kGcInfoV1_1Size = 100;
inline constexpr size_t kGcInfoV1_2Size = 132;
inline constexpr size_t kGcInfoV2_0Size = 80;
inline constexpr size_t kGcInfoV2_1Size = 108;
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

// The GC info table, every version's fields (0 where a version lacks one).
struct GcInfo {
  uint16_t version_major = 0, version_minor = 0;  // 1.0-1.2, 2.0-2.1
  uint32_t size = 0;                              // header.size
  uint32_t num_se = 0;
  uint32_t num_wgp0_per_sa = 0, num_wgp1_per_sa = 0;  // v1
  uint32_t num_cu_per_sh = 0, num_sh_per_se = 0;      // v2
  uint32_t num_sa_per_se = 0;                         // v1
  uint32_t num_rb_per_se = 0;
  uint32_t num_gl2c = 0;  // v1 gc_num_gl2c, v2 gc_num_tccs
  uint32_t num_gprs = 0;
  uint32_t num_max_gs_thds = 0;
  uint32_t gs_table_depth = 0;
  uint32_t gsprim_buff_depth = 0;
  uint32_t parameter_cache_depth = 0;
  uint32_t double_offchip_lds_buffer = 0;
  uint32_t wave_size = 0;
  uint32_t max_waves_per_simd = 0;
  uint32_t max_scratch_slots_per_cu = 0;
  uint32_t lds_size = 0;  // KiB (Linux: cu_info.lds_size)
  uint32_t num_sc_per_se = 0;
  uint32_t num_packer_per_sc = 0;
  uint32_t num_gl2a = 0;  // v1
  // v1.1
  uint32_t num_tcp_per_sa = 0, num_sdp_interface = 0, num_tcps = 0;
  // v1.2
  uint32_t num_tcp_per_wgp = 0, tcp_l1_size = 0, num_sqc_per_wgp = 0;
  uint32_t l1_instruction_cache_size_per_sqc = 0, l1_data_cache_size_per_sqc = 0;
  uint32_t gl1c_per_sa = 0, gl1c_size_per_instance = 0, gl2c_per_gpu = 0;
  // v2.1 (num_sdp_interface above too)
  uint32_t num_tcp_per_sh = 0, tcp_size_per_cu = 0, num_cu_per_sqc = 0;
  uint32_t instruction_cache_size_per_sqc = 0, scalar_data_cache_size_per_sqc = 0;
  uint32_t tcc_size = 0;

  // Shader arrays per engine and CUs per array, whichever version.
  uint32_t sa_per_se() const { return version_major == 1 ? num_sa_per_se : num_sh_per_se; }
  uint32_t cu_per_sa() const {
    return version_major == 1 ? 2 * (num_wgp0_per_sa + num_wgp1_per_sa) : num_cu_per_sh;
  }
  uint32_t cu_count() const { return num_se * sa_per_se() * cu_per_sa(); }
};

struct IpDiscoveryTable {
  uint16_t binary_version_major = 0;
  uint16_t binary_version_minor = 0;
  uint16_t table_version = 0;
  bool bases_64bit = false;
  std::vector<IpBlock> blocks;  // in table order
  // The GC info table; absent when the binary header lists none (offset 0).
  std::optional<GcInfo> gc_info;

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
