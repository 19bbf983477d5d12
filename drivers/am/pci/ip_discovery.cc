#include "drivers/am/pci/ip_discovery.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

uint16_t Le16(absl::Span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>(b[at] | (b[at + 1] << 8));
}
uint32_t Le32(absl::Span<const uint8_t> b, size_t at) {
  return static_cast<uint32_t>(Le16(b, at)) | (static_cast<uint32_t>(Le16(b, at + 2)) << 16);
}
uint64_t Le64(absl::Span<const uint8_t> b, size_t at) {
  return static_cast<uint64_t>(Le32(b, at)) | (static_cast<uint64_t>(Le32(b, at + 4)) << 32);
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("IP discovery binary: ", what));
}

// Table 1 of the binary header: the GC info table at `off`, `checksum` from
// the table list, inside the first `size` bytes of the binary.
absl::StatusOr<GcInfo> ParseGcInfo(absl::Span<const uint8_t> bin, size_t size, size_t off,
                                   uint16_t checksum) {
  if (off + kGpuInfoHeaderSize > size) {
    return Corrupt(
        absl::StrFormat("GC info table header at %u runs past the binary (%u bytes)", off, size));
  }
  if (const uint32_t id = Le32(bin, off); id != kDiscoveryGcTableId) {
    return Corrupt(absl::StrFormat("GC info table_id 0x%08x (expected 0x%04x \"GC\")", id,
                                   kDiscoveryGcTableId));
  }
  GcInfo g;
  g.version_major = Le16(bin, off + 4);
  g.version_minor = Le16(bin, off + 6);
  g.size = Le32(bin, off + 8);
  size_t need = 0;
  if (g.version_major == 1 && g.version_minor <= 2) {
    need = g.version_minor == 0 ? kGcInfoV1_0Size
                                : (g.version_minor == 1 ? kGcInfoV1_1Size : kGcInfoV1_2Size);
  } else if (g.version_major == 2 && g.version_minor <= 1) {
    need = g.version_minor == 0 ? kGcInfoV2_0Size : kGcInfoV2_1Size;
  } else {
    return Corrupt(absl::StrFormat("GC info version %u.%u (1.0-1.2 and 2.0-2.1 are known)",
                                   g.version_major, g.version_minor));
  }
  if (g.size < need || off + uint64_t{g.size} > size) {
    return Corrupt(absl::StrFormat(
        "GC info v%u.%u size %u at %u: needs at least %u bytes inside the binary (%u bytes)",
        g.version_major, g.version_minor, g.size, off, need, size));
  }
  if (const uint16_t sum = DiscoveryChecksum(bin.subspan(off, g.size)); sum != checksum) {
    return Corrupt(
        absl::StrFormat("GC info checksum 0x%04x, table list says 0x%04x", sum, checksum));
  }
  size_t at = off + kGpuInfoHeaderSize;
  auto next = [&]() {
    const uint32_t v = Le32(bin, at);
    at += 4;
    return v;
  };
  g.num_se = next();
  if (g.version_major == 1) {
    g.num_wgp0_per_sa = next();
    g.num_wgp1_per_sa = next();
  } else {
    g.num_cu_per_sh = next();
    g.num_sh_per_se = next();
  }
  g.num_rb_per_se = next();
  g.num_gl2c = next();
  g.num_gprs = next();
  g.num_max_gs_thds = next();
  g.gs_table_depth = next();
  g.gsprim_buff_depth = next();
  g.parameter_cache_depth = next();
  g.double_offchip_lds_buffer = next();
  g.wave_size = next();
  g.max_waves_per_simd = next();
  g.max_scratch_slots_per_cu = next();
  g.lds_size = next();
  g.num_sc_per_se = next();
  if (g.version_major == 1) {
    g.num_sa_per_se = next();
    g.num_packer_per_sc = next();
    g.num_gl2a = next();
    if (g.version_minor >= 1) {
      g.num_tcp_per_sa = next();
      g.num_sdp_interface = next();
      g.num_tcps = next();
    }
    if (g.version_minor >= 2) {
      g.num_tcp_per_wgp = next();
      g.tcp_l1_size = next();
      g.num_sqc_per_wgp = next();
      g.l1_instruction_cache_size_per_sqc = next();
      g.l1_data_cache_size_per_sqc = next();
      g.gl1c_per_sa = next();
      g.gl1c_size_per_instance = next();
      g.gl2c_per_gpu = next();
    }
  } else {
    g.num_packer_per_sc = next();
    if (g.version_minor >= 1) {
      g.num_tcp_per_sh = next();
      g.tcp_size_per_cu = next();
      g.num_sdp_interface = next();
      g.num_cu_per_sqc = next();
      g.instruction_cache_size_per_sqc = next();
      g.scalar_data_cache_size_per_sqc = next();
      g.tcc_size = next();
    }
  }
  // Values every consumer divides or multiplies by: zero means a table the
  // topology cannot be built from.
  const struct {
    const char* name;
    uint32_t value;
  } nonzero[] = {
      {"num_se", g.num_se},
      {g.version_major == 1 ? "num_sa_per_se" : "num_sh_per_se", g.sa_per_se()},
      {g.version_major == 1 ? "num_wgp0_per_sa + num_wgp1_per_sa" : "num_cu_per_sh", g.cu_per_sa()},
      {"wave_size", g.wave_size},
      {"max_waves_per_simd", g.max_waves_per_simd}};
  for (const auto& f : nonzero) {
    if (f.value == 0) return Corrupt(absl::StrFormat("GC info %s is 0", f.name));
  }
  return g;
}

}  // namespace

std::string AmdHwIdName(uint16_t hw_id) {
  switch (hw_id) {
    case kHwIdMp1:
      return "MP1";
    case kHwIdThm:
      return "THM";
    case kHwIdSmuio:
      return "SMUIO";
    case kHwIdGc:
      return "GC";
    case kHwIdVcn:
      return "VCN";
    case kHwIdMmhub:
      return "MMHUB";
    case kHwIdAthub:
      return "ATHUB";
    case kHwIdOsssys:
      return "OSSSYS";
    case kHwIdHdp:
      return "HDP";
    case kHwIdSdma0:
      return "SDMA0";
    case kHwIdSdma1:
      return "SDMA1";
    case kHwIdDf:
      return "DF";
    case kHwIdSdma2:
      return "SDMA2";
    case kHwIdSdma3:
      return "SDMA3";
    case kHwIdNbif:
      return "NBIF";
    case kHwIdUmc:
      return "UMC";
    case kHwIdMp0:
      return "MP0";
    case kHwIdDmu:
      return "DMU";
    default:
      return absl::StrCat("hw_id ", hw_id);
  }
}

uint16_t DiscoveryChecksum(absl::Span<const uint8_t> bytes) {
  uint16_t sum = 0;
  for (uint8_t b : bytes) sum = static_cast<uint16_t>(sum + b);
  return sum;
}

const IpBlock* IpDiscoveryTable::Find(uint16_t hw_id, uint8_t instance) const {
  for (const IpBlock& b : blocks)
    if (b.hw_id == hw_id && b.instance == instance) return &b;
  return nullptr;
}

absl::StatusOr<uint64_t> IpDiscoveryTable::RegisterOffset(uint16_t hw_id, uint8_t instance,
                                                          int segment, uint32_t reg) const {
  const IpBlock* b = Find(hw_id, instance);
  if (b == nullptr) {
    return absl::NotFoundError(
        absl::StrFormat("the GPU has no %s instance %d", AmdHwIdName(hw_id), instance));
  }
  if (segment < 0 || static_cast<size_t>(segment) >= b->bases.size()) {
    return absl::OutOfRangeError(absl::StrFormat("%s instance %d has %u base addresses, not %d",
                                                 AmdHwIdName(hw_id), instance, b->bases.size(),
                                                 segment + 1));
  }
  return 4 * (b->bases[segment] + reg);
}

absl::StatusOr<IpDiscoveryTable> ParseIpDiscovery(absl::Span<const uint8_t> bin) {
  if (bin.size() < kDiscoveryBinaryHeaderSize) {
    return Corrupt(absl::StrFormat("%u bytes, shorter than its %u-byte header", bin.size(),
                                   kDiscoveryBinaryHeaderSize));
  }
  if (const uint32_t sig = Le32(bin, 0); sig != kDiscoveryBinarySignature) {
    return Corrupt(
        absl::StrFormat("signature 0x%08x (expected 0x%08x)", sig, kDiscoveryBinarySignature));
  }
  IpDiscoveryTable t;
  t.binary_version_major = Le16(bin, 4);
  t.binary_version_minor = Le16(bin, 6);
  const uint16_t checksum = Le16(bin, 8);
  const uint16_t size = Le16(bin, 10);
  if (size < kDiscoveryBinaryHeaderSize || size > bin.size()) {
    return Corrupt(absl::StrFormat("binary_size %u outside [%u, %u]", size,
                                   kDiscoveryBinaryHeaderSize, bin.size()));
  }
  if (const uint16_t sum = DiscoveryChecksum(bin.subspan(10, size - 10)); sum != checksum) {
    return Corrupt(absl::StrFormat("binary checksum 0x%04x, header says 0x%04x", sum, checksum));
  }

  // Table 0: IP_DISCOVERY.
  const uint16_t off = Le16(bin, 12);
  const uint16_t table_checksum = Le16(bin, 14);
  if (off == 0) return Corrupt("no IP_DISCOVERY table (offset 0)");
  if (off + kDiscoveryIpHeaderSize > size) {
    return Corrupt(
        absl::StrFormat("IP_DISCOVERY table at %u runs past the binary (%u bytes)", off, size));
  }
  if (const uint32_t sig = Le32(bin, off); sig != kDiscoveryTableSignature) {
    return Corrupt(absl::StrFormat("IP_DISCOVERY signature 0x%08x (expected 0x%08x \"IPDS\")", sig,
                                   kDiscoveryTableSignature));
  }
  t.table_version = Le16(bin, off + 4);
  const uint16_t table_size = Le16(bin, off + 6);
  if (table_size < kDiscoveryIpHeaderSize || off + table_size > size) {
    return Corrupt(absl::StrFormat("IP_DISCOVERY size %u at %u does not fit the binary (%u bytes)",
                                   table_size, off, size));
  }
  const size_t table_end = off + table_size;
  if (const uint16_t sum = DiscoveryChecksum(bin.subspan(off, table_size)); sum != table_checksum) {
    return Corrupt(absl::StrFormat("IP_DISCOVERY checksum 0x%04x, table list says 0x%04x", sum,
                                   table_checksum));
  }
  if (t.table_version < 1 || t.table_version > 4) {
    return Corrupt(
        absl::StrFormat("IP_DISCOVERY version %u (versions 1-4 are known)", t.table_version));
  }
  const uint16_t num_dies = Le16(bin, off + 12);
  if (num_dies == 0 || num_dies > kDiscoveryMaxDies) {
    return Corrupt(absl::StrFormat("%u dies (1-%d)", num_dies, kDiscoveryMaxDies));
  }
  t.bases_64bit = t.table_version >= 4 && (bin[off + 78] & 1) != 0;
  const size_t base_bytes = t.bases_64bit ? 8 : 4;

  for (int d = 0; d < num_dies; ++d) {
    const uint16_t die_id = Le16(bin, off + 14 + 4 * d);
    const size_t die_off = Le16(bin, off + 16 + 4 * d);
    if (die_off < off + kDiscoveryIpHeaderSize || die_off + 4 > table_end) {
      return Corrupt(absl::StrFormat("die %d header at %u outside the table [%u, %u)", d, die_off,
                                     off + kDiscoveryIpHeaderSize, table_end));
    }
    const uint16_t num_ips = Le16(bin, die_off + 2);
    size_t at = die_off + 4;
    for (int i = 0; i < num_ips; ++i) {
      if (at + 8 > table_end) {
        return Corrupt(absl::StrFormat("die %d: IP %d of %u at %u runs past the table end %u", d, i,
                                       num_ips, at, table_end));
      }
      IpBlock b;
      b.die = die_id;
      b.hw_id = Le16(bin, at);
      b.instance = bin[at + 2];
      const uint8_t n = bin[at + 3];
      b.major = bin[at + 4];
      b.minor = bin[at + 5];
      b.revision = bin[at + 6];
      b.sub_revision = bin[at + 7] & 0xF;
      b.variant = bin[at + 7] >> 4;
      if (b.hw_id == 0 || b.hw_id >= kDiscoveryMaxHwId || b.instance >= kDiscoveryMaxInstance) {
        return Corrupt(absl::StrFormat("die %d: IP %d at %u has hw_id %u instance %u", d, i, at,
                                       b.hw_id, b.instance));
      }
      if (at + 8 + n * base_bytes > table_end) {
        return Corrupt(absl::StrFormat("die %d: %s's %u base addresses run past the table end %u",
                                       d, AmdHwIdName(b.hw_id), n, table_end));
      }
      for (int k = 0; k < n; ++k) {
        const size_t p = at + 8 + k * base_bytes;
        b.bases.push_back(t.bases_64bit ? Le64(bin, p) : Le32(bin, p));
      }
      at += 8 + n * base_bytes;
      if (t.Find(b.hw_id, b.instance) != nullptr && num_dies == 1) {
        return Corrupt(
            absl::StrFormat("%s instance %u is listed twice", AmdHwIdName(b.hw_id), b.instance));
      }
      t.blocks.push_back(std::move(b));
    }
  }
  if (t.Find(kHwIdGc) == nullptr) return Corrupt("no GC block");

  // Table 1: GC info (optional: offset 0 means the binary carries none).
  if (const uint16_t gc_off = Le16(bin, 12 + 8 * 1); gc_off != 0) {
    ASSIGN_OR_RETURN(t.gc_info, ParseGcInfo(bin, size, gc_off, Le16(bin, 12 + 8 * 1 + 2)));
  }
  return t;
}

}  // namespace uop
