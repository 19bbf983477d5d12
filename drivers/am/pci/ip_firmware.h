// The IP firmware files the PSP loads for a GC 11 chip (Navi3x) before it
// starts the RLC autoload, read the way Linux reads them
// (/lib/firmware/amdgpu/, amdgpu_ucode.h headers, amdgpu_ucode.c's
// amdgpu_ucode_init_single_fw for where each part's bytes are):
//
//   smu_<MP1>.bin        smc_firmware_header v1.0 / v2.0 / v2.1: the PMFW
//                        (ucode_size_bytes at ucode_array_offset_bytes) as
//                        GFX_FW_TYPE_SMU; the soft pptables (v2.x) are the
//                        SMU driver's, only bounds-checked here.
//   sdma_<SDMA0>.bin     sdma_firmware_header v2.0: SDMA_UCODE_TH0 (context
//                        thread, ctx_ucode_size_bytes at ucode_array_offset)
//                        and SDMA_UCODE_TH1 (control thread, at
//                        ctl_ucode_offset).
//   gc_<GC>_{pfp,me,mec}.bin  gfx_firmware_header v2.0 (RS64): the ucode
//                        (ucode_size_bytes of v2.0 at the common header's
//                        ucode_array_offset_bytes, as Linux) as RS64_PFP /
//                        RS64_ME / RS64_MEC, and the data part
//                        (data_size_bytes at data_offset_bytes) once per pipe
//                        as RS64_PFP_P0/P1_STACK, RS64_ME_P0/P1_STACK,
//                        RS64_MEC_P0..P3_STACK (gfx_v11_0_init_microcode).
//   gc_<GC>_imu.bin      imu_firmware_header v1.0: IMU_I (iram size at
//                        ucode_array_offset) and IMU_D (dram size right after).
//   gc_<GC>_rlc.bin      rlc_firmware_header v2.0-2.3: RLC_G (ucode_size_bytes
//                        at ucode_array_offset); v2.1 the save/restore lists
//                        (SRM_CNTL, GPM_MEM, SRM_MEM), v2.2 RLC_IRAM and
//                        RLC_DRAM_BOOT, v2.3 RLC_P and RLC_V, each when its
//                        size is non-zero (amdgpu_gfx_rlc_init_microcode).
//
// MES (gc_<GC>_mes_2.bin / _mes1.bin) is NOT read: uop maps its queues
// through KIQ, not MES (Linux with amdgpu.mes=0 registers no MES ucode
// either). Were it loaded on MP0 13.0, psp_get_fw_type gives CP_MES 33 /
// MES_STACK 34 (scheduler pipe) and CP_MES_KIQ 81 / MES_KIQ_STACK 82 (newer
// PSPs, e.g. 15.0.8, use RS64_MES 76 / RS64_KIQ 78 instead).
//
// Every offset and size is checked against the file: a part outside it
// (32-bit wrap included), a required part that is empty, `size_bytes` not
// the file length, a file shorter than its versioned header are DataLoss
// naming the file and the field; header versions other than the ones above
// are Unimplemented. A missing file is NotFound naming the path.
#ifndef UOP_DRIVERS_AM_PCI_IP_FIRMWARE_H_
#define UOP_DRIVERS_AM_PCI_IP_FIRMWARE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "drivers/am/pci/ip_discovery.h"
#include "drivers/common/kernel_io.h"

namespace uop {

// enum psp_gfx_fw_type (psp_gfx_if.h): what LOAD_IP_FW is told each image is.
namespace gfx_fw {
inline constexpr uint32_t kRlcV = 7;
inline constexpr uint32_t kRlcG = 8;
inline constexpr uint32_t kSmu = 18;
inline constexpr uint32_t kRlcRestoreListGpmMem = 20;
inline constexpr uint32_t kRlcRestoreListSrmMem = 21;
inline constexpr uint32_t kRlcRestoreListSrmCntl = 22;
inline constexpr uint32_t kRlcP = 25;
inline constexpr uint32_t kRlcIram = 26;
inline constexpr uint32_t kRlcDramBoot = 48;
inline constexpr uint32_t kImuI = 68;
inline constexpr uint32_t kImuD = 69;
inline constexpr uint32_t kSdmaUcodeTh0 = 71;
inline constexpr uint32_t kSdmaUcodeTh1 = 72;
inline constexpr uint32_t kRs64Pfp = 87;
inline constexpr uint32_t kRs64Me = 88;
inline constexpr uint32_t kRs64Mec = 89;
inline constexpr uint32_t kRs64PfpP0Stack = 90;
inline constexpr uint32_t kRs64PfpP1Stack = 91;
inline constexpr uint32_t kRs64MeP0Stack = 92;
inline constexpr uint32_t kRs64MeP1Stack = 93;
inline constexpr uint32_t kRs64MecP0Stack = 94;
inline constexpr uint32_t kRs64MecP1Stack = 95;
inline constexpr uint32_t kRs64MecP2Stack = 96;
inline constexpr uint32_t kRs64MecP3Stack = 97;
}  // namespace gfx_fw

// "RS64_MEC", "SMU", ...; "fw_type N" for the others.
std::string GfxFwTypeName(uint32_t fw_type);

// One LOAD_IP_FW image.
struct AmIpFirmware {
  uint32_t fw_type = 0;        // GFX_FW_TYPE_*
  std::string name;            // "gc_11_0_0_mec.bin RS64_MEC_P0_STACK", for messages
  std::vector<uint8_t> image;  // the bytes the PSP receives
};

// The CP engines with an RS64 firmware file.
enum class AmCpEngine { kPfp, kMe, kMec };

// Parsers of one file each; `name` is used in errors and in AmIpFirmware::name.
// The images come in amdgpu_ucode_id order within the file.
absl::StatusOr<std::vector<AmIpFirmware>> ParseSmuFirmware(absl::Span<const uint8_t> bytes,
                                                           absl::string_view name);
absl::StatusOr<std::vector<AmIpFirmware>> ParseSdmaFirmware(absl::Span<const uint8_t> bytes,
                                                            absl::string_view name);
absl::StatusOr<std::vector<AmIpFirmware>> ParseCpFirmware(absl::Span<const uint8_t> bytes,
                                                          absl::string_view name,
                                                          AmCpEngine engine);
absl::StatusOr<std::vector<AmIpFirmware>> ParseImuFirmware(absl::Span<const uint8_t> bytes,
                                                           absl::string_view name);
absl::StatusOr<std::vector<AmIpFirmware>> ParseRlcFirmware(absl::Span<const uint8_t> bytes,
                                                           absl::string_view name);

// The file names Linux requests for the chip in `table` ("smu_13_0_0.bin",
// "sdma_6_0_0.bin", "gc_11_0_0_pfp.bin", ..., "gc_11_0_0_rlc.bin"). GC other
// than 11.x (no RS64 + IMU + RLC autoload) is Unimplemented; a table without
// MP1 or SDMA0 is FailedPrecondition.
absl::StatusOr<std::vector<std::string>> AmIpFirmwareFileNames(const IpDiscoveryTable& table);

// Reads and parses every file under `dir` (e.g. "/lib/firmware/amdgpu") and
// returns the images in the order Linux's PSP loads them on MP0 13.0 with RLC
// autoload: the SMU first (psp_hw_start loads the PMFW before SETUP_TMR), then
// the rest in enum AMDGPU_UCODE_ID order (SDMA TH0/TH1, RS64 PFP/ME/MEC,
// their stacks, IMU_I/D, RLC lists, IRAM, DRAM, RLC_P, RLC_V, RLC_G last;
// psp_load_non_psp_fw starts the autoload right after RLC_G).
absl::StatusOr<std::vector<AmIpFirmware>> ReadAmIpFirmware(KernelIo& io, const std::string& dir,
                                                           const IpDiscoveryTable& table);

// Sorts images into that order (stable; unknown types last).
void SortInPspLoadOrder(std::vector<AmIpFirmware>& images);

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_IP_FIRMWARE_H_
