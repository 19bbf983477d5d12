// AmVfio on the emulated VFIO (vfio_model.h): the ABI against the system's
// <linux/vfio.h>; Open's ioctl sequence; GMC init over BARs mapped through
// the VFIO device fd; host memory mapped through the IOMMU and into a VMID
// with AmVm::MapSystem, read and written byte-exact through the page
// walker; every refused ioctl sequence; cleanup (CheckClean).
#include "drivers/am/pci/vfio.h"

#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/mman.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <vector>

#include "drivers/am/abi/sdma.h"
#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/gmc_ih_model.h"
#include "drivers/am/emulator/sdma/sdma_model.h"
#include "drivers/am/emulator/vfio_model.h"
#include "drivers/am/emulator/vm_walker.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/gmc.h"
#include "drivers/am/pci/pci_bars.h"
#include "drivers/am/pci/sdma/sdma.h"
#include "drivers/am/pci/sdma/sdma_regs.h"
#include "drivers/am/pci/vfio_abi.h"
#include "drivers/am/pci/vm.h"
#include "drivers/am/pci/vram_allocator.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

// ------------------------------------------------------------------ ABI --

static_assert(vfio::kGetApiVersion == VFIO_GET_API_VERSION);
static_assert(vfio::kCheckExtension == VFIO_CHECK_EXTENSION);
static_assert(vfio::kSetIommu == VFIO_SET_IOMMU);
static_assert(vfio::kGroupGetStatus == VFIO_GROUP_GET_STATUS);
static_assert(vfio::kGroupSetContainer == VFIO_GROUP_SET_CONTAINER);
static_assert(vfio::kGroupUnsetContainer == VFIO_GROUP_UNSET_CONTAINER);
static_assert(vfio::kGroupGetDeviceFd == VFIO_GROUP_GET_DEVICE_FD);
static_assert(vfio::kDeviceGetInfo == VFIO_DEVICE_GET_INFO);
static_assert(vfio::kDeviceGetRegionInfo == VFIO_DEVICE_GET_REGION_INFO);
static_assert(vfio::kDeviceReset == VFIO_DEVICE_RESET);
static_assert(vfio::kIommuMapDma == VFIO_IOMMU_MAP_DMA);
static_assert(vfio::kIommuUnmapDma == VFIO_IOMMU_UNMAP_DMA);
static_assert(vfio::kDeviceGetIrqInfo == VFIO_DEVICE_GET_IRQ_INFO);
static_assert(vfio::kDeviceSetIrqs == VFIO_DEVICE_SET_IRQS);
static_assert(sizeof(vfio::irq_info) == sizeof(vfio_irq_info));
static_assert(offsetof(vfio::irq_info, index) == offsetof(vfio_irq_info, index));
static_assert(offsetof(vfio::irq_info, count) == offsetof(vfio_irq_info, count));
static_assert(vfio::kIrqInfoEventfd == VFIO_IRQ_INFO_EVENTFD);
static_assert(vfio::kIrqInfoMaskable == VFIO_IRQ_INFO_MASKABLE);
static_assert(vfio::kIrqInfoAutomasked == VFIO_IRQ_INFO_AUTOMASKED);
static_assert(vfio::kIrqInfoNoresize == VFIO_IRQ_INFO_NORESIZE);
static_assert(sizeof(vfio::irq_set) == sizeof(vfio_irq_set));  // data[] is a flexible array
static_assert(offsetof(vfio::irq_set, start) == offsetof(vfio_irq_set, start));
static_assert(offsetof(vfio::irq_set, count) == offsetof(vfio_irq_set, count));
static_assert(offsetof(vfio::irq_set_eventfd, fd) == offsetof(vfio_irq_set, data));
static_assert(vfio::kIrqSetDataNone == VFIO_IRQ_SET_DATA_NONE);
static_assert(vfio::kIrqSetDataBool == VFIO_IRQ_SET_DATA_BOOL);
static_assert(vfio::kIrqSetDataEventfd == VFIO_IRQ_SET_DATA_EVENTFD);
static_assert(vfio::kIrqSetActionMask == VFIO_IRQ_SET_ACTION_MASK);
static_assert(vfio::kIrqSetActionUnmask == VFIO_IRQ_SET_ACTION_UNMASK);
static_assert(vfio::kIrqSetActionTrigger == VFIO_IRQ_SET_ACTION_TRIGGER);
static_assert(vfio::kIrqSetDataTypeMask == VFIO_IRQ_SET_DATA_TYPE_MASK);
static_assert(vfio::kIrqSetActionTypeMask == VFIO_IRQ_SET_ACTION_TYPE_MASK);
static_assert(vfio::kPciIntxIrq == VFIO_PCI_INTX_IRQ_INDEX);
static_assert(vfio::kPciMsiIrq == VFIO_PCI_MSI_IRQ_INDEX);
static_assert(vfio::kPciMsixIrq == VFIO_PCI_MSIX_IRQ_INDEX);
static_assert(vfio::kPciNumIrqs == VFIO_PCI_NUM_IRQS);
static_assert(vfio::kApiVersion == VFIO_API_VERSION);
static_assert(vfio::kType1Iommu == VFIO_TYPE1_IOMMU);
static_assert(vfio::kType1v2Iommu == VFIO_TYPE1v2_IOMMU);
static_assert(vfio::kGroupFlagsViable == VFIO_GROUP_FLAGS_VIABLE);
static_assert(vfio::kGroupFlagsContainerSet == VFIO_GROUP_FLAGS_CONTAINER_SET);
static_assert(vfio::kDeviceFlagsReset == VFIO_DEVICE_FLAGS_RESET);
static_assert(vfio::kDeviceFlagsPci == VFIO_DEVICE_FLAGS_PCI);
static_assert(vfio::kRegionFlagRead == VFIO_REGION_INFO_FLAG_READ);
static_assert(vfio::kRegionFlagWrite == VFIO_REGION_INFO_FLAG_WRITE);
static_assert(vfio::kRegionFlagMmap == VFIO_REGION_INFO_FLAG_MMAP);
static_assert(vfio::kRegionFlagCaps == VFIO_REGION_INFO_FLAG_CAPS);
static_assert(vfio::kPciBar0Region == VFIO_PCI_BAR0_REGION_INDEX);
static_assert(vfio::kPciRomRegion == VFIO_PCI_ROM_REGION_INDEX);
static_assert(vfio::kPciConfigRegion == VFIO_PCI_CONFIG_REGION_INDEX);
static_assert(vfio::kPciNumRegions == VFIO_PCI_NUM_REGIONS);
static_assert(vfio::kDmaMapFlagRead == VFIO_DMA_MAP_FLAG_READ);
static_assert(vfio::kDmaMapFlagWrite == VFIO_DMA_MAP_FLAG_WRITE);
static_assert(sizeof(vfio::group_status) == sizeof(vfio_group_status));
static_assert(sizeof(vfio::device_info) == sizeof(vfio_device_info));
static_assert(offsetof(vfio::device_info, num_regions) == offsetof(vfio_device_info, num_regions));
static_assert(offsetof(vfio::device_info, cap_offset) == offsetof(vfio_device_info, cap_offset));
static_assert(vfio::kDeviceInfoMinSize == offsetof(vfio_device_info, cap_offset));
static_assert(sizeof(vfio::region_info) == sizeof(vfio_region_info));
static_assert(offsetof(vfio::region_info, index) == offsetof(vfio_region_info, index));
static_assert(offsetof(vfio::region_info, size) == offsetof(vfio_region_info, size));
static_assert(offsetof(vfio::region_info, offset) == offsetof(vfio_region_info, offset));
static_assert(sizeof(vfio::iommu_type1_dma_map) == sizeof(vfio_iommu_type1_dma_map));
static_assert(offsetof(vfio::iommu_type1_dma_map, vaddr) ==
              offsetof(vfio_iommu_type1_dma_map, vaddr));
static_assert(offsetof(vfio::iommu_type1_dma_map, iova) ==
              offsetof(vfio_iommu_type1_dma_map, iova));
static_assert(offsetof(vfio::iommu_type1_dma_map, size) ==
              offsetof(vfio_iommu_type1_dma_map, size));
static_assert(sizeof(vfio::iommu_type1_dma_unmap) == sizeof(vfio_iommu_type1_dma_unmap));
static_assert(offsetof(vfio::iommu_type1_dma_unmap, iova) ==
              offsetof(vfio_iommu_type1_dma_unmap, iova));
static_assert(offsetof(vfio::iommu_type1_dma_unmap, size) ==
              offsetof(vfio_iommu_type1_dma_unmap, size));

TEST(VfioAbi, RequestsAreIoWithTypeSemicolon) {
  // _IO(';', 100 + n): no direction, no size.
  EXPECT_EQ(vfio::kGetApiVersion, 0x3B64u);
  EXPECT_EQ(vfio::kIommuMapDma, 0x3B71u);
  EXPECT_EQ(vfio::kDeviceReset, 0x3B6Fu);
}

// ------------------------------------------------------------------ rig --

constexpr uint64_t kVram = 256 << 20;
constexpr uint64_t kPage = 4096;
constexpr char kBdf[] = "0000:03:00.0";

struct Rig {
  EmulatedKernelIo io;
  std::shared_ptr<EmulatedPciGpu> gpu;
  std::shared_ptr<EmulatedVfio> model;
  std::unique_ptr<EmulatedGmcIh> gmc_model;

  std::vector<std::string> Refusals() const { return model->refusals(); }
  bool Refused(const std::string& text) const {
    for (const std::string& r : Refusals())
      if (r.find(text) != std::string::npos) return true;
    return false;
  }
};

std::unique_ptr<Rig> MakeRig(EmulatedVfioConfig vc = {}) {
  auto rig = std::make_unique<Rig>();
  EmulatedPciGpuConfig c;
  c.device_id = 0x744c;  // Navi31
  c.vram_size = kVram;
  c.discovery = BuildDiscoveryBinary(Navi31Ips());
  rig->gpu = *EmulatedPciGpu::Install(rig->io, c);
  rig->model = *EmulatedVfio::Install(rig->io, rig->gpu, std::move(vc));
  rig->gmc_model = *EmulatedGmcIh::Attach(*rig->gpu);
  return rig;
}

PciFunction Function(Rig& rig) {
  absl::StatusOr<PciFunction> fn = DescribePciFunction(rig.io, kPciDevicesDir, kBdf);
  EXPECT_TRUE(fn.ok()) << fn.status();
  return *fn;
}

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 13 + (i >> 12));
  return v;
}

bool Contains(const absl::Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

// ------------------------------------------------------------- open/BARs --

TEST(AmVfio, OpensThroughTheGroupInLinuxsOrder) {
  auto rig = MakeRig();
  {
    absl::StatusOr<std::unique_ptr<AmVfio>> v = AmVfio::Open(rig->io, kBdf);
    ASSERT_TRUE(v.ok()) << v.status();
    AmVfio& vfio = **v;
    EXPECT_EQ(vfio.group(), 17);
    EXPECT_EQ(vfio.iommu_type(), vfio::kType1v2Iommu);
    EXPECT_TRUE(vfio.reset_supported());
    EXPECT_EQ(vfio.bar(0).size, kVram);
    EXPECT_EQ(vfio.bar(5).offset, uint64_t{5} << 40);
    EXPECT_EQ(vfio.bar(9).size, 0u);
    EXPECT_EQ(vfio.bar(-1).size, 0u);
    EXPECT_EQ(vfio.MapBar(1, 0).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(vfio.config().size, 256u);
    EXPECT_EQ(rig->model->open_devices(), 1);
    // The order of the calls that reached the kernel.
    std::vector<unsigned long> ioctls;
    for (const IoCall& c : rig->io.Trace())
      if (c.kind == IoCall::kIoctl) ioctls.push_back(c.request);
    const std::vector<unsigned long> want = {vfio::kGetApiVersion,
                                             vfio::kCheckExtension,
                                             vfio::kGroupGetStatus,
                                             vfio::kGroupSetContainer,
                                             vfio::kSetIommu,
                                             vfio::kGroupGetDeviceFd,
                                             vfio::kDeviceGetInfo,
                                             vfio::kDeviceGetRegionInfo,
                                             vfio::kDeviceGetRegionInfo,
                                             vfio::kDeviceGetRegionInfo,
                                             vfio::kDeviceGetRegionInfo};
    EXPECT_EQ(ioctls, want);
    EXPECT_TRUE(rig->Refusals().empty());
    EXPECT_TRUE(vfio.Reset().ok());
    EXPECT_EQ(rig->model->resets(), 1);
  }
  EXPECT_TRUE(rig->io.CheckClean().ok()) << rig->io.CheckClean();
  EXPECT_EQ(rig->model->open_devices(), 0);
  EXPECT_TRUE(rig->Refusals().empty()) << rig->Refusals()[0];
}

TEST(AmVfio, GmcInitRunsOverBarsMappedThroughTheDeviceFd) {
  auto rig = MakeRig();
  {
    std::unique_ptr<AmVfio> vfio = *AmVfio::Open(rig->io, kBdf);
    absl::StatusOr<std::unique_ptr<AmPciBars>> bars =
        AmPciBars::OpenVfio(rig->io, Function(*rig), *vfio);
    ASSERT_TRUE(bars.ok()) << bars.status();
    // Enabled through the config region, no sysfs resource file opened.
    EXPECT_TRUE(rig->gpu->CheckEnabled().ok()) << rig->gpu->CheckEnabled();
    for (const IoCall& c : rig->io.Trace()) {
      if (c.kind == IoCall::kOpen) {
        EXPECT_EQ(c.path.find("/resource"), std::string::npos) << c.path;
      }
      EXPECT_NE(c.kind, IoCall::kWriteFile) << c.path;
    }
    EXPECT_EQ(rig->gpu->MappingsOf(5), 1);
    EXPECT_EQ((*bars)->regs().host_base(), nullptr);  // still trapped
    absl::StatusOr<AmDiscovery> d = ReadAmDiscovery((*bars)->regs(), (*bars)->vram());
    ASSERT_TRUE(d.ok()) << d.status();
    AmRegisterIo regs((*bars)->regs(), *AmRegisterMap::Create(d->ip));
    AmVramArena arena(1 << 20, 16 << 20);
    absl::StatusOr<std::unique_ptr<AmGmc>> gmc = AmGmc::Create(regs, (*bars)->vram(), kVram, arena);
    ASSERT_TRUE(gmc.ok()) << gmc.status();
    ASSERT_TRUE((*gmc)->Init().ok());
    rig->gmc_model->FinishChecks();
    EXPECT_TRUE(rig->gpu->registers().CheckNoViolations().ok())
        << rig->gpu->registers().CheckNoViolations();
    // A removed device: the VFIO liveness probe names it.
    rig->gpu->Remove();
    absl::StatusOr<uint32_t> dead = (*bars)->regs().Read32(0);
    EXPECT_EQ(dead.status().code(), absl::StatusCode::kUnavailable) << dead.status();
    EXPECT_TRUE(Contains(dead.status(), "vendor 0xffff")) << dead.status();
  }
  EXPECT_TRUE(rig->io.CheckClean().ok()) << rig->io.CheckClean();
  EXPECT_EQ(rig->gpu->MappingsOf(0) + rig->gpu->MappingsOf(2) + rig->gpu->MappingsOf(5), 0);
}

TEST(AmVfio, ClosingTheDeviceDisablesTheFunction) {
  auto rig = MakeRig();
  {
    std::unique_ptr<AmVfio> vfio = *AmVfio::Open(rig->io, kBdf);
    ASSERT_TRUE(vfio->Enable().ok());
    EXPECT_TRUE(rig->gpu->CheckEnabled().ok());
    EXPECT_TRUE(vfio->CheckAlive().ok());
    absl::StatusOr<uint16_t> far = vfio->ReadConfig16(255);
    EXPECT_EQ(far.status().code(), absl::StatusCode::kOutOfRange) << far.status();
  }
  EXPECT_FALSE(rig->gpu->CheckEnabled().ok());
  EXPECT_TRUE(rig->io.CheckClean().ok()) << rig->io.CheckClean();
}

TEST(AmVfio, BarsOfAnotherFunctionAreRefused) {
  auto rig = MakeRig();
  std::unique_ptr<AmVfio> vfio = *AmVfio::Open(rig->io, kBdf);
  PciFunction other = Function(*rig);
  other.bdf = "0000:04:00.0";
  absl::StatusOr<std::unique_ptr<AmPciBars>> bars = AmPciBars::OpenVfio(rig->io, other, *vfio);
  EXPECT_EQ(bars.status().code(), absl::StatusCode::kInvalidArgument);
  // A BAR whose sysfs size disagrees with the region.
  PciFunction wrong = Function(*rig);
  wrong.bars[5].end += 4096;
  bars = AmPciBars::OpenVfio(rig->io, wrong, *vfio);
  EXPECT_EQ(bars.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(bars.status(), "BAR5 region is")) << bars.status();
}

// ------------------------------------------------------- refused opens --

TEST(AmVfio, NonViableGroupNamesTheOtherMembers) {
  EmulatedVfioConfig vc;
  vc.viable = false;
  vc.other_devices = {"0000:03:00.1"};
  auto rig = MakeRig(vc);
  absl::StatusOr<std::unique_ptr<AmVfio>> v = AmVfio::Open(rig->io, kBdf);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kFailedPrecondition);
  for (const char* text : {"VFIO_GROUP_GET_STATUS", "group 17", "not viable", "0000:03:00.1"})
    EXPECT_TRUE(Contains(v.status(), text)) << text << ": " << v.status();
  EXPECT_TRUE(rig->io.CheckClean().ok()) << rig->io.CheckClean();
}

TEST(AmVfio, NoGroupIsNotFound) {
  auto rig = MakeRig();
  absl::StatusOr<std::unique_ptr<AmVfio>> v = AmVfio::Open(rig->io, "0000:09:00.0");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kNotFound) << v.status();
  EXPECT_TRUE(Contains(v.status(), "no IOMMU group")) << v.status();
  v = AmVfio::Open(rig->io, kBdf, "/sys/nowhere");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kFailedPrecondition) << v.status();
  EXPECT_TRUE(Contains(v.status(), "IOMMU is off")) << v.status();
}

TEST(AmVfio, Type1OnlyContainerIsUsed) {
  EmulatedVfioConfig vc;
  vc.type1v2 = false;
  vc.reset_supported = false;
  auto rig = MakeRig(vc);
  std::unique_ptr<AmVfio> vfio = *AmVfio::Open(rig->io, kBdf);
  EXPECT_EQ(vfio->iommu_type(), vfio::kType1Iommu);
  absl::Status reset = vfio->Reset();
  EXPECT_EQ(reset.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(reset, "VFIO_DEVICE_RESET")) << reset;
  EXPECT_EQ(rig->model->resets(), 0);
}

TEST(AmVfio, EveryFailingStepOfOpenIsNamedAndCleanedUp) {
  struct Case {
    unsigned long request;
    int err;
    const char* name;
  };
  const Case cases[] = {
      {vfio::kGetApiVersion, ENOTTY, "VFIO_GET_API_VERSION"},
      {vfio::kCheckExtension, EINVAL, "VFIO_CHECK_EXTENSION"},
      {vfio::kGroupGetStatus, EFAULT, "VFIO_GROUP_GET_STATUS"},
      {vfio::kGroupSetContainer, EPERM, "VFIO_GROUP_SET_CONTAINER"},
      {vfio::kSetIommu, ENODEV, "VFIO_SET_IOMMU"},
      {vfio::kGroupGetDeviceFd, EBUSY, "VFIO_GROUP_GET_DEVICE_FD"},
      {vfio::kDeviceGetInfo, EINVAL, "VFIO_DEVICE_GET_INFO"},
      {vfio::kDeviceGetRegionInfo, EINVAL, "VFIO_DEVICE_GET_REGION_INFO(0)"},
  };
  for (const Case& c : cases) {
    auto rig = MakeRig();
    rig->io.FailNext(IoCall::kIoctl, c.request, c.err);
    absl::StatusOr<std::unique_ptr<AmVfio>> v = AmVfio::Open(rig->io, kBdf);
    ASSERT_FALSE(v.ok()) << c.name;
    EXPECT_TRUE(Contains(v.status(), c.name)) << v.status();
    EXPECT_TRUE(Contains(v.status(), "group 17")) << v.status();
    EXPECT_TRUE(Contains(v.status(), ErrnoName(c.err))) << v.status();
    EXPECT_TRUE(rig->io.CheckClean().ok()) << c.name << ": " << rig->io.CheckClean();
    EXPECT_EQ(rig->model->open_devices(), 0) << c.name;
  }
}

TEST(AmVfio, ConfigWritesThatDoNotTakeAreAnError) {
  auto rig = MakeRig();
  std::unique_ptr<AmVfio> vfio = *AmVfio::Open(rig->io, kBdf);
  rig->io.FailNext(IoCall::kPwrite, 0, EIO);
  absl::Status s = vfio->Enable();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(Contains(s, "pwrite of config space 0x4")) << s;
}

// ------------------------------------------------------ refused ioctls --

// Raw calls in the wrong order: the kernel's errno, the model's rule.
struct Raw {
  Rig& rig;
  int container = -1, group = -1;
  explicit Raw(Rig& r) : rig(r) {
    container = *rig.io.Open(kVfioContainerPath, O_RDWR);
    group = *rig.io.Open(rig.model->group_path(), O_RDWR);
  }
  ~Raw() {
    (void)rig.io.Close(group);
    (void)rig.io.Close(container);
  }
  absl::Status Ioctl(int fd, unsigned long request, void* arg, const char* name) {
    return rig.io.Ioctl(fd, request, arg, name);
  }
  absl::Status Attach() {
    return Ioctl(group, vfio::kGroupSetContainer, &container, "VFIO_GROUP_SET_CONTAINER");
  }
  absl::Status SetIommu() {
    return Ioctl(container, vfio::kSetIommu, reinterpret_cast<void*>(uintptr_t{3}),
                 "VFIO_SET_IOMMU");
  }
};

TEST(EmulatedVfio, SetIommuBeforeAGroupIsAttachedIsRefused) {
  auto rig = MakeRig();
  {
    Raw raw(*rig);
    absl::Status s = raw.SetIommu();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_TRUE(Contains(s, "VFIO_SET_IOMMU")) << s;
    EXPECT_TRUE(rig->Refused("VFIO_SET_IOMMU: no group is attached to the container (EINVAL"));
    ASSERT_TRUE(raw.Attach().ok());
    ASSERT_TRUE(raw.SetIommu().ok());
    EXPECT_FALSE(raw.SetIommu().ok());
    EXPECT_TRUE(rig->Refused("the container already has an IOMMU"));
    EXPECT_FALSE(raw.Attach().ok());
    EXPECT_TRUE(rig->Refused("VFIO_GROUP_SET_CONTAINER: the group already has a container"));
  }
  EXPECT_TRUE(rig->io.CheckClean().ok()) << rig->io.CheckClean();
}

TEST(EmulatedVfio, DeviceFdBeforeTheContainerHasAnIommuIsRefused) {
  auto rig = MakeRig();
  Raw raw(*rig);
  char name[] = "0000:03:00.0";
  absl::StatusOr<int> fd = rig->io.IoctlFd(raw.group, vfio::kGroupGetDeviceFd, name,
                                           "VFIO_GROUP_GET_DEVICE_FD", "device");
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(rig->Refused("VFIO_GROUP_GET_DEVICE_FD: the group's container has no IOMMU"));
  ASSERT_TRUE(raw.Attach().ok());
  fd = rig->io.IoctlFd(raw.group, vfio::kGroupGetDeviceFd, name, "VFIO_GROUP_GET_DEVICE_FD",
                       "device");
  EXPECT_FALSE(fd.ok());
  ASSERT_TRUE(raw.SetIommu().ok());
  char other[] = "0000:03:00.1";
  fd = rig->io.IoctlFd(raw.group, vfio::kGroupGetDeviceFd, other, "VFIO_GROUP_GET_DEVICE_FD",
                       "device");
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kUnavailable) << fd.status();  // ENODEV
  EXPECT_TRUE(rig->Refused("no device \"0000:03:00.1\""));
  fd = rig->io.IoctlFd(raw.group, vfio::kGroupGetDeviceFd, name, "VFIO_GROUP_GET_DEVICE_FD",
                       "device");
  ASSERT_TRUE(fd.ok()) << fd.status();
  // The group cannot leave its container while the device is open.
  absl::Status unset =
      raw.Ioctl(raw.group, vfio::kGroupUnsetContainer, nullptr, "VFIO_GROUP_UNSET_CONTAINER");
  EXPECT_FALSE(unset.ok());
  EXPECT_TRUE(rig->Refused("VFIO_GROUP_UNSET_CONTAINER: a device fd of the group is open (EBUSY"));
  ASSERT_TRUE(rig->io.Close(*fd).ok());
  EXPECT_TRUE(
      raw.Ioctl(raw.group, vfio::kGroupUnsetContainer, nullptr, "VFIO_GROUP_UNSET_CONTAINER").ok());
}

TEST(EmulatedVfio, DmaMapsAreCheckedAsType1ChecksThem) {
  auto rig = MakeRig();
  Raw raw(*rig);
  void* host =
      ::mmap(nullptr, 4 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(host, MAP_FAILED);
  vfio::iommu_type1_dma_map map{sizeof(map), vfio::kDmaMapFlagRead | vfio::kDmaMapFlagWrite,
                                reinterpret_cast<uint64_t>(host), 1ull << 32, 2 * kPage};
  // Before the IOMMU is set.
  EXPECT_FALSE(raw.Ioctl(raw.container, vfio::kIommuMapDma, &map, "VFIO_IOMMU_MAP_DMA").ok());
  EXPECT_TRUE(rig->Refused("VFIO_IOMMU_MAP_DMA: the container has no IOMMU"));
  ASSERT_TRUE(raw.Attach().ok());
  ASSERT_TRUE(raw.SetIommu().ok());
  ASSERT_TRUE(raw.Ioctl(raw.container, vfio::kIommuMapDma, &map, "VFIO_IOMMU_MAP_DMA").ok());
  EXPECT_EQ(rig->model->iommu().Resolve((1ull << 32) + 5, 1), static_cast<uint8_t*>(host) + 5);
  // Overlapping IOVAs.
  vfio::iommu_type1_dma_map overlap = map;
  overlap.iova += kPage;
  absl::Status s = raw.Ioctl(raw.container, vfio::kIommuMapDma, &overlap, "VFIO_IOMMU_MAP_DMA");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s, "EEXIST")) << s;
  EXPECT_TRUE(rig->Refused("overlaps a live mapping"));
  // Bad argsz, flags, alignment.
  vfio::iommu_type1_dma_map bad = map;
  bad.iova = 1ull << 40;
  bad.argsz = 16;
  EXPECT_FALSE(raw.Ioctl(raw.container, vfio::kIommuMapDma, &bad, "VFIO_IOMMU_MAP_DMA").ok());
  EXPECT_TRUE(rig->Refused("argsz 16 < 32"));
  bad.argsz = sizeof(bad);
  bad.flags = 0;
  EXPECT_FALSE(raw.Ioctl(raw.container, vfio::kIommuMapDma, &bad, "VFIO_IOMMU_MAP_DMA").ok());
  bad.flags = vfio::kDmaMapFlagRead;
  bad.vaddr += 1;
  EXPECT_FALSE(raw.Ioctl(raw.container, vfio::kIommuMapDma, &bad, "VFIO_IOMMU_MAP_DMA").ok());
  EXPECT_TRUE(rig->Refused("not page-aligned"));
  // Unmapping part of a mapping (v2 refuses), then all of it.
  vfio::iommu_type1_dma_unmap unmap{sizeof(unmap), 0, 1ull << 32, kPage};
  EXPECT_FALSE(raw.Ioctl(raw.container, vfio::kIommuUnmapDma, &unmap, "VFIO_IOMMU_UNMAP_DMA").ok());
  EXPECT_TRUE(rig->Refused("cuts a mapping"));
  unmap.size = 16 * kPage;
  ASSERT_TRUE(raw.Ioctl(raw.container, vfio::kIommuUnmapDma, &unmap, "VFIO_IOMMU_UNMAP_DMA").ok());
  EXPECT_EQ(unmap.size, 2 * kPage);
  EXPECT_EQ(rig->model->dma_mappings(), 0u);
  ::munmap(host, 4 * kPage);
}

TEST(EmulatedVfio, GroupStatusChecksArgszAndOneOpenAtATime) {
  auto rig = MakeRig();
  Raw raw(*rig);
  vfio::group_status st{4, 0};
  EXPECT_FALSE(raw.Ioctl(raw.group, vfio::kGroupGetStatus, &st, "VFIO_GROUP_GET_STATUS").ok());
  EXPECT_TRUE(rig->Refused("VFIO_GROUP_GET_STATUS: argsz 4 < 8"));
  st.argsz = sizeof(st);
  ASSERT_TRUE(raw.Ioctl(raw.group, vfio::kGroupGetStatus, &st, "VFIO_GROUP_GET_STATUS").ok());
  EXPECT_EQ(st.flags, vfio::kGroupFlagsViable);
  absl::StatusOr<int> again = rig->io.Open(rig->model->group_path(), O_RDWR);
  EXPECT_FALSE(again.ok());
  EXPECT_TRUE(Contains(again.status(), "EBUSY")) << again.status();
  // Attaching a non-container fd.
  int not_container = raw.group;
  EXPECT_FALSE(
      raw.Ioctl(raw.group, vfio::kGroupSetContainer, &not_container, "VFIO_GROUP_SET_CONTAINER")
          .ok());
  EXPECT_TRUE(rig->Refused("is not an open VFIO container"));
}

// ------------------------------------------------------------------ DMA --

TEST(AmVfio, MapDmaHandsOutAlignedIovasAndUnmapsThem) {
  auto rig = MakeRig();
  std::unique_ptr<AmVfio> vfio = *AmVfio::Open(rig->io, kBdf);
  void* host =
      ::mmap(nullptr, 8 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(host, MAP_FAILED);
  absl::StatusOr<uint64_t> a = vfio->MapDma(host, 3 * kPage + 1);  // rounded to 4 pages
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<uint64_t> b = vfio->MapDma(static_cast<uint8_t*>(host) + 4 * kPage, kPage);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_GE(*a, AmVfio::kIovaBegin);
  EXPECT_EQ(*a % kPage, 0u);
  EXPECT_GE(*b, *a + 4 * kPage);
  EXPECT_EQ(rig->model->iommu().Resolve(*a + 4 * kPage - 1, 1),
            static_cast<uint8_t*>(host) + 4 * kPage - 1);
  EXPECT_EQ(vfio->dma_mappings(), 2u);
  EXPECT_EQ(vfio->MapDma(static_cast<uint8_t*>(host) + 1, kPage).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(vfio->MapDma(host, 0).status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(vfio->UnmapDma(*a).ok());
  EXPECT_EQ(rig->model->iommu().Resolve(*a, 1), nullptr);
  absl::Status twice = vfio->UnmapDma(*a);
  EXPECT_EQ(twice.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(twice, "not a mapping MapDma made")) << twice;
  // A refused map returns its IOVA.
  rig->io.FailNext(IoCall::kIoctl, vfio::kIommuMapDma, ENOMEM);
  absl::StatusOr<uint64_t> c = vfio->MapDma(host, kPage);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Contains(c.status(), "VFIO_IOMMU_MAP_DMA")) << c.status();
  EXPECT_EQ(vfio->dma_mappings(), 1u);
  vfio.reset();  // unmaps b
  EXPECT_EQ(rig->model->dma_mappings(), 0u);
  EXPECT_TRUE(rig->io.CheckClean().ok()) << rig->io.CheckClean();
  ::munmap(host, 8 * kPage);
}

// Host memory in a VMID: AllocHost, MapSystem, and the walker reading and
// writing it through the emulated IOMMU.
struct DmaRig {
  std::unique_ptr<Rig> rig = MakeRig();
  std::unique_ptr<AmVfio> vfio;
  std::unique_ptr<AmPciBars> bars;
  AmDiscovery discovery;
  std::unique_ptr<AmRegisterIo> regs;
  AmVramArena arena{1 << 20, 16 << 20};
  std::unique_ptr<AmVramAllocator> vram;
  std::unique_ptr<AmGmc> gmc;
  std::unique_ptr<AmVm> vm;

  DmaRig() {
    vfio = *AmVfio::Open(rig->io, kBdf);
    bars = *AmPciBars::OpenVfio(rig->io, Function(*rig), *vfio);
    discovery = *ReadAmDiscovery(bars->regs(), bars->vram());
    regs = std::make_unique<AmRegisterIo>(bars->regs(), *AmRegisterMap::Create(discovery.ip));
    vram = *AmVramAllocator::Create(16 << 20, kVram - (1 << 20));
    gmc = *AmGmc::Create(*regs, bars->vram(), kVram, arena);
    EXPECT_TRUE(gmc->Init().ok());
    vm = *AmVm::Create(*regs, *gmc, *vram, bars->vram(), 1);
  }
  ~DmaRig() {
    EXPECT_TRUE(vm->Destroy().ok());
    vm.reset();
    gmc.reset();
    bars.reset();
    vfio.reset();
    EXPECT_TRUE(rig->io.CheckClean().ok()) << rig->io.CheckClean();
    EXPECT_EQ(rig->model->dma_mappings(), 0u);
  }
};

TEST(AmVfio, HostMemoryMappedWithMapSystemIsReadAndWrittenByteExact) {
  DmaRig r;
  const uint64_t bytes = 5 * kPage;
  absl::StatusOr<AmDmaBuffer> buf = r.vfio->AllocHost(bytes - 100);
  ASSERT_TRUE(buf.ok()) << buf.status();
  EXPECT_EQ(buf->size, bytes);
  const uint64_t va = *r.vm->AllocateVa(bytes);
  ASSERT_TRUE(r.vm->MapSystem(va, buf->iova, bytes).ok());
  const uint64_t pte = *r.vm->PteAt(va + 2 * kPage);
  EXPECT_EQ(pte & kPteAddressMask, buf->iova + 2 * kPage);
  EXPECT_EQ(pte & 0x7F, kPteValid | kPteSystem | kPteSnooped | kPteReadable | kPteWriteable);

  EmulatedVmSpace space(*r.rig->gmc_model, kGcHub1100Regs, 1, &r.rig->model->iommu());
  absl::StatusOr<EmulatedVmSpace::PageWalk> w = space.Walk(va + kPage + 3);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_TRUE(w->system);
  EXPECT_EQ(w->bus_address, buf->iova + kPage + 3);
  EXPECT_EQ(w->host, static_cast<uint8_t*>(buf->host) + kPage + 3);

  // The host writes, the GPU reads; the GPU writes, the host reads.
  const std::vector<uint8_t> in = Pattern(bytes, 3);
  std::memcpy(buf->host, in.data(), bytes);
  uint8_t* gpu_view = space.Translate(va, bytes);
  ASSERT_NE(gpu_view, nullptr);
  EXPECT_EQ(std::memcmp(gpu_view, in.data(), bytes), 0);
  const std::vector<uint8_t> out = Pattern(bytes, 77);
  std::memcpy(space.Translate(va + kPage, bytes - kPage), out.data(), bytes - kPage);
  EXPECT_EQ(std::memcmp(static_cast<uint8_t*>(buf->host) + kPage, out.data(), bytes - kPage), 0);
  EXPECT_EQ(std::memcmp(buf->host, in.data(), kPage), 0);

  std::optional<GpuAddressSpace::Allocation> a = space.AllocationAt(va + 3 * kPage);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->va, va);
  EXPECT_EQ(a->id, buf->iova);
  EXPECT_EQ(a->size, bytes);
  EXPECT_EQ(a->host, buf->host);

  // Without the IOMMU, a SYSTEM PTE faults; so does an IOVA it dropped.
  EmulatedVmSpace no_iommu(*r.rig->gmc_model, kGcHub1100Regs, 1);
  EXPECT_EQ(no_iommu.Walk(va).status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(no_iommu.Translate(va, 1), nullptr);
  ASSERT_TRUE(r.vfio->FreeHost(*buf).ok());
  absl::StatusOr<EmulatedVmSpace::PageWalk> gone = space.Walk(va);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(gone.status(), "not mapped by the IOMMU")) << gone.status();
  EXPECT_EQ(space.Translate(va, 1), nullptr);
  ASSERT_TRUE(r.vm->Unmap(va, bytes).ok());
  r.rig->gmc_model->FinishChecks();
  EXPECT_TRUE(r.rig->gpu->registers().CheckNoViolations().ok())
      << r.rig->gpu->registers().CheckNoViolations();
}

// The emulated SDMA engine copies VRAM -> host memory and back in VMID 1,
// host pages reached through SYSTEM PTEs and the IOMMU.
TEST(AmVfio, SdmaCopiesBetweenVramAndHostMemoryThroughTheIommu) {
  DmaRig r;
  EmulatedVmSpace space(*r.rig->gmc_model, kGcHub1100Regs, 1, &r.rig->model->iommu());
  // The engine thread reports through the hooks under `mu`: waiting for the
  // trap orders its writes to host memory before the test's reads.
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> faults;
  std::vector<uint32_t> traps;
  EmulatedSdma::Hooks hooks;
  hooks.on_fault = [&](int, uint64_t, const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    faults.push_back(what);
    cv.notify_all();
  };
  hooks.on_trap = [&](int, uint32_t id) {
    std::lock_guard<std::mutex> lock(mu);
    traps.push_back(id);
    cv.notify_all();
  };
  std::unique_ptr<EmulatedSdma> engine = *EmulatedSdma::Attach(
      *r.rig->gpu,
      [&space](uint32_t vmid) -> const GpuAddressSpace* { return vmid == 1 ? &space : nullptr; },
      {}, hooks);
  std::unique_ptr<AmSdma> sdma = *AmSdma::Create(*r.regs, r.discovery.ip, r.bars->doorbells());
  ASSERT_TRUE(sdma->Init().ok());

  // VRAM pages: 0 the ring, 1 the read-pointer writeback, 2-4 the source,
  // 5-7 the destination. Host pages: 0-2 the copy, 3 a fence.
  constexpr uint64_t kCopy = 3 * kPage;
  const uint64_t pa = *r.vram->Allocate(8 * kPage);
  const uint64_t vva = *r.vm->AllocateVa(8 * kPage);
  ASSERT_TRUE(r.vm->Map(vva, pa, 8 * kPage).ok());
  AmDmaBuffer host = *r.vfio->AllocHost(4 * kPage);
  const uint64_t hva = *r.vm->AllocateVa(4 * kPage);
  ASSERT_TRUE(r.vm->MapSystem(hva, host.iova, 4 * kPage).ok());
  const std::vector<uint8_t> src = Pattern(kCopy, 41);
  ASSERT_TRUE(r.bars->vram().WriteBlock(pa + 2 * kPage, src).ok());
  ASSERT_TRUE(r.bars->vram().WriteBlock(pa + kPage, std::vector<uint8_t>(8, 0)).ok());

  AmSdmaQueueSpec spec;
  spec.vmid = 1;
  spec.ring_va = vva;
  spec.ring_bytes = kPage;
  spec.rptr_va = vva + kPage;
  spec.doorbell_index = kNavi10DoorbellSdmaEngine0 << 1;
  absl::StatusOr<AmSdmaQueue> q = sdma->CreateQueue(spec);
  ASSERT_TRUE(q.ok()) << q.status();
  uint64_t wptr = 0;
  auto put = [&](uint32_t v) {
    ASSERT_TRUE(r.bars->vram().Write32(pa + wptr, v).ok());
    wptr += 4;
  };
  auto copy = [&](uint64_t dst, uint64_t from, uint64_t bytes) {
    put(sdma::Header(sdma::kOpCopy, sdma::kSubOpCopyLinear));
    put(static_cast<uint32_t>(bytes - 1));
    put(0);
    put(static_cast<uint32_t>(from));
    put(static_cast<uint32_t>(from >> 32));
    put(static_cast<uint32_t>(dst));
    put(static_cast<uint32_t>(dst >> 32));
  };
  copy(hva, vva + 2 * kPage, kCopy);  // VRAM -> host
  copy(vva + 5 * kPage, hva, kCopy);  // host -> VRAM
  put(sdma::Header(sdma::kOpFence));  // a fence into host memory
  put(static_cast<uint32_t>(hva + 3 * kPage));
  put(static_cast<uint32_t>((hva + 3 * kPage) >> 32));
  put(0xC0FFEE);
  put(sdma::Header(sdma::kOpTrap));
  put(7);
  ASSERT_TRUE(sdma->RingDoorbell(*q, wptr).ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5),
                            [&] { return !traps.empty() || !faults.empty(); }));
    ASSERT_TRUE(faults.empty()) << faults[0];
    EXPECT_EQ(traps, std::vector<uint32_t>{7});
  }

  EXPECT_EQ(std::memcmp(host.host, src.data(), kCopy), 0);
  std::vector<uint8_t> back(kCopy);
  ASSERT_TRUE(r.bars->vram().ReadBlock(pa + 5 * kPage, absl::MakeSpan(back)).ok());
  EXPECT_EQ(back, src);
  uint32_t fence;
  std::memcpy(&fence, static_cast<uint8_t*>(host.host) + 3 * kPage, 4);
  EXPECT_EQ(fence, 0xC0FFEEu);
  ASSERT_TRUE(sdma->DestroyQueue(*q).ok());
  engine->FinishChecks();
  EXPECT_TRUE(r.rig->gpu->registers().CheckNoViolations().ok())
      << r.rig->gpu->registers().CheckNoViolations();
  sdma.reset();
  engine.reset();
  ASSERT_TRUE(r.vm->Unmap(hva, 4 * kPage).ok());
  ASSERT_TRUE(r.vm->Unmap(vva, 8 * kPage).ok());
  ASSERT_TRUE(r.vfio->FreeHost(host).ok());
}

TEST(AmVfio, TwoBuffersAdjacentInIovaDoNotTranslateAsOne) {
  DmaRig r;
  AmDmaBuffer a = *r.vfio->AllocHost(kPage);
  AmDmaBuffer b = *r.vfio->AllocHost(kPage);
  ASSERT_EQ(b.iova, a.iova + kPage);  // the allocator packs them
  const uint64_t va = *r.vm->AllocateVa(2 * kPage);
  ASSERT_TRUE(r.vm->MapSystem(va, a.iova, 2 * kPage).ok());
  EmulatedVmSpace space(*r.rig->gmc_model, kGcHub1100Regs, 1, &r.rig->model->iommu());
  EXPECT_EQ(space.Translate(va + kPage, kPage), b.host);
  // Contiguous for the GPU, but two host buffers: no single host pointer.
  ASSERT_NE(static_cast<uint8_t*>(b.host), static_cast<uint8_t*>(a.host) + kPage)
      << "the kernel placed the buffers adjacently; the test needs them apart";
  EXPECT_EQ(space.Translate(va, 2 * kPage), nullptr);
  EXPECT_EQ(space.AllocationAt(va)->size, kPage);
  ASSERT_TRUE(r.vm->Unmap(va, 2 * kPage).ok());
  ASSERT_TRUE(r.vfio->FreeHost(a).ok());
  ASSERT_TRUE(r.vfio->FreeHost(b).ok());
}

TEST(AmVfio, TheWalkerRefusesSystemPtesWithoutSnooped) {
  DmaRig r;
  AmDmaBuffer buf = *r.vfio->AllocHost(kPage);
  const uint64_t va = *r.vm->AllocateVa(kPage);
  ASSERT_TRUE(r.vm->MapSystem(va, buf.iova, kPage).ok());
  // Rewrite the PTE without SNOOPED behind AmVm's back, as a buggy driver
  // would, and let the hub see it.
  const uint64_t pte = *r.vm->PteAt(va) & ~kPteSnooped;
  ASSERT_TRUE(r.bars->vram()
                  .WriteBlock(*r.vm->PteAddress(va),
                              absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(&pte), 8))
                  .ok());
  ASSERT_TRUE(r.gmc->FlushAndInvalidate(1).ok());
  EmulatedVmSpace space(*r.rig->gmc_model, kGcHub1100Regs, 1, &r.rig->model->iommu());
  absl::StatusOr<EmulatedVmSpace::PageWalk> w = space.Walk(va);
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(w.status(), "without SNOOPED")) << w.status();
  ASSERT_TRUE(r.vm->Unmap(va, kPage).ok());
  ASSERT_TRUE(r.vfio->FreeHost(buf).ok());
}

TEST(AmVfio, MapSystemRefusesBadIovasAndMappedVas) {
  DmaRig r;
  AmDmaBuffer buf = *r.vfio->AllocHost(kPage);
  const uint64_t va = *r.vm->AllocateVa(kPage);
  EXPECT_EQ(r.vm->MapSystem(va, buf.iova + 8, kPage).code(), absl::StatusCode::kInvalidArgument);
  absl::Status high = r.vm->MapSystem(va, (uint64_t{1} << 48) - kPage, 2 * kPage);
  EXPECT_EQ(high.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(high, "48-bit")) << high;
  AmVmMapFlags mtype;
  mtype.mtype = 4;
  EXPECT_EQ(r.vm->MapSystem(va, buf.iova, kPage, mtype).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(r.vm->MapSystem(va, buf.iova, kPage).ok());
  absl::Status again = r.vm->MapSystem(va, buf.iova, kPage);
  EXPECT_TRUE(Contains(again, "MapSystem of")) << again;
  EXPECT_TRUE(Contains(again, "already mapped")) << again;
  ASSERT_TRUE(r.vm->Unmap(va, kPage).ok());
  // FreeHost of something AllocHost did not make.
  EXPECT_EQ(r.vfio->FreeHost(AmDmaBuffer{buf.host, buf.iova + kPage, kPage}).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(r.vfio->FreeHost(buf).ok());
}

// ------------------------------------------------------------ interrupts --

TEST(AmVfio, EnableMsiRoutesMsixVectorZeroToAnEventfd) {
  auto rig = MakeRig();
  {
    std::unique_ptr<AmVfio> vfio = *AmVfio::Open(rig->io, kBdf);
    EXPECT_EQ(vfio->irq_eventfd(), -1);
    EXPECT_EQ(vfio->WaitInterrupt(absl::Milliseconds(1)).status().code(),
              absl::StatusCode::kFailedPrecondition);
    absl::StatusOr<int> fd = vfio->EnableMsi();
    ASSERT_TRUE(fd.ok()) << fd.status();
    EXPECT_EQ(vfio->irq_eventfd(), *fd);
    EXPECT_EQ(vfio->irq_index(), vfio::kPciMsixIrq);
    EXPECT_EQ(rig->model->irq_index(), static_cast<int>(vfio::kPciMsixIrq));
    // GET_IRQ_INFO (MSI-X) before SET_IRQS.
    std::vector<unsigned long> ioctls;
    for (const IoCall& c : rig->io.Trace())
      if (c.kind == IoCall::kIoctl) ioctls.push_back(c.request);
    ASSERT_GE(ioctls.size(), 2u);
    EXPECT_EQ(ioctls[ioctls.size() - 2], vfio::kDeviceGetIrqInfo);
    EXPECT_EQ(ioctls.back(), vfio::kDeviceSetIrqs);
    // Nothing sent: the wait sleeps for its timeout, not less.
    absl::Time t0 = absl::Now();
    absl::StatusOr<bool> got = vfio->WaitInterrupt(absl::Milliseconds(20));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_FALSE(*got);
    EXPECT_GE(absl::Now() - t0, absl::Milliseconds(19));
    // An MSI wakes it; the counter is read, so the next wait sleeps again.
    EXPECT_TRUE(rig->model->SignalInterrupt());
    t0 = absl::Now();
    got = vfio->WaitInterrupt(absl::Seconds(10));
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(*got);
    EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
    got = vfio->WaitInterrupt(absl::ZeroDuration());
    ASSERT_TRUE(got.ok());
    EXPECT_FALSE(*got);
    EXPECT_EQ(vfio->EnableMsi().status().code(), absl::StatusCode::kFailedPrecondition);
    ASSERT_TRUE(vfio->DisableMsi().ok());
    EXPECT_EQ(vfio->irq_eventfd(), -1);
    EXPECT_EQ(rig->model->irq_index(), -1);
    EXPECT_FALSE(rig->model->SignalInterrupt());
    EXPECT_TRUE(vfio->DisableMsi().ok());  // nothing to do
    EXPECT_EQ(rig->io.CountOf(IoCall::kIoctl, vfio::kDeviceSetIrqs), 2u);
  }
  EXPECT_EQ(rig->model->interrupts_signalled(), 1u);
  EXPECT_TRUE(rig->Refusals().empty()) << rig->Refusals()[0];
  EXPECT_TRUE(rig->io.CheckClean().ok()) << rig->io.CheckClean();
}

TEST(AmVfio, EnableMsiFallsBackToMsiAndFailsWithNeither) {
  {
    EmulatedVfioConfig vc;
    vc.msix_vectors = 0;
    auto rig = MakeRig(vc);
    std::unique_ptr<AmVfio> vfio = *AmVfio::Open(rig->io, kBdf);
    ASSERT_TRUE(vfio->EnableMsi().ok());
    EXPECT_EQ(vfio->irq_index(), vfio::kPciMsiIrq);
    EXPECT_EQ(rig->model->irq_index(), static_cast<int>(vfio::kPciMsiIrq));
    // The destructor disables it before closing the device.
    vfio.reset();
    EXPECT_EQ(rig->io.CountOf(IoCall::kIoctl, vfio::kDeviceSetIrqs), 2u);
    EXPECT_TRUE(rig->Refusals().empty()) << rig->Refusals()[0];
    EXPECT_TRUE(rig->io.CheckClean().ok());
  }
  EmulatedVfioConfig vc;
  vc.msix_vectors = 0;
  vc.msi_vectors = 0;
  auto rig = MakeRig(vc);
  {
    std::unique_ptr<AmVfio> vfio = *AmVfio::Open(rig->io, kBdf);
    absl::StatusOr<int> fd = vfio->EnableMsi();
    EXPECT_EQ(fd.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(Contains(fd.status(), "VFIO_DEVICE_GET_IRQ_INFO")) << fd.status();
    EXPECT_TRUE(Contains(fd.status(), "neither MSI-X nor MSI")) << fd.status();
    EXPECT_EQ(rig->io.CountOf(IoCall::kIoctl, vfio::kDeviceSetIrqs), 0u);
  }
  EXPECT_TRUE(rig->io.CheckClean().ok());
}

TEST(AmVfio, EnableMsiNamesAFailedSetIrqsAndClosesTheEventfd) {
  auto rig = MakeRig();
  {
    std::unique_ptr<AmVfio> vfio = *AmVfio::Open(rig->io, kBdf);
    rig->io.FailNext(IoCall::kIoctl, vfio::kDeviceSetIrqs, ENOSPC);
    absl::StatusOr<int> fd = vfio->EnableMsi();
    ASSERT_FALSE(fd.ok());
    EXPECT_TRUE(Contains(fd.status(), "VFIO_DEVICE_SET_IRQS")) << fd.status();
    EXPECT_TRUE(Contains(fd.status(), "MSI-X")) << fd.status();
    EXPECT_EQ(vfio->irq_eventfd(), -1);
    EXPECT_EQ(rig->model->irq_index(), -1);
    // It can be tried again.
    ASSERT_TRUE(vfio->EnableMsi().ok());
  }
  EXPECT_TRUE(rig->io.CheckClean().ok()) << rig->io.CheckClean();
}

// Raw SET_IRQS calls the model refuses, each with the kernel's errno (and
// the model's own rule: GET_IRQ_INFO first).
TEST(EmulatedVfio, SetIrqsRefusesBadSequencesAndArguments) {
  auto rig = MakeRig();
  std::unique_ptr<AmVfio> vfio = *AmVfio::Open(rig->io, kBdf);
  const int dev = vfio->device_fd();
  const int efd = *rig->io.Eventfd("test eventfd");
  auto set_irqs = [&](uint32_t index, uint32_t flags, uint32_t count, int32_t fd,
                      uint32_t argsz = sizeof(vfio::irq_set_eventfd)) {
    vfio::irq_set_eventfd s{};
    s.hdr.argsz = argsz;
    s.hdr.flags = flags;
    s.hdr.index = index;
    s.hdr.start = 0;
    s.hdr.count = count;
    s.fd = fd;
    return rig->io.IoctlErrno(dev, vfio::kDeviceSetIrqs, &s);
  };
  auto irq_info = [&](uint32_t index, uint32_t argsz = sizeof(vfio::irq_info)) {
    vfio::irq_info info{};
    info.argsz = argsz;
    info.index = index;
    const int err = rig->io.IoctlErrno(dev, vfio::kDeviceGetIrqInfo, &info);
    return std::make_pair(err, info);
  };
  constexpr uint32_t kTrigger = vfio::kIrqSetDataEventfd | vfio::kIrqSetActionTrigger;
  EXPECT_EQ(set_irqs(vfio::kPciMsixIrq, kTrigger, 1, efd), EINVAL);
  EXPECT_TRUE(rig->Refused("set before VFIO_DEVICE_GET_IRQ_INFO"));
  EXPECT_EQ(irq_info(vfio::kPciMsixIrq, 12).first, EINVAL);
  EXPECT_EQ(irq_info(9).first, EINVAL);
  auto [err, info] = irq_info(vfio::kPciMsixIrq);
  ASSERT_EQ(err, 0);
  EXPECT_EQ(info.count, 1u);
  EXPECT_EQ(info.flags, vfio::kIrqInfoEventfd | vfio::kIrqInfoNoresize);
  auto [intx_err, intx] = irq_info(vfio::kPciIntxIrq);
  ASSERT_EQ(intx_err, 0);
  EXPECT_EQ(intx.flags, vfio::kIrqInfoEventfd | vfio::kIrqInfoMaskable | vfio::kIrqInfoAutomasked);
  EXPECT_EQ(set_irqs(7, kTrigger, 1, efd), EINVAL);
  EXPECT_TRUE(rig->Refused("IRQ index 7 >= 5"));
  EXPECT_EQ(set_irqs(vfio::kPciMsixIrq, kTrigger, 2, efd), EINVAL);
  EXPECT_TRUE(rig->Refused("which has 1"));
  EXPECT_EQ(set_irqs(vfio::kPciMsixIrq, kTrigger, 1, efd, sizeof(vfio::irq_set)), EINVAL);
  EXPECT_TRUE(rig->Refused("fewer than 1 eventfds"));
  EXPECT_EQ(set_irqs(vfio::kPciMsixIrq, kTrigger, 1, efd, 16), EINVAL);
  EXPECT_EQ(set_irqs(vfio::kPciMsixIrq, kTrigger | vfio::kIrqSetDataBool, 1, efd), EINVAL);
  EXPECT_TRUE(rig->Refused("not one data type and one action"));
  EXPECT_EQ(set_irqs(vfio::kPciMsixIrq, kTrigger, 1, dev), EINVAL);
  EXPECT_TRUE(rig->Refused("is not an eventfd"));
  EXPECT_EQ(set_irqs(vfio::kPciIntxIrq, kTrigger, 1, efd), ENOTTY);
  EXPECT_EQ(set_irqs(vfio::kPciMsixIrq, vfio::kIrqSetDataNone | vfio::kIrqSetActionTrigger, 0, -1),
            EINVAL);
  EXPECT_TRUE(rig->Refused("which is not active"));
  EXPECT_EQ(rig->model->irq_index(), -1);
  // The good call, then MSI while MSI-X is active.
  ASSERT_EQ(set_irqs(vfio::kPciMsixIrq, kTrigger, 1, efd), 0);
  EXPECT_EQ(rig->model->irq_index(), static_cast<int>(vfio::kPciMsixIrq));
  ASSERT_EQ(irq_info(vfio::kPciMsiIrq).first, 0);
  EXPECT_EQ(set_irqs(vfio::kPciMsiIrq, kTrigger, 1, efd), EINVAL);
  EXPECT_TRUE(rig->Refused("while index 2 is active"));
  // The model's MSI reaches the eventfd.
  EXPECT_TRUE(rig->model->SignalInterrupt());
  EXPECT_EQ(*rig->io.ReadEventfd(efd), 1u);
  // Closing the device disables the IRQs (vfio_pci_core_disable).
  vfio.reset();
  EXPECT_EQ(rig->model->irq_index(), -1);
  EXPECT_FALSE(rig->model->SignalInterrupt());
  ASSERT_TRUE(rig->io.Close(efd).ok());
  EXPECT_TRUE(rig->io.CheckClean().ok());
}

}  // namespace
}  // namespace uop
