// AmAllocator: VRAM of an AMD GPU through its AmGpuInterface (KFD or PCI).
//
// Buffers are VRAM allocations mapped for the GPU and, through the PCI BAR
// (kAllocPublic: resizable BAR), into this process at the same address, so
// CopyIn/CopyOut are memcpy through the BAR. Every read back is checked for
// what a vanished device returns (drivers/common/mmio.h): an all-0xFF page
// probes a canary word the allocator wrote into VRAM at start-up, and if the
// canary reads wrong too, the copy fails with Unavailable instead of handing
// back 0xFF bytes as data (drivers/common/host_mapped_copy.h). Freed
// allocations are pooled by size class (drivers/common/size_class_pool.h).
// Driver-internal memory (rings, signals, kernel arguments in GTT; code in
// VRAM) comes from AllocInternal and is not counted.
//
//   ASSIGN_OR_RETURN(DeviceBuffer* b, allocator.Alloc(1 << 20));
//   RETURN_IF_ERROR(allocator.CopyOut(*b, 0, host));  // Unavailable if the GPU is gone
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_AM_AM_MEMORY_H_
#define UOP_DRIVERS_AM_AM_MEMORY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "drivers/allocator.h"
#include "drivers/am/am_interface.h"
#include "drivers/common/host_mapped_copy.h"
#include "drivers/common/mmio.h"
#include "drivers/common/size_class_pool.h"

namespace uop {

class AmAllocator final : public Allocator {
 public:
  struct Options {
    uint64_t memory_limit = 0;  // 0: what the GPU gives
  };
  // The canary's value: no workload writes this word.
  static constexpr uint64_t kCanary = 0x75AA3D0FF1CE0A11ull;

  static absl::StatusOr<std::unique_ptr<AmAllocator>> Create(AmGpuInterface* gpu,
                                                             std::string device,
                                                             const Options& options);
  ~AmAllocator() override;

  absl::StatusOr<DeviceBuffer*> Alloc(size_t bytes, const BufferOptions& options = {}) override;
  void Free(DeviceBuffer* buffer) override;
  absl::Status CopyIn(DeviceBuffer& dst, size_t dst_offset, absl::Span<const uint8_t> src) override;
  absl::Status CopyOut(const DeviceBuffer& src, size_t src_offset,
                       absl::Span<uint8_t> dst) override;
  absl::Status CopyBetween(DeviceBuffer& dst, size_t dst_offset, const DeviceBuffer& src,
                           size_t src_offset, size_t bytes) override;
  AllocatorStats stats() const override;
  void ReleaseCached() override;

  absl::StatusOr<AmMemory> AllocInternal(size_t bytes, uint32_t flags, bool cpu_map);
  void FreeInternal(const AmMemory& m);
  // OK while the canary in VRAM reads back right.
  absl::Status Probe() const;

 private:
  AmAllocator(AmGpuInterface* gpu, std::string device, const Options& options);

  AmGpuInterface* const gpu_;
  const std::string device_;
  AmMemory canary_;      // set once by Create
  LivenessProbe probe_;  // set once by Create
  SizeClassPool<AmMemory> pool_;
  const HostMappedCopier copier_;
};

// What a buffer from AmAllocator carries.
class AmBuffer final : public DeviceBuffer {
 public:
  AmBuffer(Allocator* owner, uint64_t id, size_t size, const BufferOptions& options,
           const AmMemory& mem)
      : DeviceBuffer(owner, id, size, options, mem.cpu, mem.va), mem_(mem) {}
  const AmMemory& memory() const { return mem_; }

 private:
  AmMemory mem_;
};

// VRAM mapped through the BAR for this process and the GPU.
inline constexpr uint32_t kAmVramFlags =
    kAmMemVram | kAmMemWritable | kAmMemPublic | kAmMemNoSubstitute;
// Host memory the GPU reaches (rings, signals, kernel arguments).
inline constexpr uint32_t kAmGttFlags =
    kAmMemGtt | kAmMemWritable | kAmMemCoherent | kAmMemUncached | kAmMemNoSubstitute;
// VRAM only the GPU reaches (EOP and CWSR buffers, scratch).
inline constexpr uint32_t kAmPrivateVramFlags = kAmMemVram | kAmMemWritable | kAmMemNoSubstitute;

}  // namespace uop

#endif  // UOP_DRIVERS_AM_AM_MEMORY_H_
