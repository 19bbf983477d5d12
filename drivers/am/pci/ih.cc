#include "drivers/am/pci/ih.h"

#include <cstring>

#include "absl/numeric/bits.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {

const AmIhStormRegs kOsssys600StormRegs = {
    AmReg{"regIH_INT_FLOOD_CNTL", kHwIdOsssys, 0, 0xD5},
    AmReg{"regIH_STORM_CLIENT_LIST_CNTL", kHwIdOsssys, 0, 0xDA},
    AmReg{"regIH_MSI_STORM_CTRL", kHwIdOsssys, 0, 0xF1},
};

IvEntry DecodeIvEntry(const std::array<uint32_t, 8>& dw) {
  IvEntry e;
  e.client_id = dw[0] & 0xFF;
  e.src_id = (dw[0] >> 8) & 0xFF;
  e.ring_id = (dw[0] >> 16) & 0xFF;
  e.vmid = (dw[0] >> 24) & 0xF;
  e.vmid_type = (dw[0] >> 31) != 0;
  e.timestamp = dw[1] | (static_cast<uint64_t>(dw[2] & 0xFFFF) << 32);
  e.timestamp_src = (dw[2] >> 31) != 0;
  e.pasid = dw[3] & 0xFFFF;
  e.node_id = (dw[3] >> 16) & 0xFF;
  for (int i = 0; i < 4; ++i) e.src_data[i] = dw[4 + i];
  return e;
}

absl::StatusOr<std::unique_ptr<AmIh>> AmIh::Create(const AmRegisterIo& regs, const MmioRegion& vram,
                                                   uint64_t fb_base, AmVramArena& arena,
                                                   uint32_t ring_bytes) {
  // RB_SIZE is log2(dwords); the pointers' offset field (bits 2-17) limits
  // the ring to 256 KiB.
  if (!absl::has_single_bit(ring_bytes) || ring_bytes < 4096 || ring_bytes > (256u << 10)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "IH ring of %u bytes: must be a power of two in [4 KiB, 256 KiB]", ring_bytes));
  }
  std::unique_ptr<AmIh> ih(new AmIh(regs, vram));
  ih->fb_base_ = fb_base;
  ih->ring_bytes_ = ring_bytes;
  ASSIGN_OR_RETURN(ih->ring_, arena.Allocate(ring_bytes, 4096, "the IH ring"));
  ASSIGN_OR_RETURN(ih->wptr_wb_, arena.Allocate(4096, 4096, "the IH write-pointer writeback"));
  const uint32_t zero = 0;
  RETURN_IF_ERROR(vram.WriteBlock(ih->wptr_wb_,
                                  absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(&zero), 4)));
  return ih;
}

uint32_t AmIh::RbCntl() const {
  using namespace am_field;
  const uint32_t log2_dwords = static_cast<uint32_t>(absl::bit_width(ring_bytes_ / 4) - 1);
  return (log2_dwords << kIhRbSizeShift) | kIhWptrWritebackEnable | kIhWptrOverflowEnable |
         kIhWptrOverflowClear | kIhMcSnoop | kIhRptrRearm | (4u << kIhMcSpaceShift);
}

absl::Status AmIh::Init() {
  using namespace am_field;
  const AmIhRegs& r = kOsssys600Regs;
  RETURN_IF_ERROR(regs_.Update(r.rb_cntl, kIhRbEnable | kIhEnableIntr, 0));
  const uint64_t ring_mc = fb_base_ + ring_;
  RETURN_IF_ERROR(regs_.Write(r.rb_base, static_cast<uint32_t>(ring_mc >> 8)));
  RETURN_IF_ERROR(regs_.Write(r.rb_base_hi, static_cast<uint32_t>(ring_mc >> 40) & 0xFF));
  RETURN_IF_ERROR(regs_.Write(r.rb_cntl, RbCntl()));
  const uint64_t wb_mc = fb_base_ + wptr_wb_;
  RETURN_IF_ERROR(regs_.Write(r.wptr_addr_lo, static_cast<uint32_t>(wb_mc) & ~3u));
  RETURN_IF_ERROR(regs_.Write(r.wptr_addr_hi, static_cast<uint32_t>(wb_mc >> 32) & 0xFFFF));
  RETURN_IF_ERROR(regs_.Write(r.rb_wptr, 0));
  RETURN_IF_ERROR(regs_.Write(r.rb_rptr, 0));
  RETURN_IF_ERROR(regs_.Write(r.doorbell_rptr, 0));  // no doorbell: rptr by register
  rptr_ = 0;
  const AmIhStormRegs& storm = kOsssys600StormRegs;
  RETURN_IF_ERROR(regs_.Update(storm.storm_client_list_cntl, 0, kIhClient18IsStormClient));
  RETURN_IF_ERROR(regs_.Update(storm.int_flood_cntl, 0, kIhFloodCntlEnable));
  RETURN_IF_ERROR(regs_.Update(storm.msi_storm_ctrl, kIhMsiStormDelayMask, kIhMsiStormDelay));
  return regs_.Write(r.rb_cntl, (RbCntl() & ~kIhWptrOverflowClear) | kIhRbEnable | kIhEnableIntr);
}

absl::StatusOr<AmIhPoll> AmIh::Poll() {
  using namespace am_field;
  const AmIhRegs& r = kOsssys600Regs;
  AmIhPoll out;
  uint32_t wptr = 0;
  RETURN_IF_ERROR(vram_.ReadBlock(wptr_wb_, absl::MakeSpan(reinterpret_cast<uint8_t*>(&wptr), 4)));
  if ((wptr & kIhRbOverflow) != 0) {
    // Entries were dropped: the register has the newest pointer; resume
    // after the oldest entry still in the ring (Linux ih_v6_0_get_wptr).
    ASSIGN_OR_RETURN(wptr, regs_.Read(r.rb_wptr));
    out.overflowed = true;
    rptr_ = ((wptr & kIhOffsetMask) + kIvEntryBytes) & (ring_bytes_ - 1);
    RETURN_IF_ERROR(regs_.Update(r.rb_cntl, 0, kIhWptrOverflowClear));
    RETURN_IF_ERROR(regs_.Update(r.rb_cntl, kIhWptrOverflowClear, 0));
  }
  const uint32_t end = wptr & kIhOffsetMask & (ring_bytes_ - 1);
  if (end % kIvEntryBytes != 0) {
    return absl::DataLossError(absl::StrFormat(
        "IH write pointer 0x%x is not on a %u-byte entry boundary", end, kIvEntryBytes));
  }
  while (rptr_ != end) {
    std::array<uint32_t, 8> dw;
    RETURN_IF_ERROR(vram_.ReadBlock(
        ring_ + rptr_, absl::MakeSpan(reinterpret_cast<uint8_t*>(dw.data()), sizeof(dw))));
    out.entries.push_back(DecodeIvEntry(dw));
    rptr_ = (rptr_ + kIvEntryBytes) & (ring_bytes_ - 1);
  }
  RETURN_IF_ERROR(regs_.Write(r.rb_rptr, rptr_));
  return out;
}

}  // namespace uop
