#include "drivers/am/pci/vfio.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

absl::Status Prefixed(const absl::Status& s, absl::string_view where) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(where, ": ", s.message()));
}

void* IntArg(unsigned long v) { return reinterpret_cast<void*>(static_cast<uintptr_t>(v)); }

uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

std::string AmVfio::Where() const {
  return group_ >= 0 ? absl::StrFormat("VFIO group %d (%s)", group_, bdf_)
                     : absl::StrFormat("VFIO (%s)", bdf_);
}

absl::StatusOr<std::unique_ptr<AmVfio>> AmVfio::Open(KernelIo& io, absl::string_view bdf,
                                                     absl::string_view groups_dir) {
  std::unique_ptr<AmVfio> v(new AmVfio(io, std::string(bdf)));
  ASSIGN_OR_RETURN(v->iovas_,
                   AmVramAllocator::Create(kIovaBegin, kIovaEnd, absl::StrCat("IOVA of ", bdf)));
  // On failure the destructor releases what Setup opened.
  RETURN_IF_ERROR(v->Setup(groups_dir));
  return v;
}

absl::StatusOr<int> AmVfio::FindGroup(absl::string_view groups_dir) {
  absl::StatusOr<std::vector<std::string>> groups = io_.ListDir(groups_dir);
  if (!groups.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        Where(), ": no IOMMU groups (", groups.status().message(),
        "): the IOMMU is off (boot with intel_iommu=on / amd_iommu=on, or load vfio with "
        "enable_unsafe_noiommu_mode)"));
  }
  for (const std::string& g : *groups) {
    int n;
    if (!absl::SimpleAtoi(g, &n)) continue;
    absl::StatusOr<std::vector<std::string>> devices =
        io_.ListDir(absl::StrCat(groups_dir, "/", g, "/devices"));
    if (!devices.ok()) continue;
    if (std::find(devices->begin(), devices->end(), bdf_) != devices->end()) return n;
  }
  return absl::NotFoundError(absl::StrCat(Where(), ": the function is in no IOMMU group under ",
                                          groups_dir, " (no such device, or the IOMMU is off)"));
}

absl::Status AmVfio::Setup(absl::string_view groups_dir) {
  ASSIGN_OR_RETURN(group_, FindGroup(groups_dir));
  const std::string where = Where();

  ASSIGN_OR_RETURN(container_fd_, io_.Open(kVfioContainerPath, O_RDWR));
  // GET_API_VERSION and CHECK_EXTENSION answer through the result.
  absl::StatusOr<int> version =
      io_.IoctlValue(container_fd_, vfio::kGetApiVersion, nullptr, "VFIO_GET_API_VERSION");
  RETURN_IF_ERROR(Prefixed(version.status(), where));
  if (*version != vfio::kApiVersion) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: VFIO_GET_API_VERSION says %d; this driver speaks version %d", where,
                        *version, vfio::kApiVersion));
  }
  for (unsigned long type : {vfio::kType1v2Iommu, vfio::kType1Iommu}) {
    absl::StatusOr<int> has =
        io_.IoctlValue(container_fd_, vfio::kCheckExtension, IntArg(type), "VFIO_CHECK_EXTENSION");
    RETURN_IF_ERROR(Prefixed(has.status(), where));
    if (*has > 0) {
      iommu_type_ = type;
      break;
    }
  }
  if (iommu_type_ == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(where,
                     ": VFIO_CHECK_EXTENSION: the container offers neither VFIO_TYPE1v2_IOMMU nor "
                     "VFIO_TYPE1_IOMMU (is vfio_iommu_type1 loaded?)"));
  }

  const std::string group_path = absl::StrCat("/dev/vfio/", group_);
  ASSIGN_OR_RETURN(group_fd_, io_.Open(group_path, O_RDWR));
  vfio::group_status status{sizeof(status), 0};
  RETURN_IF_ERROR(Prefixed(
      io_.Ioctl(group_fd_, vfio::kGroupGetStatus, &status, "VFIO_GROUP_GET_STATUS"), where));
  if ((status.flags & vfio::kGroupFlagsViable) == 0) {
    std::string members;
    if (absl::StatusOr<std::vector<std::string>> d =
            io_.ListDir(absl::StrCat(groups_dir, "/", group_, "/devices"));
        d.ok()) {
      members = absl::StrJoin(*d, ", ");
    }
    return absl::FailedPreconditionError(absl::StrCat(
        where, ": VFIO_GROUP_GET_STATUS: the group is not viable: every device in it (", members,
        ") must be bound to vfio-pci or to no driver"));
  }
  RETURN_IF_ERROR(Prefixed(
      io_.Ioctl(group_fd_, vfio::kGroupSetContainer, &container_fd_, "VFIO_GROUP_SET_CONTAINER"),
      where));
  container_set_ = true;
  RETURN_IF_ERROR(Prefixed(
      io_.Ioctl(container_fd_, vfio::kSetIommu, IntArg(iommu_type_), "VFIO_SET_IOMMU"), where));

  std::vector<char> name(bdf_.begin(), bdf_.end());
  name.push_back('\0');
  absl::StatusOr<int> device =
      io_.IoctlFd(group_fd_, vfio::kGroupGetDeviceFd, name.data(), "VFIO_GROUP_GET_DEVICE_FD",
                  absl::StrCat("VFIO device ", bdf_));
  RETURN_IF_ERROR(Prefixed(device.status(), where));
  device_fd_ = *device;
  vfio::device_info info{};
  info.argsz = sizeof(info);
  RETURN_IF_ERROR(
      Prefixed(io_.Ioctl(device_fd_, vfio::kDeviceGetInfo, &info, "VFIO_DEVICE_GET_INFO"), where));
  device_flags_ = info.flags;
  if ((info.flags & vfio::kDeviceFlagsPci) == 0 || info.num_regions <= vfio::kPciConfigRegion) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: VFIO_DEVICE_GET_INFO: flags 0x%x with %u regions: not a vfio-pci device", where,
        info.flags, info.num_regions));
  }
  for (uint32_t index : {0u, 2u, 5u, vfio::kPciConfigRegion}) RETURN_IF_ERROR(GetRegion(index));
  return absl::OkStatus();
}

absl::Status AmVfio::GetRegion(uint32_t index) {
  vfio::region_info r{};
  r.argsz = sizeof(r);
  r.index = index;
  RETURN_IF_ERROR(Prefixed(io_.Ioctl(device_fd_, vfio::kDeviceGetRegionInfo, &r,
                                     absl::StrFormat("VFIO_DEVICE_GET_REGION_INFO(%u)", index)),
                           Where()));
  const uint32_t rw = vfio::kRegionFlagRead | vfio::kRegionFlagWrite;
  if (r.index != index || r.size == 0 || (r.flags & rw) != rw) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: VFIO_DEVICE_GET_REGION_INFO(%u): %s region (index %u, %u bytes, flags 0x%x) is "
        "not a readable and writable region",
        Where(), index, index == vfio::kPciConfigRegion ? "the config" : "the BAR", r.index, r.size,
        r.flags));
  }
  regions_[index] = AmVfioRegion{index, r.flags, r.size, r.offset};
  return absl::OkStatus();
}

AmVfio::~AmVfio() {
  std::vector<std::pair<uint64_t, void*>> hosts;
  std::vector<uint64_t> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hosts.assign(host_.begin(), host_.end());
  }
  for (const auto& [iova, host] : hosts) (void)FreeHost(AmDmaBuffer{host, iova, 0});
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [iova, bytes] : dma_) left.push_back(iova);
  }
  for (uint64_t iova : left) (void)UnmapDma(iova);
  (void)DisableMsi();
  if (device_fd_ >= 0) (void)io_.Close(device_fd_);
  if (container_set_) {
    (void)io_.Ioctl(group_fd_, vfio::kGroupUnsetContainer, nullptr, "VFIO_GROUP_UNSET_CONTAINER");
  }
  if (group_fd_ >= 0) (void)io_.Close(group_fd_);
  if (container_fd_ >= 0) (void)io_.Close(container_fd_);
}

absl::StatusOr<vfio::irq_info> AmVfio::IrqInfo(uint32_t index) {
  vfio::irq_info info{};
  info.argsz = sizeof(info);
  info.index = index;
  RETURN_IF_ERROR(
      io_.Ioctl(device_fd_, vfio::kDeviceGetIrqInfo, &info,
                absl::StrFormat("VFIO_DEVICE_GET_IRQ_INFO (index %u) of %s", index, Where())));
  return info;
}

absl::StatusOr<int> AmVfio::EnableMsi() {
  if (irq_fd_ >= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(Where(), ": MSI is already enabled (eventfd ", irq_fd_, ")"));
  }
  // MSI-X first (what amdgpu gets from pci_alloc_irq_vectors on Navi3x when
  // the platform offers it), else MSI; one vector either way, as amdgpu.
  uint32_t index = vfio::kPciMsixIrq;
  ASSIGN_OR_RETURN(vfio::irq_info info, IrqInfo(index));
  if (info.count == 0 || (info.flags & vfio::kIrqInfoEventfd) == 0) {
    index = vfio::kPciMsiIrq;
    ASSIGN_OR_RETURN(info, IrqInfo(index));
  }
  if (info.count == 0 || (info.flags & vfio::kIrqInfoEventfd) == 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: VFIO_DEVICE_GET_IRQ_INFO: neither MSI-X nor MSI offers a vector with an eventfd "
        "trigger (MSI: count %u, flags 0x%x)",
        Where(), info.count, info.flags));
  }
  ASSIGN_OR_RETURN(const int fd, io_.Eventfd(absl::StrCat(Where(), " interrupt eventfd")));
  vfio::irq_set_eventfd set{};
  set.hdr.argsz = sizeof(set);
  set.hdr.flags = vfio::kIrqSetDataEventfd | vfio::kIrqSetActionTrigger;
  set.hdr.index = index;
  set.hdr.start = 0;
  set.hdr.count = 1;
  set.fd = fd;
  absl::Status s =
      io_.Ioctl(device_fd_, vfio::kDeviceSetIrqs, &set,
                absl::StrFormat("VFIO_DEVICE_SET_IRQS (%s vector 0 to an eventfd) of %s",
                                index == vfio::kPciMsixIrq ? "MSI-X" : "MSI", Where()));
  if (!s.ok()) {
    (void)io_.Close(fd);
    return s;
  }
  irq_fd_ = fd;
  irq_index_ = index;
  return fd;
}

absl::Status AmVfio::DisableMsi() {
  if (irq_fd_ < 0) return absl::OkStatus();
  vfio::irq_set set{};
  set.argsz = sizeof(set);
  set.flags = vfio::kIrqSetDataNone | vfio::kIrqSetActionTrigger;
  set.index = irq_index_;
  set.start = 0;
  set.count = 0;
  absl::Status s = io_.Ioctl(
      device_fd_, vfio::kDeviceSetIrqs, &set,
      absl::StrFormat("VFIO_DEVICE_SET_IRQS (disable index %u) of %s", irq_index_, Where()));
  // The eventfd goes either way: closing the device fd disables the IRQs.
  (void)io_.Close(irq_fd_);
  irq_fd_ = -1;
  return s;
}

absl::StatusOr<bool> AmVfio::WaitInterrupt(absl::Duration timeout) {
  if (irq_fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(Where(), ": wait for an interrupt with MSI off"));
  }
  ASSIGN_OR_RETURN(bool ready, io_.Poll(irq_fd_, timeout));
  ASSIGN_OR_RETURN(uint64_t count, io_.ReadEventfd(irq_fd_));
  return ready || count > 0;
}

absl::StatusOr<void*> AmVfio::MapBar(int n, uint64_t expected_size) {
  if (n != 0 && n != 2 && n != 5) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: BAR%d: the AM path maps BARs 0, 2 and 5 only", Where(), n));
  }
  const AmVfioRegion& r = regions_[n];
  if ((r.flags & vfio::kRegionFlagMmap) == 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: BAR%d region (flags 0x%x) cannot be mmapped", Where(), n, r.flags));
  }
  if (r.size != expected_size) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: BAR%d region is %u bytes but sysfs says the BAR is %u", Where(), n,
                        r.size, expected_size));
  }
  return io_.Mmap(nullptr, r.size, PROT_READ | PROT_WRITE, MAP_SHARED, device_fd_, r.offset,
                  absl::StrFormat("VFIO BAR%d", n));
}

absl::StatusOr<uint16_t> AmVfio::ReadConfig16(uint64_t offset) {
  if (offset + 2 > config().size) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: config offset 0x%x past the %u-byte config region", Where(), offset, config().size));
  }
  uint16_t v = 0;
  RETURN_IF_ERROR(Prefixed(io_.Pread(device_fd_, config().offset + offset, &v, sizeof(v),
                                     absl::StrFormat("config space 0x%x", offset)),
                           Where()));
  return v;
}

absl::Status AmVfio::WriteConfig16(uint64_t offset, uint16_t value) {
  if (offset + 2 > config().size) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: config offset 0x%x past the %u-byte config region", Where(), offset, config().size));
  }
  return Prefixed(io_.Pwrite(device_fd_, config().offset + offset, &value, sizeof(value),
                             absl::StrFormat("config space 0x%x", offset)),
                  Where());
}

absl::Status AmVfio::Enable() {
  ASSIGN_OR_RETURN(uint16_t cmd, ReadConfig16(kPciConfigCommand));
  const uint16_t want = kPciCommandMemory | kPciCommandMaster;
  RETURN_IF_ERROR(WriteConfig16(kPciConfigCommand, cmd | want));
  ASSIGN_OR_RETURN(uint16_t back, ReadConfig16(kPciConfigCommand));
  if ((back & want) != want) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: PCI Command reads 0x%04x after writing 0x%04x through the VFIO config region: "
        "Memory Space and Bus Master did not take",
        Where(), back, cmd | want));
  }
  return absl::OkStatus();
}

absl::Status AmVfio::CheckAlive() {
  ASSIGN_OR_RETURN(uint16_t vendor, ReadConfig16(kPciConfigVendorId));
  ASSIGN_OR_RETURN(uint16_t cmd, ReadConfig16(kPciConfigCommand));
  if (vendor != kPciVendorAmd) {
    return absl::UnavailableError(absl::StrFormat(
        "%s: config space reads vendor 0x%04x: the device is gone", Where(), vendor));
  }
  if ((cmd & kPciCommandMemory) == 0) {
    return absl::UnavailableError(
        absl::StrFormat("%s: PCI Command is 0x%04x: memory decoding is off", Where(), cmd));
  }
  return absl::OkStatus();
}

absl::Status AmVfio::Reset() {
  if (!reset_supported()) {
    return absl::FailedPreconditionError(absl::StrCat(
        Where(),
        ": VFIO_DEVICE_RESET: the device offers no reset (VFIO_DEVICE_FLAGS_RESET clear)"));
  }
  return Prefixed(io_.Ioctl(device_fd_, vfio::kDeviceReset, nullptr, "VFIO_DEVICE_RESET"), Where());
}

absl::StatusOr<uint64_t> AmVfio::MapDma(void* host, uint64_t bytes) {
  const uintptr_t h = reinterpret_cast<uintptr_t>(host);
  if (host == nullptr || h % kPage != 0 || bytes == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: MapDma of %u bytes at %p: the host address must be 4 KiB-aligned and the size > 0",
        Where(), bytes, host));
  }
  const uint64_t size = RoundUp(bytes, kPage);
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(uint64_t iova, iovas_->Allocate(size, kPage, "a DMA mapping"));
  vfio::iommu_type1_dma_map map{};
  map.argsz = sizeof(map);
  map.flags = vfio::kDmaMapFlagRead | vfio::kDmaMapFlagWrite;
  map.vaddr = h;
  map.iova = iova;
  map.size = size;
  if (absl::Status s = io_.Ioctl(container_fd_, vfio::kIommuMapDma, &map, "VFIO_IOMMU_MAP_DMA");
      !s.ok()) {
    (void)iovas_->Free(iova);
    return Prefixed(s,
                    absl::StrFormat("%s: %u bytes at %p to IOVA 0x%x", Where(), size, host, iova));
  }
  dma_[iova] = size;
  return iova;
}

absl::Status AmVfio::UnmapDma(uint64_t iova) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = dma_.find(iova);
  if (it == dma_.end()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: UnmapDma of IOVA 0x%x: not a mapping MapDma made", Where(), iova));
  }
  vfio::iommu_type1_dma_unmap unmap{};
  unmap.argsz = sizeof(unmap);
  unmap.iova = iova;
  unmap.size = it->second;
  RETURN_IF_ERROR(Prefixed(
      io_.Ioctl(container_fd_, vfio::kIommuUnmapDma, &unmap, "VFIO_IOMMU_UNMAP_DMA"), Where()));
  if (unmap.size != it->second) {
    return absl::InternalError(
        absl::StrFormat("%s: VFIO_IOMMU_UNMAP_DMA of IOVA 0x%x unmapped %u bytes of %u", Where(),
                        iova, unmap.size, it->second));
  }
  dma_.erase(it);
  return iovas_->Free(iova);
}

absl::StatusOr<AmDmaBuffer> AmVfio::AllocHost(uint64_t bytes) {
  if (bytes == 0) {
    return absl::InvalidArgumentError(absl::StrCat(Where(), ": AllocHost of 0 bytes"));
  }
  const uint64_t size = RoundUp(bytes, kPage);
  ASSIGN_OR_RETURN(void* host, io_.Mmap(nullptr, size, PROT_READ | PROT_WRITE,
                                        MAP_SHARED | MAP_ANONYMOUS, -1, 0, "host memory for DMA"));
  absl::StatusOr<uint64_t> iova = MapDma(host, size);
  if (!iova.ok()) {
    (void)io_.Munmap(host, size);
    return iova.status();
  }
  std::lock_guard<std::mutex> lock(mu_);
  host_[*iova] = host;
  return AmDmaBuffer{host, *iova, size};
}

absl::Status AmVfio::FreeHost(const AmDmaBuffer& buffer) {
  uint64_t size;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = host_.find(buffer.iova);
    if (it == host_.end() || it->second != buffer.host) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: FreeHost of %p at IOVA 0x%x: not a buffer AllocHost made", Where(),
                          buffer.host, buffer.iova));
    }
    size = dma_.at(buffer.iova);
    host_.erase(it);
  }
  // Unmap from the device before the pages go back to the kernel.
  RETURN_IF_ERROR(UnmapDma(buffer.iova));
  return io_.Munmap(buffer.host, size);
}

size_t AmVfio::dma_mappings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dma_.size();
}

}  // namespace uop
