// Which GC 11 chip an IP discovery table describes, and what the AM path
// (no kernel driver) reports and supports for it.
//
// AmRegisterMap accepts any GC 11.0.x / MMHUB 3.0.x / MP 13.0.x chip, but the
// three Navi3x dGPUs differ in more than register bases: their shader
// topology (from the discovery binary's GC info table), their gfx target
// (KFD's kfd_device.c: GC 11.0.0 -> 110000 gfx1100, 11.0.3 -> 110001
// gfx1101, 11.0.2 -> 110002 gfx1102) and their SMU/PSP/SDMA versions
// (13.0.0 / 6.0.0 on Navi31, 13.0.10 / 6.0.3 on Navi32, 13.0.7 / 6.0.2 on
// Navi33). The node properties come from the table, never from a default;
// the bring-up refuses every chip but Navi31 by name, because the SMU driver
// interface version (smu::kDriverIfVersion is SMU 13.0.0's), the SDMA
// instance count and the firmware the emulator serves are Navi31's and have
// not been verified for the others.
#ifndef UOP_DRIVERS_AM_PCI_AM_PCI_CHIP_H_
#define UOP_DRIVERS_AM_PCI_AM_PCI_CHIP_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "drivers/am/am_topology.h"
#include "drivers/am/pci/ip_discovery.h"

namespace uop {

struct AmGfx11Chip {
  std::string name;             // "Navi31"
  uint32_t gfx_target_version;  // 110000
  bool bring_up_supported;      // the AM bring-up follows this chip
};

// The chip of the table's GC block: Unimplemented naming the GC version for
// one the AM path does not know (anything but GC 11.0.0/11.0.2/11.0.3).
absl::StatusOr<AmGfx11Chip> IdentifyAmGfx11Chip(const IpDiscoveryTable& table);

// OK for a chip the bring-up follows (Navi31: GC 11.0.0, MP0/MP1 13.0.0,
// SDMA 6.0.0); Unimplemented naming the chip and what is Navi31-specific
// otherwise. AmPciGpu checks it right after IP discovery.
absl::Status CheckAmPciBringUpSupported(const IpDiscoveryTable& table);

// KFD-style node properties from the GC info table: gfx_target_version,
// simd_count (2 SIMDs per CU), simd_per_cu, max_waves_per_simd,
// array_count (SE x SA), simd_arrays_per_engine (SA per SE), num_xcc,
// lds_size_in_kb, max_slots_scratch_cu, vendor_id, device_id,
// local_mem_size. FailedPrecondition when the table has no GC info table;
// Unimplemented for an unknown GC version. CUs are the table's full
// configuration: harvested or fused-off WGPs (CC_GC_SHADER_ARRAY_CONFIG) are
// not subtracted.
absl::StatusOr<AmGpuNode> AmPciGpuNode(const IpDiscoveryTable& table, uint16_t device_id,
                                       uint64_t vram_size);

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_AM_PCI_CHIP_H_
