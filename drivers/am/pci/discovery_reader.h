// Reads an AMD GPU's VRAM size and IP discovery binary through its mapped
// BARs: the first step of bring-up after the BARs are mapped, before any IP
// block is programmed (the IP bases it yields place every other register).
//
// The sequence (Linux amdgpu_discovery_read_binary_from_mem):
//   1. poll MP0_SMN_C2PMSG_33 (dword 0x16061) until bit 31: the IFWI (the
//      boot firmware) finished initialising; bounded by `ifwi_timeout`
//   2. RCC_CONFIG_MEMSIZE (dword 0xde3): VRAM size in MiB
//   3. read kDiscoveryTmrSize bytes at VRAM size - 64 KiB through the VRAM
//      BAR, every 4 KiB checked for all-0xFF by MmioRegion, then parse.
// Both register offsets are absolute (NBIO/MP0 segment 0 sits at 0 on
// every chip the discovery binary exists on).
//
// The table must lie inside the VRAM BAR: with a small BAR (no resizable
// BAR) Linux reads through MM_INDEX/MM_INDEX_HI/MM_DATA instead; that path
// is not written here, and the error says so.
#ifndef UOP_DRIVERS_AM_PCI_DISCOVERY_READER_H_
#define UOP_DRIVERS_AM_PCI_DISCOVERY_READER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/am/pci/ip_discovery.h"
#include "drivers/common/mmio.h"

namespace uop {

inline constexpr uint32_t kRegRccConfigMemsize = 0xde3;
inline constexpr uint32_t kRegMp0SmnC2pMsg33 = 0x16061;
inline constexpr uint32_t kIfwiInitDone = 0x80000000u;
inline constexpr uint64_t kMaxPlausibleVram = uint64_t{1} << 40;  // 1 TiB

struct AmDiscovery {
  uint64_t vram_size = 0;  // bytes
  IpDiscoveryTable ip;
};

absl::StatusOr<AmDiscovery> ReadAmDiscovery(const MmioRegion& regs, const MmioRegion& vram,
                                            absl::Duration ifwi_timeout = absl::Seconds(2));

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_DISCOVERY_READER_H_
