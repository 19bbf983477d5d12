// The VFIO user ABI the AM path uses (Linux include/uapi/linux/vfio.h),
// written from the public header's facts: request numbers, flags and the
// argument structs. vfio_test.cc checks every number, size and offset
// against the system's <linux/vfio.h>.
//
// Every VFIO request is _IO(';', 100 + n) (no size or direction in the
// number): the structs carry their size in `argsz`, which the kernel checks
// against the fields it needs (minsz) and the caller sets to sizeof.
// Integer arguments (CHECK_EXTENSION, SET_IOMMU) travel by value in the
// ioctl's pointer argument; SET_CONTAINER takes a pointer to the container
// fd; GET_DEVICE_FD takes the device name and returns the new fd.
#ifndef UOP_DRIVERS_AM_PCI_VFIO_ABI_H_
#define UOP_DRIVERS_AM_PCI_VFIO_ABI_H_

#include <cstdint>

#include "drivers/common/ioctl.h"

namespace uop::vfio {

inline constexpr unsigned kType = ';';
inline constexpr unsigned kBase = 100;
constexpr unsigned long Io(unsigned n) { return IocEncode(kIocNone, kType, kBase + n, 0); }

inline constexpr int kApiVersion = 0;
inline constexpr unsigned long kType1Iommu = 1;
inline constexpr unsigned long kType1v2Iommu = 3;

// Container (/dev/vfio/vfio).
inline constexpr unsigned long kGetApiVersion = Io(0);
inline constexpr unsigned long kCheckExtension = Io(1);
inline constexpr unsigned long kSetIommu = Io(2);
// Group (/dev/vfio/<n>).
inline constexpr unsigned long kGroupGetStatus = Io(3);
inline constexpr unsigned long kGroupSetContainer = Io(4);
inline constexpr unsigned long kGroupUnsetContainer = Io(5);
inline constexpr unsigned long kGroupGetDeviceFd = Io(6);
// Device (the fd GET_DEVICE_FD returns).
inline constexpr unsigned long kDeviceGetInfo = Io(7);
inline constexpr unsigned long kDeviceGetRegionInfo = Io(8);
inline constexpr unsigned long kDeviceGetIrqInfo = Io(9);
inline constexpr unsigned long kDeviceSetIrqs = Io(10);
inline constexpr unsigned long kDeviceReset = Io(11);
// Type-1 IOMMU (on the container).
inline constexpr unsigned long kIommuMapDma = Io(13);
inline constexpr unsigned long kIommuUnmapDma = Io(14);

struct group_status {
  uint32_t argsz;
  uint32_t flags;
};
inline constexpr uint32_t kGroupFlagsViable = 1u << 0;
inline constexpr uint32_t kGroupFlagsContainerSet = 1u << 1;

struct device_info {
  uint32_t argsz;
  uint32_t flags;
  uint32_t num_regions;
  uint32_t num_irqs;
  uint32_t cap_offset;  // (kernels since 6.x append a __u32 pad; argsz says which)
};
inline constexpr uint32_t kDeviceFlagsReset = 1u << 0;
inline constexpr uint32_t kDeviceFlagsPci = 1u << 1;
// The fields before cap_offset: what every kernel since 3.6 fills.
inline constexpr uint32_t kDeviceInfoMinSize = 16;

struct region_info {
  uint32_t argsz;
  uint32_t flags;
  uint32_t index;
  uint32_t cap_offset;
  uint64_t size;
  uint64_t offset;  // of the region within the device fd (pread/pwrite/mmap)
};
inline constexpr uint32_t kRegionFlagRead = 1u << 0;
inline constexpr uint32_t kRegionFlagWrite = 1u << 1;
inline constexpr uint32_t kRegionFlagMmap = 1u << 2;
inline constexpr uint32_t kRegionFlagCaps = 1u << 3;

// vfio-pci region indexes (VFIO_PCI_*_REGION_INDEX).
inline constexpr uint32_t kPciBar0Region = 0;  // BARn is region n
inline constexpr uint32_t kPciRomRegion = 6;
inline constexpr uint32_t kPciConfigRegion = 7;
inline constexpr uint32_t kPciNumRegions = 9;  // ... VGA (8)

// Interrupts: GET_IRQ_INFO says how many vectors an index has; SET_IRQS
// with DATA_EVENTFD | ACTION_TRIGGER makes vectors [start, start + count)
// signal the eventfds in `data` (one int32 each), DATA_NONE | ACTION_TRIGGER
// with count 0 disables the index.
struct irq_info {
  uint32_t argsz;
  uint32_t flags;
  uint32_t index;
  uint32_t count;
};
inline constexpr uint32_t kIrqInfoEventfd = 1u << 0;
inline constexpr uint32_t kIrqInfoMaskable = 1u << 1;
inline constexpr uint32_t kIrqInfoAutomasked = 1u << 2;
inline constexpr uint32_t kIrqInfoNoresize = 1u << 3;

struct irq_set {
  uint32_t argsz;
  uint32_t flags;
  uint32_t index;
  uint32_t start;
  uint32_t count;
  // followed by uint8_t data[] (here: count int32 eventfds)
};
inline constexpr uint32_t kIrqSetDataNone = 1u << 0;
inline constexpr uint32_t kIrqSetDataBool = 1u << 1;
inline constexpr uint32_t kIrqSetDataEventfd = 1u << 2;
inline constexpr uint32_t kIrqSetActionMask = 1u << 3;
inline constexpr uint32_t kIrqSetActionUnmask = 1u << 4;
inline constexpr uint32_t kIrqSetActionTrigger = 1u << 5;
inline constexpr uint32_t kIrqSetDataTypeMask = 0x7;
inline constexpr uint32_t kIrqSetActionTypeMask = 0x38;

// vfio-pci IRQ indexes (VFIO_PCI_*_IRQ_INDEX).
inline constexpr uint32_t kPciIntxIrq = 0;
inline constexpr uint32_t kPciMsiIrq = 1;
inline constexpr uint32_t kPciMsixIrq = 2;
inline constexpr uint32_t kPciNumIrqs = 5;  // ... ERR (3), REQ (4)

// One eventfd for one vector: the header and its int32.
struct irq_set_eventfd {
  irq_set hdr;
  int32_t fd;
};

struct iommu_type1_dma_map {
  uint32_t argsz;
  uint32_t flags;
  uint64_t vaddr;
  uint64_t iova;
  uint64_t size;
};
inline constexpr uint32_t kDmaMapFlagRead = 1u << 0;   // the device may read
inline constexpr uint32_t kDmaMapFlagWrite = 1u << 1;  // the device may write

struct iommu_type1_dma_unmap {
  uint32_t argsz;
  uint32_t flags;
  uint64_t iova;
  uint64_t size;  // the kernel writes back the bytes it unmapped
};

}  // namespace uop::vfio

#endif  // UOP_DRIVERS_AM_PCI_VFIO_ABI_H_
