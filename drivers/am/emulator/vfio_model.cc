#include "drivers/am/emulator/vfio_model.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "drivers/am/pci/vfio_abi.h"

namespace uop {
namespace {

constexpr uint64_t kPage = 4096;
// vfio-pci puts region n at n << 40 of the device fd (VFIO_PCI_OFFSET_SHIFT).
constexpr int kRegionShift = 40;
constexpr uint64_t kRegionMask = (uint64_t{1} << kRegionShift) - 1;
constexpr uint64_t kConfigBytes = 256;
constexpr uint32_t kIrqTypes = 5;  // INTx, MSI, MSI-X, ERR, REQ

}  // namespace

// ---------------------------------------------------------------- IOMMU --

uint8_t* EmulatedIommu::Resolve(uint64_t bus_address, uint64_t length) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = maps_.upper_bound(bus_address);
  if (it == maps_.begin()) return nullptr;
  --it;
  const uint64_t off = bus_address - it->first;
  if (off >= it->second.size || length > it->second.size - off) return nullptr;
  return it->second.host + off;
}

size_t EmulatedIommu::mappings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return maps_.size();
}

int EmulatedIommu::Map(uint64_t iova, uint8_t* host, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  auto next = maps_.lower_bound(iova);
  if (next != maps_.end() && next->first < iova + size) return -EEXIST;
  if (next != maps_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.size > iova) return -EEXIST;
  }
  maps_[iova] = Mapping{host, size};
  return 0;
}

int EmulatedIommu::Unmap(uint64_t iova, uint64_t size, uint64_t* unmapped) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t end = iova + size;
  // v2: a range that starts or ends inside a mapping is refused.
  auto it = maps_.upper_bound(iova);
  if (it != maps_.begin()) {
    auto prev = std::prev(it);
    if (prev->first < iova && prev->first + prev->second.size > iova) return -EINVAL;
  }
  for (auto m = maps_.lower_bound(iova); m != maps_.end() && m->first < end; ++m) {
    if (m->first + m->second.size > end) return -EINVAL;
  }
  *unmapped = 0;
  for (auto m = maps_.lower_bound(iova); m != maps_.end() && m->first < end;) {
    *unmapped += m->second.size;
    m = maps_.erase(m);
  }
  return 0;
}

void EmulatedIommu::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  maps_.clear();
}

// ---------------------------------------------------------------- state --

struct EmulatedVfio::State {
  State(EmulatedKernelIo& io, std::shared_ptr<EmulatedPciGpu> gpu, EmulatedVfioConfig config)
      : io(io), gpu(std::move(gpu)), config(std::move(config)) {}

  std::string GroupPath() const { return absl::StrCat("/dev/vfio/", config.group); }
  std::string ConfigPath() const { return gpu->dir() + "/config"; }

  // Records the refusal and returns -err. Caller holds mu.
  int Refuse(const std::string& call, const std::string& rule, int err) {
    refusals.push_back(absl::StrCat(call, ": ", rule, " (", ErrnoName(err), ")"));
    return -err;
  }
  // Sets or clears `bits` of the config-space Command register.
  void SetCommand(uint16_t bits, bool on) {
    std::optional<std::string> cfg = io.FileContents(ConfigPath());
    if (!cfg.has_value() || cfg->size() < kConfigBytes) return;
    uint16_t cmd;
    std::memcpy(&cmd, cfg->data() + kPciConfigCommand, 2);
    cmd = on ? (cmd | bits) : (cmd & ~bits);
    std::memcpy(cfg->data() + kPciConfigCommand, &cmd, 2);
    io.AddFile(ConfigPath(), *cfg);
  }
  // The last group leaving a container releases its IOMMU and mappings.
  // A container the driver closed while attached goes away with it.
  void Detach() {
    auto it = containers.find(attached_container);
    if (it != containers.end()) it->second = false;
    if (closed_containers.erase(attached_container) > 0) containers.erase(attached_container);
    attached_container = -1;
    iommu.Clear();
  }

  EmulatedKernelIo& io;
  const std::shared_ptr<EmulatedPciGpu> gpu;
  const EmulatedVfioConfig config;
  EmulatedIommu iommu;

  std::mutex mu;
  std::vector<std::string> refusals;
  std::map<int, bool> containers;   // container fds -> IOMMU set
  std::set<int> closed_containers;  // closed by the driver, kept by the group
  int group_fd = -1;
  int attached_container = -1;
  std::map<int, int> devices;  // open device fds
  int resets = 0;
  // Interrupts: the indexes GET_IRQ_INFO was asked about, the active one
  // (-1: none) and its vector 0's eventfd.
  std::set<uint32_t> irq_info_asked;
  int irq_index = -1;
  std::shared_ptr<EmulatedEventfd> trigger;
  uint64_t interrupts_signalled = 0;
  std::map<uintptr_t, int> bar_maps;  // device-fd mappings -> BAR
};

namespace {

using State = EmulatedVfio::State;

class ContainerNode final : public EmulatedNode {
 public:
  explicit ContainerNode(std::shared_ptr<State> s) : s_(std::move(s)) {}

  int OnOpen(int fd, int) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->containers[fd] = false;
    return 0;
  }
  void OnClose(int fd) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    // An attached group keeps the container (and its IOMMU) alive.
    if (s_->attached_container == fd) {
      s_->closed_containers.insert(fd);
    } else {
      s_->containers.erase(fd);
    }
  }

  int OnIoctl(int fd, unsigned long request, void* arg) override {
    const unsigned long value = reinterpret_cast<uintptr_t>(arg);
    std::lock_guard<std::mutex> lock(s_->mu);
    bool& has_iommu = s_->containers[fd];
    switch (request) {
      case vfio::kGetApiVersion:
        return vfio::kApiVersion;
      case vfio::kCheckExtension:
        return value == vfio::kType1Iommu || (value == vfio::kType1v2Iommu && s_->config.type1v2);
      case vfio::kSetIommu:
        if (s_->attached_container != fd) {
          return s_->Refuse("VFIO_SET_IOMMU", "no group is attached to the container", EINVAL);
        }
        if (has_iommu) {
          return s_->Refuse("VFIO_SET_IOMMU", "the container already has an IOMMU", EINVAL);
        }
        if (value != vfio::kType1Iommu && (value != vfio::kType1v2Iommu || !s_->config.type1v2)) {
          return s_->Refuse("VFIO_SET_IOMMU", absl::StrCat("IOMMU type ", value, " is not offered"),
                            ENODEV);
        }
        has_iommu = true;
        return 0;
      case vfio::kIommuMapDma:
        return has_iommu ? MapDma(static_cast<vfio::iommu_type1_dma_map*>(arg))
                         : s_->Refuse("VFIO_IOMMU_MAP_DMA",
                                      "the container has no IOMMU (VFIO_SET_IOMMU first)", EINVAL);
      case vfio::kIommuUnmapDma:
        return has_iommu ? UnmapDma(static_cast<vfio::iommu_type1_dma_unmap*>(arg))
                         : s_->Refuse("VFIO_IOMMU_UNMAP_DMA",
                                      "the container has no IOMMU (VFIO_SET_IOMMU first)", EINVAL);
      default:
        return s_->Refuse(absl::StrFormat("ioctl 0x%x on /dev/vfio/vfio", request),
                          "not a container request", ENOTTY);
    }
  }

 private:
  int MapDma(vfio::iommu_type1_dma_map* m) {
    const char* call = "VFIO_IOMMU_MAP_DMA";
    if (m->argsz < sizeof(*m)) {
      return s_->Refuse(call, absl::StrCat("argsz ", m->argsz, " < ", sizeof(*m)), EINVAL);
    }
    const uint32_t rw = vfio::kDmaMapFlagRead | vfio::kDmaMapFlagWrite;
    if ((m->flags & ~rw) != 0 || (m->flags & rw) == 0) {
      return s_->Refuse(call,
                        absl::StrFormat("flags 0x%x: READ and/or WRITE and nothing else", m->flags),
                        EINVAL);
    }
    if (m->size == 0 || m->iova % kPage != 0 || m->vaddr % kPage != 0 || m->size % kPage != 0 ||
        m->iova + m->size < m->iova) {
      return s_->Refuse(call,
                        absl::StrFormat("vaddr 0x%x, IOVA 0x%x, size 0x%x: not page-aligned, "
                                        "empty or wrapping",
                                        m->vaddr, m->iova, m->size),
                        EINVAL);
    }
    if (s_->iommu.Map(m->iova, reinterpret_cast<uint8_t*>(m->vaddr), m->size) != 0) {
      return s_->Refuse(
          call, absl::StrFormat("IOVA [0x%x, +0x%x) overlaps a live mapping", m->iova, m->size),
          EEXIST);
    }
    return 0;
  }

  int UnmapDma(vfio::iommu_type1_dma_unmap* u) {
    const char* call = "VFIO_IOMMU_UNMAP_DMA";
    if (u->argsz < sizeof(*u)) {
      return s_->Refuse(call, absl::StrCat("argsz ", u->argsz, " < ", sizeof(*u)), EINVAL);
    }
    if (u->flags != 0 || u->size == 0 || u->iova % kPage != 0 || u->size % kPage != 0) {
      return s_->Refuse(call,
                        absl::StrFormat("flags 0x%x, IOVA 0x%x, size 0x%x: flags must be 0, the "
                                        "range page-aligned and not empty",
                                        u->flags, u->iova, u->size),
                        EINVAL);
    }
    uint64_t unmapped = 0;
    if (s_->iommu.Unmap(u->iova, u->size, &unmapped) != 0) {
      return s_->Refuse(
          call, absl::StrFormat("IOVA [0x%x, +0x%x) cuts a mapping", u->iova, u->size), EINVAL);
    }
    u->size = unmapped;
    return 0;
  }

  const std::shared_ptr<State> s_;
};

class DeviceNode final : public EmulatedNode {
 public:
  explicit DeviceNode(std::shared_ptr<State> s) : s_(std::move(s)) {}

  void OnClose(int fd) override {
    {
      std::lock_guard<std::mutex> lock(s_->mu);
      s_->devices.erase(fd);
      if (!s_->devices.empty()) return;
    }
    {
      // The last close: vfio-pci disables the IRQs and the function
      // (vfio_pci_core_disable, pci_disable_device).
      std::lock_guard<std::mutex> lock(s_->mu);
      s_->irq_index = -1;
      s_->trigger.reset();
    }
    s_->SetCommand(kPciCommandMaster, false);
    s_->io.AddFile(s_->gpu->dir() + "/enable", "0\n");
  }

  int OnIoctl(int, unsigned long request, void* arg) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    switch (request) {
      case vfio::kDeviceGetInfo: {
        auto* info = static_cast<vfio::device_info*>(arg);
        if (info->argsz < vfio::kDeviceInfoMinSize) {
          return s_->Refuse("VFIO_DEVICE_GET_INFO",
                            absl::StrCat("argsz ", info->argsz, " < ", vfio::kDeviceInfoMinSize),
                            EINVAL);
        }
        info->flags =
            vfio::kDeviceFlagsPci | (s_->config.reset_supported ? vfio::kDeviceFlagsReset : 0);
        info->num_regions = vfio::kPciNumRegions;
        info->num_irqs = kIrqTypes;
        if (info->argsz >= sizeof(*info)) info->cap_offset = 0;
        return 0;
      }
      case vfio::kDeviceGetRegionInfo:
        return RegionInfo(static_cast<vfio::region_info*>(arg));
      case vfio::kDeviceGetIrqInfo:
        return IrqInfo(static_cast<vfio::irq_info*>(arg));
      case vfio::kDeviceSetIrqs:
        return SetIrqs(static_cast<vfio::irq_set*>(arg));
      case vfio::kDeviceReset:
        if (!s_->config.reset_supported) {
          return s_->Refuse("VFIO_DEVICE_RESET", "the device has no reset", EINVAL);
        }
        ++s_->resets;
        return 0;
      default:
        return s_->Refuse(absl::StrFormat("ioctl 0x%x on the VFIO device", request),
                          "not a device request", ENOTTY);
    }
  }

  int64_t OnPread(int, uint64_t offset, void* out, size_t length) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    const int64_t r = CheckConfig("pread", offset, length);
    if (r < 0) return r;
    std::optional<std::string> cfg = s_->io.FileContents(s_->ConfigPath());
    if (!cfg.has_value() || cfg->size() < kConfigBytes) return -ENODEV;
    std::memcpy(out, cfg->data() + (offset & kRegionMask), length);
    return static_cast<int64_t>(length);
  }

  int64_t OnPwrite(int, uint64_t offset, const void* bytes, size_t length) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    const int64_t r = CheckConfig("pwrite", offset, length);
    if (r < 0) return r;
    std::optional<std::string> cfg = s_->io.FileContents(s_->ConfigPath());
    if (!cfg.has_value() || cfg->size() < kConfigBytes) return -ENODEV;
    std::memcpy(cfg->data() + (offset & kRegionMask), bytes, length);
    s_->io.AddFile(s_->ConfigPath(), *cfg);
    return static_cast<int64_t>(length);
  }

  int OnMmap(int fd, void* addr, size_t length, int prot, int flags, uint64_t offset,
             void** out) override {
    const int bar = static_cast<int>(offset >> kRegionShift);
    std::shared_ptr<EmulatedNode> node = s_->gpu->BarNodeOf(bar);
    if (node == nullptr) {
      std::lock_guard<std::mutex> lock(s_->mu);
      return s_->Refuse(absl::StrFormat("mmap of VFIO region %d", bar),
                        "only BAR0, BAR2 and BAR5 are mmappable", EINVAL);
    }
    const int r = node->OnMmap(fd, addr, length, prot, flags, offset & kRegionMask, out);
    if (r == 0) {
      std::lock_guard<std::mutex> lock(s_->mu);
      s_->bar_maps[reinterpret_cast<uintptr_t>(*out)] = bar;
    }
    return r;
  }

  int OnMunmap(void* addr, size_t length) override {
    int bar;
    {
      std::lock_guard<std::mutex> lock(s_->mu);
      auto it = s_->bar_maps.find(reinterpret_cast<uintptr_t>(addr));
      if (it == s_->bar_maps.end()) return -EINVAL;
      bar = it->second;
      s_->bar_maps.erase(it);
    }
    return s_->gpu->BarNodeOf(bar)->OnMunmap(addr, length);
  }

 private:
  // Caller holds mu.
  uint32_t IrqCount(uint32_t index) const {
    switch (index) {
      case vfio::kPciMsiIrq:
        return s_->config.msi_vectors;
      case vfio::kPciMsixIrq:
        return s_->config.msix_vectors;
      default:
        return 1;  // INTx (the pin), ERR (PCIe), REQ
    }
  }

  // Caller holds mu.
  int IrqInfo(vfio::irq_info* info) {
    constexpr const char* kCall = "VFIO_DEVICE_GET_IRQ_INFO";
    if (info->argsz < sizeof(*info)) {
      return s_->Refuse(kCall, absl::StrCat("argsz ", info->argsz, " < ", sizeof(*info)), EINVAL);
    }
    if (info->index >= vfio::kPciNumIrqs) {
      return s_->Refuse(kCall, absl::StrCat("IRQ index ", info->index, " >= ", vfio::kPciNumIrqs),
                        EINVAL);
    }
    info->flags = vfio::kIrqInfoEventfd;
    if (info->index == vfio::kPciIntxIrq) {
      info->flags |= vfio::kIrqInfoMaskable | vfio::kIrqInfoAutomasked;
    } else {
      info->flags |= vfio::kIrqInfoNoresize;
    }
    info->count = IrqCount(info->index);
    s_->irq_info_asked.insert(info->index);
    return 0;
  }

  // Caller holds mu.
  int SetIrqs(vfio::irq_set* set) {
    constexpr const char* kCall = "VFIO_DEVICE_SET_IRQS";
    if (set->argsz < sizeof(*set)) {
      return s_->Refuse(kCall, absl::StrCat("argsz ", set->argsz, " < ", sizeof(*set)), EINVAL);
    }
    if (set->index >= vfio::kPciNumIrqs) {
      return s_->Refuse(kCall, absl::StrCat("IRQ index ", set->index, " >= ", vfio::kPciNumIrqs),
                        EINVAL);
    }
    const uint32_t data = set->flags & vfio::kIrqSetDataTypeMask;
    const uint32_t action = set->flags & vfio::kIrqSetActionTypeMask;
    if ((set->flags & ~(vfio::kIrqSetDataTypeMask | vfio::kIrqSetActionTypeMask)) != 0 ||
        std::popcount(data) != 1 || std::popcount(action) != 1) {
      return s_->Refuse(kCall,
                        absl::StrFormat("flags 0x%x: not one data type and one action", set->flags),
                        EINVAL);
    }
    if (s_->irq_info_asked.count(set->index) == 0) {
      return s_->Refuse(kCall,
                        absl::StrCat("IRQ index ", set->index,
                                     " set before VFIO_DEVICE_GET_IRQ_INFO gave its vector count"),
                        EINVAL);
    }
    const uint32_t max = IrqCount(set->index);
    if (max == 0 || set->start >= max || set->count > max - set->start) {
      return s_->Refuse(kCall,
                        absl::StrFormat("vectors [%u, %u + %u) of IRQ index %u, which has %u",
                                        set->start, set->start, set->count, set->index, max),
                        EINVAL);
    }
    if (data == vfio::kIrqSetDataEventfd &&
        set->argsz - sizeof(*set) < uint64_t{set->count} * sizeof(int32_t)) {
      return s_->Refuse(kCall,
                        absl::StrCat("argsz ", set->argsz, " holds fewer than ", set->count,
                                     " eventfds after the header"),
                        EINVAL);
    }
    if ((set->index != vfio::kPciMsiIrq && set->index != vfio::kPciMsixIrq) ||
        action != vfio::kIrqSetActionTrigger || data == vfio::kIrqSetDataBool ||
        (data == vfio::kIrqSetDataNone && set->count != 0)) {
      return s_->Refuse(kCall,
                        absl::StrFormat("index %u flags 0x%x: only MSI/MSI-X eventfd triggers and "
                                        "their disable are modelled",
                                        set->index, set->flags),
                        ENOTTY);
    }
    const int index = static_cast<int>(set->index);
    if (data == vfio::kIrqSetDataNone) {  // count 0: disable the index
      if (s_->irq_index != index) {
        return s_->Refuse(
            kCall, absl::StrCat("disabling IRQ index ", index, ", which is not active"), EINVAL);
      }
      s_->irq_index = -1;
      s_->trigger.reset();
      return 0;
    }
    if (s_->irq_index >= 0 && s_->irq_index != index) {
      return s_->Refuse(
          kCall, absl::StrCat("IRQ index ", index, " while index ", s_->irq_index, " is active"),
          EINVAL);
    }
    const int32_t* fds =
        reinterpret_cast<const int32_t*>(reinterpret_cast<const uint8_t*>(set) + sizeof(*set));
    std::shared_ptr<EmulatedEventfd> vector0 = s_->trigger;
    for (uint32_t i = 0; i < set->count; ++i) {
      int32_t fd;
      std::memcpy(&fd, fds + i, sizeof(fd));
      std::shared_ptr<EmulatedEventfd> e;
      if (fd >= 0) {
        e = s_->io.EventfdOf(fd);
        if (e == nullptr) {
          return s_->Refuse(kCall, absl::StrCat("fd ", fd, " is not an eventfd"), EINVAL);
        }
      }
      if (set->start + i == 0) vector0 = e;  // fd -1 disables the vector
    }
    s_->irq_index = index;
    s_->trigger = std::move(vector0);
    return 0;
  }

  int RegionInfo(vfio::region_info* r) {
    if (r->argsz < sizeof(*r)) {
      return s_->Refuse("VFIO_DEVICE_GET_REGION_INFO",
                        absl::StrCat("argsz ", r->argsz, " < ", sizeof(*r)), EINVAL);
    }
    if (r->index >= vfio::kPciNumRegions) {
      return s_->Refuse("VFIO_DEVICE_GET_REGION_INFO",
                        absl::StrCat("region ", r->index, " past the ", vfio::kPciNumRegions,
                                     " vfio-pci regions"),
                        EINVAL);
    }
    const EmulatedPciGpuConfig& c = s_->gpu->config();
    const uint32_t rw = vfio::kRegionFlagRead | vfio::kRegionFlagWrite;
    r->cap_offset = 0;
    r->offset = uint64_t{r->index} << kRegionShift;
    switch (r->index) {
      case 0:
        r->size = c.vram_bar_size, r->flags = rw | vfio::kRegionFlagMmap;
        break;
      case 2:
        r->size = c.doorbell_bar_size, r->flags = rw | vfio::kRegionFlagMmap;
        break;
      case 5:
        r->size = c.register_bar_size, r->flags = rw | vfio::kRegionFlagMmap;
        break;
      case 4:  // I/O ports: read/write only
        r->size = 0x100, r->flags = rw;
        break;
      case vfio::kPciRomRegion:
        r->size = 0x20000, r->flags = vfio::kRegionFlagRead;
        break;
      case vfio::kPciConfigRegion:
        r->size = kConfigBytes, r->flags = rw;
        break;
      default:  // BAR1/3 (upper halves of 64-bit BARs), VGA: absent
        r->size = 0, r->flags = 0;
        break;
    }
    return 0;
  }

  // Caller holds mu.
  int64_t CheckConfig(const char* call, uint64_t offset, size_t length) {
    const uint64_t index = offset >> kRegionShift;
    const uint64_t off = offset & kRegionMask;
    if (index != vfio::kPciConfigRegion) {
      return s_->Refuse(absl::StrFormat("%s of VFIO region %u", call, index),
                        "the model serves config space only by pread/pwrite", EINVAL);
    }
    if (off > kConfigBytes || length > kConfigBytes - off) {
      return s_->Refuse(absl::StrFormat("%s of config space", call),
                        absl::StrFormat("[0x%x, +%u) past its %u bytes", off, length, kConfigBytes),
                        EINVAL);
    }
    return 0;
  }

  const std::shared_ptr<State> s_;
};

class GroupNode final : public EmulatedNode {
 public:
  explicit GroupNode(std::shared_ptr<State> s) : s_(std::move(s)) {}

  int OnOpen(int fd, int) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->group_fd >= 0) {
      return s_->Refuse(absl::StrCat("open ", s_->GroupPath()), "the group is already open", EBUSY);
    }
    s_->group_fd = fd;
    return 0;
  }
  void OnClose(int) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->group_fd = -1;
    if (s_->attached_container >= 0) s_->Detach();
  }

  int OnIoctl(int, unsigned long request, void* arg) override {
    std::unique_lock<std::mutex> lock(s_->mu);
    switch (request) {
      case vfio::kGroupGetStatus: {
        auto* st = static_cast<vfio::group_status*>(arg);
        if (st->argsz < sizeof(*st)) {
          return s_->Refuse("VFIO_GROUP_GET_STATUS",
                            absl::StrCat("argsz ", st->argsz, " < ", sizeof(*st)), EINVAL);
        }
        st->flags = (s_->config.viable ? vfio::kGroupFlagsViable : 0) |
                    (s_->attached_container >= 0 ? vfio::kGroupFlagsContainerSet : 0);
        return 0;
      }
      case vfio::kGroupSetContainer: {
        const int c = *static_cast<const int*>(arg);
        if (s_->attached_container >= 0) {
          return s_->Refuse("VFIO_GROUP_SET_CONTAINER", "the group already has a container",
                            EINVAL);
        }
        if (s_->containers.count(c) == 0) {
          return s_->Refuse("VFIO_GROUP_SET_CONTAINER",
                            absl::StrCat("fd ", c, " is not an open VFIO container"), EBADF);
        }
        if (!s_->config.viable) {
          return s_->Refuse("VFIO_GROUP_SET_CONTAINER",
                            "the group is not viable (a member is bound to a host driver)", EPERM);
        }
        s_->attached_container = c;
        return 0;
      }
      case vfio::kGroupUnsetContainer:
        if (s_->attached_container < 0) {
          return s_->Refuse("VFIO_GROUP_UNSET_CONTAINER", "the group has no container", EINVAL);
        }
        if (!s_->devices.empty()) {
          return s_->Refuse("VFIO_GROUP_UNSET_CONTAINER", "a device fd of the group is open",
                            EBUSY);
        }
        s_->Detach();
        return 0;
      case vfio::kGroupGetDeviceFd: {
        const std::string name(static_cast<const char*>(arg));
        auto c = s_->containers.find(s_->attached_container);
        if (c == s_->containers.end() || !c->second) {
          return s_->Refuse("VFIO_GROUP_GET_DEVICE_FD",
                            "the group's container has no IOMMU (VFIO_GROUP_SET_CONTAINER, then "
                            "VFIO_SET_IOMMU first)",
                            EINVAL);
        }
        if (name != s_->gpu->config().bdf) {
          return s_->Refuse("VFIO_GROUP_GET_DEVICE_FD",
                            absl::StrCat("no device \"", name, "\" in group ", s_->config.group,
                                         " served by this model"),
                            ENODEV);
        }
        lock.unlock();
        // vfio-pci's open enables the function (pci_enable_device): Memory
        // Space on; Bus Master stays the driver's to set.
        s_->SetCommand(kPciCommandMemory, true);
        s_->io.AddFile(s_->gpu->dir() + "/enable", "1\n");
        // One node per device fd (the node refers to the state; the state
        // does not own nodes).
        const int fd =
            s_->io.AdoptFd(absl::StrCat("VFIO device ", name), std::make_shared<DeviceNode>(s_));
        lock.lock();
        s_->devices[fd] = 0;
        return fd;
      }
      default:
        return s_->Refuse(absl::StrFormat("ioctl 0x%x on %s", request, s_->GroupPath()),
                          "not a group request", ENOTTY);
    }
  }

 private:
  const std::shared_ptr<State> s_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<EmulatedVfio>> EmulatedVfio::Install(
    EmulatedKernelIo& io, std::shared_ptr<EmulatedPciGpu> gpu, EmulatedVfioConfig config) {
  if (gpu == nullptr || config.group < 0) {
    return absl::InvalidArgumentError("emulated VFIO: a GPU and a group number >= 0 are needed");
  }
  auto state = std::make_shared<State>(io, gpu, std::move(config));
  const EmulatedVfioConfig& c = state->config;
  const std::string devices = absl::StrCat(c.groups_dir, "/", c.group, "/devices/");
  io.AddFile(devices + gpu->config().bdf, "");
  for (const std::string& d : c.other_devices) io.AddFile(devices + d, "");
  io.AddNode("/dev/vfio/vfio", std::make_shared<ContainerNode>(state));
  io.AddNode(state->GroupPath(), std::make_shared<GroupNode>(state));
  return std::shared_ptr<EmulatedVfio>(new EmulatedVfio(state));
}

EmulatedVfio::~EmulatedVfio() = default;

const EmulatedVfioConfig& EmulatedVfio::config() const { return state_->config; }
std::string EmulatedVfio::group_path() const { return state_->GroupPath(); }
const EmulatedIommu& EmulatedVfio::iommu() const { return state_->iommu; }

std::vector<std::string> EmulatedVfio::refusals() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->refusals;
}

int EmulatedVfio::resets() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->resets;
}

bool EmulatedVfio::SignalInterrupt() {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->trigger == nullptr) return false;
  state_->trigger->Signal();
  ++state_->interrupts_signalled;
  return true;
}

int EmulatedVfio::irq_index() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->irq_index;
}

uint64_t EmulatedVfio::interrupts_signalled() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->interrupts_signalled;
}

int EmulatedVfio::open_devices() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return static_cast<int>(state_->devices.size());
}

}  // namespace uop
