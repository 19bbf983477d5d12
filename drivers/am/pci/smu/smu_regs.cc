#include "drivers/am/pci/smu/smu_regs.h"

namespace uop::smu {

const char* SmuResponseName(uint32_t response) {
  switch (static_cast<SmuResponse>(response)) {
    case SmuResponse::kNone:
      return "none (still executing)";
    case SmuResponse::kOk:
      return "PPSMC_Result_OK";
    case SmuResponse::kFailed:
      return "PPSMC_Result_Failed";
    case SmuResponse::kUnknownCmd:
      return "PPSMC_Result_UnknownCmd";
    case SmuResponse::kCmdRejectedPrereq:
      return "PPSMC_Result_CmdRejectedPrereq";
    case SmuResponse::kCmdRejectedBusy:
      return "PPSMC_Result_CmdRejectedBusy";
    case SmuResponse::kDebugEnd:
      return "SMC_Result_DebugDataDumpEnd";
  }
  return nullptr;
}

const char* SmuMsgName(uint32_t id) {
#define NAME(m)   \
  case SmuMsg::m: \
    return #m;
  switch (static_cast<SmuMsg>(id)) {
    NAME(TestMessage)
    NAME(GetSmuVersion)
    NAME(GetDriverIfVersion)
    NAME(SetAllowedFeaturesMaskLow)
    NAME(SetAllowedFeaturesMaskHigh)
    NAME(EnableAllSmuFeatures)
    NAME(DisableAllSmuFeatures)
    NAME(EnableSmuFeaturesLow)
    NAME(EnableSmuFeaturesHigh)
    NAME(DisableSmuFeaturesLow)
    NAME(DisableSmuFeaturesHigh)
    NAME(GetRunningSmuFeaturesLow)
    NAME(GetRunningSmuFeaturesHigh)
    NAME(SetDriverDramAddrHigh)
    NAME(SetDriverDramAddrLow)
    NAME(SetToolsDramAddrHigh)
    NAME(SetToolsDramAddrLow)
    NAME(TransferTableSmu2Dram)
    NAME(TransferTableDram2Smu)
    NAME(UseDefaultPPTable)
    NAME(EnterBaco)
    NAME(ExitBaco)
    NAME(ArmD3)
    NAME(BacoAudioD3PME)
    NAME(SetSoftMinByFreq)
    NAME(SetSoftMaxByFreq)
    NAME(SetHardMinByFreq)
    NAME(SetHardMaxByFreq)
    NAME(GetMinDpmFreq)
    NAME(GetMaxDpmFreq)
    NAME(GetDpmFreqByIndex)
    NAME(OverridePcieParameters)
    NAME(DramLogSetDramAddrHigh)
    NAME(DramLogSetDramAddrLow)
    NAME(DramLogSetDramSize)
    NAME(SetWorkloadMask)
    NAME(GetVoltageByDpm)
    NAME(SetVideoFps)
    NAME(GetDcModeMaxDpmFreq)
    NAME(AllowGfxOff)
    NAME(DisallowGfxOff)
    NAME(PowerUpVcn)
    NAME(PowerDownVcn)
    NAME(PowerUpJpeg)
    NAME(PowerDownJpeg)
    NAME(PrepareMp1ForUnload)
    NAME(Mode1Reset)
    NAME(SetSystemVirtualDramAddrHigh)
    NAME(SetSystemVirtualDramAddrLow)
    NAME(SetPptLimit)
    NAME(GetPptLimit)
    NAME(ReenableAcDcInterrupt)
    NAME(NotifyPowerSource)
    NAME(RunDcBtc)
    NAME(GetDebugData)
    NAME(SetTemperatureInputSelect)
    NAME(SetFwDstatesMask)
    NAME(SetThrottlerMask)
    NAME(SetExternalClientDfCstateAllow)
    NAME(SetMGpuFanBoostLimitRpm)
    NAME(DumpSTBtoDram)
    NAME(STBtoDramLogSetDramAddrHigh)
    NAME(STBtoDramLogSetDramAddrLow)
    NAME(STBtoDramLogSetDramSize)
    NAME(SetGpoAllow)
    NAME(AllowGfxDcs)
    NAME(DisallowGfxDcs)
    NAME(EnableAudioStutterWA)
    NAME(PowerUpUmsch)
    NAME(PowerDownUmsch)
    NAME(SetDcsArch)
    NAME(TriggerVFFLR)
    NAME(SetNumBadMemoryPagesRetired)
    NAME(SetBadMemoryPagesRetiredFlagsPerChannel)
    NAME(SetPriorityDeltaGain)
    NAME(AllowIHHostInterrupt)
    NAME(DALNotPresent)
    NAME(Mode2Reset)
    NAME(EnableUCLKShadow)
  }
#undef NAME
  return nullptr;
}

const char* PpClkName(PpClk clk) {
  static constexpr const char* kNames[kPpClkCount] = {
      "GFXCLK", "SOCCLK",  "UCLK",   "FCLK",     "DCLK_0", "VCLK_0", "DCLK_1",
      "VCLK_1", "DISPCLK", "DPPCLK", "DPREFCLK", "DCFCLK", "DTBCLK"};
  const uint32_t i = static_cast<uint32_t>(clk);
  return i < kPpClkCount ? kNames[i] : "unknown clock";
}

}  // namespace uop::smu
