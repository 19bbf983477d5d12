// AmVm: the GPU virtual address space of one VMID (1-15) on GC 11.0 /
// MMHUB 3.0: four-level page tables in VRAM, as Linux's amdgpu_vm (and
// tinygrad's AMMemoryManager) build them for GFX10+:
//
//   VA bits 47:39 -> PDB2 (the root) -> 38:30 PDB1 -> 29:21 PDB0 -> 20:12 PTB
//
// 4 KiB table pages of 512 8-byte entries; VM_CONTEXTn_CNTL
// PAGE_TABLE_DEPTH = 3 (num_level) and PAGE_TABLE_BLOCK_SIZE = 0 (Linux's
// block_size 9 - 9: a PTB spans 2 MiB). gmc_v11_0 does not set
// translate_further, so PDEs carry no block-fragment size (BFS) and no
// "further translation" bit:
//   PDE = (table physical + vram_base_offset) | VALID          (47:6 address)
//   PTE = (page physical + vram_base_offset) | VALID | R/W/X | MTYPE << 48
//         | FRAGMENT << 7
// (gmc_v11_0.c's PTE/PDE format comment; amdgpu_vm.h's AMDGPU_PTE_*). The
// fragment field says the page belongs to an aligned run of 2^FRAGMENT
// pages that is physically contiguous with the same flags, so the L1 TLB
// may cache one entry for it; Map computes it as amdgpu_vm_pte_fragment
// does (largest power of two to which both the VA and the physical page are
// aligned and that the rest of the range holds).
//
// Create programs context n on both hubs (MMHUB and GCHUB): START = 0,
// END = va_size / 4 KiB - 1, BASE = root | valid, and only then CNTL
// (enable, depth 3, block size 0, every protection fault raising an
// interrupt and redirected to the dummy page, no retry faults: Linux's
// noretry default on GFX11), then flushes HDP and invalidates the VMID.
// (Linux enables contexts 1-15 at GART init and writes BASE per job through
// the ring in emit_flush_gpu_tlb; without a kernel and its rings we write
// BASE first, which the emulator insists on.)
//
// Every change to the tables (Map, Unmap) is written through the VRAM BAR,
// then HDP flushed and the VMID invalidated on both hubs (engine 17, see
// AmGmc::InvalidateTlb) before the call returns: the GPU never sees a
// half-written table. Unmap frees page-table pages that became empty (after
// the invalidation, so the hub never walks freed memory).
//
// VMID 0 stays AmGmc's flat GART (context 0, depth 0): AmVm refuses it.
//
// Thread-safe: one mutex per AmVm (the tables); AmGmc serializes
// invalidations across AmVms.
#ifndef UOP_DRIVERS_AM_PCI_VM_H_
#define UOP_DRIVERS_AM_PCI_VM_H_

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/gmc.h"
#include "drivers/am/pci/vram_allocator.h"
#include "drivers/common/mmio.h"

namespace uop {

struct AmVmMapFlags {
  bool readable = true;
  bool writeable = true;
  bool executable = false;
  // soc21 MTYPE: 0 NC (Linux's default for VRAM), 1 WC, 2 CC, 3 UC.
  uint32_t mtype = 0;
};

// PTE bits beyond am_regs.h's (amdgpu_vm.h).
inline constexpr int kPteFragmentShift = 7;  // 5 bits: run of 2^n pages
inline constexpr uint64_t kPteFragmentMask = 0x1Full << kPteFragmentShift;
inline constexpr uint64_t kPteMtypeMask = 7ull << kPteMtypeShift;

class AmVm {
 public:
  static constexpr uint64_t kPage = 4096;
  static constexpr int kLevels = 4;  // PDB2, PDB1, PDB0, PTB
  static constexpr uint64_t kMaxVaSize = uint64_t{1} << 48;
  // AllocateVa hands out [kVaFloor, min(va_size, kVaHole)): never page 0,
  // and never at or above 2^47, where shaders see sign-extended addresses
  // (Linux's AMDGPU_GMC_HOLE_START). Map accepts any VA below va_size.
  static constexpr uint64_t kVaFloor = 2 << 20;
  static constexpr uint64_t kVaHole = uint64_t{1} << 47;

  // `vram_bar` is the CPU's mapping of VRAM (offsets = VRAM physical) the
  // tables are written through; `vram` provides the table pages. `va_size`:
  // a multiple of 2 MiB in [4 MiB, 2^48].
  static absl::StatusOr<std::unique_ptr<AmVm>> Create(const AmRegisterIo& regs, AmGmc& gmc,
                                                      AmVramAllocator& vram,
                                                      const MmioRegion& vram_bar, int vmid,
                                                      uint64_t va_size = kMaxVaSize);
  // Destroy()s if the caller did not (errors are then lost).
  ~AmVm();

  // Disables the context on both hubs, invalidates, frees every table page.
  // Map/Unmap fail with FailedPrecondition afterwards.
  absl::Status Destroy();

  // A free VA range of `bytes` (rounded to 4 KiB), `align` a power of two
  // >= 4 KiB (ranges of 2 MiB and more are 2 MiB-aligned when possible).
  absl::StatusOr<uint64_t> AllocateVa(uint64_t bytes, uint64_t align = kPage);
  absl::Status FreeVa(uint64_t va);

  // Maps [va, va + bytes) to VRAM [vram_pa, vram_pa + bytes). `va` and
  // `vram_pa` 4 KiB-aligned, bytes > 0 rounded up to 4 KiB. A page already
  // mapped, a range past va_size or past VRAM: InvalidArgument naming it.
  absl::Status Map(uint64_t va, uint64_t vram_pa, uint64_t bytes, AmVmMapFlags flags = {});
  // Maps [va, va + bytes) to host memory the GPU reaches at bus address
  // `iova` (an IOMMU mapping: AmVfio::MapDma): PTEs with SYSTEM | SNOOPED
  // (amdgpu_vm.h's AMDGPU_PTE_SYSTEM / _SNOOPED, as amdgpu_ttm_tt_pte_flags
  // sets them for cached GTT) and the IOVA as the address, fragments
  // computed over the IOVA run (contiguous in the GPU's view). `iova`
  // 4 KiB-aligned, [iova, iova + bytes) below 2^48 (PTE bits 47:12). The
  // same checks and flush as Map.
  absl::Status MapSystem(uint64_t va, uint64_t iova, uint64_t bytes, AmVmMapFlags flags = {});
  // Unmaps [va, va + bytes): every page must be mapped (else
  // InvalidArgument naming the first that is not).
  absl::Status Unmap(uint64_t va, uint64_t bytes);

  int vmid() const { return vmid_; }
  uint64_t va_size() const { return va_size_; }
  uint64_t root() const { return root_->pa; }  // VRAM physical of PDB2
  // The PTE that maps `va` as written to VRAM, or NotFound.
  absl::StatusOr<uint64_t> PteAt(uint64_t va) const;
  // Where in VRAM (physical) the PTE of `va` lives, or NotFound when its
  // PTB does not exist.
  absl::StatusOr<uint64_t> PteAddress(uint64_t va) const;
  // Page-table pages in use (the root included).
  size_t table_pages() const;

 private:
  struct Table {
    uint64_t pa = 0;
    int level = 0;  // 0: PDB2 .. 3: PTB
    int used = 0;   // valid entries
    std::array<uint64_t, 512> entries{};
    std::vector<std::unique_ptr<Table>> children;  // PDBs: 512
  };

  AmVm(const AmRegisterIo& regs, AmGmc& gmc, AmVramAllocator& vram, const MmioRegion& bar, int vmid,
       uint64_t va_size)
      : regs_(regs), gmc_(gmc), vram_(vram), bar_(bar), vmid_(vmid), va_size_(va_size) {}
  static int Index(uint64_t va, int level) { return (va >> (12 + 9 * (3 - level))) & 511; }

  absl::StatusOr<std::unique_ptr<Table>> NewTable(int level);
  // The PTB of `va`, created (with its parents) when `create`; nullptr when
  // absent and not created.
  absl::StatusOr<Table*> Ptb(uint64_t va, bool create);
  const Table* FindPtb(uint64_t va) const;
  absl::Status WriteEntries(const Table& t, int first, int count);
  absl::Status CheckRange(uint64_t va, uint64_t bytes, const char* op) const;
  // Map's common part, under mu_: PTEs for pages at `first_address` (as the
  // PTE holds it) with `payload`.
  absl::Status MapPages(uint64_t va, uint64_t first_address, uint64_t bytes, uint64_t payload,
                        const char* op);
  absl::Status ProgramContext();
  void FreeTree(std::unique_ptr<Table> t, std::vector<uint64_t>* pages);
  size_t CountTables(const Table& t) const;

  const AmRegisterIo& regs_;
  AmGmc& gmc_;
  AmVramAllocator& vram_;
  const MmioRegion& bar_;
  const int vmid_;
  const uint64_t va_size_;
  mutable std::mutex mu_;
  std::unique_ptr<Table> root_;
  std::unique_ptr<AmVramAllocator> va_;
  bool destroyed_ = false;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_VM_H_
