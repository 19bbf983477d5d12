// PSP (MP0 13.0, Navi3x) bring-up for the AM path: the bootloader stages of
// the sOS firmware, the KM ring, and LOAD_IP_FW through it. Sequence and
// mailbox as Linux's psp_v13_0.c / amdgpu_psp.c (and tinygrad's AM_PSP):
//
//   LoadSos: if C2PMSG_81 (sOS sign of life) is already non-zero the sOS
//     runs and nothing is loaded. Otherwise, for each component present in
//     the file, in Linux's order KDB (LOAD_KEY_DATABASE), SPL
//     (LOAD_TOS_SPL_TABLE), SYS_DRV, SOC_DRV, INTF_DRV, DBG_DRV, RAS_DRV,
//     SOS: wait for C2PMSG_35 bit 31 (bootloader ready), copy the component
//     into a 1 MiB-aligned VRAM buffer (zero-padded), flush HDP, write its MC
//     address >> 20 to C2PMSG_36 and the command to C2PMSG_35, wait for the
//     bootloader again (not after SOS). Then wait for C2PMSG_81 != 0.
//   CreateRing: (a ring left by a previous process: C2PMSG_71 != 0 ->
//     DESTROY_RINGS first) wait for C2PMSG_64 bit 31 (sOS ready), write the
//     ring's MC address to C2PMSG_69/70 and its size to C2PMSG_71, then
//     PSP_RING_TYPE__KM << 16 to C2PMSG_64, and wait for C2PMSG_64 to read
//     the response bit with status 0 (mask 0x8000FFFF == 0x80000000).
//   Submit / LoadIpFw: a 1024-byte psp_gfx_cmd_resp in a VRAM command
//     buffer (cmd_id at +8, command at +28, response status at +864), a
//     64-byte psp_gfx_rb_frame at the write pointer (C2PMSG_67, dwords;
//     cmd buffer MC address, fence MC address, fence value), HDP flush,
//     the new write pointer (modulo the ring) to C2PMSG_67, then poll the
//     fence word in VRAM until it holds the value; the response status must
//     be 0. LOAD_IP_FW (cmd 6) carries the image's MC address (in the 1 MiB
//     buffer), size and GFX_FW_TYPE.
//
//   TMR (psp_tmr_init / psp_tmr_load): LOAD_TOC (0x20) with the sOS file's
//     TOC component in the 1 MiB buffer; the PSP answers the TMR size it
//     needs in psp_gfx_resp.tmr_size (cmd + 864 + 16). The TMR is that size
//     (rounded up to 4 KiB) in VRAM, 1 MiB aligned (PSP_TMR_ALIGNMENT), and
//     SETUP_TMR (5) gets its MC address, size, tmr_flags.virt_phy_addr and
//     its VRAM physical address (amdgpu_gmc_vram_pa; no XGMI offset here).
//     A file without a TOC keeps Linux's default PSP_TMR_SIZE (4 MiB).
//   IP firmware and autoload (psp_hw_start, psp_load_non_psp_fw on MP0 13.0,
//     which has pmfw_centralized_cstate_management and autoload_supported):
//     the SMU's PMFW is loaded after LOAD_TOC and before SETUP_TMR; then
//     every other image in enum AMDGPU_UCODE_ID order (ip_firmware.h), and
//     AUTOLOAD_RLC (0x21) once RLC_G, the last GFX image, arrived. Images
//     larger than the 1 MiB buffer go through a VRAM staging buffer sized to
//     the largest (Linux keeps all images in one ucode BO instead).
//
// Every wait is bounded (AmPspConfig::wait_timeout) and a timeout is
// DeadlineExceeded naming the register (or the fence) and what it read.
// Addresses given to the PSP are MC addresses (AmGmc::VramMc): the GMC must
// be initialised first (Linux brings up GMC and IH before PSP).
#ifndef UOP_DRIVERS_AM_PCI_PSP_H_
#define UOP_DRIVERS_AM_PCI_PSP_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/gmc.h"
#include "drivers/am/pci/ip_firmware.h"
#include "drivers/am/pci/psp_firmware.h"
#include "drivers/am/pci/vram_arena.h"
#include "drivers/common/mmio.h"

namespace uop {

// psp_gfx_if.h / amdgpu_psp.h constants.
namespace psp {
inline constexpr uint32_t kBlReady = 1u << 31;  // C2PMSG_35
// enum psp_bootloader_cmd
inline constexpr uint32_t kBlLoadSysDrv = 0x10000;
inline constexpr uint32_t kBlLoadSosDrv = 0x20000;
inline constexpr uint32_t kBlLoadKeyDatabase = 0x80000;
inline constexpr uint32_t kBlLoadSocDrv = 0xB0000;
inline constexpr uint32_t kBlLoadDbgDrv = 0xC0000;
inline constexpr uint32_t kBlLoadIntfDrv = 0xD0000;
inline constexpr uint32_t kBlLoadRasDrv = 0xE0000;
inline constexpr uint32_t kBlLoadTosSplTable = 0x10000000;
// C2PMSG_64
inline constexpr uint32_t kRingTypeKm = 2;              // PSP_RING_TYPE__KM, written << 16
inline constexpr uint32_t kCtrlDestroyRings = 0x30000;  // GFX_CTRL_CMD_ID_DESTROY_RINGS
inline constexpr uint32_t kResponse = 1u << 31;
// enum psp_gfx_cmd_id
inline constexpr uint32_t kCmdSetupTmr = 5;
inline constexpr uint32_t kCmdLoadIpFw = 6;
inline constexpr uint32_t kCmdLoadToc = 0x20;
inline constexpr uint32_t kCmdAutoloadRlc = 0x21;
// struct psp_gfx_cmd_setup_tmr: tmr_flags bit 1 (bitfield.virt_phy_addr):
// the command carries both the MC and the physical address.
inline constexpr uint32_t kTmrFlagVirtPhyAddr = 1u << 1;
inline constexpr uint64_t kTmrAlignment = 1 << 20;     // PSP_TMR_ALIGNMENT
inline constexpr uint32_t kDefaultTmrSize = 0x400000;  // PSP_TMR_SIZE (all but Aldebaran)
// Layouts.
inline constexpr size_t kCmdRespSize = 1024;  // struct psp_gfx_cmd_resp
inline constexpr size_t kCmdIdOffset = 8;
inline constexpr size_t kCmdOffset = 28;    // union psp_gfx_commands
inline constexpr size_t kRespOffset = 864;  // struct psp_gfx_resp (status first)
inline constexpr size_t kRespTmrSize = 16;  // psp_gfx_resp.tmr_size, from kRespOffset
inline constexpr size_t kFrameSize = 64;    // struct psp_gfx_rb_frame
inline constexpr uint64_t kOneMeg = 1 << 20;
inline constexpr uint64_t kRingSize = 0x10000;
}  // namespace psp

struct AmPspConfig {
  absl::Duration wait_timeout = absl::Seconds(1);
};

class AmPsp {
 public:
  // Allocates the 1 MiB firmware buffer (1 MiB-aligned), the command buffer,
  // the fence page and the ring in VRAM. `arena` must outlive the AmPsp
  // (the TMR and a staging buffer for large images are allocated later).
  static absl::StatusOr<std::unique_ptr<AmPsp>> Create(const AmRegisterIo& regs,
                                                       const MmioRegion& vram, AmGmc& gmc,
                                                       AmVramArena& arena, AmPspConfig config = {});

  absl::StatusOr<bool> SosAlive() const;
  // The bootloader stages of an sOS firmware file; returns once sOS is alive.
  absl::Status LoadSos(const PspFirmware& sos);
  absl::Status CreateRing();
  // One GFX command through the ring: `command` is copied to +28 of a
  // zeroed psp_gfx_cmd_resp. Returns the response status (0 = success) or
  // an error when the PSP does not answer.
  absl::StatusOr<uint32_t> Submit(uint32_t cmd_id, absl::Span<const uint8_t> command);
  // The psp_gfx_resp dword at `offset` (from cmd + 864) of the last command.
  absl::StatusOr<uint32_t> ResponseWord(size_t offset) const;
  // LOAD_IP_FW of `image` as GFX_FW_TYPE `fw_type` (from the 1 MiB buffer,
  // or a staging buffer for larger images); a non-zero response status is an
  // error naming it. No ordering checks: LoadIpFirmwares / BringUp have them.
  absl::Status LoadIpFw(uint32_t fw_type, absl::Span<const uint8_t> image);

  // LOAD_TOC of the file's TOC component; returns the TMR size the PSP
  // asks for (also kept for SetupTmr). A file without a TOC: no command, the
  // default 4 MiB. A reply of 0 bytes is DataLoss (Linux would set up no
  // TMR, which MP0 13.0's RLC autoload cannot do without).
  absl::StatusOr<uint32_t> LoadToc(const PspFirmware& sos);
  // Allocates the TMR (once) and sends SETUP_TMR; refused before CreateRing.
  absl::Status SetupTmr();
  // LOAD_IP_FW of each image in the given order (ReadAmIpFirmware's): the
  // SMU only before SetupTmr, everything else only after it
  // (FailedPrecondition otherwise, naming the image).
  absl::Status LoadIpFirmwares(absl::Span<const AmIpFirmware> images);
  // GFX_CMD_ID_AUTOLOAD_RLC; refused (FailedPrecondition) before RLC_G was
  // loaded. The GC side then reports the autoload through the RLC's
  // bootload status (the GFX bring-up polls it).
  absl::Status AutoloadRlc();
  // The whole PSP step in Linux's order: LoadSos, CreateRing, LoadToc, the
  // SMU image (if `images` has one, it must be first), SetupTmr, the other
  // images, AutoloadRlc.
  absl::Status BringUp(const PspFirmware& sos, absl::Span<const AmIpFirmware> images);

  uint64_t fw_buffer() const { return fw_buf_; }  // VRAM physical
  uint64_t cmd_buffer() const { return cmd_buf_; }
  uint64_t fence_buffer() const { return fence_buf_; }
  uint64_t ring() const { return ring_; }
  uint32_t last_fence() const { return fence_value_; }
  uint64_t tmr() const { return tmr_; }  // VRAM physical; 0 before SetupTmr
  uint32_t tmr_size() const { return tmr_size_; }
  bool tmr_ready() const { return tmr_ready_; }
  bool autoload_started() const { return autoload_started_; }

 private:
  AmPsp(const AmRegisterIo& regs, const MmioRegion& vram, AmGmc& gmc, AmVramArena& arena,
        AmPspConfig config)
      : regs_(regs), vram_(vram), gmc_(gmc), arena_(arena), config_(config) {}
  // Polls `reg` until (value & mask) == want, or until non-zero.
  absl::Status WaitFor(const AmReg& reg, uint32_t mask, uint32_t want, const char* what,
                       bool nonzero = false);
  // Copies `bytes` into the 1 MiB buffer (rest of the used 4 KiB zeroed)
  // and flushes HDP.
  absl::Status StageInFwBuffer(absl::Span<const uint8_t> bytes, const char* what);
  absl::Status LoadComponent(const PspFirmware& sos, PspFwType type, uint32_t bl_cmd);
  // Copies an IP image into VRAM (the 1 MiB buffer or the staging buffer)
  // and returns its VRAM address.
  absl::StatusOr<uint64_t> StageIpImage(absl::Span<const uint8_t> image);
  absl::Status EnsureStaging(uint64_t bytes);

  const AmRegisterIo& regs_;
  const MmioRegion& vram_;
  AmGmc& gmc_;
  AmVramArena& arena_;
  const AmPspConfig config_;
  uint64_t fw_buf_ = 0, cmd_buf_ = 0, fence_buf_ = 0, ring_ = 0;
  bool ring_created_ = false;
  uint32_t fence_value_ = 0;
  uint32_t tmr_size_ = psp::kDefaultTmrSize;
  uint64_t tmr_ = 0;
  bool tmr_ready_ = false;
  uint64_t staging_ = 0, staging_size_ = 0;  // for images over 1 MiB
  bool rlc_g_loaded_ = false;
  bool autoload_started_ = false;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_PSP_H_
