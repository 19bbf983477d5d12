// MmioRegion: a mapped device BAR (registers or a VRAM aperture) whose reads
// never hand back what a vanished device returns.
//
// When a PCIe device is gone (surprise removal, a reset in progress, a BAR
// that was unmapped or never enabled) every read of its BARs completes with
// all bits set. Data and registers can legitimately hold 0xFFFFFFFF too, so an
// all-ones read is not an error by itself: it triggers the liveness probe (a
// register or memory word whose value is known, e.g. a canary the driver
// wrote at start-up, or the PCI vendor id). If the probe fails too, the read
// fails with Unavailable naming the device, the region, the offset and what
// the probe saw; it is never returned as data. A healthy device that holds
// 0xFF bytes costs one extra probe read per all-ones register or 4 KiB page.
//
//   MmioRegion regs("AM:0", "BAR5 registers", bar5, bar5_size,
//                   [&] { return CheckVendorId(io, sysfs_config); });
//   ASSIGN_OR_RETURN(uint32_t v, regs.Read32(kRegGcVersion));
//   RETURN_IF_ERROR(vram.ReadBlock(offset, absl::MakeSpan(host_bytes)));
//
// Thread safety: reads and writes may run concurrently (the device decides
// what concurrent register access means); the probe must be thread-safe.
#ifndef UOP_DRIVERS_COMMON_MMIO_H_
#define UOP_DRIVERS_COMMON_MMIO_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace uop {

// OK when the device answers; otherwise an error saying what was seen.
using LivenessProbe = std::function<absl::Status()>;

class MmioRegion {
 public:
  // Granularity of the all-ones check in block reads.
  static constexpr size_t kCheckBytes = 4096;

  MmioRegion(std::string device, std::string what, volatile uint8_t* base, size_t size,
             LivenessProbe probe);

  const std::string& what() const { return what_; }
  size_t size() const { return size_; }

  // 32-bit register read; offset 4-byte aligned and inside the region.
  absl::StatusOr<uint32_t> Read32(uint64_t offset) const;
  absl::StatusOr<uint64_t> Read64(uint64_t offset) const;
  absl::Status Write32(uint64_t offset, uint32_t value) const;
  absl::Status Write64(uint64_t offset, uint64_t value) const;
  // Copies [offset, offset + out.size()) out of the region.
  absl::Status ReadBlock(uint64_t offset, absl::Span<uint8_t> out) const;
  absl::Status WriteBlock(uint64_t offset, absl::Span<const uint8_t> in) const;

  // Runs the checks on bytes read from this region by other means (a
  // memcpy from a BAR mapping): fails like ReadBlock would.
  absl::Status CheckRead(uint64_t offset, absl::Span<const uint8_t> bytes) const;

 private:
  absl::Status CheckRange(uint64_t offset, size_t bytes, size_t align, const char* op) const;
  absl::Status Gone(uint64_t offset, size_t bytes, const absl::Status& probe) const;

  const std::string device_;
  const std::string what_;
  volatile uint8_t* const base_;
  const size_t size_;
  const LivenessProbe probe_;
};

// True when every byte is 0xFF.
bool AllOnes(absl::Span<const uint8_t> bytes);

// The check of MmioRegion::CheckRead for bytes copied out of a BAR mapping
// of `what` (at `offset`) by other means: an all-0xFF 4 KiB page runs
// `probe`, and a failing probe is Unavailable naming `device` and `what`.
absl::Status CheckBarRead(absl::string_view device, absl::string_view what, uint64_t offset,
                          absl::Span<const uint8_t> bytes, const LivenessProbe& probe);

// A probe that reads a 64-bit canary inside a mapped BAR (a word the driver
// wrote at start-up that no workload touches) and compares it; `where`
// names it in errors.
LivenessProbe CanaryProbe(const volatile uint64_t* canary, uint64_t expected, std::string where);

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_MMIO_H_
