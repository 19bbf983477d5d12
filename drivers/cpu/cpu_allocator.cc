#include "drivers/cpu/cpu_allocator.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/profiler/profiler.h"

namespace uop {

struct CpuAllocator::CpuBuffer final : DeviceBuffer {
  CpuBuffer(Allocator* owner, uint64_t id, size_t size, const BufferOptions& options, void* block,
            size_t class_bytes, size_t alignment)
      : DeviceBuffer(owner, id, size, options, block, reinterpret_cast<uint64_t>(block)),
        class_bytes(class_bytes),
        alignment(alignment) {}
  size_t class_bytes;
  size_t alignment;
};

CpuAllocator::CpuAllocator(std::string device, const Options& options)
    : device_(std::move(device)), options_(options) {}

CpuAllocator::~CpuAllocator() {
  absl::MutexLock lock(&mu_);
  ReleaseCachedLocked();
}

size_t CpuAllocator::SizeClass(size_t bytes) {
  if (bytes <= kMinBufferAlignment) return kMinBufferAlignment;
  if (bytes <= 4096) {
    size_t c = kMinBufferAlignment;
    while (c < bytes) c <<= 1;
    return c;
  }
  return (bytes + 4095) & ~size_t{4095};
}

absl::StatusOr<DeviceBuffer*> CpuAllocator::Alloc(size_t bytes, const BufferOptions& options) {
  ASSIGN_OR_RETURN(const size_t alignment, EffectiveAlignment(options, device_));
  if (bytes > (size_t{1} << 48)) {
    return absl::ResourceExhaustedError(
        absl::StrCat(device_, ": cannot allocate ", bytes, " bytes (more than 2^48)"));
  }
  // Both a size class and a multiple of the alignment (aligned_alloc's rule).
  const size_t class_bytes = (SizeClass(bytes) + alignment - 1) & ~(alignment - 1);
  BufferOptions effective = options;
  effective.alignment = alignment;
  effective.host_visible = true;
  void* block = nullptr;
  uint64_t id;
  {
    absl::MutexLock lock(&mu_);
    if (options_.memory_limit != 0 && stats_.bytes_in_use + bytes > options_.memory_limit) {
      return absl::ResourceExhaustedError(
          absl::StrCat(device_, ": allocating ", bytes, " bytes would exceed the memory limit of ",
                       options_.memory_limit, " (", stats_.bytes_in_use, " in use)"));
    }
    auto it = cache_.find(ClassKey{class_bytes, alignment});
    if (it != cache_.end() && !it->second.empty()) {
      block = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= class_bytes;
      ++stats_.cache_hits;
    }
    id = next_id_++;
    stats_.bytes_in_use += bytes;
    stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
    ++stats_.num_allocs;
    profiler::RecordMemory(device_, profiler::MemoryOp::kAlloc, bytes, stats_.bytes_in_use);
  }
  if (block == nullptr) {
    block = std::aligned_alloc(alignment, class_bytes);
    if (block == nullptr) {
      absl::MutexLock lock(&mu_);
      stats_.bytes_in_use -= bytes;
      --stats_.num_allocs;
      profiler::RecordMemory(device_, profiler::MemoryOp::kAllocFailed, bytes, stats_.bytes_in_use);
      return absl::ResourceExhaustedError(
          absl::StrCat(device_, ": out of host memory allocating ", bytes, " bytes"));
    }
  }
  return new CpuBuffer(this, id, bytes, effective, block, class_bytes, alignment);
}

void CpuAllocator::Free(DeviceBuffer* buffer) {
  if (buffer == nullptr) return;
  CheckFreeable(*buffer, this, device_);
  auto* b = static_cast<CpuBuffer*>(buffer);
  void* block = b->host_ptr();
  bool keep;
  {
    absl::MutexLock lock(&mu_);
    stats_.bytes_in_use -= b->size();
    ++stats_.num_frees;
    profiler::RecordMemory(device_, profiler::MemoryOp::kFree, b->size(), stats_.bytes_in_use);
    keep = stats_.cached_bytes + b->class_bytes <= options_.max_cached_bytes;
    if (keep) {
      cache_[ClassKey{b->class_bytes, b->alignment}].push_back(block);
      stats_.cached_bytes += b->class_bytes;
    }
  }
  if (!keep) std::free(block);
  delete b;
}

absl::Status CpuAllocator::CopyIn(DeviceBuffer& dst, size_t dst_offset,
                                  absl::Span<const uint8_t> src) {
  RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, src.size(), "CopyIn", device_));
  profiler::CopySpan prof(device_, "copy in", src.size());
  if (!src.empty())
    std::memcpy(static_cast<uint8_t*>(dst.host_ptr()) + dst_offset, src.data(), src.size());
  return absl::OkStatus();
}

absl::Status CpuAllocator::CopyOut(const DeviceBuffer& src, size_t src_offset,
                                   absl::Span<uint8_t> dst) {
  RETURN_IF_ERROR(CheckBufferRange(src, src_offset, dst.size(), "CopyOut", device_));
  profiler::CopySpan prof(device_, "copy out", dst.size());
  if (!dst.empty())
    std::memcpy(dst.data(), static_cast<const uint8_t*>(src.host_ptr()) + src_offset, dst.size());
  return absl::OkStatus();
}

absl::Status CpuAllocator::CopyBetween(DeviceBuffer& dst, size_t dst_offset,
                                       const DeviceBuffer& src, size_t src_offset, size_t bytes) {
  RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, bytes, "CopyBetween (dst)", device_));
  RETURN_IF_ERROR(CheckBufferRange(src, src_offset, bytes, "CopyBetween (src)", device_));
  if (src.host_ptr() == nullptr || dst.host_ptr() == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(device_, ": CopyBetween needs host-visible buffers"));
  }
  profiler::CopySpan prof(device_, "copy between", bytes);
  if (bytes != 0) {
    std::memmove(static_cast<uint8_t*>(dst.host_ptr()) + dst_offset,
                 static_cast<const uint8_t*>(src.host_ptr()) + src_offset, bytes);
  }
  return absl::OkStatus();
}

AllocatorStats CpuAllocator::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void CpuAllocator::ReleaseCached() {
  absl::MutexLock lock(&mu_);
  ReleaseCachedLocked();
}

void CpuAllocator::ReleaseCachedLocked() {
  for (auto& [key, blocks] : cache_) {
    for (void* b : blocks) std::free(b);
  }
  cache_.clear();
  stats_.cached_bytes = 0;
}

}  // namespace uop
