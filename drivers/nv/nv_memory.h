// NV memory: GPU virtual memory made of RM memory objects mapped through UVM.
//
// NvVmm places and maps one allocation at a time, the way the kernel driver
// wants it (RM memory object -> UVM external range at a chosen GPU virtual
// address -> the RM DMA mapping and the UVM mapping -> a CPU mapping at the
// same address where the host needs one):
//   kDevice      video memory, GPU only (2 MiB pages from 8 MiB up);
//   kDeviceHost  video memory also mapped for the CPU (through BAR1, write-
//                combined): command rings, QMDs, constant buffers, buffers
//                asked for host_visible;
//   kHost        page-locked system memory (anonymous memory described to RM
//                as an OS descriptor), CPU and GPU: semaphores, staging,
//                buffers asked for pinned;
//   kSysmem      uncached RM system memory (channel error notifiers), mapped
//                for the CPU wherever the kernel puts it (cpu != va).
// CPU-mapped allocations live in a low window [0x10'0000'0000, 0x20'0000'0000)
// where the CPU and GPU addresses are equal; the others above it.
//
// NvAllocator is the device's Allocator on top: pools freed blocks by kind
// and size (RM allocations cost tens of microseconds), and copies to and
// from the host through the device's copy engine with pinned staging (or
// directly for host-visible buffers).
//
//   ASSIGN_OR_RETURN(NvAllocation a, vmm.Allocate(1 << 20, NvMemKind::kDeviceHost));
//   std::memcpy(a.cpu, src, n);  // the GPU sees it at a.va
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_NV_NV_MEMORY_H_
#define UOP_DRIVERS_NV_NV_MEMORY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "drivers/allocator.h"
#include "drivers/nv/nv_rm.h"

namespace uop {

enum class NvMemKind { kDevice, kDeviceHost, kHost, kSysmem };
const char* NvMemKindName(NvMemKind kind);

struct NvAllocation {
  uint64_t va = 0;
  uint64_t size = 0;       // bytes mapped (page rounded)
  uint8_t* cpu = nullptr;  // == va for kDeviceHost and kHost; anywhere for kSysmem
  nvrm::Handle memory = 0;
  NvMemKind kind = NvMemKind::kDevice;
};

// The RM objects memory is allocated under.
struct NvVmmContext {
  NvRm* rm = nullptr;
  NvUvm* uvm = nullptr;
  nvrm::Handle device = 0, virtmem = 0;
  nvrm::NvUuid uuid{};
  std::string gpu_node;  // "/dev/nvidia0"
  std::string ctl_node;  // "/dev/nvidiactl" (carries CPU mappings of system memory)
  int gpu_fd = -1;       // registered with the control fd
};

class NvVmm {
 public:
  static constexpr uint64_t kLowBase = uint64_t{0x10} << 32;
  static constexpr uint64_t kLowEnd = uint64_t{0x20} << 32;
  static constexpr uint64_t kHighEnd = uint64_t{0x7000} << 32;

  explicit NvVmm(NvVmmContext ctx) : ctx_(std::move(ctx)) {}

  // `contiguous`: physically contiguous video memory (GPFIFO rings, USERD).
  absl::StatusOr<NvAllocation> Allocate(uint64_t bytes, NvMemKind kind, bool contiguous = false);
  // A GPU virtual range of `bytes` with nothing mapped (for RM to place
  // channel resources in); ReleaseRange returns it.
  absl::StatusOr<uint64_t> ReserveRange(uint64_t bytes) { return ReserveVa(bytes, 1 << 21, true); }
  void ReleaseRange(uint64_t va, uint64_t bytes) { ReleaseVa(va, bytes); }
  // Unmaps and frees; every error is reported, the rest still released.
  absl::Status Free(const NvAllocation& a);
  const NvVmmContext& context() const { return ctx_; }

 private:
  absl::StatusOr<uint64_t> ReserveVa(uint64_t bytes, uint64_t align, bool low);
  void ReleaseVa(uint64_t va, uint64_t bytes);

  const NvVmmContext ctx_;
  std::mutex mu_;
  // Free ranges of the device window: start -> end. The CPU-mapped window's
  // free list is process-wide (nv_memory.cc): CPU addresses are one space
  // for every device of the process, GPU addresses one per UVM fd.
  std::map<uint64_t, uint64_t> free_high_{{kLowEnd, kHighEnd}};
};

class NvAllocator final : public Allocator {
 public:
  // Copies between a buffer and host memory through `copy`: it runs a
  // device copy (dst, src, bytes) synchronously.
  using DeviceCopy =
      std::function<absl::Status(const NvAllocation& dst, uint64_t dst_off, const NvAllocation& src,
                                 uint64_t src_off, uint64_t bytes)>;
  struct Options {
    uint64_t staging_bytes = uint64_t{8} << 20;  // per staging buffer
    uint64_t memory_limit = 0;                   // 0: the device's memory
  };

  NvAllocator(std::string device, NvVmm* vmm, uint64_t total_memory, Options options);
  ~NvAllocator() override;
  // Set once by the device: how copies run.
  void set_device_copy(DeviceCopy copy) { copy_ = std::move(copy); }

  absl::StatusOr<DeviceBuffer*> Alloc(size_t bytes, const BufferOptions& options = {}) override;
  void Free(DeviceBuffer* buffer) override;
  absl::Status CopyIn(DeviceBuffer& dst, size_t dst_offset, absl::Span<const uint8_t> src) override;
  absl::Status CopyOut(const DeviceBuffer& src, size_t src_offset,
                       absl::Span<uint8_t> dst) override;
  absl::Status CopyBetween(DeviceBuffer& dst, size_t dst_offset, const DeviceBuffer& src,
                           size_t src_offset, size_t bytes) override;
  AllocatorStats stats() const override;
  void ReleaseCached() override;

  // Internal memory for the driver itself (rings, semaphores, programs);
  // not pooled, not counted in stats.
  absl::StatusOr<NvAllocation> AllocInternal(uint64_t bytes, NvMemKind kind,
                                             bool contiguous = false);
  void FreeInternal(const NvAllocation& a);
  // The allocation (and offset into it) behind a buffer or view of this allocator.
  absl::StatusOr<std::pair<const NvAllocation*, uint64_t>> Resolve(const DeviceBuffer& b) const;

 private:
  class NvBuffer;
  static uint64_t RoundSize(uint64_t bytes, NvMemKind kind);
  absl::Status Stage(bool to_device, const NvAllocation& dev, uint64_t dev_off, uint8_t* host,
                     uint64_t bytes);

  const std::string device_;
  NvVmm* const vmm_;
  const uint64_t limit_;
  const Options options_;
  DeviceCopy copy_;

  mutable std::mutex mu_;
  std::multimap<std::pair<int, uint64_t>, NvAllocation> pool_;  // (kind, size) -> block
  AllocatorStats stats_;
  uint64_t next_id_ = 1;
  uint64_t mapped_bytes_ = 0;  // live + pooled

  std::mutex staging_mu_;  // one staged copy at a time
  NvAllocation staging_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_NV_NV_MEMORY_H_
