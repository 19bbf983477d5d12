#include "drivers/am/am_memory.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {

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
  ReleaseCached();
  if (canary_.handle != 0) (void)gpu_->Free(canary_);
}

absl::Status AmAllocator::Probe() const { return probe_(); }

size_t AmAllocator::SizeClass(size_t bytes) {
  size_t c = 4096;
  while (c < bytes) c <<= 1;
  return c;
}

absl::StatusOr<DeviceBuffer*> AmAllocator::Alloc(size_t bytes, const BufferOptions& options) {
  ASSIGN_OR_RETURN(size_t alignment, EffectiveAlignment(options, device_));
  if (alignment > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(
        device_, ": alignment ", alignment, " exceeds the 4096 bytes the GPU interface gives"));
  }
  const size_t cls = SizeClass(bytes);
  AmMemory mem;
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
    absl::StatusOr<AmMemory> m = gpu_->Alloc(cls, kAmVramFlags, /*cpu_map=*/true);
    if (!m.ok() && m.status().code() == absl::StatusCode::kResourceExhausted) {
      ReleaseCached();
      m = gpu_->Alloc(cls, kAmVramFlags, true);
    }
    if (!m.ok()) return m.status();
    mem = *m;
  }
  std::lock_guard<std::mutex> lock(mu_);
  BufferOptions effective = options;
  effective.host_visible = true;
  auto* b = new AmBuffer(this, next_id_++, bytes, effective, mem);
  stats_.bytes_in_use += bytes;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  ++stats_.num_allocs;
  if (hit) ++stats_.cache_hits;
  return b;
}

void AmAllocator::Free(DeviceBuffer* buffer) {
  if (buffer == nullptr) return;
  CheckFreeable(*buffer, this, device_);
  auto* b = static_cast<AmBuffer*>(buffer);
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

absl::Status AmAllocator::CopyIn(DeviceBuffer& dst, size_t dst_offset,
                                 absl::Span<const uint8_t> src) {
  RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, src.size(), "CopyIn", device_));
  if (!src.empty()) {
    std::memcpy(static_cast<uint8_t*>(dst.host_ptr()) + dst_offset, src.data(), src.size());
  }
  return absl::OkStatus();
}

absl::Status AmAllocator::CopyOut(const DeviceBuffer& src, size_t src_offset,
                                  absl::Span<uint8_t> dst) {
  RETURN_IF_ERROR(CheckBufferRange(src, src_offset, dst.size(), "CopyOut", device_));
  if (dst.empty()) return absl::OkStatus();
  std::memcpy(dst.data(), static_cast<const uint8_t*>(src.host_ptr()) + src_offset, dst.size());
  return CheckBarRead(device_, absl::StrCat("buffer #", src.id(), " (VRAM through the BAR)"),
                      src_offset, dst, probe_);
}

absl::Status AmAllocator::CopyBetween(DeviceBuffer& dst, size_t dst_offset, const DeviceBuffer& src,
                                      size_t src_offset, size_t bytes) {
  RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, bytes, "CopyBetween (dst)", device_));
  RETURN_IF_ERROR(CheckBufferRange(src, src_offset, bytes, "CopyBetween (src)", device_));
  if (bytes == 0) return absl::OkStatus();
  uint8_t* d = static_cast<uint8_t*>(dst.host_ptr()) + dst_offset;
  std::memmove(d, static_cast<const uint8_t*>(src.host_ptr()) + src_offset, bytes);
  return CheckBarRead(device_, absl::StrCat("buffer #", src.id(), " (VRAM through the BAR)"),
                      src_offset, absl::MakeConstSpan(d, bytes), probe_);
}

AllocatorStats AmAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void AmAllocator::ReleaseCached() {
  std::map<size_t, std::vector<AmMemory>> cache;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cache.swap(cache_);
    stats_.cached_bytes = 0;
  }
  for (const auto& [cls, list] : cache)
    for (const AmMemory& m : list) (void)gpu_->Free(m);
}

absl::StatusOr<AmMemory> AmAllocator::AllocInternal(size_t bytes, uint32_t flags, bool cpu_map) {
  return gpu_->Alloc(bytes, flags, cpu_map);
}

void AmAllocator::FreeInternal(const AmMemory& m) { (void)gpu_->Free(m); }

}  // namespace uop
