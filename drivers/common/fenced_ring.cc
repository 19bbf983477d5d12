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
  const bool wraps = start + bytes > size_;
  if (wraps) start = 0;
  // The reservation sweeps the ring from head_ to its end: the alignment
  // gap, and when it wraps, the whole tail [head_, size_) it skips too. The
  // in-flight pieces lie in ring order from head_ (the oldest first), so
  // the ones in the swept span are at the front, and once one lies beyond
  // it so do the rest. (A piece in the skipped tail left in place would
  // break that order and let a later reservation overwrite a piece behind
  // it that the GPU has not read yet.)
  auto in_way = [&](const Piece& p) {
    if (wraps) return p.end > head_ || p.begin < bytes;
    return p.end > head_ && p.begin < start + bytes;
  };
  while (!in_flight_.empty()) {
    const Piece p = in_flight_.front();
    if (!in_way(p)) break;
    if (p.fence > awaited_) {
      RETURN_IF_ERROR(await_(p.fence, "ring full"));
      awaited_ = p.fence;
    }
    in_flight_.pop_front();
  }
  // The batch being built must not run into its own pieces.
  for (const auto& [b, e] : pending_) {
    if (b < start + bytes && start < e) {
      return absl::FailedPreconditionError(absl::StrCat(
          name_, ": ", pending_bytes_ + bytes, " bytes reserved for one batch overrun the ", size_,
          "-byte ring (commit before reserving more)"));
    }
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
