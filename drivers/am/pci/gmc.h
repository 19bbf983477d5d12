// GMC bring-up for the AM path (GC 11.0 / MMHUB 3.0): where VRAM sits in the
// GPU's address space, the system aperture and the context-0 GART of both VM
// hubs, TLB invalidation and the HDP flush.
//
// The sequence follows Linux's gmc_v11_0.c / mmhub_v3_0.c / gfxhub_v3_0.c
// (and tinygrad's AM_GMC.init_hub):
//   Create: read MMMC_VM_FB_LOCATION_BASE/TOP and FB_OFFSET (16 MiB units,
//     left there by the firmware); allocate in VRAM the GART page table
//     (flat: one 8-byte PTE per 4 KiB page), a scratch page (system-aperture
//     default) and a dummy page (protection-fault default), zero the table.
//   Init:  point NBIO's HDP flush remap at the MMIO remap page; for MMHUB
//     then GCHUB: AGP aperture off, system aperture = [FB base, FB top]
//     (256 KiB units), default/fault pages, L1 TLB (enable, translate all,
//     advanced driver model, MTYPE_UC), L2 cache, context 0 = the GART
//     (base | valid, start, end page numbers) and only then CONTEXT0_CNTL
//     enable (flat: depth 0); then an HDP flush and a TLB invalidation of
//     VMID 0 on both hubs.
//   MapGart: write PTEs through the VRAM BAR, flush HDP (so the GPU sees
//     the CPU's writes), invalidate both hubs.
//   InvalidateTlb: (MMHUB) take the ENG17 semaphore, write ENG17_REQ for
//     the VMID (all levels), poll ENG17_ACK for the VMID's bit, release the
//     semaphore; (MMHUB 3.0) the private invalidation. Every wait is bounded
//     and a timeout names the hub and what did not answer.
//
// GART placement as Linux's amdgpu_gmc_gart_location: below VRAM at 0 when
// the space below the FB base holds it, else after VRAM aligned to 4 GiB.
#ifndef UOP_DRIVERS_AM_PCI_GMC_H_
#define UOP_DRIVERS_AM_PCI_GMC_H_

#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/vram_arena.h"
#include "drivers/common/mmio.h"

namespace uop {

// VM contexts 1-15 (per-process page tables, AmVm in vm.h): their registers
// are context 0's at a fixed distance (gc_11_0_0_offset.h /
// mmhub_3_0_0_offset.h: CONTEXTn_CNTL = CONTEXT0_CNTL + n, the
// BASE/START/END LO32/HI32 pairs + 2n; Linux's ctx_distance and
// ctx_addr_distance), so they are derived rather than listed. Names are
// Linux's, e.g. "regGCVM_CONTEXT3_PAGE_TABLE_BASE_ADDR_LO32".
struct AmVmContextRegs {
  AmReg cntl;
  AmReg base_lo, base_hi;    // root PDE: physical address | valid
  AmReg start_lo, start_hi;  // page numbers
  AmReg end_lo, end_hi;
};
// `vmid` 0-15 (clamped: callers check); `hub` is kMmhub300Regs or
// kGcHub1100Regs.
AmVmContextRegs AmVmContextRegsOf(const AmVmHubRegs& hub, int vmid);

// VM_CONTEXTn_CNTL fields beyond am_regs.h's (gc_11_0_0_sh_mask.h /
// mmhub_3_0_0_sh_mask.h, identical on both hubs).
namespace am_vm_field {
inline constexpr uint32_t kRetryPermissionOrInvalidPageFault = 1u << 7;
inline constexpr uint32_t kRetryOtherFault = 1u << 8;
// Bits 9-22: {interrupt, default} for RANGE, DUMMY_PAGE, PDE0, VALID,
// READ, WRITE, EXECUTE protection faults. "Default" redirects a faulting
// access to the dummy page instead of retrying; "interrupt" raises a VMC/
// UTCL2 fault vector in the IH.
inline constexpr uint32_t kAllProtectionFaults = 0x7FFE00u;
inline constexpr int kDepthFourLevels = 3;  // PDB2 -> PDB1 -> PDB0 -> PTB
}  // namespace am_vm_field

struct AmGmcConfig {
  uint64_t gart_size = 64 << 20;                          // bytes of GPU VA
  absl::Duration wait_timeout = absl::Milliseconds(100);  // Linux: usec_timeout
};

class AmGmc {
 public:
  static absl::StatusOr<std::unique_ptr<AmGmc>> Create(const AmRegisterIo& regs,
                                                       const MmioRegion& vram, uint64_t vram_size,
                                                       AmVramArena& arena, AmGmcConfig config = {});

  absl::Status Init();

  // Maps `pages` 4 KiB pages of VRAM at physical `vram_pa` to GART VA
  // `gart_va` (both page-aligned), then flushes HDP and invalidates.
  absl::Status MapGart(uint64_t gart_va, uint64_t vram_pa, uint64_t pages);
  absl::Status FlushHdp();
  // Invalidates `vmid`'s translations (0-15) on `hub` through engine 17 with
  // the VMID's bit, for every VMID as Linux's MMIO path
  // (gmc_v11_0_flush_gpu_tlb: "Use register 17 for GART") does before KIQ/
  // MES run. Serialized (Linux's invalidate_lock): the GC hub has no
  // semaphore, and two requests in flight on one engine are a violation.
  absl::Status InvalidateTlb(const AmVmHubRegs& hub, int vmid);
  // HDP flush, then `vmid` invalidated on MMHUB and GCHUB: what every page
  // table change needs before the GPU may use it.
  absl::Status FlushAndInvalidate(int vmid);

  uint64_t fb_base() const { return fb_base_; }  // MC address of VRAM offset 0
  uint64_t fb_top() const { return fb_top_; }    // last byte
  uint64_t gart_start() const { return gart_start_; }
  uint64_t gart_end() const { return gart_start_ + config_.gart_size - 1; }
  uint64_t gart_table() const { return gart_table_; }  // VRAM physical
  uint64_t vram_size() const { return vram_size_; }
  // What PTEs and PDEs hold for VRAM physical 0 (Linux's vram_base_offset:
  // MC_VM_FB_OFFSET; 0 on a dGPU without XGMI).
  uint64_t vram_base_offset() const { return fb_offset_; }
  // The MC address of VRAM physical `pa` (what the GPU's engines use).
  uint64_t VramMc(uint64_t pa) const { return fb_base_ + pa; }

  // Where the HDP flush register is remapped in BAR5 (Linux:
  // MMIO_REG_HOLE_OFFSET = 0x80000 - 4 KiB, KFD_MMIO_REMAP_HDP_MEM_FLUSH_CNTL
  // at +0).
  static constexpr uint64_t kHdpFlushRemap = 0x80000 - 0x1000;

 private:
  AmGmc(const AmRegisterIo& regs, const MmioRegion& vram, AmGmcConfig config)
      : regs_(regs), vram_(vram), config_(config) {}
  absl::Status InitHub(const AmVmHubRegs& hub);
  // Polls `reg` until (value & mask) == want, bounded by wait_timeout.
  absl::Status WaitFor(const AmVmHubRegs& hub, const AmReg& reg, uint32_t mask, uint32_t want,
                       const char* what);

  const AmRegisterIo& regs_;
  const MmioRegion& vram_;
  const AmGmcConfig config_;
  uint64_t vram_size_ = 0;
  uint64_t fb_base_ = 0, fb_top_ = 0, fb_offset_ = 0;
  uint64_t gart_start_ = 0;
  uint64_t gart_table_ = 0, scratch_page_ = 0, dummy_page_ = 0;
  std::mutex invalidate_mu_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_GMC_H_
