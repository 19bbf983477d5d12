// The BARs of an AMD GPU mapped through sysfs `resourceN` files, each behind
// an MmioRegion whose all-0xFF reads run the PCI liveness probe.
//
// Which BAR holds what (amdgpu_device.c, for every ASIC since CIK/Bonaire;
// older ones had the registers in BAR2):
//   BAR0 (64-bit, prefetchable)     the VRAM aperture (all of VRAM only with
//                                   resizable BAR, else typically 256 MiB)
//   BAR2 (64-bit, prefetchable)     the doorbell aperture
//   BAR4 (I/O ports)                legacy, unused
//   BAR5 (32-bit, non-prefetchable) the MMIO registers (512 KiB or more);
//                                   register dword N is at byte 4*N
//
//   ASSIGN_OR_RETURN(std::unique_ptr<AmPciBars> bars, AmPciBars::Open(io, fn));
//   ASSIGN_OR_RETURN(uint32_t memsize, bars->regs().Read32(4 * 0xde3));
//
// Open enables the function first (EnablePciFunction); the destructor unmaps
// and closes everything it opened.
//
// OpenVfio is the same through VFIO (vfio.h): the BARs are mapped from the
// VFIO device fd at their regions' offsets (sizes checked against sysfs),
// the function enabled and probed through the VFIO config region; the
// AmVfio owns the fds and must outlive the AmPciBars.
#ifndef UOP_DRIVERS_AM_PCI_PCI_BARS_H_
#define UOP_DRIVERS_AM_PCI_PCI_BARS_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "drivers/am/pci/vfio.h"
#include "drivers/common/kernel_io.h"
#include "drivers/common/mmio.h"

namespace uop {

inline constexpr int kAmdVramBar = 0;
inline constexpr int kAmdDoorbellBar = 2;
inline constexpr int kAmdRegisterBar = 5;

class AmPciBars {
 public:
  static absl::StatusOr<std::unique_ptr<AmPciBars>> Open(KernelIo& io, const PciFunction& fn);
  static absl::StatusOr<std::unique_ptr<AmPciBars>> OpenVfio(KernelIo& io, const PciFunction& fn,
                                                             AmVfio& vfio);
  ~AmPciBars();
  AmPciBars(const AmPciBars&) = delete;
  AmPciBars& operator=(const AmPciBars&) = delete;

  const PciFunction& function() const { return fn_; }
  const MmioRegion& regs() const { return *bars_[kRegs].region; }
  const MmioRegion& vram() const { return *bars_[kVram].region; }
  const MmioRegion& doorbells() const { return *bars_[kDoorbells].region; }

 private:
  enum Slot { kVram, kDoorbells, kRegs, kSlots };
  struct Mapped {
    int fd = -1;
    void* base = nullptr;
    size_t size = 0;
    std::optional<MmioRegion> region;
  };

  AmPciBars(KernelIo& io, PciFunction fn, AmVfio* vfio = nullptr)
      : io_(io), fn_(std::move(fn)), vfio_(vfio) {}
  absl::Status Map(Slot slot, int bar, bool want_prefetchable, const char* what);

  KernelIo& io_;
  const PciFunction fn_;
  AmVfio* const vfio_;  // nullptr: sysfs
  Mapped bars_[kSlots];
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_PCI_BARS_H_
