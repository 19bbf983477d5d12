#include "drivers/nv/nv_memory.h"

#include <sys/mman.h>

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kHugePage = uint64_t{2} << 20;
constexpr uint64_t kHugeFrom = uint64_t{8} << 20;
#ifndef MAP_FIXED_NOREPLACE
constexpr int MAP_FIXED_NOREPLACE = 0x100000;
#endif

uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

bool CpuMapped(NvMemKind k) { return k == NvMemKind::kDeviceHost || k == NvMemKind::kHost; }

uint64_t PageFor(uint64_t bytes, NvMemKind kind) {
  return kind == NvMemKind::kDevice && bytes >= kHugeFrom ? kHugePage : kPage;
}

// The CPU-mapped window, shared by every NvVmm of the process (two GPUs
// must not both map host memory at one CPU address).
struct LowWindow {
  std::mutex mu;
  std::map<uint64_t, uint64_t> free{{NvVmm::kLowBase, NvVmm::kLowEnd}};
};
LowWindow& Low() {
  static auto* w = new LowWindow;
  return *w;
}

}  // namespace

const char* NvMemKindName(NvMemKind kind) {
  switch (kind) {
    case NvMemKind::kDevice:
      return "device memory";
    case NvMemKind::kDeviceHost:
      return "host-visible device memory";
    case NvMemKind::kHost:
      return "pinned host memory";
    case NvMemKind::kSysmem:
      return "system memory";
  }
  return "memory";
}

absl::StatusOr<uint64_t> NvVmm::ReserveVa(uint64_t bytes, uint64_t align, bool low) {
  std::lock_guard<std::mutex> lock(low ? Low().mu : mu_);
  std::map<uint64_t, uint64_t>& free = low ? Low().free : free_high_;
  for (auto it = free.begin(); it != free.end(); ++it) {
    const uint64_t start = RoundUp(it->first, align), end = it->second;
    if (start >= end || end - start < bytes) continue;
    const uint64_t range_start = it->first;
    free.erase(it);
    if (range_start < start) free[range_start] = start;
    if (start + bytes < end) free[start + bytes] = end;
    return start;
  }
  return absl::ResourceExhaustedError(
      absl::StrFormat("%s: no free GPU virtual address range of %u bytes in the %s window",
                      ctx_.rm->device(), bytes, low ? "CPU-mapped" : "device"));
}

void NvVmm::ReleaseVa(uint64_t va, uint64_t bytes) {
  const bool low = va < kLowEnd;
  std::lock_guard<std::mutex> lock(low ? Low().mu : mu_);
  std::map<uint64_t, uint64_t>& free = low ? Low().free : free_high_;
  uint64_t start = va, end = va + bytes;
  auto next = free.lower_bound(start);
  if (next != free.end() && next->first == end) {
    end = next->second;
    next = free.erase(next);
  }
  if (next != free.begin()) {
    auto prev = std::prev(next);
    if (prev->second == start) {
      start = prev->first;
      free.erase(prev);
    }
  }
  free[start] = end;
}

absl::StatusOr<NvAllocation> NvVmm::Allocate(uint64_t bytes, NvMemKind kind, bool contiguous) {
  NvRm& rm = *ctx_.rm;
  KernelIo& io = rm.io();
  const uint64_t page = PageFor(bytes, kind);
  NvAllocation a;
  a.kind = kind;
  a.size = RoundUp(std::max<uint64_t>(bytes, 1), page);
  ASSIGN_OR_RETURN(a.va, ReserveVa(a.size, page, CpuMapped(kind)));
  // Undo what was done so far on any error.
  bool ok = false;
  struct Undo {
    NvVmm* vmm;
    NvAllocation* a;
    bool* ok;
    bool range = false;
    ~Undo() {
      if (*ok) return;
      if (range) (void)vmm->ctx_.uvm->Free(a->va, a->size);
      if (a->memory != 0) (void)vmm->ctx_.rm->Free(vmm->ctx_.device, a->memory);
      if (a->cpu != nullptr) (void)vmm->ctx_.rm->io().Munmap(a->cpu, a->size);
      vmm->ReleaseVa(a->va, a->size);
    }
  } undo{this, &a, &ok};

  if (kind == NvMemKind::kHost) {
    ASSIGN_OR_RETURN(
        void* cpu,
        io.Mmap(reinterpret_cast<void*>(a.va), a.size, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0, "pinned host memory"));
    a.cpu = static_cast<uint8_t*>(cpu);
    if (reinterpret_cast<uint64_t>(cpu) != a.va) {
      return absl::InternalError(
          absl::StrFormat("%s: pinned host memory landed at %p instead of 0x%x (kernel without "
                          "MAP_FIXED_NOREPLACE?)",
                          rm.device(), cpu, a.va));
    }
    ASSIGN_OR_RETURN(a.memory, rm.AllocOsDescriptor(ctx_.gpu_fd, ctx_.device, cpu, a.size));
  } else {
    nvrm::NV_MEMORY_ALLOCATION_PARAMS p{};
    const bool sys = kind == NvMemKind::kSysmem;
    const bool huge = page == kHugePage;
    p.owner = rm.root();
    p.type = sys ? nvrm::kTypeNotifier : nvrm::kTypeImage;
    p.flags = nvrm::kAllocFlagMapNotRequired | nvrm::kAllocFlagMemoryHandleProvided |
              nvrm::kAllocFlagAlignmentForce | nvrm::kAllocFlagIgnoreBankPlacement |
              (sys ? 0 : nvrm::kAllocFlagPersistentVidmem);
    p.attr =
        ((contiguous ? nvrm::kAttrPhysicalityContiguous : nvrm::kAttrPhysicalityAllowNoncontiguous)
         << nvrm::kAttrPhysicalityShift) |
        (huge ? nvrm::kAttrPageSizeHuge << nvrm::kAttrPageSizeShift : 0) |
        (sys ? nvrm::kAttrLocationPci << nvrm::kAttrLocationShift : 0);
    p.attr2 = ((sys ? nvrm::kAttr2GpuCacheableNo : nvrm::kAttr2GpuCacheableYes)
               << nvrm::kAttr2GpuCacheableShift) |
              (huge ? nvrm::kAttr2PageSizeHuge2Mb << nvrm::kAttr2PageSizeHugeShift : 0) |
              nvrm::kAttr2ZbcPreferNoZbc;
    p.format = 6;
    p.size = a.size;
    p.alignment = page;
    p.limit = a.size - 1;
    absl::StatusOr<nvrm::Handle> h =
        rm.Alloc(ctx_.device, sys ? nvrm::kMemorySystem : nvrm::kMemoryLocalUser, &p, sizeof(p));
    if (!h.ok()) {
      return absl::Status(h.status().code(),
                          absl::StrFormat("%s: allocating %u bytes of %s: %s", rm.device(), a.size,
                                          NvMemKindName(kind), h.status().message()));
    }
    a.memory = *h;
    if (kind == NvMemKind::kSysmem) {
      ASSIGN_OR_RETURN(void* cpu,
                       rm.MapToCpu(ctx_.ctl_node, ctx_.device, a.memory, a.size, nullptr, 0));
      a.cpu = static_cast<uint8_t*>(cpu);
    }
    if (kind == NvMemKind::kDeviceHost) {
      ASSIGN_OR_RETURN(void* cpu,
                       rm.MapToCpu(ctx_.gpu_node, ctx_.device, a.memory, a.size,
                                   reinterpret_cast<void*>(a.va), nvrm::kOs33CachingWriteCombined));
      a.cpu = static_cast<uint8_t*>(cpu);
      if (reinterpret_cast<uint64_t>(cpu) != a.va) {
        return absl::InternalError(
            absl::StrFormat("%s: the CPU mapping of device memory landed at %p instead of 0x%x",
                            rm.device(), cpu, a.va));
      }
    }
  }
  RETURN_IF_ERROR(ctx_.uvm->CreateExternalRange(a.va, a.size));
  undo.range = true;
  RETURN_IF_ERROR(rm.MapToGpu(ctx_.device, ctx_.virtmem, a.memory, a.va, a.size));
  RETURN_IF_ERROR(ctx_.uvm->MapExternal(ctx_.uuid, a.va, a.size, rm.ctl_fd(), rm.root(), a.memory));
  ok = true;
  return a;
}

absl::Status NvVmm::Free(const NvAllocation& a) {
  absl::Status first = ctx_.uvm->Free(a.va, a.size);
  absl::Status st = ctx_.rm->Free(ctx_.device, a.memory);
  if (first.ok()) first = st;
  if (a.cpu != nullptr) {
    st = ctx_.rm->io().Munmap(a.cpu, a.size);
    if (first.ok()) first = st;
  }
  ReleaseVa(a.va, a.size);
  return first;
}

// A buffer of this allocator: the allocation behind it.
class NvAllocator::NvBuffer final : public DeviceBuffer {
 public:
  NvBuffer(Allocator* owner, uint64_t id, size_t size, const BufferOptions& options,
           const NvAllocation& a)
      : DeviceBuffer(owner, id, size, options, a.cpu, a.va), alloc(a) {}
  NvAllocation alloc;
};

NvAllocator::NvAllocator(std::string device, NvVmm* vmm, uint64_t total_memory, Options options)
    : device_(std::move(device)),
      vmm_(vmm),
      limit_(options.memory_limit != 0 ? options.memory_limit : total_memory),
      options_(options) {}

NvAllocator::~NvAllocator() {
  ReleaseCached();
  if (staging_.va != 0) (void)vmm_->Free(staging_);
}

uint64_t NvAllocator::RoundSize(uint64_t bytes, NvMemKind kind) {
  // Size classes keep the pool useful: 4 KiB steps to 1 MiB, then 2 MiB steps.
  if (bytes <= (uint64_t{1} << 20)) return RoundUp(std::max<uint64_t>(bytes, 1), kPage);
  return RoundUp(bytes, kHugePage);
}

absl::StatusOr<DeviceBuffer*> NvAllocator::Alloc(size_t bytes, const BufferOptions& options) {
  ASSIGN_OR_RETURN(size_t align, EffectiveAlignment(options, device_));
  if (align > kHugePage) {
    return absl::InvalidArgumentError(
        absl::StrCat(device_, ": alignment ", align, " exceeds the 2 MiB this allocator gives"));
  }
  const NvMemKind kind = options.pinned         ? NvMemKind::kHost
                         : options.host_visible ? NvMemKind::kDeviceHost
                                                : NvMemKind::kDevice;
  const uint64_t size = RoundSize(bytes, kind);
  NvAllocation a;
  bool from_pool = false;
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pool_.find({static_cast<int>(kind), size});
    if (it != pool_.end()) {
      a = it->second;
      pool_.erase(it);
      stats_.cached_bytes -= a.size;
      from_pool = true;
      ++stats_.cache_hits;
    }
    id = next_id_++;
  }
  if (!from_pool && kind != NvMemKind::kHost) {
    bool over;
    {
      std::lock_guard<std::mutex> lock(mu_);
      over = mapped_bytes_ + size > limit_;
    }
    if (over) ReleaseCached();
    std::lock_guard<std::mutex> lock(mu_);
    if (mapped_bytes_ + size > limit_) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("%s: out of memory allocating %u bytes of %s: %u of %u bytes in use",
                          device_, bytes, NvMemKindName(kind), mapped_bytes_, limit_));
    }
  }
  if (!from_pool) {
    absl::StatusOr<NvAllocation> got = vmm_->Allocate(size, kind);
    if (!got.ok() && got.status().code() == absl::StatusCode::kResourceExhausted) {
      ReleaseCached();  // return pooled memory and try once more
      got = vmm_->Allocate(size, kind);
    }
    if (!got.ok()) {
      uint64_t in_use;
      {
        std::lock_guard<std::mutex> lock(mu_);
        in_use = stats_.bytes_in_use;
      }
      return absl::Status(
          got.status().code(),
          absl::StrFormat("%s: out of memory allocating %u bytes of %s (%u in "
                          "use): %s",
                          device_, bytes, NvMemKindName(kind), in_use, got.status().message()));
    }
    a = *got;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!from_pool) mapped_bytes_ += a.size;
  stats_.bytes_in_use += bytes;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  ++stats_.num_allocs;
  return new NvBuffer(this, id, bytes, options, a);
}

void NvAllocator::Free(DeviceBuffer* buffer) {
  if (buffer == nullptr) return;
  CheckFreeable(*buffer, this, device_);
  auto* b = static_cast<NvBuffer*>(buffer);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.bytes_in_use -= b->size();
  ++stats_.num_frees;
  stats_.cached_bytes += b->alloc.size;
  pool_.emplace(std::make_pair(static_cast<int>(b->alloc.kind), b->alloc.size), b->alloc);
  delete b;
}

void NvAllocator::ReleaseCached() {
  std::multimap<std::pair<int, uint64_t>, NvAllocation> pool;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pool.swap(pool_);
    for (const auto& [k, a] : pool) mapped_bytes_ -= a.size;
    stats_.cached_bytes = 0;
  }
  for (const auto& [k, a] : pool) (void)vmm_->Free(a);
}

AllocatorStats NvAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

absl::StatusOr<NvAllocation> NvAllocator::AllocInternal(uint64_t bytes, NvMemKind kind,
                                                        bool contiguous) {
  return vmm_->Allocate(bytes, kind, contiguous);
}

void NvAllocator::FreeInternal(const NvAllocation& a) {
  if (a.va != 0) (void)vmm_->Free(a);
}

absl::StatusOr<std::pair<const NvAllocation*, uint64_t>> NvAllocator::Resolve(
    const DeviceBuffer& b) const {
  if (b.owner() != this) {
    return absl::InvalidArgumentError(
        absl::StrCat(device_, ": buffer #", b.id(), " belongs to another device"));
  }
  const DeviceBuffer& root = b.parent() != nullptr ? *b.parent() : b;
  return std::make_pair(&static_cast<const NvBuffer&>(root).alloc, uint64_t{b.offset()});
}

absl::Status NvAllocator::Stage(bool to_device, const NvAllocation& dev, uint64_t dev_off,
                                uint8_t* host, uint64_t bytes) {
  if (!copy_) return absl::FailedPreconditionError(absl::StrCat(device_, ": no copy engine yet"));
  std::lock_guard<std::mutex> lock(staging_mu_);
  if (staging_.va == 0) {
    ASSIGN_OR_RETURN(staging_, vmm_->Allocate(options_.staging_bytes, NvMemKind::kHost));
  }
  for (uint64_t done = 0; done < bytes;) {
    const uint64_t n = std::min(bytes - done, staging_.size);
    if (to_device) {
      std::memcpy(staging_.cpu, host + done, n);
      RETURN_IF_ERROR(copy_(dev, dev_off + done, staging_, 0, n));
    } else {
      RETURN_IF_ERROR(copy_(staging_, 0, dev, dev_off + done, n));
      std::memcpy(host + done, staging_.cpu, n);
    }
    done += n;
  }
  return absl::OkStatus();
}

absl::Status NvAllocator::CopyIn(DeviceBuffer& dst, size_t dst_offset,
                                 absl::Span<const uint8_t> src) {
  RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, src.size(), "CopyIn", device_));
  if (src.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto r, Resolve(dst));
  const auto& [a, off] = r;
  if (a->cpu != nullptr) {
    std::memcpy(a->cpu + off + dst_offset, src.data(), src.size());
    std::atomic_thread_fence(std::memory_order_seq_cst);  // drain write-combining buffers
    return absl::OkStatus();
  }
  return Stage(true, *a, off + dst_offset, const_cast<uint8_t*>(src.data()), src.size());
}

absl::Status NvAllocator::CopyOut(const DeviceBuffer& src, size_t src_offset,
                                  absl::Span<uint8_t> dst) {
  RETURN_IF_ERROR(CheckBufferRange(src, src_offset, dst.size(), "CopyOut", device_));
  if (dst.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto r, Resolve(src));
  const auto& [a, off] = r;
  // Host memory reads directly; BAR reads of device memory are slow, so
  // host-visible device memory is read through the copy engine too.
  if (a->kind == NvMemKind::kHost) {
    std::memcpy(dst.data(), a->cpu + off + src_offset, dst.size());
    return absl::OkStatus();
  }
  return Stage(false, *a, off + src_offset, dst.data(), dst.size());
}

absl::Status NvAllocator::CopyBetween(DeviceBuffer& dst, size_t dst_offset, const DeviceBuffer& src,
                                      size_t src_offset, size_t bytes) {
  RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, bytes, "CopyBetween", device_));
  RETURN_IF_ERROR(CheckBufferRange(src, src_offset, bytes, "CopyBetween", device_));
  if (bytes == 0) return absl::OkStatus();
  if (!copy_) return absl::FailedPreconditionError(absl::StrCat(device_, ": no copy engine yet"));
  ASSIGN_OR_RETURN(auto d, Resolve(dst));
  ASSIGN_OR_RETURN(auto s, Resolve(src));
  return copy_(*d.first, d.second + dst_offset, *s.first, s.second + src_offset, bytes);
}

}  // namespace uop
