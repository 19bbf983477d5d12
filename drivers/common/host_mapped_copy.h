// HostMappedCopier: CopyIn/CopyOut/CopyBetween of an Allocator whose buffers
// the CPU reaches at host_ptr() (AM's VRAM through a resizable BAR, QCOM's
// shared memory), so every copy is a memcpy after the range checks.
//
// Memory behind a PCI BAR can vanish with its device, and a read of a
// vanished BAR completes with all bits set: a copier built with a liveness
// probe checks every byte read back (CopyOut, and CopyBetween's result) the
// way drivers/common/mmio.h does, so an all-0xFF page runs the probe and a
// failing probe is Unavailable instead of 0xFF bytes handed back as data.
// A copier without a probe (memory that stays while the process does)
// checks nothing beyond the ranges.
//
//   HostMappedCopier copier("AM:0", "VRAM through the BAR", [this] { return Probe(); });
//   RETURN_IF_ERROR(copier.CopyOut(*buffer, 0, host));  // Unavailable if the GPU is gone
//
// Thread safety: copies may run concurrently (callers order copies to one
// buffer); the probe must be thread-safe.
#ifndef UOP_DRIVERS_COMMON_HOST_MAPPED_COPY_H_
#define UOP_DRIVERS_COMMON_HOST_MAPPED_COPY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "drivers/buffer.h"
#include "drivers/common/mmio.h"

namespace uop {

class HostMappedCopier {
 public:
  // Memory that cannot vanish: only the ranges are checked.
  explicit HostMappedCopier(std::string device) : device_(std::move(device)) {}
  // Memory behind a BAR: reads are checked with `probe`; `memory` names it
  // in errors ("VRAM through the BAR").
  HostMappedCopier(std::string device, std::string memory, LivenessProbe probe)
      : device_(std::move(device)), memory_(std::move(memory)), probe_(std::move(probe)) {}

  // OutOfRange (naming the operation, buffer and device) when a range lies
  // outside its buffer; Unavailable when a checked read finds the device gone.
  absl::Status CopyIn(DeviceBuffer& dst, size_t dst_offset, absl::Span<const uint8_t> src) const;
  absl::Status CopyOut(const DeviceBuffer& src, size_t src_offset, absl::Span<uint8_t> dst) const;
  absl::Status CopyBetween(DeviceBuffer& dst, size_t dst_offset, const DeviceBuffer& src,
                           size_t src_offset, size_t bytes) const;

 private:
  // The all-0xFF check of `bytes` read from `src` at `offset` (OK unprobed).
  absl::Status CheckRead(const DeviceBuffer& src, size_t offset,
                         absl::Span<const uint8_t> bytes) const;

  const std::string device_;
  const std::string memory_;
  const LivenessProbe probe_;  // empty: nothing to check
};

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_HOST_MAPPED_COPY_H_
