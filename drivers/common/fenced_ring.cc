#include "drivers/common/fenced_ring.h"

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<size_t> FencedRing::Reserve(size_t bytes, size_t align) {
  if (bytes > size_ / 2 || align == 0 || (align & (align - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(name_, ": cannot reserve ", bytes,
                                                   " bytes aligned to ", align, " in ", size_));
  }
  size_t start = (head_ + align - 1) & ~(align - 1);
  if (start + bytes > size_) start = 0;
  // Pieces lie in ring order from the oldest: the first one in the way is
  // the oldest, and once one is clear so are the rest.
  while (!in_flight_.empty()) {
    const Piece p = in_flight_.front();
    if (!(p.begin < start + bytes && start < p.end)) break;
    if (p.fence > awaited_) {
      RETURN_IF_ERROR(await_(p.fence, "ring full"));
      awaited_ = p.fence;
    }
    in_flight_.pop_front();
  }
  head_ = start + bytes;
  pending_.emplace_back(start, start + bytes);
  pending_bytes_ += bytes;
  return start;
}

void FencedRing::Commit(uint64_t fence) {
  for (const auto& [b, e] : pending_) in_flight_.push_back({b, e, fence});
  pending_.clear();
  pending_bytes_ = 0;
}

}  // namespace uop
