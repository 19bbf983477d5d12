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
