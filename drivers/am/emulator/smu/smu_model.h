// Device model of the SMU (MP1 13.0.0 PMFW) of an emulated Navi31 on the
// trapped register file (register_file.h): the message mailbox
// (C2PMSG_66/82/90), MP1_FIRMWARE_FLAGS behind NBIO's SMN index/data pair,
// the DPM clock ranges, and the order the driver drives them in.
//
// Mailbox: a write of C2PMSG_66 starts a message with the argument C2PMSG_82
// holds; C2PMSG_90 keeps its stored value until `response_after_reads`
// reads later the message executes (the driver must poll), then reads the
// response, and C2PMSG_82 the result. Messages it answers:
//   TestMessage (arg + 1), GetSmuVersion, GetDriverIfVersion (config),
//   SetAllowedFeaturesMaskLow/High, Enable/DisableAllSmuFeatures,
//   SetDriverDramAddrHigh/Low (must be inside VRAM: MC addresses are
//   translated with MMMC_VM_FB_LOCATION_BASE as the GMC model serves it),
//   SetToolsDramAddrHigh/Low, Get{Min,Max}DpmFreq and
//   Set{Soft{Min,Max},HardMin}ByFreq for GFXCLK/SOCCLK/UCLK/FCLK (other
//   clock ids: PPSMC_Result_Failed; soft/hard limits before the features
//   are enabled: CmdRejectedPrereq), Mode1Reset (state back to boot),
//   PrepareMp1ForUnload. Any other id, defined by the header or not, is
//   answered UnknownCmd (0xFE): this model does not implement it.
// Config switches: a PMFW that never starts (firmware flags stay 0), a dead
// SMU (messages never answered), the first N messages answered busy
// (0xFC), other versions, and forced responses per message id.
//
// Violations (the driver's faults):
//  * a message written while the previous one is unanswered, without the
//    previous response read (non-zero C2PMSG_90 polled), without C2PMSG_90
//    zeroed since the previous message, or without its argument written;
//  * the argument written while a message executes; C2PMSG_90 written
//    non-zero, or cleared while a message executes;
//  * EnableAllSmuFeatures before the driver table address;
//    SetDriverDramAddrLow without High first, or an address outside VRAM;
//  * a soft minimum above the soft maximum (or a maximum below the minimum),
//    a frequency outside the clock's DPM range;
//  * any message after PrepareMp1ForUnload but Mode1Reset (answered
//    CmdRejectedPrereq);
//  * (the register file's extended space, shared with the NBIO model:
//    RSMU_DATA accessed with no address in RSMU_INDEX, an SMN address no
//    model serves);
//  * FinishChecks: a message whose response the driver never read.
#ifndef UOP_DRIVERS_AM_EMULATOR_SMU_SMU_MODEL_H_
#define UOP_DRIVERS_AM_EMULATOR_SMU_SMU_MODEL_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/smu/smu_regs.h"

namespace uop {

struct EmulatedSmuConfig {
  int response_after_reads = 3;       // C2PMSG_90 reads until a message is answered
  bool never_respond = false;         // a dead SMU
  int alive_after_reads = 0;          // MP1_FIRMWARE_FLAGS reads before bit 0 is set
  bool never_alive = false;           // the PMFW never starts
  int busy_messages = 0;              // the first N messages answered CmdRejectedBusy
  uint32_t initial_response = 1;      // C2PMSG_90 at start: the PMFW is ready
  uint32_t smu_version = 0x004E5100;  // 78.81.0: representative, not from a board
  uint32_t driver_if_version = smu::kDriverIfVersion;
  // DPM range (MHz) of GFXCLK, SOCCLK, UCLK, FCLK (PPCLK order):
  // representative of a Navi31 board, not read from one.
  std::array<uint32_t, 4> dpm_min_mhz = {500, 500, 97, 400};
  std::array<uint32_t, 4> dpm_max_mhz = {2526, 1200, 1249, 1900};
  // Message id -> the response it gets instead of executing (tests).
  std::map<uint32_t, uint32_t> forced_responses;
};

class EmulatedSmu {
 public:
  struct Message {
    uint32_t id = 0, arg = 0;
    uint32_t response = 0;  // 0 while unanswered
    uint32_t result = 0;    // C2PMSG_82 after the answer
  };

  // The GPU must serve a table AmRegisterMap accepts (Navi31Ips).
  static absl::StatusOr<std::unique_ptr<EmulatedSmu>> Attach(EmulatedPciGpu& gpu,
                                                             EmulatedSmuConfig config = {});

  // Every message written to C2PMSG_66, in order.
  const std::vector<Message>& messages() const { return messages_; }
  bool firmware_alive() const { return alive_; }
  bool features_enabled() const { return features_enabled_; }
  std::optional<uint64_t> allowed_features() const { return allowed_; }
  // MC address from SetDriverDramAddrHigh/Low, once both arrived.
  std::optional<uint64_t> driver_table_mc() const { return driver_table_mc_; }
  // The limits set for a modelled clock (GFXCLK..FCLK); 0 for others.
  uint32_t soft_min_mhz(smu::PpClk clk) const { return Of(soft_min_, clk); }
  uint32_t soft_max_mhz(smu::PpClk clk) const { return Of(soft_max_, clk); }
  uint32_t hard_min_mhz(smu::PpClk clk) const { return Of(hard_min_, clk); }
  int mode1_resets() const { return mode1_resets_; }
  // Runs `callback` when a Mode1Reset message executes, after the SMU's own
  // state went back to boot (the PMFW reads not-alive again until polled):
  // the chip's other blocks reset with it (EmulatedNavi31 subscribes). It
  // runs inside the register hook that answers the message (the register
  // file's lock held) and must not block on the engine threads.
  void OnMode1Reset(std::function<void()> callback) {
    on_mode1_reset_.push_back(std::move(callback));
  }
  bool unloaded() const { return unloaded_; }
  // Records a violation for a message whose response the driver never read.
  void FinishChecks();

 private:
  EmulatedSmu(EmulatedPciGpu& gpu, AmRegisterMap map, EmulatedSmuConfig config)
      : gpu_(gpu), regs_(gpu.registers()), map_(std::move(map)), config_(std::move(config)) {}
  static uint32_t Of(const std::array<uint32_t, 4>& a, smu::PpClk clk) {
    const size_t i = static_cast<size_t>(clk);
    return i < a.size() ? a[i] : 0;
  }
  uint32_t D(const AmReg& r) const { return map_.Dword(r); }
  void ResetToBoot();
  uint32_t ReadResponse(uint32_t stored);
  void OnResponseWrite(uint32_t value);
  void OnArgWrite(uint32_t value);
  void OnMessage(uint32_t id);
  uint32_t ReadFirmwareFlags();  // SMN MP1_FIRMWARE_FLAGS, through the RSMU pair
  // Executes messages_.back(): returns the response, sets *result.
  uint32_t Execute(const Message& m, uint32_t* result);
  uint32_t ExecuteClock(const Message& m, uint32_t* result);
  void SetDriverTableLow(uint32_t low);

  EmulatedPciGpu& gpu_;
  EmulatedRegisterFile& regs_;
  const AmRegisterMap map_;
  const EmulatedSmuConfig config_;
  // Mailbox.
  bool pending_ = false;
  int reads_ = 0;
  bool response_seen_ = false;  // a non-zero response read since the last message
  bool resp_cleared_ = false;   // C2PMSG_90 written 0 since the last message
  bool arg_written_ = false;    // C2PMSG_82 written since the last message
  int busy_left_ = 0;
  std::vector<Message> messages_;
  // SMN.
  int alive_reads_ = 0;
  bool alive_ = false;
  // Firmware state.
  bool features_enabled_ = false;
  std::optional<uint64_t> allowed_;
  uint32_t allowed_low_ = 0, allowed_high_ = 0;
  std::optional<uint32_t> table_high_;
  std::optional<uint64_t> driver_table_mc_;
  std::optional<uint32_t> tools_high_;
  std::optional<uint64_t> tools_table_mc_;
  std::array<uint32_t, 4> soft_min_{}, soft_max_{}, hard_min_{};
  int mode1_resets_ = 0;
  bool unloaded_ = false;
  std::vector<std::function<void()>> on_mode1_reset_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_SMU_SMU_MODEL_H_
