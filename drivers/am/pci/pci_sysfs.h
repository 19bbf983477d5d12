// PCI functions of AMD GPUs found and switched on through sysfs, by way of the
// KernelIo seam (so the same code runs on a fake sysfs tree in tests).
//
// The AM path drives a GPU with no kernel driver bound: it finds the function
// under /sys/bus/pci/devices (vendor 0x1002, base class 0x03 "display" or
// 0x12 "processing accelerator"; the GPU's HDMI audio function, class 0x0403,
// is skipped), reads its BARs from the `resource` file, writes "1" to
// `enable` (the PCI core powers the function and enables its resources) and
// sets Memory Space and Bus Master in the config-space Command register, so
// BAR reads decode and the GPU may DMA.
//
//   ASSIGN_OR_RETURN(std::vector<PciFunction> gpus, FindAmdGpus(io));
//   RETURN_IF_ERROR(EnablePciFunction(io, gpus[0]));
//   RETURN_IF_ERROR(CheckPciAlive(io, gpus[0]));  // the MMIO liveness probe
//
// Needs root (config-space writes, `enable`, mapping `resourceN`).
#ifndef UOP_DRIVERS_AM_PCI_PCI_SYSFS_H_
#define UOP_DRIVERS_AM_PCI_PCI_SYSFS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "drivers/common/kernel_io.h"

namespace uop {

inline constexpr char kPciDevicesDir[] = "/sys/bus/pci/devices";
inline constexpr uint16_t kPciVendorAmd = 0x1002;

// Config-space offsets and Command bits (PCI Local Bus spec, linux/pci_regs.h).
inline constexpr uint64_t kPciConfigVendorId = 0x00;
inline constexpr uint64_t kPciConfigCommand = 0x04;
inline constexpr uint16_t kPciCommandMemory = 0x2;
inline constexpr uint16_t kPciCommandMaster = 0x4;

// Resource flags in sysfs `resource` (linux/ioport.h IORESOURCE_*).
inline constexpr uint64_t kResourceIo = 0x100;
inline constexpr uint64_t kResourceMem = 0x200;
inline constexpr uint64_t kResourcePrefetch = 0x2000;
inline constexpr uint64_t kResourceMem64 = 0x100000;

struct PciBar {
  uint64_t start = 0;
  uint64_t end = 0;  // inclusive, as sysfs prints it
  uint64_t flags = 0;

  bool present() const { return end > start; }
  uint64_t size() const { return present() ? end - start + 1 : 0; }
  bool memory() const { return (flags & kResourceMem) != 0; }
  bool prefetchable() const { return (flags & kResourcePrefetch) != 0; }
};

struct PciFunction {
  std::string bdf;     // "0000:03:00.0"
  std::string dir;     // "/sys/bus/pci/devices/0000:03:00.0"
  std::string driver;  // the bound driver ("vfio-pci", "amdgpu"), "" when none
  uint16_t vendor = 0;
  uint16_t device = 0;
  uint32_t class_code = 0;  // 24-bit: base class, subclass, prog-if
  std::array<PciBar, 6> bars{};

  std::string Path(absl::string_view attribute) const;
};

// Parses a sysfs `resource` file: one "start end flags" hex triple a line,
// BAR 0..5 first. Malformed lines are an error naming the line.
absl::StatusOr<std::array<PciBar, 6>> ParsePciResources(absl::string_view text);

// One function's ids and BARs from its sysfs directory under `root`.
absl::StatusOr<PciFunction> DescribePciFunction(KernelIo& io, absl::string_view root,
                                                absl::string_view bdf);

// Every AMD GPU function under `root`, sorted by address. No GPU is an empty
// list; an unreadable `root` is an error.
absl::StatusOr<std::vector<PciFunction>> FindAmdGpus(KernelIo& io,
                                                     absl::string_view root = kPciDevicesDir);

// The AMD GPUs under `root` uop's AM path may bring up itself: those with no
// `driver` link, and those bound to vfio-pci (`driver` = "vfio-pci", from
// the function's uevent). A GPU amdgpu drives belongs to KFD.
absl::StatusOr<std::vector<PciFunction>> FindDriverlessAmdGpus(
    KernelIo& io, absl::string_view root = kPciDevicesDir);

// Writes `enable`, then sets Memory Space and Bus Master in Command (a
// read-modify-write of the 16-bit register) and reads it back: an error
// names what did not take.
absl::Status EnablePciFunction(KernelIo& io, const PciFunction& fn);

// The liveness probe for the function's BARs: config space still reads the
// AMD vendor id and Command still has Memory Space set. A removed device
// reads all-ones config space; a disabled one has decoding off (its BAR
// reads are all-ones too).
absl::Status CheckPciAlive(KernelIo& io, const PciFunction& fn);

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_PCI_SYSFS_H_
