// Registers the AM bring-up programs, for one generation: GC 11.0.x
// (Navi3x, RDNA3) with MMHUB 3.0.x, OSSSYS 6.0.x, NBIO 4.3.x and MP0 13.0.x; resolved
// to BAR5 byte offsets through the IP discovery table.
//
// Every register is Linux's name with its dword offset and BASE_IDX from
// the asic_reg headers (gc_11_0_0_offset.h, mmhub_3_0_0_offset.h,
// osssys_6_0_0_offset.h, nbio_4_3_0_offset.h; read here through tinygrad's
// generated regs.py, which carries the same offsets and field layouts).
// Its BAR5 byte offset is 4 * (base[BASE_IDX] of the block + offset).
//
// Other block versions have other offsets: AmRegisterMap refuses them
// (Unimplemented naming the block and version) rather than programming the
// wrong registers.
#ifndef UOP_DRIVERS_AM_PCI_AM_REGS_H_
#define UOP_DRIVERS_AM_PCI_AM_REGS_H_

#include <cstdint>
#include <map>

#include "absl/status/statusor.h"
#include "drivers/am/pci/ip_discovery.h"
#include "drivers/common/mmio.h"

namespace uop {

struct AmReg {
  const char* name;
  uint16_t hw_id;
  uint8_t segment;  // BASE_IDX
  uint32_t offset;  // dwords from the segment base
};

// One VM hub: MMHUB (multimedia/system) or GCVM (graphics). Both have the
// same registers under different names and offsets.
struct AmVmHubRegs {
  const char* hub;     // "MMHUB", "GCHUB"
  bool use_semaphore;  // Linux takes the ENG17 semaphore on MMHUB only
  bool private_inval;  // MMHUB 3.0: extra private invalidation after ACK
  AmReg fb_location_base, fb_location_top, fb_offset;  // 16 MiB units
  AmReg agp_base, agp_bot, agp_top;
  AmReg sys_aperture_low, sys_aperture_high;                 // 256 KiB units
  AmReg sys_aperture_default_lsb, sys_aperture_default_msb;  // page numbers
  AmReg fault_default_lo, fault_default_hi;                  // page numbers
  AmReg l1_tlb_cntl, l2_cntl, l2_cntl2, l2_cntl3, l2_cntl4, l2_cntl5;
  AmReg ctx0_cntl;
  AmReg ctx0_base_lo, ctx0_base_hi;    // PDE: physical address | valid
  AmReg ctx0_start_lo, ctx0_start_hi;  // page numbers
  AmReg ctx0_end_lo, ctx0_end_hi;
  AmReg inv_sem, inv_req, inv_ack;  // invalidation engine 17 (the GART's)
  AmReg bank_select_reserved_cid2;  // private_inval only
};

struct AmIhRegs {
  AmReg rb_cntl, rb_base, rb_base_hi, rb_rptr, rb_wptr, wptr_addr_lo, wptr_addr_hi, doorbell_rptr;
};

// MP0 (PSP) 13.0 mailbox: C2PMSG_n is dword 0x40 + n, BASE_IDX 0
// (mp_13_0_0_offset.h).
struct AmPspRegs {
  AmReg c2pmsg_35;             // bootloader command / bit 31: bootloader ready
  AmReg c2pmsg_36;             // bootloader: component MC address >> 20
  AmReg c2pmsg_64;             // ring control command / bit 31: response, low 16: status
  AmReg c2pmsg_67;             // KM ring write pointer (dwords)
  AmReg c2pmsg_69, c2pmsg_70;  // ring MC address low / high
  AmReg c2pmsg_71;             // ring size (bytes)
  AmReg c2pmsg_81;             // sOS sign of life (non-zero once sOS runs)
};

extern const AmVmHubRegs kMmhub300Regs;
extern const AmVmHubRegs kGcHub1100Regs;
extern const AmIhRegs kOsssys600Regs;
extern const AmPspRegs kMp01300Regs;
// NBIO 4.3: where the HDP memory-flush register appears in BAR5 (the MMIO
// remap page).
extern const AmReg kNbio430RemapHdpMemFlushCntl;

// Fields (shift/mask) used by the bring-up.
namespace am_field {
// *MC_VM_MX_L1_TLB_CNTL
inline constexpr uint32_t kL1TlbEnable = 1u << 0;
inline constexpr uint32_t kL1SystemAccessModeShift = 3;  // 2 bits; 3: translate all
inline constexpr uint32_t kL1SystemApertureUnmappedAccess = 1u << 5;
inline constexpr uint32_t kL1AdvancedDriverModel = 1u << 6;
inline constexpr uint32_t kL1MtypeShift = 11;  // 3 bits
inline constexpr uint32_t kMtypeUc = 3;        // soc21 MTYPE_UC
// *VM_L2_CNTL
inline constexpr uint32_t kL2EnableCache = 1u << 0;
inline constexpr uint32_t kL2FragmentProcessing = 1u << 1;
inline constexpr uint32_t kL2DefaultPageOutToSystemMemory = 1u << 11;
inline constexpr uint32_t kL2Context1IdentityAccessModeShift = 19;  // 2 bits
// *VM_L2_CNTL2
inline constexpr uint32_t kL2InvalidateAllL1Tlbs = 1u << 0;
inline constexpr uint32_t kL2InvalidateL2Cache = 1u << 1;
// *VM_CONTEXT0_CNTL
inline constexpr uint32_t kCtxEnable = 1u << 0;
inline constexpr uint32_t kCtxDepthShift = 1;      // 2 bits; 0: flat table
inline constexpr uint32_t kCtxBlockSizeShift = 3;  // 4 bits
// *VM_INVALIDATE_ENG*_REQ
inline constexpr uint32_t kInvFlushTypeShift = 16;  // 3 bits
inline constexpr uint32_t kInvL2Ptes = 1u << 19;
inline constexpr uint32_t kInvL2Pde0 = 1u << 20;
inline constexpr uint32_t kInvL2Pde1 = 1u << 21;
inline constexpr uint32_t kInvL2Pde2 = 1u << 22;
inline constexpr uint32_t kInvL1Ptes = 1u << 23;
inline constexpr uint32_t kInvAllLevels =
    kInvL2Ptes | kInvL2Pde0 | kInvL2Pde1 | kInvL2Pde2 | kInvL1Ptes;
// MMVM_L2_BANK_SELECT_RESERVED_CID2
inline constexpr uint32_t kReservedCachePrivateInvalidation = 1u << 25;
// IH_RB_CNTL
inline constexpr uint32_t kIhRbEnable = 1u << 0;
inline constexpr uint32_t kIhRbSizeShift = 1;  // 5 bits: log2(ring dwords)
inline constexpr uint32_t kIhWptrWritebackEnable = 1u << 8;
inline constexpr uint32_t kIhWptrOverflowEnable = 1u << 16;
inline constexpr uint32_t kIhEnableIntr = 1u << 17;
inline constexpr uint32_t kIhMcSnoop = 1u << 20;
inline constexpr uint32_t kIhRptrRearm = 1u << 21;
inline constexpr uint32_t kIhMcSpaceShift = 28;  // 3 bits; 4 as Linux/tinygrad
inline constexpr uint32_t kIhWptrOverflowClear = 1u << 31;
// IH_RB_WPTR
inline constexpr uint32_t kIhRbOverflow = 1u << 0;
inline constexpr uint32_t kIhOffsetMask = 0x3FFFCu;  // bits 2-17: byte offset
// IH_DOORBELL_RPTR
inline constexpr uint32_t kIhDoorbellEnable = 1u << 28;
}  // namespace am_field

// PTE bits (amdgpu_vm.h): GC 10+ layout.
inline constexpr uint64_t kPteValid = 1ull << 0;
inline constexpr uint64_t kPteSystem = 1ull << 1;
inline constexpr uint64_t kPteSnooped = 1ull << 2;
inline constexpr uint64_t kPteExecutable = 1ull << 4;
inline constexpr uint64_t kPteReadable = 1ull << 5;
inline constexpr uint64_t kPteWriteable = 1ull << 6;
inline constexpr uint64_t kPteMtypeShift = 48;  // AMDGPU_PTE_MTYPE_NV10
inline constexpr uint64_t kPteAddressMask = 0x0000FFFFFFFFF000ull;

// The BAR5 location of each register on one GPU.
class AmRegisterMap {
 public:
  // Checks that the blocks this generation's tables describe are present in
  // the versions they were written for.
  static absl::StatusOr<AmRegisterMap> Create(const IpDiscoveryTable& table);

  uint64_t ByteOffset(const AmReg& reg) const;
  uint32_t Dword(const AmReg& reg) const { return static_cast<uint32_t>(ByteOffset(reg) / 4); }

 private:
  std::map<uint16_t, std::vector<uint64_t>> bases_;  // hw_id -> segment bases (instance 0)
};

// Register access by name: the BAR5 region plus the map.
class AmRegisterIo {
 public:
  AmRegisterIo(const MmioRegion& bar, AmRegisterMap map) : bar_(bar), map_(std::move(map)) {}
  const MmioRegion& bar() const { return bar_; }
  const AmRegisterMap& map() const { return map_; }

  absl::StatusOr<uint32_t> Read(const AmReg& reg) const;
  absl::Status Write(const AmReg& reg, uint32_t value) const;
  // Read-modify-write: clears `clear`, then sets `set`.
  absl::Status Update(const AmReg& reg, uint32_t clear, uint32_t set) const;
  // A 64-bit quantity into a LO32/HI32 (or LSB/MSB) pair, low first.
  absl::Status WritePair(const AmReg& lo, const AmReg& hi, uint64_t value) const;

 private:
  const MmioRegion& bar_;
  const AmRegisterMap map_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_AM_REGS_H_
