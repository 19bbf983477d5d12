#include "drivers/am/pci/vm.h"

#include <algorithm>
#include <bit>

#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr uint64_t kTwoMiB = 2 << 20;
constexpr int kPtb = 3;

uint64_t PtePayload(const AmVmMapFlags& f) {
  return kPteValid | (f.readable ? kPteReadable : 0) | (f.writeable ? kPteWriteable : 0) |
         (f.executable ? kPteExecutable : 0) | (uint64_t{f.mtype} << kPteMtypeShift);
}

// amdgpu_vm_pte_fragment, with the physical side too: the run starting at
// VA page `v` / physical page `p` with `left` pages to go is 2^n pages, n
// the largest such that both are 2^n-aligned and 2^n <= left (5-bit field).
int Fragment(uint64_t v, uint64_t p, uint64_t left) {
  const int align = std::min(v == 0 ? 63 : std::countr_zero(v), p == 0 ? 63 : std::countr_zero(p));
  const int fits = 63 - std::countl_zero(left);
  return std::min({align, fits, 31});
}

}  // namespace

absl::StatusOr<std::unique_ptr<AmVm>> AmVm::Create(const AmRegisterIo& regs, AmGmc& gmc,
                                                   AmVramAllocator& vram,
                                                   const MmioRegion& vram_bar, int vmid,
                                                   uint64_t va_size) {
  if (vmid < 1 || vmid > 15) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "VMID %d: AmVm serves VMIDs 1-15 (VMID 0 is the GART's context of AmGmc)", vmid));
  }
  if (va_size % kTwoMiB != 0 || va_size < 2 * kTwoMiB || va_size > kMaxVaSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "VMID %d: VA size 0x%x is not a multiple of 2 MiB in [4 MiB, 2^48]", vmid, va_size));
  }
  std::unique_ptr<AmVm> vm(new AmVm(regs, gmc, vram, vram_bar, vmid, va_size));
  ASSIGN_OR_RETURN(vm->va_, AmVramAllocator::Create(kVaFloor, std::min(va_size, kVaHole),
                                                    absl::StrFormat("VMID %d VA", vmid)));
  ASSIGN_OR_RETURN(vm->root_, vm->NewTable(0));
  absl::Status s = vm->ProgramContext();
  if (!s.ok()) {
    // The context may be half-programmed: leave the root allocated (the hub
    // may point at it) and report.
    vm->root_.reset();
    vm->destroyed_ = true;
    return s;
  }
  return vm;
}

AmVm::~AmVm() {
  if (!destroyed_) Destroy().IgnoreError();
}

absl::Status AmVm::ProgramContext() {
  using namespace am_vm_field;
  const uint64_t base = (root_->pa + gmc_.vram_base_offset()) | kPteValid;
  const uint32_t cntl = am_field::kCtxEnable | (kDepthFourLevels << am_field::kCtxDepthShift) |
                        (0u << am_field::kCtxBlockSizeShift) | kAllProtectionFaults;
  for (const AmVmHubRegs* hub : {&kMmhub300Regs, &kGcHub1100Regs}) {
    const AmVmContextRegs r = AmVmContextRegsOf(*hub, vmid_);
    RETURN_IF_ERROR(regs_.WritePair(r.start_lo, r.start_hi, 0));
    RETURN_IF_ERROR(regs_.WritePair(r.end_lo, r.end_hi, va_size_ / kPage - 1));
    RETURN_IF_ERROR(regs_.WritePair(r.base_lo, r.base_hi, base));
    RETURN_IF_ERROR(regs_.Write(r.cntl, cntl));
  }
  return gmc_.FlushAndInvalidate(vmid_);
}

absl::Status AmVm::Destroy() {
  std::lock_guard<std::mutex> lock(mu_);
  if (destroyed_) return absl::OkStatus();
  destroyed_ = true;
  for (const AmVmHubRegs* hub : {&kMmhub300Regs, &kGcHub1100Regs}) {
    RETURN_IF_ERROR(regs_.Write(AmVmContextRegsOf(*hub, vmid_).cntl, 0));
  }
  RETURN_IF_ERROR(gmc_.FlushAndInvalidate(vmid_));
  std::vector<uint64_t> pages;
  FreeTree(std::move(root_), &pages);
  for (uint64_t pa : pages) RETURN_IF_ERROR(vram_.Free(pa));
  return absl::OkStatus();
}

void AmVm::FreeTree(std::unique_ptr<Table> t, std::vector<uint64_t>* pages) {
  if (t == nullptr) return;
  for (std::unique_ptr<Table>& c : t->children) FreeTree(std::move(c), pages);
  pages->push_back(t->pa);
}

absl::StatusOr<std::unique_ptr<AmVm::Table>> AmVm::NewTable(int level) {
  static constexpr std::array<const char*, 4> kWhat = {"a PDB2 (page-table root)", "a PDB1 page",
                                                       "a PDB0 page", "a PTB page"};
  ASSIGN_OR_RETURN(uint64_t pa, vram_.Allocate(kPage, kPage, kWhat[level]));
  auto t = std::make_unique<Table>();
  t->pa = pa;
  t->level = level;
  if (level < kPtb) t->children.resize(512);
  absl::Status s = WriteEntries(*t, 0, 512);  // zeroed: every entry invalid
  if (!s.ok()) {
    vram_.Free(pa).IgnoreError();
    return s;
  }
  return t;
}

absl::Status AmVm::WriteEntries(const Table& t, int first, int count) {
  return bar_.WriteBlock(t.pa + first * 8,
                         absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(&t.entries[first]),
                                             static_cast<size_t>(count) * 8));
}

absl::StatusOr<AmVm::Table*> AmVm::Ptb(uint64_t va, bool create) {
  Table* t = root_.get();
  for (int level = 0; level < kPtb; ++level) {
    const int i = Index(va, level);
    if (t->children[i] == nullptr) {
      if (!create) return nullptr;
      ASSIGN_OR_RETURN(t->children[i], NewTable(level + 1));
      t->entries[i] = (t->children[i]->pa + gmc_.vram_base_offset()) | kPteValid;
      ++t->used;
      RETURN_IF_ERROR(WriteEntries(*t, i, 1));
    }
    t = t->children[i].get();
  }
  return t;
}

const AmVm::Table* AmVm::FindPtb(uint64_t va) const {
  const Table* t = root_.get();
  for (int level = 0; t != nullptr && level < kPtb; ++level)
    t = t->children[Index(va, level)].get();
  return t;
}

absl::Status AmVm::CheckRange(uint64_t va, uint64_t bytes, const char* op) const {
  if (destroyed_) {
    return absl::FailedPreconditionError(absl::StrFormat("VMID %d: %s after Destroy", vmid_, op));
  }
  if (va % kPage != 0 || bytes == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "VMID %d: %s of %u bytes at VA 0x%x: the VA is not 4 KiB-aligned or the size is 0", vmid_,
        op, bytes, va));
  }
  if (va >= va_size_ || bytes > va_size_ - va) {
    return absl::InvalidArgumentError(
        absl::StrFormat("VMID %d: %s of [0x%x, +0x%x) leaves the context's VA range [0, 0x%x)",
                        vmid_, op, va, bytes, va_size_));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> AmVm::AllocateVa(uint64_t bytes, uint64_t align) {
  return va_->Allocate(bytes, align, "a GPU VA range");
}

absl::Status AmVm::FreeVa(uint64_t va) { return va_->Free(va); }

absl::Status AmVm::Map(uint64_t va, uint64_t vram_pa, uint64_t bytes, AmVmMapFlags flags) {
  std::lock_guard<std::mutex> lock(mu_);
  bytes = (bytes + kPage - 1) & ~(kPage - 1);
  RETURN_IF_ERROR(CheckRange(va, bytes, "Map"));
  if (vram_pa % kPage != 0 || vram_pa >= gmc_.vram_size() || bytes > gmc_.vram_size() - vram_pa) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "VMID %d: Map of VA 0x%x to VRAM [0x%x, +0x%x): not 4 KiB-aligned or past VRAM "
        "(0x%x bytes)",
        vmid_, va, vram_pa, bytes, gmc_.vram_size()));
  }
  if (flags.mtype > 3) {
    return absl::InvalidArgumentError(
        absl::StrFormat("VMID %d: MTYPE %u (0-3)", vmid_, flags.mtype));
  }
  return MapPages(va, vram_pa + gmc_.vram_base_offset(), bytes, PtePayload(flags), "Map");
}

absl::Status AmVm::MapSystem(uint64_t va, uint64_t iova, uint64_t bytes, AmVmMapFlags flags) {
  std::lock_guard<std::mutex> lock(mu_);
  bytes = (bytes + kPage - 1) & ~(kPage - 1);
  RETURN_IF_ERROR(CheckRange(va, bytes, "MapSystem"));
  if (iova % kPage != 0 || iova >= kMaxVaSize || bytes > kMaxVaSize - iova) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "VMID %d: MapSystem of VA 0x%x to IOVA [0x%x, +0x%x): not 4 KiB-aligned or past the "
        "PTE's 48-bit address",
        vmid_, va, iova, bytes));
  }
  if (flags.mtype > 3) {
    return absl::InvalidArgumentError(
        absl::StrFormat("VMID %d: MTYPE %u (0-3)", vmid_, flags.mtype));
  }
  return MapPages(va, iova, bytes, PtePayload(flags) | kPteSystem | kPteSnooped, "MapSystem");
}

absl::Status AmVm::MapPages(uint64_t va, uint64_t first_address, uint64_t bytes, uint64_t payload,
                            const char* op) {
  // Refuse overlaps before touching anything.
  for (uint64_t at = va; at < va + bytes;) {
    const uint64_t chunk_end = std::min(va + bytes, (at | (kTwoMiB - 1)) + 1);
    if (const Table* ptb = FindPtb(at); ptb != nullptr) {
      for (uint64_t p = at; p < chunk_end; p += kPage) {
        const uint64_t pte = ptb->entries[Index(p, kPtb)];
        if ((pte & kPteValid) != 0) {
          return absl::InvalidArgumentError(
              absl::StrFormat("VMID %d: %s of [0x%x, +0x%x): VA 0x%x is already mapped (PTE 0x%x)",
                              vmid_, op, va, bytes, p, pte));
        }
      }
    }
    at = chunk_end;
  }
  // Every table first: a failure leaves no PTE written (empty tables stay
  // until Destroy).
  for (uint64_t at = va; at < va + bytes; at = (at | (kTwoMiB - 1)) + 1) {
    RETURN_IF_ERROR(Ptb(at, /*create=*/true).status());
  }
  const uint64_t first_page = va / kPage;
  const uint64_t first_pa_page = first_address / kPage;
  const uint64_t pages = bytes / kPage;
  uint64_t i = 0;
  int frag = 0;
  uint64_t frag_end = 0;  // page index where the current fragment run ends
  while (i < pages) {
    Table* ptb = *Ptb((first_page + i) * kPage, /*create=*/false);
    const int first = Index((first_page + i) * kPage, kPtb);
    const int count = static_cast<int>(std::min<uint64_t>(512 - first, pages - i));
    for (int k = 0; k < count; ++k, ++i) {
      if (i == frag_end) {
        frag = Fragment(first_page + i, first_pa_page + i, pages - i);
        frag_end = i + (uint64_t{1} << frag);
      }
      ptb->entries[first + k] = (((first_pa_page + i) * kPage) & kPteAddressMask) | payload |
                                (uint64_t(frag) << kPteFragmentShift);
    }
    ptb->used += count;
    RETURN_IF_ERROR(WriteEntries(*ptb, first, count));
  }
  return gmc_.FlushAndInvalidate(vmid_);
}

absl::Status AmVm::Unmap(uint64_t va, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  bytes = (bytes + kPage - 1) & ~(kPage - 1);
  RETURN_IF_ERROR(CheckRange(va, bytes, "Unmap"));
  for (uint64_t p = va; p < va + bytes; p += kPage) {
    const Table* ptb = FindPtb(p);
    if (ptb == nullptr || (ptb->entries[Index(p, kPtb)] & kPteValid) == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "VMID %d: Unmap of [0x%x, +0x%x): VA 0x%x is not mapped", vmid_, va, bytes, p));
    }
  }
  std::vector<std::unique_ptr<Table>> dead;
  for (uint64_t at = va; at < va + bytes;) {
    const uint64_t chunk_end = std::min(va + bytes, (at | (kTwoMiB - 1)) + 1);
    // Path from the root to the PTB, to prune tables that become empty.
    std::array<Table*, kLevels> path{};
    path[0] = root_.get();
    for (int level = 1; level < kLevels; ++level) {
      path[level] = path[level - 1]->children[Index(at, level - 1)].get();
    }
    Table* ptb = path[kPtb];
    const int first = Index(at, kPtb);
    const int count = static_cast<int>((chunk_end - at) / kPage);
    std::fill_n(&ptb->entries[first], count, 0);
    ptb->used -= count;
    RETURN_IF_ERROR(WriteEntries(*ptb, first, count));
    for (int level = kPtb; level > 0 && path[level]->used == 0; --level) {
      Table* parent = path[level - 1];
      const int i = Index(at, level - 1);
      parent->entries[i] = 0;
      --parent->used;
      RETURN_IF_ERROR(WriteEntries(*parent, i, 1));
      dead.push_back(std::move(parent->children[i]));
    }
    at = chunk_end;
  }
  RETURN_IF_ERROR(gmc_.FlushAndInvalidate(vmid_));
  // Only now does no hub walk the pruned tables.
  std::vector<uint64_t> pages;
  for (std::unique_ptr<Table>& t : dead) FreeTree(std::move(t), &pages);
  for (uint64_t pa : pages) RETURN_IF_ERROR(vram_.Free(pa));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> AmVm::PteAt(uint64_t va) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Table* ptb = va < va_size_ && !destroyed_ ? FindPtb(va) : nullptr;
  if (ptb == nullptr || (ptb->entries[Index(va, kPtb)] & kPteValid) == 0) {
    return absl::NotFoundError(absl::StrFormat("VMID %d: VA 0x%x is not mapped", vmid_, va));
  }
  return ptb->entries[Index(va, kPtb)];
}

absl::StatusOr<uint64_t> AmVm::PteAddress(uint64_t va) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Table* ptb = va < va_size_ && !destroyed_ ? FindPtb(va) : nullptr;
  if (ptb == nullptr) {
    return absl::NotFoundError(absl::StrFormat("VMID %d: no PTB covers VA 0x%x", vmid_, va));
  }
  return ptb->pa + Index(va, kPtb) * 8;
}

size_t AmVm::CountTables(const Table& t) const {
  size_t n = 1;
  for (const std::unique_ptr<Table>& c : t.children)
    if (c != nullptr) n += CountTables(*c);
  return n;
}

size_t AmVm::table_pages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return root_ == nullptr ? 0 : CountTables(*root_);
}

}  // namespace uop
