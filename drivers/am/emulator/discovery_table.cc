#include "drivers/am/emulator/discovery_table.h"

#include "drivers/am/pci/ip_discovery.h"

namespace uop {
namespace {

void Put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = v & 0xFF;
  b[at + 1] = v >> 8;
}
void Put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  Put16(b, at, v & 0xFFFF);
  Put16(b, at + 2, v >> 16);
}

uint16_t Get16(absl::Span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>(b[at] | (b[at + 1] << 8));
}

size_t GcInfoSize(const GcInfo& g) {
  if (g.version_major == 1) {
    return g.version_minor == 0 ? kGcInfoV1_0Size
                                : (g.version_minor == 1 ? kGcInfoV1_1Size : kGcInfoV1_2Size);
  }
  return g.version_minor == 0 ? kGcInfoV2_0Size : kGcInfoV2_1Size;
}

// gc_info_v1_x / v2_x in discovery.h's field order.
std::vector<uint32_t> GcInfoFields(const GcInfo& g) {
  std::vector<uint32_t> f = {g.num_se};
  if (g.version_major == 1) {
    f.insert(f.end(), {g.num_wgp0_per_sa, g.num_wgp1_per_sa});
  } else {
    f.insert(f.end(), {g.num_cu_per_sh, g.num_sh_per_se});
  }
  f.insert(f.end(),
           {g.num_rb_per_se, g.num_gl2c, g.num_gprs, g.num_max_gs_thds, g.gs_table_depth,
            g.gsprim_buff_depth, g.parameter_cache_depth, g.double_offchip_lds_buffer, g.wave_size,
            g.max_waves_per_simd, g.max_scratch_slots_per_cu, g.lds_size, g.num_sc_per_se});
  if (g.version_major == 1) {
    f.insert(f.end(), {g.num_sa_per_se, g.num_packer_per_sc, g.num_gl2a});
    if (g.version_minor >= 1)
      f.insert(f.end(), {g.num_tcp_per_sa, g.num_sdp_interface, g.num_tcps});
    if (g.version_minor >= 2) {
      f.insert(f.end(), {g.num_tcp_per_wgp, g.tcp_l1_size, g.num_sqc_per_wgp,
                         g.l1_instruction_cache_size_per_sqc, g.l1_data_cache_size_per_sqc,
                         g.gl1c_per_sa, g.gl1c_size_per_instance, g.gl2c_per_gpu});
    }
  } else {
    f.push_back(g.num_packer_per_sc);
    if (g.version_minor >= 1) {
      f.insert(f.end(),
               {g.num_tcp_per_sh, g.tcp_size_per_cu, g.num_sdp_interface, g.num_cu_per_sqc,
                g.instruction_cache_size_per_sqc, g.scalar_data_cache_size_per_sqc, g.tcc_size});
    }
  }
  return f;
}

// The version numbers of a Navi31 entry list changed to another chip's.
void SetVersion(std::vector<EmuIpEntry>& ips, uint16_t hw_id, uint8_t major, uint8_t minor,
                uint8_t revision) {
  for (EmuIpEntry& ip : ips) {
    if (ip.hw_id != hw_id) continue;
    ip.major = major;
    ip.minor = minor;
    ip.revision = revision;
  }
}

}  // namespace

uint16_t EmuGcInfoOffset(absl::Span<const uint8_t> b) {
  return b.size() < kDiscoveryBinaryHeaderSize ? 0 : Get16(b, 12 + 8);
}

void ResealDiscoveryBinary(std::vector<uint8_t>& b) {
  if (b.size() < kDiscoveryBinaryHeaderSize) return;
  if (const size_t gc = EmuGcInfoOffset(b); gc != 0 && gc + kGpuInfoHeaderSize <= b.size()) {
    const size_t gc_size = Get16(b, gc + 8) | (size_t{Get16(b, gc + 10)} << 16);
    if (gc + gc_size <= b.size()) {
      Put16(b, 12 + 8 + 2, DiscoveryChecksum(absl::MakeConstSpan(b).subspan(gc, gc_size)));
    }
  }
  // Corrupted offsets and sizes are left as they are (only what lies inside
  // the buffer is summed): the parser must reject them.
  const size_t off = static_cast<uint16_t>(b[12] | (b[13] << 8));
  if (off + 8 <= b.size()) {
    const size_t table_size = static_cast<uint16_t>(b[off + 6] | (b[off + 7] << 8));
    if (off + table_size <= b.size()) {
      Put16(b, 14, DiscoveryChecksum(absl::MakeConstSpan(b).subspan(off, table_size)));
    }
  }
  Put16(b, 8, DiscoveryChecksum(absl::MakeConstSpan(b).subspan(10)));
}

std::vector<uint8_t> BuildDiscoveryBinary(absl::Span<const EmuIpEntry> ips, uint16_t table_version,
                                          bool bases_64bit, const std::optional<GcInfo>& gc_info) {
  const size_t base_bytes = bases_64bit ? 8 : 4;
  size_t table_size = kDiscoveryIpHeaderSize + 4;
  for (const EmuIpEntry& ip : ips) table_size += 8 + base_bytes * ip.bases.size();
  const size_t off = kEmuIpTableOffset;
  const size_t gc_off = off + table_size;
  const size_t gc_size = gc_info.has_value() ? GcInfoSize(*gc_info) : 0;
  std::vector<uint8_t> b(gc_off + gc_size, 0);
  if (gc_info.has_value()) {
    Put16(b, 12 + 8, static_cast<uint16_t>(gc_off));  // table_list[GC]
    Put16(b, 12 + 8 + 4, static_cast<uint16_t>(gc_size));
    Put32(b, gc_off, kDiscoveryGcTableId);
    Put16(b, gc_off + 4, gc_info->version_major);
    Put16(b, gc_off + 6, gc_info->version_minor);
    Put32(b, gc_off + 8, static_cast<uint32_t>(gc_size));
    size_t at = gc_off + kGpuInfoHeaderSize;
    for (uint32_t v : GcInfoFields(*gc_info)) {
      Put32(b, at, v);
      at += 4;
    }
  }

  Put32(b, 0, kDiscoveryBinarySignature);
  Put16(b, 4, 1);  // binary version 1.0
  Put16(b, 6, 0);
  Put16(b, 10, static_cast<uint16_t>(b.size()));
  Put16(b, 12, static_cast<uint16_t>(off));  // table_list[IP_DISCOVERY].offset
  Put16(b, 16, static_cast<uint16_t>(table_size));

  Put32(b, off, kDiscoveryTableSignature);
  Put16(b, off + 4, table_version);
  Put16(b, off + 6, static_cast<uint16_t>(table_size));
  Put32(b, off + 8, 0);   // id
  Put16(b, off + 12, 1);  // num_dies
  Put16(b, off + 14, 0);  // die_info[0].die_id
  Put16(b, off + 16, static_cast<uint16_t>(off + kDiscoveryIpHeaderSize));
  b[off + 78] = bases_64bit ? 1 : 0;

  size_t at = off + kDiscoveryIpHeaderSize;
  Put16(b, at, 0);  // die_id
  Put16(b, at + 2, static_cast<uint16_t>(ips.size()));
  at += 4;
  for (const EmuIpEntry& ip : ips) {
    Put16(b, at, ip.hw_id);
    b[at + 2] = ip.instance;
    b[at + 3] = static_cast<uint8_t>(ip.bases.size());
    b[at + 4] = ip.major;
    b[at + 5] = ip.minor;
    b[at + 6] = ip.revision;
    b[at + 7] = ip.byte7;
    at += 8;
    for (uint64_t base : ip.bases) {
      Put32(b, at, static_cast<uint32_t>(base));
      if (bases_64bit) Put32(b, at + 4, static_cast<uint32_t>(base >> 32));
      at += base_bytes;
    }
  }
  ResealDiscoveryBinary(b);
  return b;
}

std::vector<EmuIpEntry> Navi24Ips() {
  return {
      {kHwIdGc, 0, 10, 3, 5, 0, {0x00001260, 0x0000A000, 0x0001C000, 0x02402C00}},
      {kHwIdSdma0, 0, 5, 2, 5, 0, {0x00001260, 0x0000A000, 0x0001C000, 0x02402C00}},
      {kHwIdMmhub, 0, 2, 1, 0, 0, {0x0001A000, 0x02408800}},
      {kHwIdAthub, 0, 2, 1, 0, 0, {0x00000C00, 0x02408C00}},
      {kHwIdOsssys, 0, 5, 0, 1, 0, {0x000010A0, 0x0240A000}},
      {kHwIdHdp, 0, 5, 0, 0, 0, {0x00000F20, 0x0240A400}},
      {kHwIdNbif,
       0,
       3,
       3,
       0,
       0,
       {0x00000000, 0x00000014, 0x00000D20, 0x00010400, 0x0241B000, 0x04040000}},
      {kHwIdMp0, 0, 11, 0, 13, 0, {0x00016000, 0x00DC0000, 0x00E00000, 0x00E40000, 0x0243FC00}},
      {kHwIdMp1, 0, 11, 0, 13, 0, {0x00016000, 0x00DC0000, 0x00E00000, 0x00E40000, 0x0243FC00}},
      {kHwIdSmuio, 0, 11, 0, 6, 0, {0x00016800, 0x00016A00, 0x00440000, 0x02401000}},
      {kHwIdThm, 0, 11, 0, 5, 0, {0x00016600, 0x02400C00}},
      {kHwIdUmc, 0, 8, 7, 1, 0, {0x00014000, 0x02425800}},
      {kHwIdUmc, 1, 8, 7, 1, 0, {0x00054000, 0x02425C00}},
      {kHwIdDf, 0, 3, 7, 0, 0, {0x00007000, 0x0240B800}},
      {kHwIdVcn, 0, 3, 0, 33, 0, {0x00007800, 0x00007E00, 0x02403000}},
      {kHwIdDmu, 0, 3, 0, 3, 0, {0x00000012, 0x000000C0, 0x000034C0, 0x00009000, 0x02403C00}},
  };
}

std::vector<EmuIpEntry> Navi31Ips() {
  std::vector<EmuIpEntry> ips = Navi24Ips();
  for (EmuIpEntry& ip : ips) {
    auto set = [&](uint8_t major, uint8_t minor, uint8_t revision) {
      ip.major = major;
      ip.minor = minor;
      ip.revision = revision;
    };
    switch (ip.hw_id) {
      case kHwIdGc:
        set(11, 0, 0);
        break;
      case kHwIdSdma0:
        set(6, 0, 0);
        break;
      case kHwIdMmhub:
        set(3, 0, 0);
        break;
      case kHwIdAthub:
        set(3, 0, 0);
        break;
      case kHwIdOsssys:
        set(6, 0, 0);
        break;
      case kHwIdHdp:
        set(6, 0, 0);
        break;
      case kHwIdNbif:
        set(4, 3, 0);
        break;
      case kHwIdMp0:
      case kHwIdMp1:
        set(13, 0, 0);
        break;
      case kHwIdSmuio:
        set(13, 0, 0);
        break;
      default:
        break;
    }
  }
  return ips;
}

namespace {

// Navi3x GC info v1.2: the shader topology (SE/SA/WGP) of each chip is its
// public configuration; wave size, waves per SIMD, scratch slots and LDS are
// gfx11's (KFD reports 16 waves per SIMD and 64 KiB LDS on gfx1100). The
// other fields (render backends, GL2 channels, packers, cache sizes) are
// representative and not taken from a dump of a real table.
GcInfo Navi3xGcInfo(uint32_t se, uint32_t wgp_per_sa, uint32_t gl2c) {
  GcInfo g;
  g.version_major = 1;
  g.version_minor = 2;
  g.size = kGcInfoV1_2Size;
  g.num_se = se;
  g.num_wgp0_per_sa = wgp_per_sa;
  g.num_wgp1_per_sa = 0;
  g.num_sa_per_se = 2;
  g.num_rb_per_se = 4;
  g.num_gl2c = gl2c;
  g.num_gprs = 1536;
  g.num_max_gs_thds = 32;
  g.gs_table_depth = 32;
  g.gsprim_buff_depth = 1792;
  g.parameter_cache_depth = 1024;
  g.double_offchip_lds_buffer = 1;
  g.wave_size = 32;
  g.max_waves_per_simd = 16;
  g.max_scratch_slots_per_cu = 32;
  g.lds_size = 64;
  g.num_sc_per_se = 2;
  g.num_packer_per_sc = 4;
  g.num_gl2a = 4;
  g.num_tcp_per_sa = 2 * wgp_per_sa;
  g.num_sdp_interface = gl2c;
  g.num_tcps = 2 * wgp_per_sa * 2 * se;
  g.num_tcp_per_wgp = 2;
  g.tcp_l1_size = 32;
  g.num_sqc_per_wgp = 1;
  g.l1_instruction_cache_size_per_sqc = 32;
  g.l1_data_cache_size_per_sqc = 16;
  g.gl1c_per_sa = 1;
  g.gl1c_size_per_instance = 256;
  g.gl2c_per_gpu = gl2c;
  return g;
}

}  // namespace

EmuChip Navi31Chip() { return EmuChip{"Navi31", 0x744C, Navi31Ips(), Navi3xGcInfo(6, 4, 24)}; }

// The MMHUB, SMUIO and OSSSYS versions of Navi32/33 are unverified (kept at
// what the AM register tables accept, MMHUB 3.0.x); GC, MP0/MP1 and SDMA are
// the versions their firmware files are named after (gc_11_0_3,
// psp/smu_13_0_10, sdma_6_0_3; gc_11_0_2, psp/smu_13_0_7, sdma_6_0_2).
EmuChip Navi32Chip() {
  std::vector<EmuIpEntry> ips = Navi31Ips();
  SetVersion(ips, kHwIdGc, 11, 0, 3);
  SetVersion(ips, kHwIdMp0, 13, 0, 10);
  SetVersion(ips, kHwIdMp1, 13, 0, 10);
  SetVersion(ips, kHwIdSdma0, 6, 0, 3);
  SetVersion(ips, kHwIdMmhub, 3, 0, 1);
  return EmuChip{"Navi32", 0x747E, std::move(ips), Navi3xGcInfo(3, 5, 16)};
}

EmuChip Navi33Chip() {
  std::vector<EmuIpEntry> ips = Navi31Ips();
  SetVersion(ips, kHwIdGc, 11, 0, 2);
  SetVersion(ips, kHwIdMp0, 13, 0, 7);
  SetVersion(ips, kHwIdMp1, 13, 0, 7);
  SetVersion(ips, kHwIdSdma0, 6, 0, 2);
  SetVersion(ips, kHwIdMmhub, 3, 0, 2);
  return EmuChip{"Navi33", 0x7480, std::move(ips), Navi3xGcInfo(2, 4, 8)};
}

std::vector<uint8_t> BuildChipDiscoveryBinary(const EmuChip& chip) {
  return BuildDiscoveryBinary(chip.ips, 3, false, chip.gc);
}

}  // namespace uop
