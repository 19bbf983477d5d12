#include "drivers/qcom/qcom_memory.h"

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {

QcomAllocator::QcomAllocator(Kgsl* kgsl, std::string device, const Options& options)
    : kgsl_(kgsl),
      device_(std::move(device)),
      pool_(
          device_,
          [kgsl](size_t bytes) {
            return kgsl->Alloc(bytes, kgsl::kMemTypeCl << kgsl::kMemTypeShift);
          },
          [kgsl](const Kgsl::Memory& m) { (void)kgsl->Free(m); },
          {.memory_limit = options.memory_limit}),
      copier_(device_) {}

QcomAllocator::~QcomAllocator() { pool_.ReleaseCached(); }

absl::StatusOr<DeviceBuffer*> QcomAllocator::Alloc(size_t bytes, const BufferOptions& options) {
  ASSIGN_OR_RETURN(size_t alignment, EffectiveAlignment(options, device_));
  if (alignment > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(device_, ": alignment ", alignment,
                                                   " exceeds the 4096 bytes KGSL guarantees"));
  }
  ASSIGN_OR_RETURN(SizeClassPool<Kgsl::Memory>::Block block, pool_.Acquire(bytes));
  BufferOptions effective = options;
  effective.host_visible = true;
  return new QcomBuffer(this, block.id, bytes, effective, block.memory);
}

void QcomAllocator::Free(DeviceBuffer* buffer) {
  if (buffer == nullptr) return;
  CheckFreeable(*buffer, this, device_);
  auto* b = static_cast<QcomBuffer*>(buffer);
  pool_.Release(b->memory(), b->size());
  delete b;
}

absl::Status QcomAllocator::CopyIn(DeviceBuffer& dst, size_t dst_offset,
                                   absl::Span<const uint8_t> src) {
  return copier_.CopyIn(dst, dst_offset, src);
}

absl::Status QcomAllocator::CopyOut(const DeviceBuffer& src, size_t src_offset,
                                    absl::Span<uint8_t> dst) {
  return copier_.CopyOut(src, src_offset, dst);
}

absl::Status QcomAllocator::CopyBetween(DeviceBuffer& dst, size_t dst_offset,
                                        const DeviceBuffer& src, size_t src_offset, size_t bytes) {
  return copier_.CopyBetween(dst, dst_offset, src, src_offset, bytes);
}

AllocatorStats QcomAllocator::stats() const { return pool_.stats(); }

void QcomAllocator::ReleaseCached() { pool_.ReleaseCached(); }

absl::StatusOr<Kgsl::Memory> QcomAllocator::AllocInternal(size_t bytes, uint64_t flags) {
  return kgsl_->Alloc(bytes, flags);
}

void QcomAllocator::FreeInternal(const Kgsl::Memory& m) { (void)kgsl_->Free(m); }

}  // namespace uop
