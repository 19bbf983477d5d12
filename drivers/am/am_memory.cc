#include "drivers/am/am_memory.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {

AmAllocator::AmAllocator(AmGpuInterface* gpu, std::string device, const Options& options)
    : gpu_(gpu),
      device_(std::move(device)),
      pool_(
          device_,
          [gpu](size_t bytes) { return gpu->Alloc(bytes, kAmVramFlags, /*cpu_map=*/true); },
          [gpu](const AmMemory& m) { (void)gpu->Free(m); }, {.memory_limit = options.memory_limit}),
      copier_(device_, "VRAM through the BAR", [this] { return Probe(); }) {}

absl::StatusOr<std::unique_ptr<AmAllocator>> AmAllocator::Create(AmGpuInterface* gpu,
                                                                 std::string device,
                                                                 const Options& options) {
  std::unique_ptr<AmAllocator> a(new AmAllocator(gpu, std::move(device), options));
  ASSIGN_OR_RETURN(a->canary_, gpu->Alloc(4096, kAmVramFlags, /*cpu_map=*/true));
  auto* word = reinterpret_cast<volatile uint64_t*>(a->canary_.cpu);
  *word = kCanary;
  a->probe_ = CanaryProbe(word, kCanary, absl::StrFormat("VRAM 0x%x", a->canary_.va));
  RETURN_IF_ERROR(a->Probe());
  return a;
}

AmAllocator::~AmAllocator() {
  pool_.ReleaseCached();
  if (canary_.handle != 0) (void)gpu_->Free(canary_);
}

absl::Status AmAllocator::Probe() const { return probe_(); }

absl::StatusOr<DeviceBuffer*> AmAllocator::Alloc(size_t bytes, const BufferOptions& options) {
  ASSIGN_OR_RETURN(size_t alignment, EffectiveAlignment(options, device_));
  if (alignment > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(
        device_, ": alignment ", alignment, " exceeds the 4096 bytes the GPU interface gives"));
  }
  ASSIGN_OR_RETURN(SizeClassPool<AmMemory>::Block block, pool_.Acquire(bytes));
  BufferOptions effective = options;
  effective.host_visible = true;
  return new AmBuffer(this, block.id, bytes, effective, block.memory);
}

void AmAllocator::Free(DeviceBuffer* buffer) {
  if (buffer == nullptr) return;
  CheckFreeable(*buffer, this, device_);
  auto* b = static_cast<AmBuffer*>(buffer);
  pool_.Release(b->memory(), b->size());
  delete b;
}

absl::Status AmAllocator::CopyIn(DeviceBuffer& dst, size_t dst_offset,
                                 absl::Span<const uint8_t> src) {
  return copier_.CopyIn(dst, dst_offset, src);
}

absl::Status AmAllocator::CopyOut(const DeviceBuffer& src, size_t src_offset,
                                  absl::Span<uint8_t> dst) {
  return copier_.CopyOut(src, src_offset, dst);
}

absl::Status AmAllocator::CopyBetween(DeviceBuffer& dst, size_t dst_offset, const DeviceBuffer& src,
                                      size_t src_offset, size_t bytes) {
  return copier_.CopyBetween(dst, dst_offset, src, src_offset, bytes);
}

AllocatorStats AmAllocator::stats() const { return pool_.stats(); }

void AmAllocator::ReleaseCached() { pool_.ReleaseCached(); }

absl::StatusOr<AmMemory> AmAllocator::AllocInternal(size_t bytes, uint32_t flags, bool cpu_map) {
  return gpu_->Alloc(bytes, flags, cpu_map);
}

void AmAllocator::FreeInternal(const AmMemory& m) { (void)gpu_->Free(m); }

}  // namespace uop
