#include "drivers/am/pci/smu/smu.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

using smu::PpClk;
using smu::SmuMsg;
using smu::SmuResponse;

constexpr uint64_t kPage = 4096;

// "GetMaxDpmFreq (0x1E, argument 0x20000)".
std::string MsgText(uint32_t id, uint32_t arg) {
  const char* name = smu::SmuMsgName(id);
  return absl::StrFormat("%s (0x%X, argument 0x%X)", name ? name : "unknown message", id, arg);
}

// Keeps the code of a register access error and says what it was part of.
absl::Status Annotate(const absl::Status& s, const std::string& what) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("SMU: ", what, ": ", s.message()));
}

// smu_cmn.c __smu_cmn_reg2errno, as absl codes.
absl::Status ResponseError(uint32_t resp, const std::string& what) {
  const char* name = smu::SmuResponseName(resp);
  const std::string text =
      absl::StrFormat("SMU: %s answered 0x%X (%s) in %s", what, resp,
                      name ? name : "not a PPSMC_Result", kSmu1300Regs.resp.name);
  switch (static_cast<SmuResponse>(resp)) {
    case SmuResponse::kFailed:
      return absl::InternalError(absl::StrCat(text, ": executed, with a failed result"));
    case SmuResponse::kUnknownCmd:
      return absl::UnimplementedError(absl::StrCat(text, ": the firmware does not know it"));
    case SmuResponse::kCmdRejectedPrereq:
      return absl::FailedPreconditionError(
          absl::StrCat(text, ": a valid message whose prerequisites are not met"));
    case SmuResponse::kCmdRejectedBusy:
      return absl::UnavailableError(
          absl::StrCat(text, ": the SMU is busy with other work; retry later"));
    case SmuResponse::kDebugEnd:
      return absl::InternalError(absl::StrCat(text, ": the SMU is in its debug-dump mode"));
    default:
      return absl::DataLossError(absl::StrCat(text, ": not a response the SMU defines"));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<AmSmu>> AmSmu::Create(const AmRegisterIo& regs,
                                                     AmIndirectRegs& indirect, const AmGmc& gmc,
                                                     AmVramArena& arena, AmSmuConfig config) {
  std::unique_ptr<AmSmu> s(new AmSmu(regs, indirect, gmc, config));
  ASSIGN_OR_RETURN(s->driver_table_,
                   arena.Allocate(kDriverTableBytes, kPage, "the SMU driver table"));
  return s;
}

absl::StatusOr<uint32_t> AmSmu::ReadSmn(uint32_t address) {
  absl::StatusOr<uint32_t> v = indirect_.Read(address);
  if (!v.ok()) return Annotate(v.status(), absl::StrFormat("SMN read of 0x%08X", address));
  return *v;
}

absl::StatusOr<bool> AmSmu::FirmwareAlive() {
  ASSIGN_OR_RETURN(uint32_t flags, ReadSmn(smu::kSmnMp1FirmwareFlags));
  if (flags == 0xFFFFFFFFu) {
    // Bits 31:1 are reserved: all-ones from a live device means the read
    // never reached MP1.
    return absl::DataLossError(absl::StrFormat(
        "SMU: MP1_FIRMWARE_FLAGS (SMN 0x%08X through %s/%s) reads 0xFFFFFFFF on a live device",
        smu::kSmnMp1FirmwareFlags, indirect_.pair().index.name, indirect_.pair().data.name));
  }
  return (flags & smu::kFirmwareInterruptsEnabled) != 0;
}

absl::Status AmSmu::WaitFirmwareAlive() {
  const absl::Time deadline = absl::Now() + config_.alive_timeout;
  while (true) {
    ASSIGN_OR_RETURN(bool alive, FirmwareAlive());
    if (alive) return absl::OkStatus();
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Microseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrFormat(
      "SMU: the PMFW is not running: MP1_FIRMWARE_FLAGS (SMN 0x%08X, read through %s/%s) has "
      "INTERRUPTS_ENABLED (bit 0) clear after %s; the PSP loads the SMU firmware before this",
      smu::kSmnMp1FirmwareFlags, indirect_.pair().index.name, indirect_.pair().data.name,
      absl::FormatDuration(config_.alive_timeout)));
}

absl::StatusOr<uint32_t> AmSmu::WaitResponse(const std::string& what) {
  const absl::Time deadline = absl::Now() + config_.message_timeout;
  while (true) {
    absl::StatusOr<uint32_t> v = regs_.Read(kSmu1300Regs.resp);
    if (!v.ok()) return Annotate(v.status(), what);
    if (*v != 0) return *v;
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Microseconds(1));
  }
  return absl::DeadlineExceededError(
      absl::StrFormat("SMU: %s: %s reads 0x0 after %s", what, kSmu1300Regs.resp.name,
                      absl::FormatDuration(config_.message_timeout)));
}

absl::StatusOr<uint32_t> AmSmu::SendMessage(SmuMsg msg, uint32_t arg) {
  const AmSmuRegs& r = kSmu1300Regs;
  const uint32_t id = static_cast<uint32_t>(msg);
  const std::string what = MsgText(id, arg);

  // The previous message must have been answered ("I'm not done with your
  // previous command"); its failure, if any, was reported to its sender.
  absl::StatusOr<uint32_t> prev = WaitResponse(absl::StrCat("before sending ", what));
  if (absl::IsDeadlineExceeded(prev.status())) {
    absl::StatusOr<uint32_t> pending = regs_.Read(r.msg);
    return absl::DeadlineExceededError(absl::StrFormat(
        "%s: the previous message (%s = 0x%X) is still unanswered; nothing sent",
        prev.status().message(), r.msg.name, pending.ok() ? *pending : 0xFFFFFFFFu));
  }
  if (!prev.ok()) return prev.status();
  if (smu::SmuResponseName(*prev) == nullptr) {
    return absl::DataLossError(absl::StrFormat(
        "SMU: before sending %s: %s holds 0x%X, which is no PPSMC_Result: the mailbox is in an "
        "unknown state; nothing sent",
        what, r.resp.name, *prev));
  }

  const std::string sending = absl::StrCat("sending ", what);
  RETURN_IF_ERROR(Annotate(regs_.Write(r.resp, 0), sending));
  RETURN_IF_ERROR(Annotate(regs_.Write(r.arg, arg), sending));
  RETURN_IF_ERROR(Annotate(regs_.Write(r.msg, id), sending));
  absl::StatusOr<uint32_t> resp = WaitResponse(absl::StrCat(what, " not answered"));
  if (!resp.ok()) return resp.status();
  if (*resp != static_cast<uint32_t>(SmuResponse::kOk)) return ResponseError(*resp, what);
  absl::StatusOr<uint32_t> result = regs_.Read(r.arg);
  if (!result.ok()) return Annotate(result.status(), absl::StrCat("result of ", what));
  return *result;
}

absl::Status AmSmu::CheckVersions() {
  const bool if_ok = if_version_ == smu::kDriverIfVersion;
  const bool fw_ok = (smu_version_ >> 16) == smu::kPmfwProgramMajor;
  if ((if_ok && fw_ok) || config_.allow_version_mismatch) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrFormat(
      "SMU: the PMFW reports version 0x%08X (program %u, %u.%u.%u) and driver interface 0x%X; "
      "this driver was written for PMFW 78.x (program 0) with driver interface 0x%X "
      "(SMU13_0_0_DRIVER_IF_VERSION); AmSmuConfig::allow_version_mismatch accepts it anyway",
      smu_version_, smu_version_ >> 24, (smu_version_ >> 16) & 0xFF, (smu_version_ >> 8) & 0xFF,
      smu_version_ & 0xFF, if_version_, smu::kDriverIfVersion));
}

absl::Status AmSmu::Init() {
  features_enabled_ = false;
  RETURN_IF_ERROR(WaitFirmwareAlive());
  // smu_cmn_get_smc_version's order.
  ASSIGN_OR_RETURN(if_version_, SendMessage(SmuMsg::GetDriverIfVersion));
  ASSIGN_OR_RETURN(smu_version_, SendMessage(SmuMsg::GetSmuVersion));
  RETURN_IF_ERROR(CheckVersions());

  const uint64_t mc = gmc_.VramMc(driver_table_);
  RETURN_IF_ERROR(
      SendMessage(SmuMsg::SetDriverDramAddrHigh, static_cast<uint32_t>(mc >> 32)).status());
  RETURN_IF_ERROR(SendMessage(SmuMsg::SetDriverDramAddrLow, static_cast<uint32_t>(mc)).status());
  if (config_.allowed_features.has_value()) {
    const uint64_t mask = *config_.allowed_features;
    // smu_v13_0_set_allowed_mask: high word first.
    RETURN_IF_ERROR(
        SendMessage(SmuMsg::SetAllowedFeaturesMaskHigh, static_cast<uint32_t>(mask >> 32))
            .status());
    RETURN_IF_ERROR(
        SendMessage(SmuMsg::SetAllowedFeaturesMaskLow, static_cast<uint32_t>(mask)).status());
  }
  RETURN_IF_ERROR(SendMessage(SmuMsg::EnableAllSmuFeatures, 0).status());
  features_enabled_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AmSmuClockRange>> AmSmu::SetPerformanceLevel(AmSmuPerfLevel level) {
  if (!features_enabled_) {
    return absl::FailedPreconditionError(
        "SMU: SetPerformanceLevel needs the DPM features enabled: Init first");
  }
  // smu_v13_0_set_performance_level's order (VCLK/DCLK are video clocks:
  // not touched here).
  static constexpr PpClk kClocks[] = {PpClk::GFXCLK, PpClk::UCLK, PpClk::SOCCLK, PpClk::FCLK};
  std::vector<AmSmuClockRange> out;
  for (PpClk clk : kClocks) {
    ASSIGN_OR_RETURN(uint32_t max, SendMessage(SmuMsg::GetMaxDpmFreq, smu::ClockArg(clk)));
    uint32_t min = max;
    if (level == AmSmuPerfLevel::kAuto) {
      ASSIGN_OR_RETURN(min, SendMessage(SmuMsg::GetMinDpmFreq, smu::ClockArg(clk)));
    }
    AmSmuClockRange range{clk};
    if (max == 0 || min == 0) {  // no DPM for this clock: Linux leaves it alone
      out.push_back(range);
      continue;
    }
    if (max > 0xFFFF || min > max) {
      return absl::DataLossError(absl::StrFormat(
          "SMU: %s DPM range [%u, %u] MHz is not a range the frequency messages can carry",
          smu::PpClkName(clk), min, max));
    }
    // smu_v13_0_set_soft_freq_limited_range: the maximum first.
    RETURN_IF_ERROR(SendMessage(SmuMsg::SetSoftMaxByFreq, smu::ClockArg(clk, max)).status());
    RETURN_IF_ERROR(SendMessage(SmuMsg::SetSoftMinByFreq, smu::ClockArg(clk, min)).status());
    range.soft_min_mhz = min;
    range.soft_max_mhz = max;
    out.push_back(range);
  }
  return out;
}

absl::Status AmSmu::Mode1Reset() {
  // smu_v13_0_0_mode1_reset: argument 0 unless recovering from a RAS fatal
  // error (1 << 16), which this driver does not track.
  RETURN_IF_ERROR(SendMessage(SmuMsg::Mode1Reset, 0).status());
  features_enabled_ = false;
  absl::SleepFor(config_.mode1_reset_wait);
  return absl::OkStatus();
}

absl::Status AmSmu::PrepareForUnload() {
  RETURN_IF_ERROR(SendMessage(SmuMsg::PrepareMp1ForUnload, smu::kPrepareForUnloadArg).status());
  features_enabled_ = false;
  return absl::OkStatus();
}

}  // namespace uop
