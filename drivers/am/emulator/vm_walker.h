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
// implement it. PTE addresses minus MC_VM_FB_OFFSET are VRAM physical. A
// PTE with SYSTEM set holds a bus address (an IOVA behind VFIO): it
// translates through the EmulatedBusMemory given at construction (the
// emulated IOMMU, vfio_model.h) to host memory; without one, or for an IOVA
// the IOMMU does not map (an IOMMU fault on hardware), it faults. SYSTEM
// PTEs must be SNOOPED: the AM driver maps host memory cache-coherent, and
// the model cannot show what a non-snooped access would miss.
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

// Host memory the device reaches by bus address (what an IOMMU maps).
class EmulatedBusMemory {
 public:
  virtual ~EmulatedBusMemory() = default;
  // The host bytes behind [bus_address, bus_address + length) when one
  // mapping covers them all; nullptr otherwise.
  virtual uint8_t* Resolve(uint64_t bus_address, uint64_t length) const = 0;
};

class EmulatedVmSpace final : public GpuAddressSpace {
 public:
  // `hub`: kGcHub1100Regs for everything inside GC (CP, shaders and, on
  // GC 11, SDMA 6.0: Linux's sdma_v6_0 rings use AMDGPU_GFXHUB(0));
  // kMmhub300Regs for the multimedia engines. `vmid` 0-15 (0: the flat
  // GART context). `system`: where SYSTEM PTEs lead (nullptr: they fault).
  // The model and `system` outlive this.
  EmulatedVmSpace(const EmulatedGmcIh& model, const AmVmHubRegs& hub, int vmid,
                  const EmulatedBusMemory* system = nullptr)
      : model_(model), hub_(hub), vmid_(vmid), system_(system) {}

  // One page's walk: the PTE that applies (the fragment's first PTE when
  // FRAGMENT > 0) and the VRAM physical address of `va`, or for a SYSTEM
  // PTE the bus address (IOVA) of `va` and its host byte.
  struct PageWalk {
    uint64_t pte = 0;
    uint64_t vram_pa = 0;  // VRAM pages only
    bool system = false;
    uint64_t bus_address = 0;  // SYSTEM pages only
    uint8_t* host = nullptr;   // SYSTEM pages only
  };
  // FailedPrecondition: context disabled or never invalidated, or a SYSTEM
  // PTE without SNOOPED; OutOfRange: outside [START, END]; NotFound: an
  // invalid PDE/PTE (the message names the level) or an IOVA the IOMMU
  // does not map; Unimplemented: huge-page PDE, or a SYSTEM PTE with no
  // bus memory attached.
  absl::StatusOr<PageWalk> Walk(uint64_t va) const;

  // GpuAddressSpace. Translate: a host pointer for [va, va + length) when
  // every page is valid and the pages are contiguous in VRAM, or in IOVA
  // space inside one IOMMU mapping; nullptr otherwise. `hold` receives the
  // TLB view used.
  uint8_t* Translate(uint64_t va, size_t length,
                     std::shared_ptr<void>* hold = nullptr) const override;
  // The maximal run of valid, physically contiguous pages with the same
  // flags around `va`: id = its VRAM physical start (for SYSTEM pages its
  // IOVA), executable = the PTE's EXECUTABLE bit.
  std::optional<Allocation> AllocationAt(uint64_t va) const override;

 private:
  absl::StatusOr<PageWalk> WalkIn(const EmulatedVmView& view, uint64_t va) const;
  // The PTE of page `va` without fragment handling.
  absl::StatusOr<uint64_t> LeafPte(const EmulatedVmView& view, uint64_t va) const;

  const EmulatedGmcIh& model_;
  const AmVmHubRegs& hub_;
  const int vmid_;
  const EmulatedBusMemory* const system_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_VM_WALKER_H_
