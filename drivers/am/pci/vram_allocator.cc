#include "drivers/am/pci/vram_allocator.h"

#include "absl/strings/str_format.h"

namespace uop {
namespace {

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
uint64_t AlignUp(uint64_t v, uint64_t align) { return (v + align - 1) & ~(align - 1); }

// How many best-fit candidates Allocate tries for a lucky alignment before it
// takes the smallest block that fits whatever its alignment (a constant:
// keeps Allocate O(log n)).
constexpr int kLuckyCandidates = 8;

}  // namespace

absl::StatusOr<std::unique_ptr<AmVramAllocator>> AmVramAllocator::Create(uint64_t begin,
                                                                         uint64_t end,
                                                                         std::string name) {
  if (begin % kPage != 0 || end % kPage != 0 || begin >= end) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s allocator: range [0x%x, 0x%x) is empty or not 4 KiB-aligned", name, begin, end));
  }
  return std::unique_ptr<AmVramAllocator>(new AmVramAllocator(begin, end, std::move(name)));
}

AmVramAllocator::AmVramAllocator(uint64_t begin, uint64_t end, std::string name)
    : begin_(begin), end_(end), name_(std::move(name)) {
  InsertFree(begin, end - begin);
}

void AmVramAllocator::InsertFree(uint64_t start, uint64_t size) {
  free_by_addr_.emplace(start, size);
  free_by_size_.emplace(size, start);
  free_bytes_ += size;
}

void AmVramAllocator::EraseFree(std::map<uint64_t, uint64_t>::iterator it) {
  free_by_size_.erase({it->second, it->first});
  free_bytes_ -= it->second;
  free_by_addr_.erase(it);
}

bool AmVramAllocator::TryAllocate(uint64_t bytes, uint64_t align, uint64_t* at) {
  // Best fit first: the smallest blocks that hold `bytes` may be aligned by
  // luck. Past a few, the smallest block of bytes + align - 4 KiB always fits.
  auto fits = [&](uint64_t start, uint64_t size, uint64_t* aligned) {
    *aligned = AlignUp(start, align);
    return *aligned >= start && *aligned - start <= size && size - (*aligned - start) >= bytes;
  };
  auto chosen = free_by_size_.end();
  uint64_t aligned = 0;
  int tried = 0;
  for (auto it = free_by_size_.lower_bound({bytes, 0});
       it != free_by_size_.end() && tried < kLuckyCandidates; ++it, ++tried) {
    if (fits(it->second, it->first, &aligned)) {
      chosen = it;
      break;
    }
  }
  if (chosen == free_by_size_.end() && align > kPage && bytes + align - kPage > bytes) {
    auto it = free_by_size_.lower_bound({bytes + align - kPage, 0});
    if (it != free_by_size_.end() && fits(it->second, it->first, &aligned)) chosen = it;
  }
  if (chosen == free_by_size_.end()) return false;
  const uint64_t start = chosen->second, size = chosen->first;
  EraseFree(free_by_addr_.find(start));
  if (aligned > start) InsertFree(start, aligned - start);
  const uint64_t tail = start + size - (aligned + bytes);
  if (tail > 0) InsertFree(aligned + bytes, tail);
  allocated_.emplace(aligned, bytes);
  *at = aligned;
  return true;
}

absl::StatusOr<uint64_t> AmVramAllocator::Allocate(uint64_t bytes, uint64_t align,
                                                   absl::string_view what) {
  if (bytes == 0 || bytes > end_ - begin_) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %u bytes for %s: the size is 0 or larger than the %u bytes managed",
                        name_, bytes, what, end_ - begin_));
  }
  if (!IsPowerOfTwo(align) || align < kPage) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: alignment %u for %s is not a power of two of at least 4 KiB", name_, align, what));
  }
  bytes = AlignUp(bytes, kPage);
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t at = 0;
  if (bytes >= kBigAlign && align < kBigAlign && TryAllocate(bytes, kBigAlign, &at)) return at;
  if (TryAllocate(bytes, align, &at)) return at;
  const uint64_t largest = free_by_size_.empty() ? 0 : free_by_size_.rbegin()->first;
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%s: no free block for %u bytes aligned to %u (%s); the largest free block is %u bytes, "
      "%u bytes free in %u blocks",
      name_, bytes, align, what, largest, free_bytes_, free_by_addr_.size()));
}

absl::Status AmVramAllocator::Free(uint64_t address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto a = allocated_.find(address);
  if (a == allocated_.end()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: Free(0x%x): no allocation starts there (double free, or not from this allocator)",
        name_, address));
  }
  uint64_t start = a->first, size = a->second;
  allocated_.erase(a);
  // Coalesce with the free neighbours on both sides.
  auto next = free_by_addr_.lower_bound(start);
  if (next != free_by_addr_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      size += prev->second;
      EraseFree(prev);
    }
  }
  if (next != free_by_addr_.end() && next->first == start + size) {
    size += next->second;
    EraseFree(next);
  }
  InsertFree(start, size);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> AmVramAllocator::SizeOf(uint64_t address) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto a = allocated_.find(address);
  if (a == allocated_.end()) {
    return absl::NotFoundError(absl::StrFormat("%s: no allocation at 0x%x", name_, address));
  }
  return a->second;
}

uint64_t AmVramAllocator::free_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_bytes_;
}
uint64_t AmVramAllocator::largest_free_block() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_by_size_.empty() ? 0 : free_by_size_.rbegin()->first;
}
size_t AmVramAllocator::free_blocks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_by_addr_.size();
}
size_t AmVramAllocator::allocations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return allocated_.size();
}

}  // namespace uop
