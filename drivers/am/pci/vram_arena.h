// Boot-time VRAM allocations of the AM bring-up (GART page table, IH ring,
// write-pointer writeback, scratch and dummy pages): a bump allocator over
// a VRAM range, addresses are VRAM physical offsets. Nothing is freed: these
// live as long as the device is up (a later step replaces this with the
// device's real VRAM allocator).
#ifndef UOP_DRIVERS_AM_PCI_VRAM_ARENA_H_
#define UOP_DRIVERS_AM_PCI_VRAM_ARENA_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"

namespace uop {

class AmVramArena {
 public:
  // Allocates from [begin, end).
  AmVramArena(uint64_t begin, uint64_t end) : next_(begin), end_(end) {}

  // `align` must be a power of two.
  absl::StatusOr<uint64_t> Allocate(uint64_t bytes, uint64_t align, const char* what) {
    const uint64_t at = (next_ + align - 1) & ~(align - 1);
    if (bytes == 0 || at < next_ || at > end_ || bytes > end_ - at) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("VRAM boot arena: %u bytes for %s do not fit (0x%x..0x%x left)", bytes,
                          what, next_, end_));
    }
    next_ = at + bytes;
    return at;
  }
  uint64_t used_until() const { return next_; }

 private:
  uint64_t next_;
  const uint64_t end_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_VRAM_ARENA_H_
