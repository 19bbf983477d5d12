// EmulatedVmSpace: how the emulated engines of the PCI path (command
// processor, SDMA) reach memory: through one hub's TLB of one VMID, walking
// the page tables the driver wrote into VRAM the way the hub does
// (gmc_ih_model.h keeps what the hub sees: the tables as of the last HDP
// flush, loaded at the last acknowledged invalidation of that VMID).
//
// The walk (EmulatedVmView::shift/entries): from BASE (the root PDE; bits
// 47:6 address, bit 0 valid) through PAGE_TABLE_DEPTH levels of PDEs to the
// PTE; PAGE_TABLE_BLOCK_SIZE widens the PTB; the page number is taken
// relative to START; a page outside [START, END] faults. A PDE or PTE
// without VALID faults; a PDE with the P bit (a PDE used as a huge-page PTE)
// faults too: the AM driver never writes one and the model does not
// implement it. PTE addresses minus MC_VM_FB_OFFSET are VRAM physical; a
// PTE with SYSTEM set (host memory) faults (not modelled).
//
// Fragments: a PTE with FRAGMENT = n > 0 tells the hub that its aligned run
// of 2^n pages is physically contiguous with the same flags. The model
// behaves like a TLB that filled the run from its first page: every page of
// the run translates from the run's first PTE. So correct fragments give
// the same result as a per-page walk, and wrong ones (non-contiguous pages
// claimed contiguous) translate where the hardware would, not where the
// driver meant.
//
// Thread safety: Translate and AllocationAt take the TLB view under the
// model's lock (a shared_ptr to an immutable snapshot) and walk it without
// locks, so the driver may map and unmap on another thread meanwhile.
#ifndef UOP_DRIVERS_AM_EMULATOR_VM_WALKER_H_
#define UOP_DRIVERS_AM_EMULATOR_VM_WALKER_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "drivers/am/emulator/gmc_ih_model.h"
#include "drivers/am/emulator/gpu_address_space.h"
#include "drivers/am/pci/am_regs.h"

namespace uop {

class EmulatedVmSpace final : public GpuAddressSpace {
 public:
  // `hub`: kGcHub1100Regs for everything inside GC (CP, shaders and, on
  // GC 11, SDMA 6.0: Linux's sdma_v6_0 rings use AMDGPU_GFXHUB(0));
  // kMmhub300Regs for the multimedia engines. `vmid` 0-15 (0: the flat
  // GART context). The model outlives this.
  EmulatedVmSpace(const EmulatedGmcIh& model, const AmVmHubRegs& hub, int vmid)
      : model_(model), hub_(hub), vmid_(vmid) {}

  // One page's walk: the PTE that applies (the fragment's first PTE when
  // FRAGMENT > 0) and the VRAM physical address of `va`.
  struct PageWalk {
    uint64_t pte = 0;
    uint64_t vram_pa = 0;
  };
  // FailedPrecondition: context disabled or never invalidated;
  // OutOfRange: outside [START, END]; NotFound: an invalid PDE/PTE (the
  // message names the level); Unimplemented: huge-page PDE or SYSTEM PTE.
  absl::StatusOr<PageWalk> Walk(uint64_t va) const;

  // GpuAddressSpace. Translate: a host pointer for [va, va + length) when
  // every page is valid and the pages are physically contiguous in VRAM;
  // nullptr otherwise. `hold` receives the TLB view used.
  uint8_t* Translate(uint64_t va, size_t length,
                     std::shared_ptr<void>* hold = nullptr) const override;
  // The maximal run of valid, physically contiguous pages with the same
  // flags around `va`: id = its VRAM physical start, executable = the PTE's
  // EXECUTABLE bit.
  std::optional<Allocation> AllocationAt(uint64_t va) const override;

 private:
  absl::StatusOr<PageWalk> WalkIn(const EmulatedVmView& view, uint64_t va) const;
  // The PTE of page `va` without fragment handling.
  absl::StatusOr<uint64_t> LeafPte(const EmulatedVmView& view, uint64_t va) const;

  const EmulatedGmcIh& model_;
  const AmVmHubRegs& hub_;
  const int vmid_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_VM_WALKER_H_
