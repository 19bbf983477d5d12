// SMU (MP1 13.0.0, Navi31) bring-up for the AM path: the power management
// firmware (PMFW) the PSP loaded is asked, through its register mailbox, to
// take over power management and to keep the clocks at their maximum.
// Sequence as Linux (smu_cmn.c, smu_v13_0.c, smu_v13_0_0_ppt.c) and
// tinygrad's AM_SMU:
//
//   SendMessage (smu_cmn_send_smc_msg_with_param): poll C2PMSG_90 until it
//     is non-zero (the previous message is done; 0 after the bound is
//     DeadlineExceeded, a value that is no PPSMC_Result_* is DataLoss and
//     nothing is sent), write C2PMSG_90 = 0, the argument to C2PMSG_82, the
//     message id to C2PMSG_66, poll C2PMSG_90 until non-zero again, map the
//     response (OK; 0xFF Failed -> Internal; 0xFE unknown -> Unimplemented;
//     0xFD prerequisites -> FailedPrecondition; 0xFC busy -> Unavailable;
//     0xFB debug -> Internal; anything else -> DataLoss), and read the result
//     from C2PMSG_82. Every error names the message, its id and argument,
//     the register and the value read.
//   Init (smu_hw_init / smu_smc_hw_setup for 13.0.0 with SCPM, as tinygrad):
//     wait for MP1_FIRMWARE_FLAGS bit 0 (read over SMN through the device's
//     AmIndirectRegs: NBIO's RSMU_INDEX/DATA pair, index read back); GetDriverIfVersion,
//     GetSmuVersion, checked against smu::kDriverIfVersion and PMFW 78.x (a mismatch is
//     FailedPrecondition naming both, unless allow_version_mismatch); SetDriverDramAddrHigh/Low
//     with the MC address of a 16 KiB driver table in VRAM; optionally
//     SetAllowedFeaturesMaskHigh/Low (Linux sends them only without SCPM,
//     which Navi31 boards have on); EnableAllSmuFeatures.
//   SetPerformanceLevel (smu_v13_0_set_performance_level): for GFXCLK, UCLK,
//     SOCCLK, FCLK in Linux's order: GetMaxDpmFreq (kAuto: and
//     GetMinDpmFreq), then SetSoftMaxByFreq and SetSoftMinByFreq; kHigh pins
//     both at the maximum, so the PMFW never drops to power-saving clocks.
//     A clock whose DPM reports 0 MHz is skipped (Linux: "if (min && max)").
//   Mode1Reset: Mode1Reset(0), then Linux's 500 ms wait.
//   PrepareForUnload: PrepareMp1ForUnload(0x55).
//
// Every wait is bounded; a removed device is Unavailable naming the register.
// Addresses given to the SMU are MC addresses (AmGmc::VramMc).
#ifndef UOP_DRIVERS_AM_PCI_SMU_SMU_H_
#define UOP_DRIVERS_AM_PCI_SMU_SMU_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/gmc.h"
#include "drivers/am/pci/indirect_regs.h"
#include "drivers/am/pci/smu/smu_regs.h"
#include "drivers/am/pci/vram_arena.h"

namespace uop {

struct AmSmuConfig {
  // A message's response (and the previous one's, before sending). Linux
  // polls usec_timeout (100 ms) * 20 times with udelay(1): >= 2 s.
  absl::Duration message_timeout = absl::Seconds(2);
  // MP1_FIRMWARE_FLAGS bit 0 after the PSP loaded the PMFW.
  absl::Duration alive_timeout = absl::Seconds(1);
  // After Mode1Reset answered (SMU13_MODE1_RESET_WAIT_TIME_IN_MS).
  absl::Duration mode1_reset_wait = absl::Milliseconds(500);
  // Accept a PMFW whose versions differ from the ones this driver follows.
  bool allow_version_mismatch = false;
  // Sent as SetAllowedFeaturesMaskHigh/Low before EnableAllSmuFeatures when
  // set (Linux's path without SCPM); unset: not sent (Navi31 with SCPM).
  std::optional<uint64_t> allowed_features;
};

enum class AmSmuPerfLevel {
  kHigh,  // soft min = soft max = the DPM maximum (AMD_DPM_FORCED_LEVEL_HIGH)
  kAuto,  // soft range = [DPM minimum, DPM maximum] (AMD_DPM_FORCED_LEVEL_AUTO)
};

// What SetPerformanceLevel set for one clock (MHz; 0/0 when skipped).
struct AmSmuClockRange {
  smu::PpClk clock;
  uint32_t soft_min_mhz = 0, soft_max_mhz = 0;
};

class AmSmu {
 public:
  // Allocates the driver table (16 KiB, 4 KiB-aligned) from `arena`. SMN
  // reads go through `indirect` (the device's one AmIndirectRegs).
  static absl::StatusOr<std::unique_ptr<AmSmu>> Create(const AmRegisterIo& regs,
                                                       AmIndirectRegs& indirect, const AmGmc& gmc,
                                                       AmVramArena& arena, AmSmuConfig config = {});

  absl::Status Init();

  // One mailbox message; returns C2PMSG_82 after an OK response.
  absl::StatusOr<uint32_t> SendMessage(smu::SmuMsg msg, uint32_t arg = 0);
  // MP1_FIRMWARE_FLAGS bit 0, one SMN read.
  absl::StatusOr<bool> FirmwareAlive();
  absl::Status WaitFirmwareAlive();
  // An SMN register (byte address) through the indirect pair.
  absl::StatusOr<uint32_t> ReadSmn(uint32_t address);

  // Needs Init (the DPM features enabled). Returns what was set per clock.
  absl::StatusOr<std::vector<AmSmuClockRange>> SetPerformanceLevel(AmSmuPerfLevel level);
  // Resets the whole chip; the SMU must be brought up again afterwards.
  absl::Status Mode1Reset();
  absl::Status PrepareForUnload();

  uint32_t smu_version() const { return smu_version_; }
  uint32_t driver_if_version() const { return if_version_; }
  uint64_t driver_table() const { return driver_table_; }  // VRAM physical
  bool features_enabled() const { return features_enabled_; }

  static constexpr uint64_t kDriverTableBytes = 0x4000;  // tinygrad's; Linux sizes it per table

 private:
  AmSmu(const AmRegisterIo& regs, AmIndirectRegs& indirect, const AmGmc& gmc, AmSmuConfig config)
      : regs_(regs), indirect_(indirect), gmc_(gmc), config_(config) {}
  // Polls C2PMSG_90 until non-zero; `what` says why (for the timeout).
  absl::StatusOr<uint32_t> WaitResponse(const std::string& what);
  absl::Status CheckVersions();

  const AmRegisterIo& regs_;
  AmIndirectRegs& indirect_;
  const AmGmc& gmc_;
  const AmSmuConfig config_;
  uint64_t driver_table_ = 0;
  uint32_t smu_version_ = 0, if_version_ = 0;
  bool features_enabled_ = false;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_SMU_SMU_H_
