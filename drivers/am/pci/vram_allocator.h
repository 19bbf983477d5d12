// Runtime VRAM allocations of the AM path (page-table pages, buffers, code
// objects): physically contiguous ranges of VRAM, freed and reused. The boot
// bump allocator (vram_arena.h) keeps the start of VRAM for what lives as
// long as the device (GART table, IH ring, PSP buffers); this one hands out
// the range between the arena and the reserved top of VRAM (the discovery
// table / TMR), which it never touches.
//
// Addresses are VRAM physical offsets (what PTEs hold after the FB offset).
// Sizes are rounded up to 4 KiB pages. Alignment is a power of two of at
// least 4 KiB; allocations of 2 MiB or more are 2 MiB-aligned when possible
// (then their PTEs can carry a fragment of 2 MiB or more; the L1 TLB caches
// one entry for the whole run) and fall back to the requested alignment when
// no 2 MiB-aligned block is free.
//
// Free blocks are kept twice, by address (to coalesce neighbours on Free)
// and by (size, address) (best fit): Allocate and Free are O(log n) in the
// number of free blocks. The same class serves as a GPU virtual-address
// allocator (AmVm::AllocateVa); `name` says which in errors.
//
// Thread-safe (std::mutex: absl::Mutex gives tsan false positives here).
#ifndef UOP_DRIVERS_AM_PCI_VRAM_ALLOCATOR_H_
#define UOP_DRIVERS_AM_PCI_VRAM_ALLOCATOR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop {

class AmVramAllocator {
 public:
  static constexpr uint64_t kPage = 4096;
  static constexpr uint64_t kBigAlign = 2 << 20;  // one PTB (512 PTEs) of 4 KiB pages

  // Hands out [begin, end); both must be 4 KiB-aligned with begin < end.
  static absl::StatusOr<std::unique_ptr<AmVramAllocator>> Create(uint64_t begin, uint64_t end,
                                                                 std::string name = "VRAM");

  // `bytes` > 0, rounded up to 4 KiB; `align` a power of two >= 4 KiB.
  // ResourceExhausted names the size, the alignment, `what`, the largest
  // free block and the free total.
  absl::StatusOr<uint64_t> Allocate(uint64_t bytes, uint64_t align = kPage,
                                    absl::string_view what = "an allocation");
  // Frees what Allocate returned at `address`; anything else (a double free,
  // an address inside an allocation) is InvalidArgument.
  absl::Status Free(uint64_t address);

  // The size Allocate gave the allocation at `address` (rounded), or
  // NotFound.
  absl::StatusOr<uint64_t> SizeOf(uint64_t address) const;

  uint64_t begin() const { return begin_; }
  uint64_t end() const { return end_; }
  uint64_t free_bytes() const;
  uint64_t largest_free_block() const;
  size_t free_blocks() const;
  size_t allocations() const;

 private:
  AmVramAllocator(uint64_t begin, uint64_t end, std::string name);
  // Both under mu_.
  void InsertFree(uint64_t start, uint64_t size);
  void EraseFree(std::map<uint64_t, uint64_t>::iterator it);
  bool TryAllocate(uint64_t bytes, uint64_t align, uint64_t* at);

  const uint64_t begin_, end_;
  const std::string name_;
  mutable std::mutex mu_;
  std::map<uint64_t, uint64_t> free_by_addr_;             // start -> size
  std::set<std::pair<uint64_t, uint64_t>> free_by_size_;  // (size, start)
  std::map<uint64_t, uint64_t> allocated_;                // start -> size
  uint64_t free_bytes_ = 0;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_VRAM_ALLOCATOR_H_
