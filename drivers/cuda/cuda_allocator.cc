#include "drivers/cuda/cuda_allocator.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop::cuda {
namespace {

constexpr size_t kSmallStep = 512;
constexpr size_t kSmallLimit = size_t{1} << 20;
constexpr size_t kLargeStep = size_t{2} << 20;
// cuMemAlloc's guaranteed alignment.
constexpr size_t kNativeAlignment = 256;

}  // namespace

struct CudaAllocator::CudaBuffer final : DeviceBuffer {
  CudaBuffer(Allocator* owner, uint64_t id, size_t size, const BufferOptions& options, void* host,
             CUdeviceptr address, CUdeviceptr base, size_t class_bytes)
      : DeviceBuffer(owner, id, size, options, host, address),
        base(base),
        class_bytes(class_bytes) {}
  CUdeviceptr base;    // the allocation (address may be aligned up from it)
  size_t class_bytes;  // 0 for pinned host memory
};

CudaAllocator::CudaAllocator(const CudaContext& ctx, const Options& options)
    : ctx_(ctx), options_(options) {}

absl::StatusOr<std::unique_ptr<CudaAllocator>> CudaAllocator::Create(const CudaContext& ctx,
                                                                     const Options& options) {
  if (options.staging_chunk_bytes < 4096) {
    return absl::InvalidArgumentError("CudaAllocator: staging_chunk_bytes must be >= 4096");
  }
  std::unique_ptr<CudaAllocator> a(new CudaAllocator(ctx, options));
  a->copy_stream_ = std::make_unique<CudaStream>(ctx, ctx.name + "/copy");
  RETURN_IF_ERROR(a->copy_stream_->Init());
  return a;
}

CudaAllocator::~CudaAllocator() {
  (void)ctx_.MakeCurrent();
  {
    absl::MutexLock lock(&mu_);
    ReleaseCachedLocked();
  }
  absl::MutexLock lock(&copy_mu_);
  copy_stream_.reset();
  for (void*& s : staging_) {
    if (s != nullptr) ctx_.api->cuMemFreeHost(s);
    s = nullptr;
  }
}

size_t CudaAllocator::SizeClass(size_t bytes) {
  if (bytes == 0) return kSmallStep;
  if (bytes <= kSmallLimit) return (bytes + kSmallStep - 1) / kSmallStep * kSmallStep;
  return (bytes + kLargeStep - 1) / kLargeStep * kLargeStep;
}

absl::StatusOr<CUdeviceptr> CudaAllocator::AllocDevice(size_t class_bytes, size_t bytes) {
  RETURN_IF_ERROR(ctx_.MakeCurrent());
  CUdeviceptr p = 0;
  CUresult r = ctx_.api->cuMemAlloc(&p, class_bytes);
  if (r == kCudaErrorOutOfMemory) {
    ReleaseCached();  // the pool may hold what is missing
    r = ctx_.api->cuMemAlloc(&p, class_bytes);
  }
  if (r == kCudaSuccess) return p;
  if (r != kCudaErrorOutOfMemory) return ctx_.Check(r, "cuMemAlloc");
  size_t free_bytes = 0, total_bytes = 0;
  ctx_.api->cuMemGetInfo(&free_bytes, &total_bytes);
  uint64_t in_use;
  {
    absl::MutexLock lock(&mu_);
    in_use = stats_.bytes_in_use;
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      ctx_.name, ": out of GPU memory allocating ", bytes, " bytes (", in_use,
      " bytes in use by uop, ", free_bytes, " of ", total_bytes, " bytes free on the device)"));
}

absl::StatusOr<DeviceBuffer*> CudaAllocator::AllocPinned(size_t bytes,
                                                         const BufferOptions& options) {
  RETURN_IF_ERROR(ctx_.MakeCurrent());
  void* host = nullptr;
  CUresult r = ctx_.api->cuMemHostAlloc(&host, std::max<size_t>(bytes, 1),
                                        kMemHostAllocPortable | kMemHostAllocDeviceMap);
  if (r != kCudaSuccess) {
    absl::Status st = ctx_.Check(r, "cuMemHostAlloc");
    return absl::Status(st.code(), absl::StrCat(st.message(), " (", bytes, " pinned bytes)"));
  }
  CUdeviceptr dptr = 0;
  r = ctx_.api->cuMemHostGetDevicePointer(&dptr, host, 0);
  if (r != kCudaSuccess) {
    ctx_.api->cuMemFreeHost(host);
    return ctx_.Check(r, "cuMemHostGetDevicePointer");
  }
  BufferOptions effective = options;
  effective.host_visible = true;
  effective.pinned = true;
  absl::MutexLock lock(&mu_);
  stats_.bytes_in_use += bytes;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  ++stats_.num_allocs;
  return new CudaBuffer(this, next_id_++, bytes, effective, host, dptr, dptr, 0);
}

absl::StatusOr<DeviceBuffer*> CudaAllocator::Alloc(size_t bytes, const BufferOptions& options) {
  ASSIGN_OR_RETURN(const size_t alignment, EffectiveAlignment(options, ctx_.name));
  if (bytes > (size_t{1} << 46)) {
    return absl::ResourceExhaustedError(
        absl::StrCat(ctx_.name, ": cannot allocate ", bytes, " bytes (more than 2^46)"));
  }
  if (options.host_visible || options.pinned) {
    if (alignment > 4096) {
      return absl::InvalidArgumentError(absl::StrCat(
          ctx_.name, ": pinned buffers are page aligned; alignment ", alignment, " is too large"));
    }
    return AllocPinned(bytes, options);
  }
  const size_t extra = alignment > kNativeAlignment ? alignment : 0;
  const size_t class_bytes = SizeClass(bytes + extra);
  CUdeviceptr base = 0;
  {
    absl::MutexLock lock(&mu_);
    if (options_.memory_limit != 0 && stats_.bytes_in_use + bytes > options_.memory_limit) {
      return absl::ResourceExhaustedError(absl::StrCat(
          ctx_.name, ": allocating ", bytes, " bytes would exceed the memory limit of ",
          options_.memory_limit, " (", stats_.bytes_in_use, " in use)"));
    }
    auto it = cache_.find(class_bytes);
    if (it != cache_.end() && !it->second.empty()) {
      base = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= class_bytes;
      ++stats_.cache_hits;
    }
  }
  if (base == 0) {
    ASSIGN_OR_RETURN(base, AllocDevice(class_bytes, bytes));
  }
  const CUdeviceptr address = (base + alignment - 1) / alignment * alignment;
  BufferOptions effective = options;
  effective.alignment = alignment;
  absl::MutexLock lock(&mu_);
  stats_.bytes_in_use += bytes;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  ++stats_.num_allocs;
  return new CudaBuffer(this, next_id_++, bytes, effective, nullptr, address, base, class_bytes);
}

void CudaAllocator::Free(DeviceBuffer* buffer) {
  if (buffer == nullptr) return;
  CheckFreeable(*buffer, this, ctx_.name);
  auto* b = static_cast<CudaBuffer*>(buffer);
  bool release = false;
  {
    absl::MutexLock lock(&mu_);
    stats_.bytes_in_use -= b->size();
    ++stats_.num_frees;
    if (b->class_bytes != 0) {
      if (stats_.cached_bytes + b->class_bytes <= options_.max_cached_bytes) {
        cache_[b->class_bytes].push_back(b->base);
        stats_.cached_bytes += b->class_bytes;
      } else {
        release = true;
      }
    }
  }
  (void)ctx_.MakeCurrent();
  if (b->class_bytes == 0) {
    ctx_.api->cuMemFreeHost(b->host_ptr());
  } else if (release) {
    ctx_.api->cuMemFree(b->base);
  }
  delete b;
}

void CudaAllocator::ReleaseCached() {
  (void)ctx_.MakeCurrent();
  absl::MutexLock lock(&mu_);
  ReleaseCachedLocked();
}

void CudaAllocator::ReleaseCachedLocked() {
  for (auto& [cls, blocks] : cache_) {
    for (CUdeviceptr p : blocks) ctx_.api->cuMemFree(p);
  }
  cache_.clear();
  stats_.cached_bytes = 0;
}

AllocatorStats CudaAllocator::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

absl::Status CudaAllocator::EnsureStaging() {
  for (void*& s : staging_) {
    if (s != nullptr) continue;
    RETURN_IF_ERROR(ctx_.Check(
        ctx_.api->cuMemHostAlloc(&s, options_.staging_chunk_bytes, kMemHostAllocPortable),
        "cuMemHostAlloc (staging)"));
  }
  return absl::OkStatus();
}

absl::Status CudaAllocator::CopyIn(DeviceBuffer& dst, size_t dst_offset,
                                   absl::Span<const uint8_t> src) {
  RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, src.size(), "CopyIn", ctx_.name));
  if (src.empty()) return absl::OkStatus();
  if (dst.host_ptr() != nullptr) {
    std::memcpy(static_cast<uint8_t*>(dst.host_ptr()) + dst_offset, src.data(), src.size());
    return absl::OkStatus();
  }
  const CUdeviceptr d = dst.device_address() + dst_offset;
  const size_t chunk = options_.staging_chunk_bytes;
  absl::MutexLock lock(&copy_mu_);
  RETURN_IF_ERROR(ctx_.MakeCurrent());
  RETURN_IF_ERROR(EnsureStaging());
  const std::string waiter = absl::StrCat("CopyIn to buffer #", dst.id());
  // The host fills one staging buffer while the DMA engine drains the other.
  for (size_t pos = 0, c = 0; pos < src.size(); pos += chunk, ++c) {
    const int i = static_cast<int>(c % 2);
    const size_t len = std::min(chunk, src.size() - pos);
    RETURN_IF_ERROR(copy_stream_->Wait(staging_done_[i], options_.copy_timeout, waiter));
    std::memcpy(staging_[i], src.data() + pos, len);
    RETURN_IF_ERROR(
        ctx_.Check(ctx_.api->cuMemcpyHtoDAsync(d + pos, staging_[i], len, copy_stream_->get()),
                   "cuMemcpyHtoDAsync"));
    if (pos + len < src.size()) {
      ASSIGN_OR_RETURN(staging_done_[i], copy_stream_->Mark());
    }
  }
  return copy_stream_->Synchronize(options_.copy_timeout, waiter);
}

absl::Status CudaAllocator::CopyOut(const DeviceBuffer& src, size_t src_offset,
                                    absl::Span<uint8_t> dst) {
  RETURN_IF_ERROR(CheckBufferRange(src, src_offset, dst.size(), "CopyOut", ctx_.name));
  if (dst.empty()) return absl::OkStatus();
  if (src.host_ptr() != nullptr) {
    std::memcpy(dst.data(), static_cast<const uint8_t*>(src.host_ptr()) + src_offset, dst.size());
    return absl::OkStatus();
  }
  const CUdeviceptr s = src.device_address() + src_offset;
  const size_t chunk = options_.staging_chunk_bytes;
  const size_t chunks = (dst.size() + chunk - 1) / chunk;
  absl::MutexLock lock(&copy_mu_);
  RETURN_IF_ERROR(ctx_.MakeCurrent());
  RETURN_IF_ERROR(EnsureStaging());
  const std::string waiter = absl::StrCat("CopyOut from buffer #", src.id());
  auto enqueue = [&](size_t c) -> absl::Status {
    const int i = static_cast<int>(c % 2);
    const size_t len = std::min(chunk, dst.size() - c * chunk);
    RETURN_IF_ERROR(ctx_.Check(
        ctx_.api->cuMemcpyDtoHAsync(staging_[i], s + c * chunk, len, copy_stream_->get()),
        "cuMemcpyDtoHAsync"));
    if (chunks > 1) {
      ASSIGN_OR_RETURN(staging_done_[i], copy_stream_->Mark());
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(enqueue(0));
  if (chunks == 1) {
    RETURN_IF_ERROR(copy_stream_->Synchronize(options_.copy_timeout, waiter));
    std::memcpy(dst.data(), staging_[0], dst.size());
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(enqueue(1));
  // The DMA engine fills one staging buffer while the host drains the other.
  for (size_t c = 0; c < chunks; ++c) {
    const int i = static_cast<int>(c % 2);
    const size_t len = std::min(chunk, dst.size() - c * chunk);
    RETURN_IF_ERROR(copy_stream_->Wait(staging_done_[i], options_.copy_timeout, waiter));
    std::memcpy(dst.data() + c * chunk, staging_[i], len);
    if (c + 2 < chunks) RETURN_IF_ERROR(enqueue(c + 2));
  }
  return absl::OkStatus();
}

absl::Status CudaAllocator::CopyBetween(DeviceBuffer& dst, size_t dst_offset,
                                        const DeviceBuffer& src, size_t src_offset, size_t bytes) {
  if (dst.owner() != this || src.owner() != this) {
    return absl::InvalidArgumentError(
        absl::StrCat(ctx_.name, ": CopyBetween of a buffer from another allocator"));
  }
  RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, bytes, "CopyBetween (dst)", ctx_.name));
  RETURN_IF_ERROR(CheckBufferRange(src, src_offset, bytes, "CopyBetween (src)", ctx_.name));
  if (bytes == 0) return absl::OkStatus();
  absl::MutexLock lock(&copy_mu_);
  RETURN_IF_ERROR(ctx_.MakeCurrent());
  RETURN_IF_ERROR(ctx_.Check(
      ctx_.api->cuMemcpyDtoDAsync(dst.device_address() + dst_offset,
                                  src.device_address() + src_offset, bytes, copy_stream_->get()),
      "cuMemcpyDtoDAsync"));
  return copy_stream_->Synchronize(options_.copy_timeout,
                                   absl::StrCat("CopyBetween into buffer #", dst.id()));
}

}  // namespace uop::cuda
