// The SMU (MP1 13.0.0, Navi31 "PMFW") interface the AM bring-up uses:
// mailbox registers, message ids, response codes, clock ids, versions.
//
// Sources (facts, not code): Linux drivers/gpu/drm/amd/pm/swsmu/
//  * smu13/smu_v13_0_0_ppt.c: the mailbox is regMP1_SMN_C2PMSG_66 (message),
//    _82 (argument / result), _90 (response), all MP1 BASE_IDX 0; the same
//    dword offsets are in mp_13_0_0_offset.h and tinygrad's autogen regs.py
//    (mp_13_0_0: 642 / 658 / 666);
//  * inc/pmfw_if/smu_v13_0_0_ppsmc.h: message ids and PPSMC_Result_* codes;
//  * inc/pmfw_if/smu13_driver_if_v13_0_0.h: PPCLK_e and
//    SMU13_0_0_DRIVER_IF_VERSION (0x3D in current kernels; it was 0x27 and
//    0x32 in older ones, which is why a mismatch can be overridden);
//  * inc/smu_v13_0.h: MP1_Public (0x03b00000) | smnMP1_FIRMWARE_FLAGS
//    (0x3010024), bit 0 INTERRUPTS_ENABLED (set once the PMFW runs);
//  * amdgpu/nbio_v4_3.c: RREG32_PCIE on NBIO 4.3 goes through
//    regBIF_BX_PF0_RSMU_INDEX / _DATA: AmIndirectRegs' kNbio430RsmuPair
//    (drivers/am/pci/indirect_regs.h), shared with every other indirect user.
#ifndef UOP_DRIVERS_AM_PCI_SMU_SMU_REGS_H_
#define UOP_DRIVERS_AM_PCI_SMU_SMU_REGS_H_

#include <cstdint>

#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/ip_discovery.h"

namespace uop {

struct AmSmuRegs {
  AmReg msg;   // regMP1_SMN_C2PMSG_66: message id; writing it starts the message
  AmReg arg;   // regMP1_SMN_C2PMSG_82: argument in, result out
  AmReg resp;  // regMP1_SMN_C2PMSG_90: 0 while busy, then a PPSMC_Result_*
};

inline constexpr AmSmuRegs kSmu1300Regs = {
    {"regMP1_SMN_C2PMSG_66", kHwIdMp1, 0, 0x282},
    {"regMP1_SMN_C2PMSG_82", kHwIdMp1, 0, 0x292},
    {"regMP1_SMN_C2PMSG_90", kHwIdMp1, 0, 0x29a},
};

namespace smu {

// MP1_Public | smnMP1_FIRMWARE_FLAGS: the SMN address smu_v13_0_check_fw_status
// reads; bit 0 (INTERRUPTS_ENABLED) says the PMFW is up.
inline constexpr uint32_t kSmnMp1FirmwareFlags = 0x03b00000u | 0x3010024u;
inline constexpr uint32_t kFirmwareInterruptsEnabled = 1u << 0;

// SMU13_0_0_DRIVER_IF_VERSION of the kernel this driver follows, and the
// PMFW program/major of Navi31 firmware (78.x: smu_v13_0_0_ppt.c compares
// against 0x004eXX00 versions). GetSmuVersion answers
// program << 24 | major << 16 | minor << 8 | debug.
inline constexpr uint32_t kDriverIfVersion = 0x3D;
inline constexpr uint32_t kPmfwProgramMajor = 0x004E;  // (smu_version >> 16)

// PPSMC_Result_* (smu_v13_0_0_ppsmc.h; smu_cmn.c's SMU_RESP_*).
enum class SmuResponse : uint32_t {
  kNone = 0x0,  // still executing
  kOk = 0x1,
  kFailed = 0xFF,             // executed, result failure
  kUnknownCmd = 0xFE,         // not a message this firmware knows
  kCmdRejectedPrereq = 0xFD,  // valid message, prerequisites not met
  kCmdRejectedBusy = 0xFC,    // busy with other work; retry
  kDebugEnd = 0xFB,           // SMC_Result_DebugDataDumpEnd
};
// "PPSMC_Result_OK" etc., or nullptr for a value that is none of them.
const char* SmuResponseName(uint32_t response);

// PPSMC_MSG_* of smu_v13_0_0_ppsmc.h, named as there without the prefix.
enum class SmuMsg : uint32_t {
  TestMessage = 0x1,
  GetSmuVersion = 0x2,
  GetDriverIfVersion = 0x3,
  SetAllowedFeaturesMaskLow = 0x4,
  SetAllowedFeaturesMaskHigh = 0x5,
  EnableAllSmuFeatures = 0x6,
  DisableAllSmuFeatures = 0x7,
  EnableSmuFeaturesLow = 0x8,
  EnableSmuFeaturesHigh = 0x9,
  DisableSmuFeaturesLow = 0xA,
  DisableSmuFeaturesHigh = 0xB,
  GetRunningSmuFeaturesLow = 0xC,
  GetRunningSmuFeaturesHigh = 0xD,
  SetDriverDramAddrHigh = 0xE,
  SetDriverDramAddrLow = 0xF,
  SetToolsDramAddrHigh = 0x10,
  SetToolsDramAddrLow = 0x11,
  TransferTableSmu2Dram = 0x12,
  TransferTableDram2Smu = 0x13,
  UseDefaultPPTable = 0x14,
  EnterBaco = 0x15,
  ExitBaco = 0x16,
  ArmD3 = 0x17,
  BacoAudioD3PME = 0x18,
  SetSoftMinByFreq = 0x19,
  SetSoftMaxByFreq = 0x1A,
  SetHardMinByFreq = 0x1B,
  SetHardMaxByFreq = 0x1C,
  GetMinDpmFreq = 0x1D,
  GetMaxDpmFreq = 0x1E,
  GetDpmFreqByIndex = 0x1F,
  OverridePcieParameters = 0x20,
  DramLogSetDramAddrHigh = 0x21,
  DramLogSetDramAddrLow = 0x22,
  DramLogSetDramSize = 0x23,
  SetWorkloadMask = 0x24,
  GetVoltageByDpm = 0x25,
  SetVideoFps = 0x26,
  GetDcModeMaxDpmFreq = 0x27,
  AllowGfxOff = 0x28,
  DisallowGfxOff = 0x29,
  PowerUpVcn = 0x2A,
  PowerDownVcn = 0x2B,
  PowerUpJpeg = 0x2C,
  PowerDownJpeg = 0x2D,
  PrepareMp1ForUnload = 0x2E,
  Mode1Reset = 0x2F,
  SetSystemVirtualDramAddrHigh = 0x30,
  SetSystemVirtualDramAddrLow = 0x31,
  SetPptLimit = 0x32,
  GetPptLimit = 0x33,
  ReenableAcDcInterrupt = 0x34,
  NotifyPowerSource = 0x35,
  RunDcBtc = 0x36,
  GetDebugData = 0x37,
  SetTemperatureInputSelect = 0x38,
  SetFwDstatesMask = 0x39,
  SetThrottlerMask = 0x3A,
  SetExternalClientDfCstateAllow = 0x3B,
  SetMGpuFanBoostLimitRpm = 0x3C,
  DumpSTBtoDram = 0x3D,
  STBtoDramLogSetDramAddrHigh = 0x3E,
  STBtoDramLogSetDramAddrLow = 0x3F,
  STBtoDramLogSetDramSize = 0x40,
  SetGpoAllow = 0x41,
  AllowGfxDcs = 0x42,
  DisallowGfxDcs = 0x43,
  EnableAudioStutterWA = 0x44,
  PowerUpUmsch = 0x45,
  PowerDownUmsch = 0x46,
  SetDcsArch = 0x47,
  TriggerVFFLR = 0x48,
  SetNumBadMemoryPagesRetired = 0x49,
  SetBadMemoryPagesRetiredFlagsPerChannel = 0x4A,
  SetPriorityDeltaGain = 0x4B,
  AllowIHHostInterrupt = 0x4C,
  DALNotPresent = 0x4E,
  Mode2Reset = 0x4F,
  EnableUCLKShadow = 0x51,
};
inline constexpr uint32_t kMessageCount = 0x52;  // PPSMC_Message_Count
// "GetSmuVersion" etc., or nullptr for an id the header does not define.
const char* SmuMsgName(uint32_t id);

// PPCLK_e (smu13_driver_if_v13_0_0.h): the clock id in bits 31:16 of the
// DPM messages' argument.
enum class PpClk : uint32_t {
  GFXCLK = 0,
  SOCCLK = 1,
  UCLK = 2,
  FCLK = 3,
  DCLK_0 = 4,
  VCLK_0 = 5,
  DCLK_1 = 6,
  VCLK_1 = 7,
  DISPCLK = 8,
  DPPCLK = 9,
  DPREFCLK = 10,
  DCFCLK = 11,
  DTBCLK = 12,
};
inline constexpr uint32_t kPpClkCount = 13;
const char* PpClkName(PpClk clk);

// The argument of Get{Min,Max}DpmFreq ((clk & 0xffff) << 16) and of
// Set{Soft,Hard}{Min,Max}ByFreq (| MHz & 0xffff): smu_v13_0.c.
inline constexpr uint32_t ClockArg(PpClk clk, uint32_t mhz = 0) {
  return (static_cast<uint32_t>(clk) & 0xFFFF) << 16 | (mhz & 0xFFFF);
}

// PrepareMp1ForUnload's argument on 13.0.0 (smu_v13_0_0_set_mp1_state).
inline constexpr uint32_t kPrepareForUnloadArg = 0x55;

}  // namespace smu
}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_SMU_SMU_REGS_H_
