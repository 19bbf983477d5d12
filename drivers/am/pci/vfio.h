// AmVfio: an AMD GPU driven through VFIO (vfio-pci) instead of sysfs: the
// alternative way into the no-kernel AM path for a process without root,
// and the way to host memory the GPU may DMA to (an IOMMU mapping).
//
// Linux's Documentation/driver-api/vfio.rst sequence, every step checked:
//   group    /sys/kernel/iommu_groups/<n>/devices/<bdf> (the group the
//            function's iommu_group link names; KernelIo reads directories,
//            not links)
//   /dev/vfio/vfio   GET_API_VERSION == 0, CHECK_EXTENSION(TYPE1v2, else TYPE1)
//   /dev/vfio/<n>    GROUP_GET_STATUS: VIABLE (every device of the group is
//                    bound to vfio-pci or to no driver), GROUP_SET_CONTAINER,
//                    then SET_IOMMU on the container
//   device fd        GROUP_GET_DEVICE_FD(bdf), DEVICE_GET_INFO (a PCI
//                    device with >= 8 regions), GET_REGION_INFO for BAR0, 2,
//                    5 and config space
// BARs are mmapped at their region's offset of the device fd (AmPciBars::
// OpenVfio); config space is read and written with pread/pwrite at the
// config region's offset (Enable sets Memory Space and Bus Master).
//
// DMA: MapDma pins `bytes` of page-aligned host memory and maps it at an
// IOVA (the address the GPU puts on the bus, so the one a SYSTEM PTE holds)
// with VFIO_IOMMU_MAP_DMA (READ | WRITE); IOVAs come from a range allocator
// over [kIovaBegin, kIovaEnd); UnmapDma unmaps and frees the IOVA. AllocHost
// also makes the host memory (anonymous shared pages) for the caller.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<AmVfio> vfio, AmVfio::Open(io, "0000:03:00.0"));
//   RETURN_IF_ERROR(vfio->Enable());
//   ASSIGN_OR_RETURN(AmDmaBuffer buf, vfio->AllocHost(1 << 20));
//   RETURN_IF_ERROR(vm.MapSystem(va, buf.iova, buf.size, flags));
//
// Interrupts: EnableMsi asks VFIO_DEVICE_GET_IRQ_INFO for MSI-X (else MSI)
// and routes vector 0 to an eventfd with VFIO_DEVICE_SET_IRQS (DATA_EVENTFD
// | ACTION_TRIGGER): every MSI the GPU sends bumps the eventfd's counter,
// and WaitInterrupt sleeps in poll() on it. DisableMsi (and the destructor)
// sets the index back to no trigger (DATA_NONE | ACTION_TRIGGER, count 0)
// and closes the eventfd.
//
// Errors name the ioctl, the group and the errno. The destructor unmaps
// every DMA mapping and host buffer still live and closes the device,
// group and container fds (the kernel then resets and releases the device).
//
// Thread safety: MapDma/UnmapDma/AllocHost/FreeHost and config access may be
// called from any thread (one mutex).
#ifndef UOP_DRIVERS_AM_PCI_VFIO_H_
#define UOP_DRIVERS_AM_PCI_VFIO_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "drivers/am/pci/vfio_abi.h"
#include "drivers/am/pci/vram_allocator.h"
#include "drivers/common/kernel_io.h"

namespace uop {

inline constexpr char kVfioContainerPath[] = "/dev/vfio/vfio";
inline constexpr char kIommuGroupsDir[] = "/sys/kernel/iommu_groups";

struct AmVfioRegion {
  uint32_t index = 0;
  uint32_t flags = 0;  // vfio::kRegionFlag*
  uint64_t size = 0;
  uint64_t offset = 0;  // within the device fd
};

// Host memory mapped for the device: `host` (page-aligned, `size` bytes)
// is at bus address `iova`.
struct AmDmaBuffer {
  void* host = nullptr;
  uint64_t iova = 0;
  uint64_t size = 0;
};

class AmVfio {
 public:
  static constexpr uint64_t kPage = 4096;
  // IOVAs handed out: above the 32-bit window (x86's MSI range sits at
  // 0xFEE00000 and is reserved in every IOMMU group) and below 2^44, the
  // DMA mask gmc_v11_0 sets for GFX11. (Not read from the kernel's
  // VFIO_IOMMU_GET_INFO IOVA-range capability yet.)
  static constexpr uint64_t kIovaBegin = uint64_t{1} << 32;
  static constexpr uint64_t kIovaEnd = uint64_t{1} << 44;

  // Opens function `bdf` ("0000:03:00.0") through its IOMMU group.
  static absl::StatusOr<std::unique_ptr<AmVfio>> Open(
      KernelIo& io, absl::string_view bdf, absl::string_view groups_dir = kIommuGroupsDir);
  ~AmVfio();
  AmVfio(const AmVfio&) = delete;
  AmVfio& operator=(const AmVfio&) = delete;

  const std::string& bdf() const { return bdf_; }
  int group() const { return group_; }
  unsigned long iommu_type() const { return iommu_type_; }
  int device_fd() const { return device_fd_; }
  bool reset_supported() const { return (device_flags_ & vfio::kDeviceFlagsReset) != 0; }
  // BARn is region n (0-5; the AM path reads 0, 2 and 5; any other n is an
  // empty region); vfio::kPciConfigRegion is config space.
  const AmVfioRegion& bar(int n) const {
    static const AmVfioRegion kNone;
    return n >= 0 && n < 6 ? regions_[n] : kNone;
  }
  const AmVfioRegion& config() const { return regions_[vfio::kPciConfigRegion]; }

  // mmaps all of BAR `n` (it must be an mmappable region of `expected_size`
  // bytes, the size sysfs reports). Unmap it with KernelIo::Munmap.
  absl::StatusOr<void*> MapBar(int n, uint64_t expected_size);

  // Config space through the config region.
  absl::StatusOr<uint16_t> ReadConfig16(uint64_t offset);
  absl::Status WriteConfig16(uint64_t offset, uint16_t value);
  // Sets Memory Space and Bus Master in Command and reads it back.
  absl::Status Enable();
  // The BARs' liveness probe: vendor AMD and Memory Space still set.
  absl::Status CheckAlive();
  // VFIO_DEVICE_RESET (a function-level or bus reset); FailedPrecondition
  // when the device does not offer one.
  absl::Status Reset();

  // Routes the function's first MSI-X vector (or, without MSI-X, its MSI)
  // to a new eventfd: the eventfd. FailedPrecondition when already enabled
  // or when the device offers neither with an eventfd trigger.
  absl::StatusOr<int> EnableMsi();
  // Undoes EnableMsi (nothing to do when it is off).
  absl::Status DisableMsi();
  // The eventfd EnableMsi made (-1 when off) and the VFIO IRQ index it
  // triggers (vfio::kPciMsixIrq or kPciMsiIrq).
  int irq_eventfd() const { return irq_fd_; }
  uint32_t irq_index() const { return irq_index_; }
  // Sleeps until an interrupt arrived since the last call or `timeout`
  // (finite, >= 0) passed: whether one arrived (the eventfd's counter is
  // read, so the next call waits for a new one). FailedPrecondition when
  // MSI is off. Not for concurrent callers (one reader of the counter).
  absl::StatusOr<bool> WaitInterrupt(absl::Duration timeout);

  // Maps `bytes` (> 0, rounded up to 4 KiB) at page-aligned `host` for the
  // device to read and write: the IOVA.
  absl::StatusOr<uint64_t> MapDma(void* host, uint64_t bytes);
  // Unmaps what MapDma returned at `iova` (anything else: InvalidArgument).
  absl::Status UnmapDma(uint64_t iova);
  // Zeroed anonymous host pages, mapped: `bytes` rounded up to 4 KiB.
  absl::StatusOr<AmDmaBuffer> AllocHost(uint64_t bytes);
  absl::Status FreeHost(const AmDmaBuffer& buffer);
  // Live DMA mappings (AllocHost's included).
  size_t dma_mappings() const;

 private:
  AmVfio(KernelIo& io, std::string bdf) : io_(io), bdf_(std::move(bdf)) {}
  absl::Status Setup(absl::string_view groups_dir);
  absl::StatusOr<int> FindGroup(absl::string_view groups_dir);
  absl::Status GetRegion(uint32_t index);
  // GET_IRQ_INFO of `index`.
  absl::StatusOr<vfio::irq_info> IrqInfo(uint32_t index);
  std::string Where() const;  // "VFIO group 17 (0000:03:00.0)"

  KernelIo& io_;
  const std::string bdf_;
  int group_ = -1;
  int container_fd_ = -1;
  int group_fd_ = -1;
  int device_fd_ = -1;
  bool container_set_ = false;
  unsigned long iommu_type_ = 0;
  uint32_t device_flags_ = 0;
  AmVfioRegion regions_[vfio::kPciNumRegions];
  int irq_fd_ = -1;  // EnableMsi's eventfd
  uint32_t irq_index_ = 0;

  mutable std::mutex mu_;
  std::unique_ptr<AmVramAllocator> iovas_;
  std::map<uint64_t, uint64_t> dma_;  // iova -> bytes, guarded by mu_
  std::map<uint64_t, void*> host_;    // iova -> AllocHost's pages, guarded by mu_
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_VFIO_H_
