#include "drivers/qcom/qcom_memory.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {

QcomAllocator::QcomAllocator(Kgsl* kgsl, std::string device, const Options& options)
    : kgsl_(kgsl), device_(std::move(device)), options_(options) {}

QcomAllocator::~QcomAllocator() { ReleaseCached(); }

size_t QcomAllocator::SizeClass(size_t bytes) {
  size_t c = 4096;
  while (c < bytes) c <<= 1;
  return c;
}

absl::StatusOr<DeviceBuffer*> QcomAllocator::Alloc(size_t bytes, const BufferOptions& options) {
  ASSIGN_OR_RETURN(size_t alignment, EffectiveAlignment(options, device_));
  if (alignment > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(device_, ": alignment ", alignment,
                                                   " exceeds the 4096 bytes KGSL guarantees"));
  }
  const size_t cls = SizeClass(bytes);
  Kgsl::Memory mem;
  bool hit = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (options_.memory_limit != 0 && stats_.bytes_in_use + bytes > options_.memory_limit) {
      return absl::ResourceExhaustedError(
          absl::StrCat(device_, ": allocating ", bytes, " bytes exceeds the memory limit of ",
                       options_.memory_limit, " (", stats_.bytes_in_use, " in use)"));
    }
    auto it = cache_.find(cls);
    if (it != cache_.end() && !it->second.empty()) {
      mem = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= cls;
      hit = true;
    }
  }
  if (!hit) {
    absl::StatusOr<Kgsl::Memory> m = kgsl_->Alloc(cls, kgsl::kMemTypeCl << kgsl::kMemTypeShift);
    if (!m.ok() && m.status().code() == absl::StatusCode::kResourceExhausted) {
      ReleaseCached();  // give pooled memory back and try once more
      m = kgsl_->Alloc(cls, kgsl::kMemTypeCl << kgsl::kMemTypeShift);
    }
    if (!m.ok()) return m.status();
    mem = *m;
  }
  std::lock_guard<std::mutex> lock(mu_);
  BufferOptions effective = options;
  effective.host_visible = true;
  auto* b = new QcomBuffer(this, next_id_++, bytes, effective, mem);
  stats_.bytes_in_use += bytes;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  ++stats_.num_allocs;
  if (hit) ++stats_.cache_hits;
  return b;
}

void QcomAllocator::Free(DeviceBuffer* buffer) {
  if (buffer == nullptr) return;
  CheckFreeable(*buffer, this, device_);
  auto* b = static_cast<QcomBuffer*>(buffer);
  const size_t cls = SizeClass(b->size());
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.bytes_in_use -= b->size();
    ++stats_.num_frees;
    cache_[cls].push_back(b->memory());
    stats_.cached_bytes += cls;
  }
  delete b;
}

absl::Status QcomAllocator::CopyIn(DeviceBuffer& dst, size_t dst_offset,
                                   absl::Span<const uint8_t> src) {
  RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, src.size(), "CopyIn", device_));
  if (!src.empty())
    std::memcpy(static_cast<uint8_t*>(dst.host_ptr()) + dst_offset, src.data(), src.size());
  return absl::OkStatus();
}

absl::Status QcomAllocator::CopyOut(const DeviceBuffer& src, size_t src_offset,
                                    absl::Span<uint8_t> dst) {
  RETURN_IF_ERROR(CheckBufferRange(src, src_offset, dst.size(), "CopyOut", device_));
  if (!dst.empty()) {
    std::memcpy(dst.data(), static_cast<const uint8_t*>(src.host_ptr()) + src_offset, dst.size());
  }
  return absl::OkStatus();
}

absl::Status QcomAllocator::CopyBetween(DeviceBuffer& dst, size_t dst_offset,
                                        const DeviceBuffer& src, size_t src_offset, size_t bytes) {
  RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, bytes, "CopyBetween (dst)", device_));
  RETURN_IF_ERROR(CheckBufferRange(src, src_offset, bytes, "CopyBetween (src)", device_));
  if (bytes != 0) {
    std::memmove(static_cast<uint8_t*>(dst.host_ptr()) + dst_offset,
                 static_cast<const uint8_t*>(src.host_ptr()) + src_offset, bytes);
  }
  return absl::OkStatus();
}

AllocatorStats QcomAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void QcomAllocator::ReleaseCached() {
  std::map<size_t, std::vector<Kgsl::Memory>> cache;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cache.swap(cache_);
    stats_.cached_bytes = 0;
  }
  for (const auto& [cls, list] : cache)
    for (const Kgsl::Memory& m : list) (void)kgsl_->Free(m);
}

absl::StatusOr<Kgsl::Memory> QcomAllocator::AllocInternal(size_t bytes, uint64_t flags) {
  return kgsl_->Alloc(bytes, flags);
}

void QcomAllocator::FreeInternal(const Kgsl::Memory& m) { (void)kgsl_->Free(m); }

}  // namespace uop
