// SizeClassPool<Memory>: the caching part of a driver allocator whose GPU
// allocations are costly (a kernel call each): freed blocks are kept in
// power-of-two size classes (from 4 KiB) and handed out again, and the
// allocator's stats are kept here.
//
// The pool never touches the memory; the driver gives it two callbacks over
// its own handle type (AmMemory, Kgsl::Memory): `alloc(bytes)` gets a block
// of exactly one size class, `free(block)` returns it to the kernel. When
// `alloc` answers ResourceExhausted the pool hands every cached block back
// and tries once more: cached memory is never the reason an Alloc fails. An
// optional limit caps the bytes in use (as asked, not rounded), checked and
// reserved in one step so concurrent Acquires cannot overshoot it together.
//
//   SizeClassPool<AmMemory> pool(
//       "AM:0", [gpu](size_t n) { return gpu->Alloc(n, kAmVramFlags, true); },
//       [gpu](const AmMemory& m) { (void)gpu->Free(m); }, {.memory_limit = 1 << 30});
//   ASSIGN_OR_RETURN(auto block, pool.Acquire(1000));  // a 4 KiB block, id 1
//   pool.Release(block.memory, 1000);                   // cached for the next 4 KiB
//
// NV's allocator (drivers/nv/nv_memory.h) pools by its own rules (4 KiB and
// 2 MiB steps per memory kind, a limit on mapped bytes cached ones included)
// and does not use this.
//
// Thread safety: every method may be called from any thread; the callbacks
// run outside the pool's lock and must be thread-safe themselves.
#ifndef UOP_DRIVERS_COMMON_SIZE_CLASS_POOL_H_
#define UOP_DRIVERS_COMMON_SIZE_CLASS_POOL_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "drivers/allocator.h"

namespace uop {

template <typename Memory>
class SizeClassPool {
 public:
  using AllocFn = std::function<absl::StatusOr<Memory>(size_t bytes)>;
  // Errors of a free have nowhere to go (Allocator::Free and ReleaseCached
  // return nothing): the driver logs or drops them.
  using FreeFn = std::function<void(const Memory& memory)>;
  struct Options {
    uint64_t memory_limit = 0;  // bytes in use at most; 0: no limit but the device's
  };
  // What Acquire hands out: the block and the id of the buffer made from it.
  struct Block {
    Memory memory;
    uint64_t id = 0;  // 1, 2, 3, ... in Acquire order
  };
  static constexpr size_t kMinClass = 4096;
  static constexpr size_t kMaxClass = size_t{1} << (8 * sizeof(size_t) - 1);

  SizeClassPool(std::string device, AllocFn alloc, FreeFn free, Options options)
      : device_(std::move(device)),
        alloc_(std::move(alloc)),
        free_(std::move(free)),
        options_(options) {}
  ~SizeClassPool() { ReleaseCached(); }
  SizeClassPool(const SizeClassPool&) = delete;
  SizeClassPool& operator=(const SizeClassPool&) = delete;

  // The block size serving `bytes`: the next power of two, at least 4 KiB
  // (0 bytes: 4 KiB). Only for bytes <= kMaxClass.
  static size_t SizeClass(size_t bytes) { return std::bit_ceil(std::max(bytes, kMinClass)); }

  // A block of SizeClass(bytes) for `bytes` in use: a cached one if any,
  // else from `alloc`. ResourceExhausted (naming the device and the sizes)
  // past the limit or past the largest size class; `alloc`'s own error when
  // it still fails after the cache was released.
  absl::StatusOr<Block> Acquire(size_t bytes) {
    if (bytes > kMaxClass) {
      return absl::ResourceExhaustedError(absl::StrCat(device_, ": allocating ", bytes,
                                                       " bytes exceeds the largest size class (",
                                                       kMaxClass, ")"));
    }
    const size_t cls = SizeClass(bytes);
    Block block;
    bool hit = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const uint64_t committed = stats_.bytes_in_use + reserved_;
      if (options_.memory_limit != 0 &&
          (bytes > options_.memory_limit || committed > options_.memory_limit - bytes)) {
        return absl::ResourceExhaustedError(
            absl::StrCat(device_, ": allocating ", bytes, " bytes exceeds the memory limit of ",
                         options_.memory_limit, " (", committed, " in use)"));
      }
      reserved_ += bytes;
      auto it = cache_.find(cls);
      if (it != cache_.end() && !it->second.empty()) {
        block.memory = std::move(it->second.back());
        it->second.pop_back();
        stats_.cached_bytes -= cls;
        hit = true;
      }
    }
    if (!hit) {
      absl::StatusOr<Memory> got = alloc_(cls);
      if (!got.ok() && got.status().code() == absl::StatusCode::kResourceExhausted) {
        ReleaseCached();  // give pooled memory back and try once more
        got = alloc_(cls);
      }
      if (!got.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        reserved_ -= bytes;
        return got.status();
      }
      block.memory = *std::move(got);
    }
    std::lock_guard<std::mutex> lock(mu_);
    reserved_ -= bytes;
    stats_.bytes_in_use += bytes;
    stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
    ++stats_.num_allocs;
    if (hit) ++stats_.cache_hits;
    block.id = next_id_++;
    return block;
  }

  // Takes back a block Acquire gave for `bytes` (the same count) and caches it.
  void Release(Memory memory, size_t bytes) {
    const size_t cls = SizeClass(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.bytes_in_use -= bytes;
    ++stats_.num_frees;
    cache_[cls].push_back(std::move(memory));
    stats_.cached_bytes += cls;
  }

  // Hands every cached block to `free`.
  void ReleaseCached() {
    std::map<size_t, std::vector<Memory>> cache;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cache.swap(cache_);
      stats_.cached_bytes = 0;
    }
    for (const auto& [cls, blocks] : cache) {
      for (const Memory& m : blocks) free_(m);
    }
  }

  AllocatorStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  const std::string device_;
  const AllocFn alloc_;
  const FreeFn free_;
  const Options options_;
  mutable std::mutex mu_;
  std::map<size_t, std::vector<Memory>> cache_;  // by size class, guarded by mu_
  AllocatorStats stats_;                         // guarded by mu_
  uint64_t reserved_ = 0;  // bytes of Acquires under way (counted against the limit), mu_
  uint64_t next_id_ = 1;   // guarded by mu_
};

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_SIZE_CLASS_POOL_H_
