// Device model of the PSP (MP0 13.0) of an emulated Navi31 on the trapped
// register file: the bootloader mailbox, the sOS sign of life, the KM ring
// and the GFX commands it carries. It answers the driver's reads and checks
// its handshake order, recording every breach as a violation
// (register_file.h):
//
// Bootloader (before sOS runs):
//  * C2PMSG_35 reads bit 31 (ready) only after `ready_after_reads` reads
//    since the last command (`never_ready`: never, a hung bootloader);
//  * a command written to C2PMSG_35 while the driver has not seen the ready
//    bit since the previous command, with no C2PMSG_36 (address) written
//    since the previous command, an address outside VRAM or not 1 MiB
//    aligned, an unknown command, SOS before SYS_DRV, or any command once sOS
//    runs: violation. Accepted commands record the component: the command,
//    VRAM address and the first `snapshot_bytes` bytes there;
//  * after LOAD_SOSDRV, C2PMSG_81 turns non-zero after `sos_after_reads`
//    reads, and C2PMSG_64 reads the response bit (sOS ready for a ring).
// Ring (after sOS):
//  * a C2PMSG_64 command before sOS is alive: violation (and ignored); KM
//    ring create (2 << 16) without C2PMSG_69/70/71 written since sOS came up,
//    a size that is not a whole number of 64-byte frames, or an address
//    outside VRAM: violation, answered with a non-zero status;
//    DESTROY_RINGS drops the ring;
//  * a C2PMSG_67 write with no ring, or not on a frame boundary: violation;
//    otherwise each new frame is executed: the command buffer (MC address
//    in the frame) is read and executed (below), an unknown command gets
//    status 0xFFFF0002, and the frame's fence value is written at its fence
//    address (`drop_fences`: never, a hung sOS).
// GFX commands, in MP0 13.0's order (LOAD_TOC, SMU, SETUP_TMR, the other
// images, AUTOLOAD_RLC):
//  * LOAD_TOC records the TOC bytes and answers `toc_tmr_size` in
//    psp_gfx_resp.tmr_size; after SETUP_TMR: violation;
//  * SETUP_TMR: before LOAD_TOC, twice, smaller than the TOC asked, not whole
//    4 KiB pages, MC address not 1 MiB aligned (PSP_TMR_ALIGNMENT) or
//    outside VRAM, virt_phy_addr not set or the physical address not the
//    MC address's VRAM offset: violation (the bad ones answered 0xFFFF0007);
//    recorded;
//  * LOAD_IP_FW records fw_type, size and the bytes; violations: SMU before
//    LOAD_TOC or after SETUP_TMR, another image before the SMU or before
//    SETUP_TMR, a GFX image after AUTOLOAD_RLC, an image overlapping the TMR
//    or outside VRAM;
//  * AUTOLOAD_RLC before SETUP_TMR, before every image the RLC autoload
//    boots (RLC_G, IMU_I, IMU_D, RS64 PFP/ME/MEC, SDMA TH0) arrived, or a
//    second time: violation (answered 0xFFFF0001); otherwise the autoload is
//    complete at once and every OnAutoload callback runs. The model writes
//    no GC register: the GFX model subscribes and sets the RLC bootload
//    status the GFX bring-up polls.
// MC addresses are translated with MMMC_VM_FB_LOCATION_BASE as the GMC
// model serves it.
#ifndef UOP_DRIVERS_AM_EMULATOR_PSP_MODEL_H_
#define UOP_DRIVERS_AM_EMULATOR_PSP_MODEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/pci/am_regs.h"

namespace uop {

struct EmulatedPspConfig {
  int ready_after_reads = 2;
  bool never_ready = false;
  int sos_after_reads = 2;
  bool sos_alive_at_start = false;
  bool drop_fences = false;
  size_t snapshot_bytes = 4096;
  // psp_gfx_resp.tmr_size answered to LOAD_TOC (tinygrad reserves 0x1300000
  // for MP0 13.0; the real answer depends on the firmware).
  uint32_t toc_tmr_size = 0x1300000;
};

class EmulatedPsp {
 public:
  struct BootloaderLoad {
    uint32_t command = 0;
    uint64_t vram = 0;
    std::vector<uint8_t> bytes;  // the first snapshot_bytes at `vram`
  };
  struct IpFwLoad {
    uint32_t fw_type = 0;
    uint32_t size = 0;
    std::vector<uint8_t> bytes;  // `size` bytes at its address
    uint64_t vram = 0;           // where they were
  };
  struct TmrSetup {
    uint64_t mc = 0, vram = 0;  // vram: the MC address translated
    uint32_t size = 0, flags = 0;
    uint64_t system_pa = 0;  // what the command said
  };

  static absl::StatusOr<std::unique_ptr<EmulatedPsp>> Attach(EmulatedPciGpu& gpu,
                                                             EmulatedPspConfig config = {});

  const std::vector<BootloaderLoad>& bootloader_loads() const { return bl_loads_; }
  const std::vector<IpFwLoad>& ip_fw_loads() const { return ip_loads_; }
  bool sos_alive() const { return sos_alive_; }
  bool ring_created() const { return ring_size_ != 0; }
  int frames_executed() const { return frames_; }
  const std::vector<uint8_t>& toc_bytes() const { return toc_; }  // empty: no LOAD_TOC
  const std::optional<TmrSetup>& tmr() const { return tmr_; }
  bool autoload_started() const { return autoload_; }
  // Runs `callback` when AUTOLOAD_RLC is accepted (the RLC autoload is then
  // complete in this model): the GFX model's hook.
  void OnAutoload(std::function<void()> callback) { on_autoload_.push_back(std::move(callback)); }

  // A MODE1 reset of the chip: the bootloader starts over (sOS not running,
  // no ring, no TOC/TMR, no image loaded, no autoload). The records above
  // (bootloader_loads, ip_fw_loads, frames_executed) are the chip's history
  // and are kept. Restoring the mailbox registers to their power-on values
  // is the caller's (EmulatedNavi31 restores the whole register file).
  void ChipReset();
  // What another driver (amdgpu, a crashed process) leaves: sOS running
  // (C2PMSG_81 non-zero, C2PMSG_64 ready) with nothing this model saw load it.
  void SetSosRunning();

 private:
  EmulatedPsp(EmulatedPciGpu& gpu, AmRegisterMap map, EmulatedPspConfig config)
      : gpu_(gpu), regs_(gpu.registers()), map_(std::move(map)), config_(config) {}
  uint32_t D(const AmReg& r) const { return map_.Dword(r); }
  // VRAM physical address of MC `mc` for `bytes`, or -1 when outside VRAM.
  int64_t Vram(uint64_t mc, uint64_t bytes) const;
  uint32_t ReadBl(uint32_t stored);
  void OnBlCommand(uint32_t cmd);
  uint32_t ReadSos(uint32_t stored);
  void OnRingControl(uint32_t value);
  void OnWptr(uint32_t wptr);
  void ExecuteFrame(uint32_t dword);
  // The GFX commands; `cmd` is the 1024-byte psp_gfx_cmd_resp, the result
  // the response status.
  uint32_t LoadIpFw(const std::vector<uint8_t>& cmd);
  uint32_t LoadToc(const std::vector<uint8_t>& cmd, uint64_t cmd_pa);
  uint32_t SetupTmr(const std::vector<uint8_t>& cmd);
  uint32_t AutoloadRlc();

  EmulatedPciGpu& gpu_;
  EmulatedRegisterFile& regs_;
  const AmRegisterMap map_;
  const EmulatedPspConfig config_;
  // Bootloader.
  int bl_reads_ = 0;
  bool ready_seen_ = false;  // the driver has read bit 31 since the last command
  bool addr_written_ = false;
  bool sys_drv_loaded_ = false;
  bool sos_loaded_ = false;
  int sos_reads_ = 0;
  bool sos_alive_ = false;
  // Ring.
  bool ring_args_[3] = {false, false, false};  // C2PMSG_69/70/71 since sOS
  uint64_t ring_mc_ = 0;
  uint32_t ring_size_ = 0;
  uint32_t wptr_ = 0;          // dwords, as last executed
  bool ctrl_pending_ = false;  // a C2PMSG_64 command awaiting its response
  int ctrl_reads_ = 0;
  uint32_t ctrl_status_ = 0;
  int frames_ = 0;
  std::vector<BootloaderLoad> bl_loads_;
  std::vector<IpFwLoad> ip_loads_;
  // GFX commands.
  std::vector<uint8_t> toc_;
  std::optional<TmrSetup> tmr_;
  std::set<uint32_t> loaded_types_;
  bool autoload_ = false;
  std::vector<std::function<void()>> on_autoload_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_PSP_MODEL_H_
