// EmulatedVfio: /dev/vfio/vfio and /dev/vfio/<group> for an EmulatedPciGpu
// bound to vfio-pci, served through an EmulatedKernelIo, with an emulated
// IOMMU the page walker translates SYSTEM PTEs through.
//
// What it models (Linux's vfio container/group/device and vfio_iommu_type1,
// the real struct layouts of vfio_abi.h):
//  * sysfs: /sys/kernel/iommu_groups/<n>/devices/<bdf> for the GPU and any
//    other members of its group (config.other_devices);
//  * the container: GET_API_VERSION (0), CHECK_EXTENSION (TYPE1v2 and
//    TYPE1, or TYPE1 only), SET_IOMMU (only with a group attached, once, a
//    type it offers), MAP_DMA / UNMAP_DMA (only once the IOMMU is set;
//    argsz, flags, page alignment, READ|WRITE permission, no overlap with a
//    live mapping (EEXIST), v2's no unmapping part of a mapping, the
//    unmapped size written back);
//  * the group (one open at a time, EBUSY): GET_STATUS (VIABLE unless
//    config.viable is false; CONTAINER_SET), SET_CONTAINER (a container fd,
//    a viable group not yet attached), UNSET_CONTAINER (attached, no device
//    fd open), GET_DEVICE_FD (the container has an IOMMU; the name is a
//    device of the group): the device fd, on which vfio-pci enables the
//    function (sysfs `enable` 1, Memory Space on, as pci_enable_device);
//  * the device: GET_INFO (PCI, RESET when config.reset_supported, 9
//    regions, 5 IRQ types), GET_REGION_INFO (BAR0/2/5 readable, writable,
//    mmappable at index << 40, served by EmulatedPciGpu's own BAR nodes so
//    the register BAR stays trapped; BAR4 I/O and the ROM without mmap;
//    config space 256 bytes by pread/pwrite, backed by the sysfs `config`
//    file the PCI model reads Command from), RESET (counted; the config
//    space kept, as vfio-pci saves and restores it around the reset);
//    closing the device fd clears Bus Master and `enable` (pci_disable_device).
// Closing a container or group releases its attachment and the IOMMU's
// mappings (the kernel does the same), so a leak shows in dma_mappings()
// before the close, and in CheckClean as the fds.
//
// Each refused call returns the errno the kernel returns and is logged in
// refusals() with the rule it broke. Errnos follow Linux's vfio.c /
// vfio_iommu_type1.c as read (EINVAL for out-of-order calls, EEXIST for an
// overlapping DMA map, EPERM for attaching a non-viable group, EBUSY for a
// second group open); they are not checked against a running kernel.
//
// Interrupts (vfio_pci_intrs.c as read): GET_IRQ_INFO for the 5 indexes
// (INTx 1 vector, MASKABLE|AUTOMASKED; MSI config.msi_vectors and MSI-X
// config.msix_vectors, NORESIZE; ERR and REQ 1; all EVENTFD); SET_IRQS
// checks argsz (20-byte header, count int32 eventfds after it), one data
// type and one action, the index and [start, start + count) against the
// index's vectors, an eventfd for each fd (EmulatedKernelIo::EventfdOf),
// one MSI/MSI-X index active at a time, DATA_NONE|ACTION_TRIGGER count 0
// only for the active index; the model also refuses SET_IRQS on an index
// GET_IRQ_INFO was never asked about (the kernel does not: a protocol check
// of the driver, which must learn the vector count first). SignalInterrupt
// (the chip's MSI) signals vector 0's eventfd; closing the last device fd
// disables the IRQs, as vfio_pci_core_disable. INTx and ERR/REQ triggers,
// masking and DATA_BOOL/loopback triggers are refused as not modelled.
//
// Not modelled: reading or writing BARs with pread/pwrite,
// DMA permission faults (every mapping the AM driver makes is READ|WRITE),
// IOVA ranges reserved by the IOMMU (VFIO_IOMMU_GET_INFO), what a reset
// does inside the GPU.
#ifndef UOP_DRIVERS_AM_EMULATOR_VFIO_MODEL_H_
#define UOP_DRIVERS_AM_EMULATOR_VFIO_MODEL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/vm_walker.h"
#include "drivers/common/emulated_kernel_io.h"

namespace uop {

struct EmulatedVfioConfig {
  std::string groups_dir = "/sys/kernel/iommu_groups";
  int group = 17;
  // Other functions in the same group (the GPU's HDMI audio function).
  std::vector<std::string> other_devices;
  // False: another member of the group is bound to a host driver.
  bool viable = true;
  bool type1v2 = true;  // false: the container offers VFIO_TYPE1_IOMMU only
  bool reset_supported = true;
  // Vectors GET_IRQ_INFO reports (0: no such capability). Navi31's MSI and
  // MSI-X table sizes are not known here (unverified); amdgpu uses one.
  uint32_t msi_vectors = 1;
  uint32_t msix_vectors = 1;
};

// The IOMMU's table for the group's domain: IOVA -> host memory.
class EmulatedIommu final : public EmulatedBusMemory {
 public:
  uint8_t* Resolve(uint64_t bus_address, uint64_t length) const override;
  size_t mappings() const;

  // 0 or -errno, as vfio_iommu_type1 answers.
  int Map(uint64_t iova, uint8_t* host, uint64_t size);
  // Unmaps the whole mappings inside [iova, iova + size); *unmapped = their
  // bytes. -EINVAL when the range cuts a mapping.
  int Unmap(uint64_t iova, uint64_t size, uint64_t* unmapped);
  void Clear();

 private:
  struct Mapping {
    uint8_t* host;
    uint64_t size;
  };
  mutable std::mutex mu_;
  std::map<uint64_t, Mapping> maps_;  // by IOVA
};

class EmulatedVfio {
 public:
  static absl::StatusOr<std::shared_ptr<EmulatedVfio>> Install(EmulatedKernelIo& io,
                                                               std::shared_ptr<EmulatedPciGpu> gpu,
                                                               EmulatedVfioConfig config = {});
  ~EmulatedVfio();

  const EmulatedVfioConfig& config() const;
  std::string group_path() const;  // "/dev/vfio/17"
  // What the walker translates SYSTEM PTEs through (lives as long as this).
  const EmulatedIommu& iommu() const;
  size_t dma_mappings() const { return iommu().mappings(); }
  // Every refused call: "VFIO_SET_IOMMU: no group is attached to the
  // container (EINVAL)".
  std::vector<std::string> refusals() const;
  int resets() const;
  int open_devices() const;
  // The chip sends an MSI: signals vector 0's eventfd of the active index.
  // False (nothing signalled) when no trigger is set.
  bool SignalInterrupt();
  // The active IRQ index (vfio::kPciMsiIrq / kPciMsixIrq) or -1.
  int irq_index() const;
  uint64_t interrupts_signalled() const;

  struct State;  // shared with the nodes, which may outlive this object

 private:
  explicit EmulatedVfio(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_VFIO_MODEL_H_
