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

}  // namespace

void ResealDiscoveryBinary(std::vector<uint8_t>& b) {
  if (b.size() < kDiscoveryBinaryHeaderSize) return;
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
                                          bool bases_64bit) {
  const size_t base_bytes = bases_64bit ? 8 : 4;
  size_t table_size = kDiscoveryIpHeaderSize + 4;
  for (const EmuIpEntry& ip : ips) table_size += 8 + base_bytes * ip.bases.size();
  const size_t off = kEmuIpTableOffset;
  std::vector<uint8_t> b(off + table_size, 0);

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

}  // namespace uop
