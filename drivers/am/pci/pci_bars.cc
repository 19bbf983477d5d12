#include "drivers/am/pci/pci_bars.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<std::unique_ptr<AmPciBars>> AmPciBars::Open(KernelIo& io, const PciFunction& fn) {
  if (fn.vendor != kPciVendorAmd) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: vendor 0x%04x is not AMD", fn.bdf, fn.vendor));
  }
  RETURN_IF_ERROR(EnablePciFunction(io, fn));
  std::unique_ptr<AmPciBars> bars(new AmPciBars(io, fn));
  RETURN_IF_ERROR(bars->Map(kRegs, kAmdRegisterBar, /*want_prefetchable=*/false, "registers"));
  RETURN_IF_ERROR(bars->Map(kVram, kAmdVramBar, /*want_prefetchable=*/true, "VRAM aperture"));
  RETURN_IF_ERROR(
      bars->Map(kDoorbells, kAmdDoorbellBar, /*want_prefetchable=*/true, "doorbell aperture"));
  return bars;
}

absl::StatusOr<std::unique_ptr<AmPciBars>> AmPciBars::OpenVfio(KernelIo& io, const PciFunction& fn,
                                                               AmVfio& vfio) {
  if (fn.vendor != kPciVendorAmd) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: vendor 0x%04x is not AMD", fn.bdf, fn.vendor));
  }
  if (fn.bdf != vfio.bdf()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: the VFIO device is %s, another function", fn.bdf, vfio.bdf()));
  }
  RETURN_IF_ERROR(vfio.Enable());
  std::unique_ptr<AmPciBars> bars(new AmPciBars(io, fn, &vfio));
  RETURN_IF_ERROR(bars->Map(kRegs, kAmdRegisterBar, /*want_prefetchable=*/false, "registers"));
  RETURN_IF_ERROR(bars->Map(kVram, kAmdVramBar, /*want_prefetchable=*/true, "VRAM aperture"));
  RETURN_IF_ERROR(
      bars->Map(kDoorbells, kAmdDoorbellBar, /*want_prefetchable=*/true, "doorbell aperture"));
  return bars;
}

absl::Status AmPciBars::Map(Slot slot, int bar, bool want_prefetchable, const char* what) {
  const PciBar& b = fn_.bars[bar];
  const std::string name = absl::StrFormat("BAR%d (%s)", bar, what);
  if (!b.present() || !b.memory()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: %s is %s: not an AMD GPU laid out like CIK and later", fn_.bdf, name,
                        b.present() ? "not a memory BAR" : "absent"));
  }
  if (b.prefetchable() != want_prefetchable) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: %s is %sprefetchable (flags 0x%x); expected the opposite", fn_.bdf,
                        name, b.prefetchable() ? "" : "non-", b.flags));
  }
  Mapped& m = bars_[slot];
  LivenessProbe probe;
  if (vfio_ != nullptr) {
    ASSIGN_OR_RETURN(m.base, vfio_->MapBar(bar, b.size()));
    AmVfio* vfio = vfio_;
    probe = [vfio] { return vfio->CheckAlive(); };
  } else {
    const std::string path = fn_.Path(absl::StrCat("resource", bar));
    ASSIGN_OR_RETURN(m.fd, io_.Open(path, O_RDWR | O_SYNC));
    ASSIGN_OR_RETURN(
        m.base, io_.Mmap(nullptr, b.size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.fd, 0, path));
    KernelIo* io = &io_;
    const PciFunction* fn = &fn_;
    probe = [io, fn] { return CheckPciAlive(*io, *fn); };
  }
  m.size = b.size();
  m.region.emplace(absl::StrCat("AM ", fn_.bdf), name, static_cast<volatile uint8_t*>(m.base),
                   m.size, std::move(probe));
  return absl::OkStatus();
}

AmPciBars::~AmPciBars() {
  for (Mapped& m : bars_) {
    m.region.reset();
    if (m.base != nullptr) (void)io_.Munmap(m.base, m.size);
    if (m.fd >= 0) (void)io_.Close(m.fd);
  }
}

}  // namespace uop
