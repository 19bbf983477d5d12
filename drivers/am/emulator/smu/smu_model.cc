#include "drivers/am/emulator/smu/smu_model.h"

#include "absl/strings/str_format.h"
#include "drivers/am/emulator/nbio_model.h"
#include "drivers/am/pci/ip_discovery.h"
#include "drivers/am/pci/smu/smu.h"

namespace uop {
namespace {

using smu::SmuMsg;
using smu::SmuResponse;

constexpr uint32_t R(SmuResponse r) { return static_cast<uint32_t>(r); }

std::string Name(uint32_t id) {
  const char* n = smu::SmuMsgName(id);
  return n ? std::string(n) : absl::StrFormat("message 0x%X", id);
}

}  // namespace

absl::StatusOr<std::unique_ptr<EmulatedSmu>> EmulatedSmu::Attach(EmulatedPciGpu& gpu,
                                                                 EmulatedSmuConfig config) {
  absl::StatusOr<IpDiscoveryTable> table = ParseIpDiscovery(gpu.config().discovery);
  if (!table.ok()) return table.status();
  absl::StatusOr<AmRegisterMap> map = AmRegisterMap::Create(*table);
  if (!map.ok()) return map.status();
  std::unique_ptr<EmulatedSmu> m(new EmulatedSmu(gpu, std::move(*map), std::move(config)));
  EmulatedSmu* self = m.get();
  EmulatedRegisterFile& rf = m->regs_;
  const AmSmuRegs& r = kSmu1300Regs;
  m->busy_left_ = m->config_.busy_messages;
  m->ResetToBoot();
  rf.Set(m->D(r.resp), m->config_.initial_response);
  rf.OnRead(m->D(r.resp), [self](uint32_t stored) { return self->ReadResponse(stored); });
  rf.OnWrite(m->D(r.resp), [self](uint32_t v) { self->OnResponseWrite(v); });
  rf.OnWrite(m->D(r.arg), [self](uint32_t v) { self->OnArgWrite(v); });
  rf.OnWrite(m->D(r.msg), [self](uint32_t v) { self->OnMessage(v); });
  // MP1_FIRMWARE_FLAGS is read over SMN: NBIO's RSMU pair, shared with the
  // other models' extended registers.
  ServeNbio430IndexPairs(rf, m->map_);
  rf.OnExtendedRead(smu::kSmnMp1FirmwareFlags,
                    [self](uint32_t) { return self->ReadFirmwareFlags(); });
  return m;
}

void EmulatedSmu::ResetToBoot() {
  features_enabled_ = false;
  allowed_.reset();
  table_high_.reset();
  driver_table_mc_.reset();
  tools_high_.reset();
  tools_table_mc_.reset();
  soft_min_ = config_.dpm_min_mhz;
  soft_max_ = config_.dpm_max_mhz;
  hard_min_ = config_.dpm_min_mhz;
  unloaded_ = false;
  // The PMFW restarts: MP1_FIRMWARE_FLAGS reads 0 until it is up again.
  alive_ = false;
  alive_reads_ = 0;
}

uint32_t EmulatedSmu::ReadFirmwareFlags() {
  if (!alive_ && !config_.never_alive && ++alive_reads_ > config_.alive_after_reads) alive_ = true;
  return alive_ ? smu::kFirmwareInterruptsEnabled : 0;
}

uint32_t EmulatedSmu::ReadResponse(uint32_t stored) {
  if (pending_) {
    if (config_.never_respond || ++reads_ < config_.response_after_reads) return stored;
    pending_ = false;
    Message& m = messages_.back();
    uint32_t result = m.arg;  // C2PMSG_82 keeps the argument unless the message answers
    m.response = Execute(m, &result);
    m.result = result;
    regs_.Set(D(kSmu1300Regs.resp), m.response);
    regs_.Set(D(kSmu1300Regs.arg), result);
    stored = m.response;
  }
  if (stored != 0) response_seen_ = true;
  return stored;
}

void EmulatedSmu::OnResponseWrite(uint32_t value) {
  if (value != 0) {
    regs_.Violation(absl::StrFormat(
        "C2PMSG_90 written with 0x%X: the driver only clears it (writes 0) before a message",
        value));
  }
  if (pending_) {
    regs_.Violation(
        absl::StrFormat("C2PMSG_90 written while %s is executing", Name(messages_.back().id)));
  }
  resp_cleared_ = value == 0;
}

void EmulatedSmu::OnArgWrite(uint32_t value) {
  if (pending_) {
    regs_.Violation(absl::StrFormat(
        "C2PMSG_82 (argument) written with 0x%X while %s is executing: the SMU may read either "
        "value",
        value, Name(messages_.back().id)));
  }
  arg_written_ = true;
}

void EmulatedSmu::OnMessage(uint32_t id) {
  const std::string name = Name(id);
  if (pending_) {
    regs_.Violation(absl::StrFormat("%s written while %s is unanswered (C2PMSG_90 still 0)", name,
                                    Name(messages_.back().id)));
  } else if (!response_seen_) {
    regs_.Violation(absl::StrFormat(
        "%s written without the previous response read (C2PMSG_90 must be polled non-zero "
        "before a message)",
        name));
  }
  if (!resp_cleared_) {
    regs_.Violation(absl::StrFormat(
        "%s written without C2PMSG_90 zeroed first: the old response reads as this message's",
        name));
  }
  if (!arg_written_) {
    regs_.Violation(absl::StrFormat(
        "%s written without its argument (C2PMSG_82 not written since the previous message)",
        name));
  }
  pending_ = true;
  reads_ = 0;
  response_seen_ = resp_cleared_ = arg_written_ = false;
  messages_.push_back({id, regs_.Get(D(kSmu1300Regs.arg)), 0, 0});
}

void EmulatedSmu::SetDriverTableLow(uint32_t low) {
  if (!table_high_.has_value()) {
    regs_.Violation(
        "SetDriverDramAddrLow without SetDriverDramAddrHigh first (Linux sends the high half "
        "first; the firmware takes the address with the low half)");
    return;
  }
  const uint64_t mc = uint64_t{*table_high_} << 32 | low;
  table_high_.reset();
  const uint64_t fb_base = uint64_t{regs_.Get(D(kMmhub300Regs.fb_location_base)) & 0xFFFFFFu} << 24;
  const uint64_t size = gpu_.config().vram_size;
  if (mc < fb_base || mc - fb_base > size || AmSmu::kDriverTableBytes > size - (mc - fb_base)) {
    regs_.Violation(absl::StrFormat(
        "SMU driver table at MC 0x%X: %u bytes there are not in VRAM (FB at MC 0x%X, %u bytes)", mc,
        AmSmu::kDriverTableBytes, fb_base, size));
    return;
  }
  driver_table_mc_ = mc;
}

uint32_t EmulatedSmu::ExecuteClock(const Message& m, uint32_t* result) {
  const uint32_t clk = m.arg >> 16, mhz = m.arg & 0xFFFF;
  if (clk >= soft_min_.size()) return R(SmuResponse::kFailed);  // no DPM modelled for it
  const char* clk_name = smu::PpClkName(static_cast<smu::PpClk>(clk));
  const uint32_t lo = config_.dpm_min_mhz[clk], hi = config_.dpm_max_mhz[clk];
  switch (static_cast<SmuMsg>(m.id)) {
    case SmuMsg::GetMaxDpmFreq:
      *result = hi;
      return R(SmuResponse::kOk);
    case SmuMsg::GetMinDpmFreq:
      *result = lo;
      return R(SmuResponse::kOk);
    default:
      break;
  }
  if (!features_enabled_) return R(SmuResponse::kCmdRejectedPrereq);  // DPM is not running
  if (mhz < lo || mhz > hi) {
    regs_.Violation(absl::StrFormat("%s %s %u MHz: outside the DPM range [%u, %u] MHz", Name(m.id),
                                    clk_name, mhz, lo, hi));
  }
  switch (static_cast<SmuMsg>(m.id)) {
    case SmuMsg::SetSoftMinByFreq:
      if (mhz > soft_max_[clk]) {
        regs_.Violation(absl::StrFormat("%s soft min %u MHz above its soft max %u MHz", clk_name,
                                        mhz, soft_max_[clk]));
      }
      soft_min_[clk] = mhz;
      break;
    case SmuMsg::SetSoftMaxByFreq:
      if (mhz < soft_min_[clk]) {
        regs_.Violation(absl::StrFormat("%s soft max %u MHz below its soft min %u MHz", clk_name,
                                        mhz, soft_min_[clk]));
      }
      soft_max_[clk] = mhz;
      break;
    default:  // SetHardMinByFreq
      hard_min_[clk] = mhz;
      break;
  }
  return R(SmuResponse::kOk);
}

uint32_t EmulatedSmu::Execute(const Message& m, uint32_t* result) {
  if (busy_left_ > 0) {
    --busy_left_;
    return R(SmuResponse::kCmdRejectedBusy);
  }
  if (auto it = config_.forced_responses.find(m.id); it != config_.forced_responses.end()) {
    return it->second;
  }
  if (unloaded_ && m.id != static_cast<uint32_t>(SmuMsg::Mode1Reset)) {
    regs_.Violation(absl::StrFormat("%s after PrepareMp1ForUnload", Name(m.id)));
    return R(SmuResponse::kCmdRejectedPrereq);
  }
  switch (static_cast<SmuMsg>(m.id)) {
    case SmuMsg::TestMessage:
      *result = m.arg + 1;
      break;
    case SmuMsg::GetSmuVersion:
      *result = config_.smu_version;
      break;
    case SmuMsg::GetDriverIfVersion:
      *result = config_.driver_if_version;
      break;
    case SmuMsg::SetAllowedFeaturesMaskLow:
      allowed_low_ = m.arg;
      allowed_ = uint64_t{allowed_high_} << 32 | allowed_low_;
      break;
    case SmuMsg::SetAllowedFeaturesMaskHigh:
      allowed_high_ = m.arg;
      allowed_ = uint64_t{allowed_high_} << 32 | allowed_low_;
      break;
    case SmuMsg::EnableAllSmuFeatures:
      if (!driver_table_mc_.has_value()) {
        regs_.Violation(
            "EnableAllSmuFeatures before the driver table address (SetDriverDramAddrHigh/Low)");
      }
      features_enabled_ = true;
      break;
    case SmuMsg::DisableAllSmuFeatures:
      features_enabled_ = false;
      break;
    case SmuMsg::SetDriverDramAddrHigh:
      table_high_ = m.arg;
      break;
    case SmuMsg::SetDriverDramAddrLow:
      SetDriverTableLow(m.arg);
      break;
    case SmuMsg::SetToolsDramAddrHigh:
      tools_high_ = m.arg;
      break;
    case SmuMsg::SetToolsDramAddrLow:
      if (tools_high_.has_value()) tools_table_mc_ = uint64_t{*tools_high_} << 32 | m.arg;
      break;
    case SmuMsg::GetMaxDpmFreq:
    case SmuMsg::GetMinDpmFreq:
    case SmuMsg::SetSoftMinByFreq:
    case SmuMsg::SetSoftMaxByFreq:
    case SmuMsg::SetHardMinByFreq:
      return ExecuteClock(m, result);
    case SmuMsg::Mode1Reset:
      ++mode1_resets_;
      ResetToBoot();
      for (const std::function<void()>& f : on_mode1_reset_) f();
      break;
    case SmuMsg::PrepareMp1ForUnload:
      unloaded_ = true;
      break;
    default:
      return R(SmuResponse::kUnknownCmd);
  }
  return R(SmuResponse::kOk);
}

void EmulatedSmu::FinishChecks() {
  if (messages_.empty() || config_.never_respond) return;
  const std::string name = Name(messages_.back().id);
  if (pending_) {
    regs_.Violation(
        absl::StrFormat("%s: the driver stopped polling C2PMSG_90 before the SMU answered", name));
  } else if (!response_seen_) {
    regs_.Violation(absl::StrFormat("%s: its response (C2PMSG_90) was never read", name));
  }
}

}  // namespace uop
