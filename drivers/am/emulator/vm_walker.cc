#include "drivers/am/emulator/vm_walker.h"

#include "absl/strings/str_format.h"

namespace uop {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kPdeAddressMask = 0x0000FFFFFFFFFFC0ull;  // PDE bits 47:6
constexpr uint64_t kPdeIsPte = 1ull << 54;
constexpr uint64_t kFragmentMask = 0x1Full << 7;
constexpr const char* kLevelName[] = {"PDB2", "PDB1", "PDB0", "PTB"};

// Flags that must agree across an allocation's pages (everything but the
// address and the fragment).
uint64_t PteFlags(uint64_t pte) { return pte & ~kPteAddressMask & ~kFragmentMask; }
int FragmentOf(uint64_t pte) { return static_cast<int>((pte >> 7) & 0x1F); }

}  // namespace

absl::StatusOr<uint64_t> EmulatedVmSpace::LeafPte(const EmulatedVmView& view, uint64_t va) const {
  const uint64_t page = va / kPage;
  if (page < view.start_page || page > view.end_page) {
    return absl::OutOfRangeError(
        absl::StrFormat("%s VMID %d: VA 0x%x is outside the context's pages [0x%x, 0x%x]", hub_.hub,
                        vmid_, va, view.start_page, view.end_page));
  }
  const uint64_t rel = page - view.start_page;
  const int depth = view.depth();
  uint64_t entry = view.base;
  for (int level = 0; level <= depth; ++level) {
    const char* name = depth == 3 ? kLevelName[level] : "table";
    if ((entry & kPteValid) == 0) {
      return absl::NotFoundError(absl::StrFormat(
          "%s VMID %d: VA 0x%x: the entry pointing to the level-%d %s (0x%x) is not valid",
          hub_.hub, vmid_, va, level, name, entry));
    }
    if (level > 0 && (entry & kPdeIsPte) != 0) {
      return absl::UnimplementedError(
          absl::StrFormat("%s VMID %d: VA 0x%x: PDE 0x%x is a huge-page PTE (P bit): not modelled",
                          hub_.hub, vmid_, va, entry));
    }
    const uint64_t addr = entry & kPdeAddressMask;
    auto t = addr >= view.fb_offset ? view.tables.find(addr - view.fb_offset) : view.tables.end();
    if (t == view.tables.end()) {
      return absl::NotFoundError(absl::StrFormat(
          "%s VMID %d: VA 0x%x: the level-%d %s at 0x%x is not in the GPU's view (outside VRAM, "
          "or written without an HDP flush and invalidation)",
          hub_.hub, vmid_, va, level, name, addr));
    }
    const uint64_t shift = view.shift(level);
    uint64_t index = rel >> shift;
    if (level > 0) index &= view.entries(level) - 1;
    if (index >= t->second.size()) {
      return absl::OutOfRangeError(absl::StrFormat("%s VMID %d: VA 0x%x: index %u past the %s",
                                                   hub_.hub, vmid_, va, index, name));
    }
    entry = t->second[index];
  }
  if ((entry & kPteValid) == 0) {
    return absl::NotFoundError(
        absl::StrFormat("%s VMID %d: VA 0x%x: PTE 0x%x is not valid", hub_.hub, vmid_, va, entry));
  }
  if ((entry & kPteSystem) != 0 && system_ == nullptr) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s VMID %d: VA 0x%x: PTE 0x%x maps system memory, but no IOMMU (bus memory) is attached "
        "to this walker",
        hub_.hub, vmid_, va, entry));
  }
  if ((entry & kPteSystem) != 0 && (entry & kPteSnooped) == 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s VMID %d: VA 0x%x: PTE 0x%x maps system memory without SNOOPED: the GPU would bypass "
        "the CPU's caches",
        hub_.hub, vmid_, va, entry));
  }
  return entry;
}

absl::StatusOr<EmulatedVmSpace::PageWalk> EmulatedVmSpace::WalkIn(const EmulatedVmView& view,
                                                                  uint64_t va) const {
  absl::StatusOr<uint64_t> pte = LeafPte(view, va);
  if (!pte.ok()) return pte.status();
  uint64_t use = *pte, use_va = va & ~(kPage - 1);
  if (const int frag = FragmentOf(*pte); frag > 0) {
    // The run's first PTE translates the whole run.
    const uint64_t run = kPage << frag;
    const uint64_t rel = va - view.start_page * kPage;
    use_va = va - rel % run;
    absl::StatusOr<uint64_t> first = LeafPte(view, use_va);
    if (!first.ok()) return first.status();
    use = *first;
  }
  const uint64_t addr = (use & kPteAddressMask) + (va - use_va);
  if ((use & kPteSystem) != 0) {
    uint8_t* host = system_->Resolve(addr, 1);
    if (host == nullptr) {
      return absl::NotFoundError(absl::StrFormat(
          "%s VMID %d: VA 0x%x: PTE 0x%x: bus address 0x%x is not mapped by the IOMMU (an IOMMU "
          "fault)",
          hub_.hub, vmid_, va, use, addr));
    }
    PageWalk w;
    w.pte = use;
    w.system = true;
    w.bus_address = addr;
    w.host = host;
    return w;
  }
  if (addr < view.fb_offset || addr - view.fb_offset >= model_.gpu().vram_bytes()) {
    return absl::NotFoundError(absl::StrFormat("%s VMID %d: VA 0x%x: PTE 0x%x points outside VRAM",
                                               hub_.hub, vmid_, va, use));
  }
  return PageWalk{use, addr - view.fb_offset};
}

absl::StatusOr<EmulatedVmSpace::PageWalk> EmulatedVmSpace::Walk(uint64_t va) const {
  const EmulatedGmcIh::VmTlb tlb = model_.TlbOf(hub_, vmid_);
  if (!tlb.enabled || tlb.view == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s VMID %d: the context is %s", hub_.hub, vmid_,
                        tlb.enabled ? "enabled but its TLB was never invalidated" : "not enabled"));
  }
  return WalkIn(*tlb.view, va);
}

uint8_t* EmulatedVmSpace::Translate(uint64_t va, size_t length, std::shared_ptr<void>* hold) const {
  const EmulatedGmcIh::VmTlb tlb = model_.TlbOf(hub_, vmid_);
  if (!tlb.enabled || tlb.view == nullptr) return nullptr;
  const EmulatedVmView& view = *tlb.view;
  absl::StatusOr<PageWalk> first = WalkIn(view, va);
  if (!first.ok()) return nullptr;
  const uint64_t last = va + (length == 0 ? 0 : length - 1);
  if (last < va) return nullptr;
  if (!first->system && first->vram_pa + (last - va) >= model_.gpu().vram_bytes()) return nullptr;
  // Every later page must continue the first (physically in VRAM, or in IOVA
  // and host memory); a fragment's pages do by definition, so whole runs
  // are skipped.
  uint64_t page = (va & ~(kPage - 1)) + kPage;
  while (page <= last) {
    absl::StatusOr<PageWalk> w = WalkIn(view, page);
    if (!w.ok() || w->system != first->system) return nullptr;
    if (!first->system && w->vram_pa != first->vram_pa + (page - va)) return nullptr;
    if (first->system && (w->bus_address != first->bus_address + (page - va) ||
                          w->host != first->host + (page - va))) {
      return nullptr;
    }
    const uint64_t run = kPage << FragmentOf(w->pte);
    const uint64_t rel = page - view.start_page * kPage;
    page += run - rel % run;
  }
  if (hold != nullptr) *hold = std::const_pointer_cast<EmulatedVmView>(tlb.view);
  return first->system ? first->host : model_.gpu().vram_view() + first->vram_pa;
}

std::optional<GpuAddressSpace::Allocation> EmulatedVmSpace::AllocationAt(uint64_t va) const {
  const EmulatedGmcIh::VmTlb tlb = model_.TlbOf(hub_, vmid_);
  if (!tlb.enabled || tlb.view == nullptr) return std::nullopt;
  const EmulatedVmView& view = *tlb.view;
  absl::StatusOr<PageWalk> at = WalkIn(view, va);
  if (!at.ok()) return std::nullopt;
  const uint64_t flags = PteFlags(at->pte);
  const uint64_t page = va & ~(kPage - 1);
  // VRAM physical, or for SYSTEM pages the IOVA (and the host byte, which
  // must continue too: one host pointer serves the run).
  const uint64_t in_page = va - page;
  const uint64_t page_pa = (at->system ? at->bus_address : at->vram_pa) - in_page;
  uint8_t* const page_host = at->system ? at->host - in_page : nullptr;
  // Whether page `p` continues the run (same flags, contiguous with `va`'s);
  // if so, `*frag_run` is its fragment's size: every page of the fragment
  // translates from its first PTE, so the whole fragment continues too.
  auto continues = [&](uint64_t p, uint64_t* frag_run) {
    absl::StatusOr<PageWalk> w = WalkIn(view, p);
    if (!w.ok() || PteFlags(w->pte) != flags) return false;
    if ((w->system ? w->bus_address : w->vram_pa) != page_pa + (p - page)) return false;
    if (w->system && w->host != page_host + (p - page)) return false;
    *frag_run = kPage << FragmentOf(w->pte);
    return true;
  };
  const uint64_t origin = view.start_page * kPage;  // fragments align to START
  uint64_t lo = page, hi = page + kPage;            // [lo, hi)
  uint64_t run = 0;
  while (lo > origin && continues(lo - kPage, &run)) {
    lo = lo - kPage - (lo - kPage - origin) % run;  // the fragment's first page
  }
  while (hi != 0 && continues(hi, &run)) hi += run - (hi - origin) % run;
  Allocation a;
  a.va = lo;
  a.id = page_pa - (page - lo);
  a.host = at->system ? page_host - (page - lo) : model_.gpu().vram_view() + a.id;
  a.size = hi - lo;
  a.executable = (at->pte & kPteExecutable) != 0;
  return a;
}

}  // namespace uop
