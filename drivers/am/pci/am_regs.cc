#include "drivers/am/pci/am_regs.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {

#define MM(name, seg, off) \
  AmReg { "regMM" #name, kHwIdMmhub, seg, off }
#define GC(name, seg, off) \
  AmReg { "regGC" #name, kHwIdGc, seg, off }
#define OSS(name, seg, off) \
  AmReg { "reg" #name, kHwIdOsssys, seg, off }

const AmVmHubRegs kMmhub300Regs = {
    "MMHUB",
    /*use_semaphore=*/true,
    /*private_inval=*/true,
    MM(MC_VM_FB_LOCATION_BASE, 0, 0x8ec),
    MM(MC_VM_FB_LOCATION_TOP, 0, 0x8ed),
    MM(MC_VM_FB_OFFSET, 0, 0x8d7),
    MM(MC_VM_AGP_BASE, 0, 0x8f0),
    MM(MC_VM_AGP_BOT, 0, 0x8ef),
    MM(MC_VM_AGP_TOP, 0, 0x8ee),
    MM(MC_VM_SYSTEM_APERTURE_LOW_ADDR, 0, 0x8f1),
    MM(MC_VM_SYSTEM_APERTURE_HIGH_ADDR, 0, 0x8f2),
    MM(MC_VM_SYSTEM_APERTURE_DEFAULT_ADDR_LSB, 0, 0x8d8),
    MM(MC_VM_SYSTEM_APERTURE_DEFAULT_ADDR_MSB, 0, 0x8d9),
    MM(VM_L2_PROTECTION_FAULT_DEFAULT_ADDR_LO32, 0, 0x70f),
    MM(VM_L2_PROTECTION_FAULT_DEFAULT_ADDR_HI32, 0, 0x710),
    MM(MC_VM_MX_L1_TLB_CNTL, 0, 0x8f3),
    MM(VM_L2_CNTL, 0, 0x700),
    MM(VM_L2_CNTL2, 0, 0x701),
    MM(VM_L2_CNTL3, 0, 0x702),
    MM(VM_L2_CNTL4, 0, 0x718),
    MM(VM_L2_CNTL5, 0, 0x71e),
    MM(VM_CONTEXT0_CNTL, 0, 0x740),
    MM(VM_CONTEXT0_PAGE_TABLE_BASE_ADDR_LO32, 0, 0x7ab),
    MM(VM_CONTEXT0_PAGE_TABLE_BASE_ADDR_HI32, 0, 0x7ac),
    MM(VM_CONTEXT0_PAGE_TABLE_START_ADDR_LO32, 0, 0x7cb),
    MM(VM_CONTEXT0_PAGE_TABLE_START_ADDR_HI32, 0, 0x7cc),
    MM(VM_CONTEXT0_PAGE_TABLE_END_ADDR_LO32, 0, 0x7eb),
    MM(VM_CONTEXT0_PAGE_TABLE_END_ADDR_HI32, 0, 0x7ec),
    MM(VM_INVALIDATE_ENG17_SEM, 0, 0x762),
    MM(VM_INVALIDATE_ENG17_REQ, 0, 0x774),
    MM(VM_INVALIDATE_ENG17_ACK, 0, 0x786),
    MM(VM_L2_BANK_SELECT_RESERVED_CID2, 0, 0x71b),
};

const AmVmHubRegs kGcHub1100Regs = {
    "GCHUB",
    /*use_semaphore=*/false,
    /*private_inval=*/false,
    GC(MC_VM_FB_LOCATION_BASE, 0, 0x1678),
    GC(MC_VM_FB_LOCATION_TOP, 0, 0x1679),
    GC(MC_VM_FB_OFFSET, 0, 0x15a7),
    GC(MC_VM_AGP_BASE, 0, 0x167c),
    GC(MC_VM_AGP_BOT, 0, 0x167b),
    GC(MC_VM_AGP_TOP, 0, 0x167a),
    GC(MC_VM_SYSTEM_APERTURE_LOW_ADDR, 0, 0x167d),
    GC(MC_VM_SYSTEM_APERTURE_HIGH_ADDR, 0, 0x167e),
    GC(MC_VM_SYSTEM_APERTURE_DEFAULT_ADDR_LSB, 0, 0x15a8),
    GC(MC_VM_SYSTEM_APERTURE_DEFAULT_ADDR_MSB, 0, 0x15a9),
    GC(VM_L2_PROTECTION_FAULT_DEFAULT_ADDR_LO32, 0, 0x15cb),
    GC(VM_L2_PROTECTION_FAULT_DEFAULT_ADDR_HI32, 0, 0x15cc),
    GC(MC_VM_MX_L1_TLB_CNTL, 0, 0x167f),
    GC(VM_L2_CNTL, 0, 0x15bc),
    GC(VM_L2_CNTL2, 0, 0x15bd),
    GC(VM_L2_CNTL3, 0, 0x15be),
    GC(VM_L2_CNTL4, 0, 0x15d4),
    GC(VM_L2_CNTL5, 0, 0x15da),
    GC(VM_CONTEXT0_CNTL, 0, 0x1688),
    GC(VM_CONTEXT0_PAGE_TABLE_BASE_ADDR_LO32, 0, 0x16f3),
    GC(VM_CONTEXT0_PAGE_TABLE_BASE_ADDR_HI32, 0, 0x16f4),
    GC(VM_CONTEXT0_PAGE_TABLE_START_ADDR_LO32, 0, 0x1713),
    GC(VM_CONTEXT0_PAGE_TABLE_START_ADDR_HI32, 0, 0x1714),
    GC(VM_CONTEXT0_PAGE_TABLE_END_ADDR_LO32, 0, 0x1733),
    GC(VM_CONTEXT0_PAGE_TABLE_END_ADDR_HI32, 0, 0x1734),
    GC(VM_INVALIDATE_ENG17_SEM, 0, 0x16aa),
    GC(VM_INVALIDATE_ENG17_REQ, 0, 0x16bc),
    GC(VM_INVALIDATE_ENG17_ACK, 0, 0x16ce),
    GC(VM_L2_BANK_SELECT_RESERVED_CID2, 0, 0x15d7),
};

const AmIhRegs kOsssys600Regs = {
    OSS(IH_RB_CNTL, 0, 0x80),         OSS(IH_RB_BASE, 0, 0x81),
    OSS(IH_RB_BASE_HI, 0, 0x82),      OSS(IH_RB_RPTR, 0, 0x83),
    OSS(IH_RB_WPTR, 0, 0x84),         OSS(IH_RB_WPTR_ADDR_LO, 0, 0x86),
    OSS(IH_RB_WPTR_ADDR_HI, 0, 0x85), OSS(IH_DOORBELL_RPTR, 0, 0x87),
};

#define MP0(n) \
  AmReg { "regMP0_SMN_C2PMSG_" #n, kHwIdMp0, 0, 0x40 + n }
const AmPspRegs kMp01300Regs = {MP0(35), MP0(36), MP0(64), MP0(67),
                                MP0(69), MP0(70), MP0(71), MP0(81)};
#undef MP0

const AmReg kNbio430RemapHdpMemFlushCntl = {"regBIF_BX0_REMAP_HDP_MEM_FLUSH_CNTL", kHwIdNbif, 2,
                                            0x12d};

#undef MM
#undef GC
#undef OSS

namespace {

struct Required {
  uint16_t hw_id;
  uint8_t major, minor;
  size_t segments;
};
// The versions the tables above were written for.
constexpr Required kRequired[] = {
    // GC segment 1 holds the HYP_DEC range (SDMA 6.0's F32_CNTL).
    {kHwIdGc, 11, 0, 2},  {kHwIdMmhub, 3, 0, 1}, {kHwIdOsssys, 6, 0, 1},
    {kHwIdNbif, 4, 3, 4}, {kHwIdMp0, 13, 0, 1},  {kHwIdMp1, 13, 0, 1},  // SMU
};

}  // namespace

absl::StatusOr<AmRegisterMap> AmRegisterMap::Create(const IpDiscoveryTable& table) {
  AmRegisterMap map;
  for (const Required& r : kRequired) {
    const IpBlock* b = table.Find(r.hw_id);
    if (b == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("the GPU has no ", AmdHwIdName(r.hw_id), " block in its discovery table"));
    }
    if (b->major != r.major || b->minor != r.minor) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s %d.%d.%d: the AM bring-up has register tables for %s %d.%d.x only (GC 11.0 / "
          "MMHUB 3.0 / OSSSYS 6.0 / NBIO 4.3 / MP0 13.0 / MP1 13.0, Navi3x)",
          AmdHwIdName(r.hw_id), b->major, b->minor, b->revision, AmdHwIdName(r.hw_id), r.major,
          r.minor));
    }
    if (b->bases.size() < r.segments) {
      return absl::DataLossError(absl::StrFormat("%s has %u base addresses; its registers need %u",
                                                 AmdHwIdName(r.hw_id), b->bases.size(),
                                                 r.segments));
    }
    map.bases_[r.hw_id] = b->bases;
  }
  return map;
}

uint64_t AmRegisterMap::ByteOffset(const AmReg& reg) const {
  // Create checked every block and segment the tables use.
  return 4 * (bases_.at(reg.hw_id).at(reg.segment) + reg.offset);
}

absl::StatusOr<uint32_t> AmRegisterIo::Read(const AmReg& reg) const {
  absl::StatusOr<uint32_t> v = bar_.Read32(map_.ByteOffset(reg));
  if (!v.ok())
    return absl::Status(v.status().code(), absl::StrCat(reg.name, ": ", v.status().message()));
  return v;
}

absl::Status AmRegisterIo::Write(const AmReg& reg, uint32_t value) const {
  absl::Status s = bar_.Write32(map_.ByteOffset(reg), value);
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat(reg.name, ": ", s.message()));
  return s;
}

absl::Status AmRegisterIo::Update(const AmReg& reg, uint32_t clear, uint32_t set) const {
  ASSIGN_OR_RETURN(uint32_t v, Read(reg));
  return Write(reg, (v & ~clear) | set);
}

absl::Status AmRegisterIo::WritePair(const AmReg& lo, const AmReg& hi, uint64_t value) const {
  RETURN_IF_ERROR(Write(lo, static_cast<uint32_t>(value)));
  return Write(hi, static_cast<uint32_t>(value >> 32));
}

}  // namespace uop
