#include "drivers/am/pci/psp.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr uint64_t kPage = 4096;

void Put32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }

}  // namespace

absl::StatusOr<std::unique_ptr<AmPsp>> AmPsp::Create(const AmRegisterIo& regs,
                                                     const MmioRegion& vram, AmGmc& gmc,
                                                     AmVramArena& arena, AmPspConfig config) {
  std::unique_ptr<AmPsp> p(new AmPsp(regs, vram, gmc, arena, config));
  ASSIGN_OR_RETURN(p->fw_buf_,
                   arena.Allocate(psp::kOneMeg, psp::kOneMeg, "the PSP firmware buffer"));
  ASSIGN_OR_RETURN(p->cmd_buf_, arena.Allocate(kPage, kPage, "the PSP command buffer"));
  ASSIGN_OR_RETURN(p->fence_buf_, arena.Allocate(kPage, kPage, "the PSP fence"));
  ASSIGN_OR_RETURN(p->ring_, arena.Allocate(psp::kRingSize, kPage, "the PSP KM ring"));
  RETURN_IF_ERROR(vram.Write32(p->fence_buf_, 0));
  return p;
}

absl::Status AmPsp::WaitFor(const AmReg& reg, uint32_t mask, uint32_t want, const char* what,
                            bool nonzero) {
  const absl::Time deadline = absl::Now() + config_.wait_timeout;
  uint32_t v = 0;
  while (true) {
    ASSIGN_OR_RETURN(v, regs_.Read(reg));
    if (nonzero ? v != 0 : (v & mask) == want) return absl::OkStatus();
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Microseconds(1));
  }
  return absl::DeadlineExceededError(absl::StrFormat(
      "PSP: %s: %s reads 0x%08x after %s (waiting for %s)", what, reg.name, v,
      absl::FormatDuration(config_.wait_timeout),
      nonzero ? std::string("non-zero") : absl::StrFormat("0x%x under mask 0x%x", want, mask)));
}

absl::StatusOr<bool> AmPsp::SosAlive() const {
  ASSIGN_OR_RETURN(uint32_t v, regs_.Read(kMp01300Regs.c2pmsg_81));
  return v != 0;
}

absl::Status AmPsp::StageInFwBuffer(absl::Span<const uint8_t> bytes, const char* what) {
  if (bytes.size() > psp::kOneMeg) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PSP: %s is %u bytes; the firmware buffer holds 1 MiB", what, bytes.size()));
  }
  RETURN_IF_ERROR(vram_.WriteBlock(fw_buf_, bytes));
  // The rest of the buffer zeroed, as Linux does, so no stale bytes of an
  // earlier component follow this one.
  static const std::vector<uint8_t> kZeros(psp::kOneMeg, 0);
  RETURN_IF_ERROR(vram_.WriteBlock(fw_buf_ + bytes.size(),
                                   absl::MakeConstSpan(kZeros).first(psp::kOneMeg - bytes.size())));
  return gmc_.FlushHdp();
}

absl::Status AmPsp::LoadComponent(const PspFirmware& sos, PspFwType type, uint32_t bl_cmd) {
  absl::Span<const uint8_t> bytes = sos.Bytes(type);
  if (bytes.empty()) return absl::OkStatus();  // not in this file: skipped, as Linux
  const AmPspRegs& r = kMp01300Regs;
  RETURN_IF_ERROR(
      WaitFor(r.c2pmsg_35, psp::kBlReady, psp::kBlReady,
              absl::StrFormat("bootloader not ready to load %s", PspFwTypeName(type)).c_str()));
  RETURN_IF_ERROR(StageInFwBuffer(bytes, PspFwTypeName(type)));
  RETURN_IF_ERROR(regs_.Write(r.c2pmsg_36, static_cast<uint32_t>(gmc_.VramMc(fw_buf_) >> 20)));
  RETURN_IF_ERROR(regs_.Write(r.c2pmsg_35, bl_cmd));
  if (bl_cmd == psp::kBlLoadSosDrv) return absl::OkStatus();  // sOS answers on C2PMSG_81
  return WaitFor(
      r.c2pmsg_35, psp::kBlReady, psp::kBlReady,
      absl::StrFormat("bootloader did not finish loading %s", PspFwTypeName(type)).c_str());
}

absl::Status AmPsp::LoadSos(const PspFirmware& sos) {
  ASSIGN_OR_RETURN(bool alive, SosAlive());
  if (alive) return absl::OkStatus();
  if (sos.Find(PspFwType::kSysDrv) == nullptr || sos.Find(PspFwType::kSos) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("PSP firmware %s has no %s component: not an sOS image", sos.name,
                        sos.Find(PspFwType::kSysDrv) == nullptr ? "SYS_DRV" : "SOS"));
  }
  // psp_hw_start's order.
  const struct {
    PspFwType type;
    uint32_t cmd;
  } kOrder[] = {
      {PspFwType::kKdb, psp::kBlLoadKeyDatabase}, {PspFwType::kSpl, psp::kBlLoadTosSplTable},
      {PspFwType::kSysDrv, psp::kBlLoadSysDrv},   {PspFwType::kSocDrv, psp::kBlLoadSocDrv},
      {PspFwType::kIntfDrv, psp::kBlLoadIntfDrv}, {PspFwType::kDbgDrv, psp::kBlLoadDbgDrv},
      {PspFwType::kRasDrv, psp::kBlLoadRasDrv},   {PspFwType::kSos, psp::kBlLoadSosDrv},
  };
  for (const auto& step : kOrder) RETURN_IF_ERROR(LoadComponent(sos, step.type, step.cmd));
  return WaitFor(kMp01300Regs.c2pmsg_81, 0, 0, "sOS did not start (no sign of life)",
                 /*nonzero=*/true);
}

absl::Status AmPsp::CreateRing() {
  const AmPspRegs& r = kMp01300Regs;
  ASSIGN_OR_RETURN(bool alive, SosAlive());
  if (!alive) {
    return absl::FailedPreconditionError(
        "PSP: the KM ring needs a running sOS (regMP0_SMN_C2PMSG_81 reads 0): LoadSos first");
  }
  ASSIGN_OR_RETURN(uint32_t old_size, regs_.Read(r.c2pmsg_71));
  if (old_size != 0) {
    // A ring left by an earlier process: destroy it before creating ours.
    RETURN_IF_ERROR(regs_.Write(r.c2pmsg_64, psp::kCtrlDestroyRings));
    RETURN_IF_ERROR(WaitFor(r.c2pmsg_64, psp::kResponse, psp::kResponse,
                            "rings of a previous process not destroyed"));
  }
  RETURN_IF_ERROR(WaitFor(r.c2pmsg_64, psp::kResponse, psp::kResponse, "sOS not ready for a ring"));
  RETURN_IF_ERROR(regs_.WritePair(r.c2pmsg_69, r.c2pmsg_70, gmc_.VramMc(ring_)));
  RETURN_IF_ERROR(regs_.Write(r.c2pmsg_71, static_cast<uint32_t>(psp::kRingSize)));
  RETURN_IF_ERROR(regs_.Write(r.c2pmsg_64, psp::kRingTypeKm << 16));
  RETURN_IF_ERROR(
      WaitFor(r.c2pmsg_64, psp::kResponse | 0xFFFF, psp::kResponse, "KM ring not created"));
  ring_created_ = true;
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> AmPsp::Submit(uint32_t cmd_id, absl::Span<const uint8_t> command) {
  const AmPspRegs& r = kMp01300Regs;
  if (!ring_created_) return absl::FailedPreconditionError("PSP: Submit before CreateRing");
  if (command.size() > psp::kRespOffset - psp::kCmdOffset) {
    return absl::InvalidArgumentError(
        absl::StrFormat("PSP: command %u has %u bytes of arguments (at most %u)", cmd_id,
                        command.size(), psp::kRespOffset - psp::kCmdOffset));
  }
  std::vector<uint8_t> cmd(psp::kCmdRespSize, 0);
  Put32(cmd, psp::kCmdIdOffset, cmd_id);
  // An empty span may carry a null pointer, which memcpy must not see.
  if (!command.empty()) std::memcpy(cmd.data() + psp::kCmdOffset, command.data(), command.size());
  RETURN_IF_ERROR(vram_.WriteBlock(cmd_buf_, cmd));

  constexpr uint32_t kRingDwords = psp::kRingSize / 4, kFrameDwords = psp::kFrameSize / 4;
  ASSIGN_OR_RETURN(uint32_t wptr, regs_.Read(r.c2pmsg_67));
  if (wptr % kFrameDwords != 0 || wptr >= kRingDwords) {
    return absl::DataLossError(absl::StrFormat(
        "PSP: regMP0_SMN_C2PMSG_67 (KM ring write pointer) reads %u: not a frame boundary "
        "inside the %u-dword ring",
        wptr, kRingDwords));
  }
  const uint32_t fence = ++fence_value_;
  const uint64_t cmd_mc = gmc_.VramMc(cmd_buf_), fence_mc = gmc_.VramMc(fence_buf_);
  std::vector<uint8_t> frame(psp::kFrameSize, 0);
  Put32(frame, 0, static_cast<uint32_t>(cmd_mc));
  Put32(frame, 4, static_cast<uint32_t>(cmd_mc >> 32));
  Put32(frame, 8, psp::kCmdRespSize);
  Put32(frame, 12, static_cast<uint32_t>(fence_mc));
  Put32(frame, 16, static_cast<uint32_t>(fence_mc >> 32));
  Put32(frame, 20, fence);
  RETURN_IF_ERROR(vram_.WriteBlock(ring_ + uint64_t{wptr} * 4, frame));
  RETURN_IF_ERROR(gmc_.FlushHdp());
  RETURN_IF_ERROR(regs_.Write(r.c2pmsg_67, (wptr + kFrameDwords) % kRingDwords));

  const absl::Time deadline = absl::Now() + config_.wait_timeout;
  uint32_t seen = 0;
  while (true) {
    ASSIGN_OR_RETURN(seen, vram_.Read32(fence_buf_));
    if (seen == fence) break;
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "PSP: command %u not completed: the fence at VRAM 0x%x reads %u after %s (waiting for "
          "%u; ring write pointer regMP0_SMN_C2PMSG_67 = %u)",
          cmd_id, fence_buf_, seen, absl::FormatDuration(config_.wait_timeout), fence,
          (wptr + kFrameDwords) % kRingDwords));
    }
    absl::SleepFor(absl::Microseconds(1));
  }
  return vram_.Read32(cmd_buf_ + psp::kRespOffset);
}

absl::StatusOr<uint32_t> AmPsp::ResponseWord(size_t offset) const {
  if (offset % 4 != 0 || offset + 4 > psp::kCmdRespSize - psp::kRespOffset) {
    return absl::InvalidArgumentError(
        absl::StrFormat("PSP: response offset %u is not a dword of psp_gfx_resp", offset));
  }
  return vram_.Read32(cmd_buf_ + psp::kRespOffset + offset);
}

absl::Status AmPsp::EnsureStaging(uint64_t bytes) {
  if (bytes <= staging_size_) return absl::OkStatus();
  // A bump arena cannot free: LoadIpFirmwares sizes this once to its
  // largest image.
  const uint64_t size = (bytes + psp::kOneMeg - 1) & ~(psp::kOneMeg - 1);
  ASSIGN_OR_RETURN(staging_,
                   arena_.Allocate(size, psp::kOneMeg, "the PSP staging buffer for large images"));
  staging_size_ = size;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> AmPsp::StageIpImage(absl::Span<const uint8_t> image) {
  if (image.size() <= psp::kOneMeg) {
    RETURN_IF_ERROR(StageInFwBuffer(image, "the IP firmware image"));
    return fw_buf_;
  }
  RETURN_IF_ERROR(EnsureStaging(image.size()));
  RETURN_IF_ERROR(vram_.WriteBlock(staging_, image));
  // Zero to the end of the last 4 KiB page, as the 1 MiB buffer is.
  static const std::vector<uint8_t> kZeros(kPage, 0);
  const uint64_t tail = (kPage - image.size() % kPage) % kPage;
  RETURN_IF_ERROR(
      vram_.WriteBlock(staging_ + image.size(), absl::MakeConstSpan(kZeros).first(tail)));
  RETURN_IF_ERROR(gmc_.FlushHdp());
  return staging_;
}

absl::Status AmPsp::LoadIpFw(uint32_t fw_type, absl::Span<const uint8_t> image) {
  if (image.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat("PSP: empty image for fw_type %u", fw_type));
  }
  if (image.size() > UINT32_MAX) {
    return absl::InvalidArgumentError(
        absl::StrFormat("PSP: %s image of %u bytes does not fit fw_size (32 bits)",
                        GfxFwTypeName(fw_type), image.size()));
  }
  ASSIGN_OR_RETURN(uint64_t at, StageIpImage(image));
  const uint64_t mc = gmc_.VramMc(at);
  std::vector<uint8_t> load(16, 0);  // psp_gfx_cmd_load_ip_fw
  Put32(load, 0, static_cast<uint32_t>(mc));
  Put32(load, 4, static_cast<uint32_t>(mc >> 32));
  Put32(load, 8, static_cast<uint32_t>(image.size()));
  Put32(load, 12, fw_type);
  ASSIGN_OR_RETURN(uint32_t status, Submit(psp::kCmdLoadIpFw, load));
  if (status != 0) {
    return absl::InternalError(
        absl::StrFormat("PSP: LOAD_IP_FW of %s (fw_type %u, %u bytes) failed: response status 0x%x",
                        GfxFwTypeName(fw_type), fw_type, image.size(), status));
  }
  if (fw_type == gfx_fw::kRlcG) rlc_g_loaded_ = true;
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> AmPsp::LoadToc(const PspFirmware& sos) {
  absl::Span<const uint8_t> toc = sos.Bytes(PspFwType::kToc);
  if (toc.empty()) {
    tmr_size_ = psp::kDefaultTmrSize;  // psp_tmr_init without a TOC
    return tmr_size_;
  }
  RETURN_IF_ERROR(StageInFwBuffer(toc, "TOC"));
  const uint64_t mc = gmc_.VramMc(fw_buf_);
  std::vector<uint8_t> cmd(12, 0);  // psp_gfx_cmd_load_toc
  Put32(cmd, 0, static_cast<uint32_t>(mc));
  Put32(cmd, 4, static_cast<uint32_t>(mc >> 32));
  Put32(cmd, 8, static_cast<uint32_t>(toc.size()));
  ASSIGN_OR_RETURN(uint32_t status, Submit(psp::kCmdLoadToc, cmd));
  if (status != 0) {
    return absl::InternalError(
        absl::StrFormat("PSP: LOAD_TOC (%u bytes of %s) failed: response status 0x%x", toc.size(),
                        sos.name, status));
  }
  ASSIGN_OR_RETURN(uint32_t size, ResponseWord(psp::kRespTmrSize));
  if (size == 0) {
    return absl::DataLossError(absl::StrFormat(
        "PSP: LOAD_TOC of %s answered tmr_size 0 (psp_gfx_resp at command buffer + %u)", sos.name,
        psp::kRespOffset + psp::kRespTmrSize));
  }
  tmr_size_ = size;
  return size;
}

absl::Status AmPsp::SetupTmr() {
  if (!ring_created_) return absl::FailedPreconditionError("PSP: SetupTmr before CreateRing");
  if (tmr_ == 0) {
    // amdgpu_bo_create_kernel rounds to pages.
    const uint64_t size = (uint64_t{tmr_size_} + kPage - 1) & ~(kPage - 1);
    ASSIGN_OR_RETURN(tmr_, arena_.Allocate(size, psp::kTmrAlignment, "the PSP TMR"));
    tmr_size_ = static_cast<uint32_t>(size);
  }
  const uint64_t mc = gmc_.VramMc(tmr_);
  std::vector<uint8_t> cmd(24, 0);  // psp_gfx_cmd_setup_tmr
  Put32(cmd, 0, static_cast<uint32_t>(mc));
  Put32(cmd, 4, static_cast<uint32_t>(mc >> 32));
  Put32(cmd, 8, tmr_size_);
  Put32(cmd, 12, psp::kTmrFlagVirtPhyAddr);
  Put32(cmd, 16, static_cast<uint32_t>(tmr_));
  Put32(cmd, 20, static_cast<uint32_t>(tmr_ >> 32));
  ASSIGN_OR_RETURN(uint32_t status, Submit(psp::kCmdSetupTmr, cmd));
  if (status != 0) {
    return absl::InternalError(
        absl::StrFormat("PSP: SETUP_TMR (%u bytes at VRAM 0x%x, MC 0x%x) failed: status 0x%x",
                        tmr_size_, tmr_, mc, status));
  }
  tmr_ready_ = true;
  return absl::OkStatus();
}

absl::Status AmPsp::LoadIpFirmwares(absl::Span<const AmIpFirmware> images) {
  uint64_t largest = 0;
  for (const AmIpFirmware& fw : images) {
    const bool smu = fw.fw_type == gfx_fw::kSmu;
    if (smu == tmr_ready_) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "PSP: %s (%s) %s: MP0 13.0 takes the SMU before SETUP_TMR and the other images after it",
          fw.name, GfxFwTypeName(fw.fw_type), smu ? "after SetupTmr" : "before SetupTmr"));
    }
    largest = std::max<uint64_t>(largest, fw.image.size());
  }
  if (largest > psp::kOneMeg) RETURN_IF_ERROR(EnsureStaging(largest));
  for (const AmIpFirmware& fw : images) {
    absl::Status s = LoadIpFw(fw.fw_type, fw.image);
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat(fw.name, ": ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status AmPsp::AutoloadRlc() {
  if (!rlc_g_loaded_) {
    return absl::FailedPreconditionError(
        "PSP: AUTOLOAD_RLC before RLC_G was loaded (Linux starts it after the last GFX image)");
  }
  ASSIGN_OR_RETURN(uint32_t status, Submit(psp::kCmdAutoloadRlc, {}));
  if (status != 0) {
    return absl::InternalError(
        absl::StrFormat("PSP: AUTOLOAD_RLC failed: response status 0x%x", status));
  }
  autoload_started_ = true;
  return absl::OkStatus();
}

absl::Status AmPsp::BringUp(const PspFirmware& sos, absl::Span<const AmIpFirmware> images) {
  for (size_t i = 1; i < images.size(); ++i) {
    if (images[i].fw_type == gfx_fw::kSmu) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "PSP: the SMU image is #%u; it must come first (ReadAmIpFirmware's order)", i));
    }
  }
  RETURN_IF_ERROR(LoadSos(sos));
  RETURN_IF_ERROR(CreateRing());
  RETURN_IF_ERROR(LoadToc(sos).status());
  // MP0 13.0 (pmfw_centralized_cstate_management): the PMFW before the TMR.
  const size_t smu = !images.empty() && images[0].fw_type == gfx_fw::kSmu ? 1 : 0;
  RETURN_IF_ERROR(LoadIpFirmwares(images.first(smu)));
  RETURN_IF_ERROR(SetupTmr());
  RETURN_IF_ERROR(LoadIpFirmwares(images.subspan(smu)));
  return AutoloadRlc();
}

}  // namespace uop
