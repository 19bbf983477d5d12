// CudaAllocator: GPU memory for one CUDA device, with a caching pool and
// pinned host staging.
//
// * Device memory (the default): cuMemAlloc, rounded to a size class (512 B
//   steps up to 1 MiB, then 2 MiB steps); freed blocks stay in a pool keyed
//   by class for the next Alloc of that class (up to max_cached_bytes), so a
//   steady-state inference loop never calls the driver. When the GPU is full
//   the pool is released and the allocation retried once; after that it is
//   ResourceExhausted naming the device, the size and the memory in use.
// * host_visible or pinned: page-locked host memory mapped into the GPU's
//   address space (cuMemHostAlloc); host_ptr() and device_address() are both
//   valid, so kernels and queue copies use it directly (staging buffers).
// * CopyIn/CopyOut of device memory go through two pinned staging buffers on
//   the allocator's own copy stream, chunk by chunk: the host copies one
//   chunk while the DMA engine moves the previous one. The copy stream runs
//   concurrently with kernels on other streams. Every wait is bounded
//   (CudaStream), by Options::copy_timeout.
//
//   ASSIGN_OR_RETURN(DeviceBuffer* b, device->allocator().Alloc(n));
//   RETURN_IF_ERROR(device->allocator().CopyIn(*b, 0, bytes));
//
// Thread safety: every method may be called from any thread; copies through
// the staging buffers are serialized.
#ifndef UOP_DRIVERS_CUDA_CUDA_ALLOCATOR_H_
#define UOP_DRIVERS_CUDA_CUDA_ALLOCATOR_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "drivers/allocator.h"
#include "drivers/cuda/cuda_stream.h"

namespace uop::cuda {

class CudaAllocator final : public Allocator {
 public:
  struct Options {
    // Alloc fails with ResourceExhausted past this many bytes in use (0: the
    // GPU's own limit).
    uint64_t memory_limit = 0;
    uint64_t max_cached_bytes = uint64_t{8} << 30;
    size_t staging_chunk_bytes = size_t{8} << 20;
    absl::Duration copy_timeout = absl::Seconds(60);
  };

  static absl::StatusOr<std::unique_ptr<CudaAllocator>> Create(const CudaContext& ctx,
                                                               const Options& options);
  ~CudaAllocator() override;

  absl::StatusOr<DeviceBuffer*> Alloc(size_t bytes, const BufferOptions& options = {}) override;
  void Free(DeviceBuffer* buffer) override;
  absl::Status CopyIn(DeviceBuffer& dst, size_t dst_offset, absl::Span<const uint8_t> src) override;
  absl::Status CopyOut(const DeviceBuffer& src, size_t src_offset,
                       absl::Span<uint8_t> dst) override;
  absl::Status CopyBetween(DeviceBuffer& dst, size_t dst_offset, const DeviceBuffer& src,
                           size_t src_offset, size_t bytes) override;
  AllocatorStats stats() const override;
  void ReleaseCached() override;

  // Block size an allocation of `bytes` occupies.
  static size_t SizeClass(size_t bytes);

 private:
  struct CudaBuffer;
  CudaAllocator(const CudaContext& ctx, const Options& options);
  absl::StatusOr<DeviceBuffer*> AllocPinned(size_t bytes, const BufferOptions& options);
  absl::StatusOr<CUdeviceptr> AllocDevice(size_t class_bytes, size_t bytes);
  void ReleaseCachedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status EnsureStaging() ABSL_EXCLUSIVE_LOCKS_REQUIRED(copy_mu_);

  const CudaContext ctx_;
  const Options options_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<size_t, std::vector<CUdeviceptr>> cache_ ABSL_GUARDED_BY(mu_);
  AllocatorStats stats_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;

  absl::Mutex copy_mu_;
  std::unique_ptr<CudaStream> copy_stream_;
  void* staging_[2] ABSL_GUARDED_BY(copy_mu_) = {nullptr, nullptr};
  uint64_t staging_done_[2] ABSL_GUARDED_BY(copy_mu_) = {0, 0};  // timeline values
};

}  // namespace uop::cuda

#endif  // UOP_DRIVERS_CUDA_CUDA_ALLOCATOR_H_
