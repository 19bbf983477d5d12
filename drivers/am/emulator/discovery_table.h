// Builds IP discovery binaries (the layout of drivers/am/pci/ip_discovery.h,
// Linux's discovery.h) for the emulated PCI GPU, with correct checksums, so
// tests can serve a realistic table and corrupt it byte by byte.
#ifndef UOP_DRIVERS_AM_EMULATOR_DISCOVERY_TABLE_H_
#define UOP_DRIVERS_AM_EMULATOR_DISCOVERY_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "drivers/am/pci/ip_discovery.h"

namespace uop {

struct EmuIpEntry {
  uint16_t hw_id = 0;
  uint8_t instance = 0;
  uint8_t major = 0, minor = 0, revision = 0;
  uint8_t byte7 = 0;            // sub_revision:4 | variant:4
  std::vector<uint64_t> bases;  // dwords
};

// Where the pieces land in a built binary (for tests that corrupt them).
inline constexpr uint16_t kEmuIpTableOffset = 60;  // right after the binary header

// One die; version 3 tables carry 32-bit bases, version 4 with `bases_64bit`
// carries 64-bit ones. With `gc_info`, a GC info table of its version
// (gc_info->version_major/minor, 1.0-1.2 or 2.0-2.1; size = that version's
// size) follows the IP table, listed as table 1. Returns exactly binary_size
// bytes.
std::vector<uint8_t> BuildDiscoveryBinary(absl::Span<const EmuIpEntry> ips,
                                          uint16_t table_version = 3, bool bases_64bit = false,
                                          const std::optional<GcInfo>& gc_info = std::nullopt);

// Where the GC info table of a built binary starts (0: none).
uint16_t EmuGcInfoOffset(absl::Span<const uint8_t> binary);

// Recomputes every checksum (IP table, GC info table, binary) after a test
// edited the binary's contents.
void ResealDiscoveryBinary(std::vector<uint8_t>& binary);

// The IP blocks of a Navi24-class GPU (Radeon RX 6400/6500, "beige goby",
// gfx1034): bases from Linux's beige_goby_ip_offset.h; GC 10.3.5 is that
// chip's; the other versions are representative of the generation, not
// taken from a dump of the chip's own table.
std::vector<EmuIpEntry> Navi24Ips();

// A Navi31-class GPU (Radeon RX 7900, gfx1100): the block versions of
// Linux's GC 11.0.0 path (MMHUB 3.0.0, OSSSYS 6.0.0, HDP 6.0.0, NBIO 4.3.0,
// MP0/MP1 13.0.0, SDMA 6.0.0), which drivers/am/pci/am_regs.h has register
// tables for. The segment bases are Navi24's (the soc21 chips share them, as
// tinygrad's own AM mock also assumes); not from a dump of a real table.
std::vector<EmuIpEntry> Navi31Ips();

// A GC 11 chip as the emulator presents it: its IP blocks, its GC info table
// and its PCI device id.
struct EmuChip {
  std::string name;  // "Navi31"
  uint16_t device_id = 0;
  std::vector<EmuIpEntry> ips;
  GcInfo gc;  // GC info v1.2 (a table of Navi3x's layout)
};

// Navi31 (RX 7900 XTX, 0x744C, gfx1100): 6 SE x 2 SA x 4 WGP = 96 CUs.
EmuChip Navi31Chip();
// Navi32 (RX 7800 XT, 0x747E, gfx1101): GC 11.0.3, MP0/MP1 13.0.10,
// SDMA 6.0.3; 3 SE x 2 SA x 5 WGP = 60 CUs.
EmuChip Navi32Chip();
// Navi33 (RX 7600, 0x7480, gfx1102): GC 11.0.2, MP0/MP1 13.0.7, SDMA 6.0.2;
// 2 SE x 2 SA x 4 WGP = 32 CUs.
EmuChip Navi33Chip();
// The chip's discovery binary (IP table v3, GC info table).
std::vector<uint8_t> BuildChipDiscoveryBinary(const EmuChip& chip);

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_DISCOVERY_TABLE_H_
