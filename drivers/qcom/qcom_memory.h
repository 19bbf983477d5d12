// QcomAllocator: GPU memory of an Adreno GPU through KGSL.
//
// Adreno shares the SoC's memory with the CPU: every buffer is a KGSL GPU
// object mapped into this process (write-combined), so buffers are always
// host-visible, CopyIn/CopyOut are memcpy and CopyBetween a memmove
// (drivers/common/host_mapped_copy.h; system memory does not vanish, so
// nothing is probed). Freed objects are kept in size classes (powers of two
// from 4 KiB, drivers/common/size_class_pool.h) and reused; ReleaseCached
// returns them to KGSL.
//
//   QcomAllocator alloc(kgsl, "QCOM:0", {.memory_limit = 1 << 30});
//   ASSIGN_OR_RETURN(DeviceBuffer* b, alloc.Alloc(4096));
//   static_cast<QcomBuffer*>(b)->gpu_address();  // what kernels are given
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_QCOM_QCOM_MEMORY_H_
#define UOP_DRIVERS_QCOM_QCOM_MEMORY_H_

#include <cstdint>
#include <string>

#include "drivers/allocator.h"
#include "drivers/common/host_mapped_copy.h"
#include "drivers/common/size_class_pool.h"
#include "drivers/qcom/kgsl.h"

namespace uop {

class QcomBuffer final : public DeviceBuffer {
 public:
  QcomBuffer(Allocator* owner, uint64_t id, size_t size, const BufferOptions& options,
             const Kgsl::Memory& mem)
      : DeviceBuffer(owner, id, size, options, mem.cpu, mem.gpu), mem_(mem) {}
  const Kgsl::Memory& memory() const { return mem_; }

 private:
  Kgsl::Memory mem_;
};

class QcomAllocator final : public Allocator {
 public:
  struct Options {
    uint64_t memory_limit = 0;  // 0: no limit besides KGSL's
  };

  QcomAllocator(Kgsl* kgsl, std::string device, const Options& options);
  ~QcomAllocator() override;

  absl::StatusOr<DeviceBuffer*> Alloc(size_t bytes, const BufferOptions& options = {}) override;
  void Free(DeviceBuffer* buffer) override;
  absl::Status CopyIn(DeviceBuffer& dst, size_t dst_offset, absl::Span<const uint8_t> src) override;
  absl::Status CopyOut(const DeviceBuffer& src, size_t src_offset,
                       absl::Span<uint8_t> dst) override;
  absl::Status CopyBetween(DeviceBuffer& dst, size_t dst_offset, const DeviceBuffer& src,
                           size_t src_offset, size_t bytes) override;
  AllocatorStats stats() const override;
  void ReleaseCached() override;

  // Driver-internal memory (command rings, program images): not counted in
  // the stats and never cached.
  absl::StatusOr<Kgsl::Memory> AllocInternal(size_t bytes, uint64_t flags);
  void FreeInternal(const Kgsl::Memory& m);

 private:
  Kgsl* const kgsl_;
  const std::string device_;
  SizeClassPool<Kgsl::Memory> pool_;
  const HostMappedCopier copier_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_QCOM_QCOM_MEMORY_H_
