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
//
// Two backings, one driver. A region is either the mapped BAR itself (real
// hardware: every register access is one aligned volatile 32/64-bit load or
// store) or an MmioBackend: a register file whose reads are computed from
// state and whose writes are seen one by one, in order (an emulated device
// that answers request/ack handshakes and checks write sequences). The
// driver builds its regions the same way in both cases: from the address
// mmap returned. An emulator that serves a BAR mapping registers a backend
// for the address range it handed out (MmioTrap), and the region built on
// that address routes every access to it; on real hardware nothing is
// registered and the region touches the mapping directly. The all-0xFF
// check runs on both paths.
#ifndef UOP_DRIVERS_COMMON_MMIO_H_
#define UOP_DRIVERS_COMMON_MMIO_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace uop {

// OK when the device answers; otherwise an error saying what was seen.
using LivenessProbe = std::function<absl::Status()>;

// A register file behind a BAR, served by an emulator. Offsets are bytes
// from the start of the region, already bounds- and alignment-checked.
class MmioBackend {
 public:
  virtual ~MmioBackend() = default;
  virtual uint32_t Load32(uint64_t offset) = 0;
  virtual void Store32(uint64_t offset, uint32_t value) = 0;
  // Low dword first, as a 64-bit access reaches a 32-bit register file.
  virtual uint64_t Load64(uint64_t offset);
  virtual void Store64(uint64_t offset, uint64_t value);
  // Block copies (default: dword by dword, then the tail bytes of the last
  // dword read-modify-written).
  virtual void LoadBlock(uint64_t offset, absl::Span<uint8_t> out);
  virtual void StoreBlock(uint64_t offset, absl::Span<const uint8_t> in);
};

// While alive, MmioRegions built on an address inside [base, base + size)
// route their accesses to `backend` (offsets relative to the region's own
// base). Ranges must not overlap; the emulator creates one per mapping it
// hands out and destroys it at munmap.
class MmioTrap {
 public:
  MmioTrap(const volatile void* base, size_t size, std::shared_ptr<MmioBackend> backend);
  ~MmioTrap();
  MmioTrap(const MmioTrap&) = delete;
  MmioTrap& operator=(const MmioTrap&) = delete;

  // The backend serving [base, base + size) and the offset of `base` inside
  // the trapped range; nullptr when the range is not (wholly) trapped.
  static std::shared_ptr<MmioBackend> Find(const volatile void* base, size_t size,
                                           uint64_t* offset_in_trap);

 private:
  const uintptr_t base_;
};

class MmioRegion {
 public:
  // Granularity of the all-ones check in block reads.
  static constexpr size_t kCheckBytes = 4096;

  // The mapping at `base`; served by a registered MmioTrap's backend when
  // one covers it, else accessed directly.
  MmioRegion(std::string device, std::string what, volatile uint8_t* base, size_t size,
             LivenessProbe probe);
  // A region served by `backend` alone (no mapping).
  MmioRegion(std::string device, std::string what, std::shared_ptr<MmioBackend> backend,
             size_t size, LivenessProbe probe);

  const std::string& what() const { return what_; }
  // True when an MmioBackend serves the accesses (emulated register file).
  bool trapped() const { return backend_ != nullptr; }
  size_t size() const { return size_; }
  // The mapping itself, for memory the CPU uses as memory (VRAM buffers,
  // doorbells written by the engines' users) rather than as registers; null
  // when a backend serves the region (a trapped register file has no
  // memory behind it). Accesses through it bypass the all-ones probe.
  volatile uint8_t* host_base() const { return backend_ != nullptr ? nullptr : base_; }

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
  std::shared_ptr<MmioBackend> backend_;  // null: direct access to base_
  uint64_t backend_offset_ = 0;           // of base_ inside the trapped range
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
