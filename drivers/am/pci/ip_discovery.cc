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
  return t;
}

}  // namespace uop
