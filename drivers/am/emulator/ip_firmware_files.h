// Synthetic IP firmware files for tests and the emulated bring-up: the
// headers are laid out exactly as drivers/am/pci/ip_firmware.h reads them
// (smc v2.1, sdma v2.0, gfx v2.0 RS64, imu v1.0, rlc v2.0-2.3), the parts
// carry distinct pattern bytes instead of signed microcode. Navi31IpFirmware
// also returns, built independently of the parser, the images the PSP must
// receive in Linux's load order: the oracle of the tests.
#ifndef UOP_DRIVERS_AM_EMULATOR_IP_FIRMWARE_FILES_H_
#define UOP_DRIVERS_AM_EMULATOR_IP_FIRMWARE_FILES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "drivers/am/pci/ip_firmware.h"
#include "drivers/common/emulated_kernel_io.h"

namespace uop {

// The parts of an RLC file; empty parts are absent (size 0 in the header).
struct EmuRlcParts {
  std::vector<uint8_t> rlc_g;
  std::vector<uint8_t> reg_list_format, reg_list;  // v2.0 register lists (not loaded)
  std::vector<uint8_t> srm_cntl, gpm, srm;         // v2.1
  std::vector<uint8_t> iram, dram;                 // v2.2
  std::vector<uint8_t> rlcp, rlcv;                 // v2.3
};

// Header field offsets the tests corrupt (bytes from the file start).
namespace emu_fw {
inline constexpr size_t kSizeBytes = 0, kVersionMajor = 8, kVersionMinor = 10;
inline constexpr size_t kUcodeSize = 20, kUcodeOffset = 24;
}  // namespace emu_fw

// smc_firmware_header v2.1 with one soft pptable entry.
std::vector<uint8_t> BuildSmuFirmwareFile(const std::vector<uint8_t>& pmfw,
                                          const std::vector<uint8_t>& pptable);
// sdma_firmware_header v2.0: context (TH0) and control (TH1) threads.
std::vector<uint8_t> BuildSdmaFirmwareFile(const std::vector<uint8_t>& ctx,
                                           const std::vector<uint8_t>& ctl);
// gfx_firmware_header v2.0: RS64 code and data (stack).
std::vector<uint8_t> BuildRs64FirmwareFile(const std::vector<uint8_t>& code,
                                           const std::vector<uint8_t>& data);
// imu_firmware_header v1.0: IRAM then DRAM.
std::vector<uint8_t> BuildImuFirmwareFile(const std::vector<uint8_t>& iram,
                                          const std::vector<uint8_t>& dram);
// rlc_firmware_header v2.`minor` (0-3); parts above that version are left out.
std::vector<uint8_t> BuildRlcFirmwareFile(const EmuRlcParts& parts, uint16_t minor = 3);

struct EmuIpFirmwareConfig {
  size_t part_bytes = 3000;  // most parts (each a little different in size)
  size_t mec_bytes = 0;      // the RS64 MEC code; 0: part_bytes
  uint16_t rlc_minor = 3;
};

struct EmuIpFirmwareSet {
  std::map<std::string, std::vector<uint8_t>> files;  // "gc_11_0_0_mec.bin" -> bytes
  std::vector<AmIpFirmware> expected;                 // in PSP load order (name left empty)
};

// The seven files of a Navi31 (GC 11.0.0, SMU 13.0.0, SDMA 6.0.0).
EmuIpFirmwareSet Navi31IpFirmware(const EmuIpFirmwareConfig& config = {});
// Writes every file under `dir` (e.g. "/lib/firmware/amdgpu").
void InstallIpFirmware(EmulatedKernelIo& io, const std::string& dir, const EmuIpFirmwareSet& set);

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_IP_FIRMWARE_FILES_H_
