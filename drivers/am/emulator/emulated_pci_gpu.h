// An AMD GPU on the PCI bus, as the AM path sees it with no kernel driver:
// a sysfs directory (vendor, device, class, resource, config, enable) and
// the mappable BARs resource0 (VRAM), resource2 (doorbells) and resource5
// (the register file), all served through an EmulatedKernelIo.
//
// What it models and checks:
//  * memory decoding: a BAR mapped while the config-space Command register
//    has Memory Space clear reads all-0xFF, as a real function's BARs do
//    (the PCI core sets it on `enable`; this model insists the driver set it
//    itself, which the AM driver does);
//  * mmap bounds: a mapping past a BAR's size or at an offset fails EINVAL,
//    a private mapping fails EINVAL (BARs are shared device memory);
//  * the register file: RCC_CONFIG_MEMSIZE holds the VRAM size in MiB and
//    MP0_SMN_C2PMSG_33 bit 31 reports the boot firmware done (or not, or
//    later: SetRegister from a test thread);
//  * VRAM: the IP discovery binary 64 KiB below the top;
//  * surprise removal (Remove): config space, registers and VRAM read
//    all-0xFF from then on;
//  * CheckEnabled: `enable` was written "1" and Command has Memory Space and
//    Bus Master set.
//  * the register BAR is trapped: the driver's mapping is an inaccessible
//    reservation and its MmioRegions reach an EmulatedRegisterFile access
//    by access (register_file.h), where device models (gmc_model.h,
//    ih_model.h) compute reads and check write sequences. VRAM and the
//    doorbells stay plain shared memory.
//
// The EmulatedKernelIo must outlive this object.
#ifndef UOP_DRIVERS_AM_EMULATOR_EMULATED_PCI_GPU_H_
#define UOP_DRIVERS_AM_EMULATOR_EMULATED_PCI_GPU_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "drivers/am/emulator/register_file.h"
#include "drivers/common/emulated_kernel_io.h"

namespace uop {

struct EmulatedPciGpuConfig {
  std::string root = "/sys/bus/pci/devices";
  std::string bdf = "0000:03:00.0";
  uint16_t device_id = 0x743f;  // Navi24
  uint64_t vram_size = uint64_t{1} << 30;
  uint64_t vram_bar_size = 0;  // 0: all of VRAM (resizable BAR)
  uint64_t register_bar_size = 1 << 20;
  uint64_t doorbell_bar_size = 2 << 20;
  std::vector<uint8_t> discovery;  // empty: BuildDiscoveryBinary(Navi24Ips())
  bool ifwi_done = true;           // MP0_SMN_C2PMSG_33 bit 31 at start
};

class EmulatedPciGpu {
 public:
  static absl::StatusOr<std::shared_ptr<EmulatedPciGpu>> Install(EmulatedKernelIo& io,
                                                                 EmulatedPciGpuConfig config);
  ~EmulatedPciGpu();

  const EmulatedPciGpuConfig& config() const { return config_; }
  std::string dir() const { return config_.root + "/" + config_.bdf; }

  uint32_t Register(uint32_t dword) const;
  void SetRegister(uint32_t dword, uint32_t value);
  // The trapped register BAR (models attach hooks; tests read the log).
  EmulatedRegisterFile& registers() const { return *registers_; }
  // VRAM as the device sees it (offsets are VRAM physical addresses).
  void WriteVram(uint64_t offset, absl::Span<const uint8_t> bytes);
  void ReadVram(uint64_t offset, absl::Span<uint8_t> out) const;
  // The device's own views (what its engines read and write directly): all
  // of VRAM, and the doorbell page the BAR2 mapping shares. Device models
  // use them; tests use WriteVram/ReadVram.
  uint8_t* vram_view() const;
  size_t vram_bytes() const { return config_.vram_size; }
  volatile uint64_t* doorbell_view() const;
  size_t doorbell_bytes() const { return config_.doorbell_bar_size; }
  // Surprise removal: every read of the device returns all-ones from now on.
  void Remove();

  absl::Status CheckEnabled() const;
  // Live driver mappings of each BAR (0, 2, 5).
  int MappingsOf(int bar) const;
  // The node serving BAR 0, 2 or 5 (nullptr for others), for a second way to
  // the same BARs (the VFIO model's device regions).
  std::shared_ptr<EmulatedNode> BarNodeOf(int bar) const;

  class BarNode;  // the EmulatedNode behind resourceN

 private:
  EmulatedPciGpu(EmulatedKernelIo& io, EmulatedPciGpuConfig config)
      : io_(io), config_(std::move(config)) {}
  uint16_t Command() const;

  EmulatedKernelIo& io_;
  EmulatedPciGpuConfig config_;
  std::shared_ptr<BarNode> vram_, doorbells_, regs_;
  std::shared_ptr<EmulatedRegisterFile> registers_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_EMULATED_PCI_GPU_H_
