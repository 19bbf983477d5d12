// Synthetic PSP firmware files for tests: a common_firmware_header v2.0/2.1
// with a psp_fw_bin_desc table and the components' bytes, laid out as
// psp_13_0_0_sos.bin is (see drivers/am/pci/psp_firmware.h). Real firmware
// is signed and encrypted; these carry recognisable test bytes instead.
#ifndef UOP_DRIVERS_AM_EMULATOR_PSP_FIRMWARE_FILE_H_
#define UOP_DRIVERS_AM_EMULATOR_PSP_FIRMWARE_FILE_H_

#include <cstdint>
#include <vector>

#include "drivers/am/pci/psp_firmware.h"

namespace uop {

struct EmuPspComponent {
  PspFwType type;
  uint32_t version = 0;
  std::vector<uint8_t> bytes;
};

// Components are stored in order, each 256-byte aligned after the payload
// start; header minor 0 or 1.
std::vector<uint8_t> BuildPspFirmwareFile(const std::vector<EmuPspComponent>& components,
                                          uint16_t header_minor = 0);
// `n` bytes derived from `seed` (distinct per component).
std::vector<uint8_t> PatternBytes(size_t n, uint32_t seed);
// The components of a Navi31 sOS file in the bootloader's order (KDB,
// SPL, SYS_DRV, SOC_DRV, INTF_DRV, DBG_DRV, RAS_DRV, SOS), about `bytes`
// each; `with_toc` appends the TOC (LOAD_TOC's input, not a bootloader stage).
std::vector<EmuPspComponent> Navi31SosComponents(size_t bytes = 8192, bool with_toc = false);

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_PSP_FIRMWARE_FILE_H_
