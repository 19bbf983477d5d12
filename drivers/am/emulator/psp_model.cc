#include "drivers/am/emulator/psp_model.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/am/pci/ip_discovery.h"
#include "drivers/am/pci/ip_firmware.h"
#include "drivers/am/pci/psp.h"

namespace uop {
namespace {

uint32_t Le32(const std::vector<uint8_t>& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}

const char* BlCommandName(uint32_t cmd) {
  switch (cmd) {
    case psp::kBlLoadSysDrv:
      return "LOAD_SYSDRV";
    case psp::kBlLoadSosDrv:
      return "LOAD_SOSDRV";
    case psp::kBlLoadKeyDatabase:
      return "LOAD_KEY_DATABASE";
    case psp::kBlLoadSocDrv:
      return "LOAD_SOCDRV";
    case psp::kBlLoadDbgDrv:
      return "LOAD_DBGDRV";
    case psp::kBlLoadIntfDrv:
      return "LOAD_INTFDRV";
    case psp::kBlLoadRasDrv:
      return "LOAD_RASDRV";
    case psp::kBlLoadTosSplTable:
      return "LOAD_TOS_SPL_TABLE";
  }
  return nullptr;
}

constexpr uint32_t kStatusUnknownCommand = 0xFFFF0002;
constexpr uint32_t kStatusBadAddress = 0xFFFF0007;
constexpr uint32_t kStatusAutoloadRefused = 0xFFFF0001;

}  // namespace

absl::StatusOr<std::unique_ptr<EmulatedPsp>> EmulatedPsp::Attach(EmulatedPciGpu& gpu,
                                                                 EmulatedPspConfig config) {
  absl::StatusOr<IpDiscoveryTable> table = ParseIpDiscovery(gpu.config().discovery);
  if (!table.ok()) return table.status();
  absl::StatusOr<AmRegisterMap> map = AmRegisterMap::Create(*table);
  if (!map.ok()) return map.status();
  std::unique_ptr<EmulatedPsp> m(new EmulatedPsp(gpu, std::move(*map), config));
  EmulatedPsp* self = m.get();
  EmulatedRegisterFile& rf = m->regs_;
  const AmPspRegs& r = kMp01300Regs;
  if (config.sos_alive_at_start) {
    m->sos_alive_ = true;
    rf.Set(m->D(r.c2pmsg_81), 0x00310000);
    rf.Set(m->D(r.c2pmsg_64), psp::kResponse);
  }
  rf.OnRead(m->D(r.c2pmsg_35), [self](uint32_t stored) { return self->ReadBl(stored); });
  rf.OnWrite(m->D(r.c2pmsg_35), [self](uint32_t v) { self->OnBlCommand(v); });
  rf.OnWrite(m->D(r.c2pmsg_36), [self](uint32_t) { self->addr_written_ = true; });
  rf.OnRead(m->D(r.c2pmsg_81), [self](uint32_t stored) { return self->ReadSos(stored); });
  rf.OnRead(m->D(r.c2pmsg_64), [self](uint32_t stored) {
    if (self->ctrl_pending_ && ++self->ctrl_reads_ >= 2) {
      self->ctrl_pending_ = false;
      const uint32_t v = psp::kResponse | self->ctrl_status_;
      self->regs_.Set(self->D(kMp01300Regs.c2pmsg_64), v);
      return v;
    }
    return stored;
  });
  rf.OnWrite(m->D(r.c2pmsg_64), [self](uint32_t v) { self->OnRingControl(v); });
  const AmReg* args[3] = {&r.c2pmsg_69, &r.c2pmsg_70, &r.c2pmsg_71};
  for (int i = 0; i < 3; ++i) {
    rf.OnWrite(m->D(*args[i]), [self, i](uint32_t) { self->ring_args_[i] = true; });
  }
  rf.OnWrite(m->D(r.c2pmsg_67), [self](uint32_t v) { self->OnWptr(v); });
  return m;
}

int64_t EmulatedPsp::Vram(uint64_t mc, uint64_t bytes) const {
  const uint64_t fb_base = uint64_t{regs_.Get(D(kMmhub300Regs.fb_location_base)) & 0xFFFFFFu} << 24;
  const uint64_t size = gpu_.config().vram_size;
  if (mc < fb_base || mc - fb_base > size || bytes > size - (mc - fb_base)) return -1;
  return static_cast<int64_t>(mc - fb_base);
}

uint32_t EmulatedPsp::ReadBl(uint32_t stored) {
  if (sos_alive_ || config_.never_ready) return stored & ~psp::kBlReady;
  if (++bl_reads_ > config_.ready_after_reads) {
    ready_seen_ = true;
    return stored | psp::kBlReady;
  }
  return stored & ~psp::kBlReady;
}

void EmulatedPsp::OnBlCommand(uint32_t cmd) {
  const char* name = BlCommandName(cmd);
  const uint32_t dw36 = regs_.Get(D(kMp01300Regs.c2pmsg_36));
  const bool had_addr = addr_written_, was_ready = ready_seen_;
  addr_written_ = false;
  ready_seen_ = false;
  bl_reads_ = 0;
  if (sos_alive_ || sos_loaded_) {
    regs_.Violation(
        absl::StrFormat("bootloader command 0x%x written after the sOS was loaded", cmd));
    return;
  }
  if (name == nullptr) {
    regs_.Violation(absl::StrFormat("C2PMSG_35: 0x%x is not a bootloader command", cmd));
    return;
  }
  if (!was_ready) {
    regs_.Violation(absl::StrFormat(
        "%s written before the bootloader reported ready (C2PMSG_35 bit 31 not read)", name));
  }
  if (!had_addr) {
    regs_.Violation(
        absl::StrFormat("%s without its address (C2PMSG_36 not written since the "
                        "previous command)",
                        name));
    return;
  }
  const int64_t pa = Vram(uint64_t{dw36} << 20, config_.snapshot_bytes);
  if (pa < 0) {
    regs_.Violation(absl::StrFormat("%s: C2PMSG_36 = 0x%x (MC 0x%x) is not in VRAM", name, dw36,
                                    uint64_t{dw36} << 20));
    return;
  }
  if (cmd == psp::kBlLoadSosDrv && !sys_drv_loaded_) {
    regs_.Violation("LOAD_SOSDRV before LOAD_SYSDRV");
  }
  BootloaderLoad load{cmd, static_cast<uint64_t>(pa), std::vector<uint8_t>(config_.snapshot_bytes)};
  gpu_.ReadVram(load.vram, absl::MakeSpan(load.bytes));
  bl_loads_.push_back(std::move(load));
  if (cmd == psp::kBlLoadSysDrv) sys_drv_loaded_ = true;
  if (cmd == psp::kBlLoadSosDrv) sos_loaded_ = true;
}

void EmulatedPsp::ChipReset() {
  bl_reads_ = 0;
  ready_seen_ = addr_written_ = sys_drv_loaded_ = sos_loaded_ = false;
  sos_reads_ = 0;
  sos_alive_ = false;
  for (bool& a : ring_args_) a = false;
  ring_mc_ = 0;
  ring_size_ = 0;
  wptr_ = 0;
  ctrl_pending_ = false;
  ctrl_reads_ = 0;
  ctrl_status_ = 0;
  toc_.clear();
  tmr_.reset();
  loaded_types_.clear();
  autoload_ = false;
}

void EmulatedPsp::SetSosRunning() {
  sos_alive_ = true;
  regs_.Set(D(kMp01300Regs.c2pmsg_81), 0x00310000);
  regs_.Set(D(kMp01300Regs.c2pmsg_64), psp::kResponse);
}

uint32_t EmulatedPsp::ReadSos(uint32_t stored) {
  if (sos_loaded_ && !sos_alive_ && ++sos_reads_ >= config_.sos_after_reads) {
    sos_alive_ = true;
    for (bool& a : ring_args_) a = false;
    regs_.Set(D(kMp01300Regs.c2pmsg_64), psp::kResponse);  // ready for a ring
    regs_.Set(D(kMp01300Regs.c2pmsg_81), 0x00310000);
    return 0x00310000;
  }
  return stored;
}

void EmulatedPsp::OnRingControl(uint32_t value) {
  if (!sos_alive_) {
    regs_.Violation(absl::StrFormat(
        "C2PMSG_64 ring command 0x%x before the sOS is alive (C2PMSG_81 still 0)", value));
    return;
  }
  ctrl_pending_ = true;
  ctrl_reads_ = 0;
  ctrl_status_ = 0;
  if (value == psp::kCtrlDestroyRings) {
    ring_size_ = 0;
    return;
  }
  if (value != psp::kRingTypeKm << 16) {
    regs_.Violation(
        absl::StrFormat("C2PMSG_64: 0x%x is not a ring command this model knows", value));
    ctrl_status_ = 1;
    return;
  }
  const AmPspRegs& r = kMp01300Regs;
  if (!ring_args_[0] || !ring_args_[1] || !ring_args_[2]) {
    regs_.Violation("KM ring created before C2PMSG_69/70/71 (address, size) were written");
    ctrl_status_ = 1;
    return;
  }
  const uint64_t mc = regs_.Get(D(r.c2pmsg_69)) | uint64_t{regs_.Get(D(r.c2pmsg_70))} << 32;
  const uint32_t size = regs_.Get(D(r.c2pmsg_71));
  if (size == 0 || size % psp::kFrameSize != 0 || Vram(mc, size) < 0) {
    regs_.Violation(absl::StrFormat(
        "KM ring at MC 0x%x, %u bytes: not whole 64-byte frames inside VRAM", mc, size));
    ctrl_status_ = 1;
    return;
  }
  for (bool& a : ring_args_) a = false;
  ring_mc_ = mc;
  ring_size_ = size;
  wptr_ = 0;
  regs_.Set(D(r.c2pmsg_67), 0);
}

void EmulatedPsp::OnWptr(uint32_t wptr) {
  constexpr uint32_t kFrameDwords = psp::kFrameSize / 4;
  if (ring_size_ == 0) {
    regs_.Violation(absl::StrFormat("C2PMSG_67 = %u written with no KM ring", wptr));
    return;
  }
  if (wptr % kFrameDwords != 0 || wptr >= ring_size_ / 4) {
    regs_.Violation(absl::StrFormat("C2PMSG_67 = %u: not a frame boundary inside the %u-dword ring",
                                    wptr, ring_size_ / 4));
    return;
  }
  while (wptr_ != wptr) {
    ExecuteFrame(wptr_);
    wptr_ = (wptr_ + kFrameDwords) % (ring_size_ / 4);
  }
}

void EmulatedPsp::ExecuteFrame(uint32_t dword) {
  ++frames_;
  const uint64_t ring_pa = static_cast<uint64_t>(Vram(ring_mc_, ring_size_));
  std::vector<uint8_t> frame(psp::kFrameSize);
  gpu_.ReadVram(ring_pa + uint64_t{dword} * 4, absl::MakeSpan(frame));
  const uint64_t cmd_mc = Le32(frame, 0) | uint64_t{Le32(frame, 4)} << 32;
  const uint64_t fence_mc = Le32(frame, 12) | uint64_t{Le32(frame, 16)} << 32;
  const uint32_t fence = Le32(frame, 20);
  const int64_t cmd_pa = Vram(cmd_mc, psp::kCmdRespSize);
  const int64_t fence_pa = Vram(fence_mc, 4);
  if (cmd_pa < 0 || fence_pa < 0) {
    regs_.Violation(absl::StrFormat(
        "ring frame at dword %u: command buffer MC 0x%x or fence MC 0x%x is not in VRAM", dword,
        cmd_mc, fence_mc));
    return;
  }
  std::vector<uint8_t> cmd(psp::kCmdRespSize);
  gpu_.ReadVram(cmd_pa, absl::MakeSpan(cmd));
  uint32_t status = kStatusUnknownCommand;
  switch (Le32(cmd, psp::kCmdIdOffset)) {
    case psp::kCmdLoadIpFw:
      status = LoadIpFw(cmd);
      break;
    case psp::kCmdLoadToc:
      status = LoadToc(cmd, static_cast<uint64_t>(cmd_pa));
      break;
    case psp::kCmdSetupTmr:
      status = SetupTmr(cmd);
      break;
    case psp::kCmdAutoloadRlc:
      status = AutoloadRlc();
      break;
  }
  gpu_.WriteVram(static_cast<uint64_t>(cmd_pa) + psp::kRespOffset,
                 absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(&status), 4));
  if (!config_.drop_fences) {
    gpu_.WriteVram(static_cast<uint64_t>(fence_pa),
                   absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(&fence), 4));
  }
  // Autoload subscribers run once the command is answered, as the RLC would
  // finish after the PSP accepted it.
  if (status == 0 && Le32(cmd, psp::kCmdIdOffset) == psp::kCmdAutoloadRlc) {
    for (const auto& cb : on_autoload_) cb();
  }
}

uint32_t EmulatedPsp::LoadIpFw(const std::vector<uint8_t>& cmd) {
  const uint64_t fw_mc = Le32(cmd, psp::kCmdOffset) | uint64_t{Le32(cmd, psp::kCmdOffset + 4)}
                                                          << 32;
  IpFwLoad load{Le32(cmd, psp::kCmdOffset + 12), Le32(cmd, psp::kCmdOffset + 8), {}, 0};
  const std::string name = GfxFwTypeName(load.fw_type);
  const int64_t fw_pa = Vram(fw_mc, load.size);
  if (fw_pa < 0 || load.size == 0) {
    regs_.Violation(absl::StrFormat("LOAD_IP_FW of %s: %u bytes at MC 0x%x are not in VRAM", name,
                                    load.size, fw_mc));
    return kStatusBadAddress;
  }
  load.vram = static_cast<uint64_t>(fw_pa);
  if (tmr_.has_value() && load.vram < tmr_->vram + tmr_->size &&
      tmr_->vram < load.vram + load.size) {
    regs_.Violation(
        absl::StrFormat("LOAD_IP_FW of %s: its %u bytes at VRAM 0x%x overlap the TMR [0x%x, 0x%x)",
                        name, load.size, load.vram, tmr_->vram, tmr_->vram + tmr_->size));
    return kStatusBadAddress;
  }
  if (load.fw_type == gfx_fw::kSmu) {
    if (toc_.empty()) regs_.Violation("LOAD_IP_FW of SMU before LOAD_TOC");
    if (tmr_.has_value()) {
      regs_.Violation("LOAD_IP_FW of SMU after SETUP_TMR (MP0 13.0 loads the PMFW before the TMR)");
    }
  } else {
    if (loaded_types_.count(gfx_fw::kSmu) == 0) {
      regs_.Violation(
          absl::StrFormat("LOAD_IP_FW of %s before the SMU (the SMU goes first)", name));
    }
    if (!tmr_.has_value()) {
      regs_.Violation(absl::StrFormat("LOAD_IP_FW of %s before SETUP_TMR", name));
    }
    if (autoload_) {
      regs_.Violation(absl::StrFormat("LOAD_IP_FW of %s after AUTOLOAD_RLC", name));
    }
  }
  load.bytes.resize(load.size);
  gpu_.ReadVram(load.vram, absl::MakeSpan(load.bytes));
  loaded_types_.insert(load.fw_type);
  ip_loads_.push_back(std::move(load));
  return 0;
}

uint32_t EmulatedPsp::LoadToc(const std::vector<uint8_t>& cmd, uint64_t cmd_pa) {
  const uint64_t mc = Le32(cmd, psp::kCmdOffset) | uint64_t{Le32(cmd, psp::kCmdOffset + 4)} << 32;
  const uint32_t size = Le32(cmd, psp::kCmdOffset + 8);
  const int64_t pa = Vram(mc, size);
  if (pa < 0 || size == 0) {
    regs_.Violation(absl::StrFormat("LOAD_TOC: %u bytes at MC 0x%x are not in VRAM", size, mc));
    return kStatusBadAddress;
  }
  if (tmr_.has_value()) regs_.Violation("LOAD_TOC after SETUP_TMR");
  toc_.resize(size);
  gpu_.ReadVram(static_cast<uint64_t>(pa), absl::MakeSpan(toc_));
  const uint32_t tmr_size = config_.toc_tmr_size;
  gpu_.WriteVram(cmd_pa + psp::kRespOffset + psp::kRespTmrSize,
                 absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(&tmr_size), 4));
  return 0;
}

uint32_t EmulatedPsp::SetupTmr(const std::vector<uint8_t>& cmd) {
  TmrSetup t;
  t.mc = Le32(cmd, psp::kCmdOffset) | uint64_t{Le32(cmd, psp::kCmdOffset + 4)} << 32;
  t.size = Le32(cmd, psp::kCmdOffset + 8);
  t.flags = Le32(cmd, psp::kCmdOffset + 12);
  t.system_pa = Le32(cmd, psp::kCmdOffset + 16) | uint64_t{Le32(cmd, psp::kCmdOffset + 20)} << 32;
  if (tmr_.has_value()) {
    regs_.Violation("SETUP_TMR a second time");
    return kStatusBadAddress;
  }
  if (toc_.empty()) regs_.Violation("SETUP_TMR before LOAD_TOC (the TOC sizes the TMR)");
  const int64_t pa = Vram(t.mc, t.size);
  if (pa < 0 || t.size == 0 || t.size % 4096 != 0 || t.mc % psp::kTmrAlignment != 0) {
    regs_.Violation(absl::StrFormat(
        "SETUP_TMR: %u bytes at MC 0x%x: not whole 4 KiB pages at a 1 MiB-aligned address inside "
        "VRAM",
        t.size, t.mc));
    return kStatusBadAddress;
  }
  t.vram = static_cast<uint64_t>(pa);
  if (!toc_.empty() && t.size < config_.toc_tmr_size) {
    regs_.Violation(absl::StrFormat("SETUP_TMR: %u bytes, smaller than the %u LOAD_TOC asked for",
                                    t.size, config_.toc_tmr_size));
  }
  if ((t.flags & psp::kTmrFlagVirtPhyAddr) == 0) {
    regs_.Violation("SETUP_TMR without virt_phy_addr (tmr_flags bit 1)");
  } else if (t.system_pa != t.vram) {
    regs_.Violation(absl::StrFormat(
        "SETUP_TMR: system_phy_addr 0x%x is not the TMR's VRAM address 0x%x (MC 0x%x)", t.system_pa,
        t.vram, t.mc));
  }
  tmr_ = t;
  return 0;
}

uint32_t EmulatedPsp::AutoloadRlc() {
  if (autoload_) {
    regs_.Violation("AUTOLOAD_RLC a second time");
    return kStatusAutoloadRefused;
  }
  if (!tmr_.has_value()) {
    regs_.Violation("AUTOLOAD_RLC before SETUP_TMR");
    return kStatusAutoloadRefused;
  }
  std::string missing;
  for (uint32_t t : {gfx_fw::kRlcG, gfx_fw::kImuI, gfx_fw::kImuD, gfx_fw::kRs64Pfp, gfx_fw::kRs64Me,
                     gfx_fw::kRs64Mec, gfx_fw::kSdmaUcodeTh0}) {
    if (loaded_types_.count(t) == 0)
      absl::StrAppend(&missing, missing.empty() ? "" : ", ", GfxFwTypeName(t));
  }
  if (!missing.empty()) {
    regs_.Violation(absl::StrCat("AUTOLOAD_RLC before ", missing, " was loaded"));
    return kStatusAutoloadRefused;
  }
  autoload_ = true;
  return 0;
}

}  // namespace uop
