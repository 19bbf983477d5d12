// CpuAllocator: host memory for the CPU device, with a caching pool.
//
// Blocks are aligned (>= 64 bytes) and rounded up to a size class (powers of
// two up to 4 KiB, then multiples of 4 KiB); freed blocks are kept per
// (class, alignment) for reuse up to `max_cached_bytes`, so a steady-state
// inference loop allocates nothing from the system. Contents of a new buffer
// are undefined. Every buffer is host-visible; `pinned` needs nothing more.
//
//   CpuAllocator a("CPU:0", {.memory_limit = 1 << 30});
//   ASSIGN_OR_RETURN(DeviceBuffer* b, a.Alloc(4096));
//   std::memset(b->host_ptr(), 0, b->size());
//   a.Free(b);  // kept for the next Alloc of this class
#ifndef UOP_DRIVERS_CPU_CPU_ALLOCATOR_H_
#define UOP_DRIVERS_CPU_CPU_ALLOCATOR_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "drivers/allocator.h"

namespace uop {

class CpuAllocator final : public Allocator {
 public:
  struct Options {
    // Alloc fails with ResourceExhausted once bytes in use would exceed this
    // (0: no limit beyond what the system gives).
    uint64_t memory_limit = 0;
    // Freed blocks kept for reuse; beyond this they go back to the system.
    uint64_t max_cached_bytes = uint64_t{256} << 20;
  };

  CpuAllocator(std::string device, const Options& options);
  ~CpuAllocator() override;

  absl::StatusOr<DeviceBuffer*> Alloc(size_t bytes, const BufferOptions& options = {}) override;
  void Free(DeviceBuffer* buffer) override;
  absl::Status CopyIn(DeviceBuffer& dst, size_t dst_offset, absl::Span<const uint8_t> src) override;
  absl::Status CopyOut(const DeviceBuffer& src, size_t src_offset,
                       absl::Span<uint8_t> dst) override;
  absl::Status CopyBetween(DeviceBuffer& dst, size_t dst_offset, const DeviceBuffer& src,
                           size_t src_offset, size_t bytes) override;
  AllocatorStats stats() const override;
  void ReleaseCached() override;

  // The block size an allocation of `bytes` occupies.
  static size_t SizeClass(size_t bytes);

 private:
  // Buffer plus the block it lives in (the class size for the cache).
  struct CpuBuffer;
  using ClassKey = std::pair<size_t, size_t>;  // (class bytes, alignment)

  void ReleaseCachedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string device_;
  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<ClassKey, std::vector<void*>> cache_ ABSL_GUARDED_BY(mu_);
  AllocatorStats stats_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace uop

#endif  // UOP_DRIVERS_CPU_CPU_ALLOCATOR_H_
