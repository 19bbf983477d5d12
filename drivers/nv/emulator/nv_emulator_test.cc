// The NV emulator's own checks, driven through the driver's RM/UVM wrappers
// and raw seam calls: the emulator must refuse what the kernel driver and
// the GPU refuse (unknown handles and classes, objects under the wrong
// parent, ioctls of the wrong size, UVM calls out of order, GPU mappings
// outside their range, CPU mappings nobody asked RM for, GPU accesses to
// unmapped memory), so driver tests on it mean something.
#include "drivers/nv/emulator/nv_emulator.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <memory>

#include "absl/strings/match.h"
#include "drivers/common/emulated_kernel_io.h"
#include "drivers/common/ioctl.h"
#include "drivers/nv/emulator/nv_emu_device.h"
#include "drivers/nv/include/nv_rm_abi.h"
#include "drivers/nv/nv_device.h"
#include "drivers/nv/nv_queue.h"
#include "drivers/nv/nv_rm.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

struct Seam {
  std::shared_ptr<NvEmulator> emu = std::make_shared<NvEmulator>(NvEmulator::Options{});
  std::shared_ptr<EmulatedKernelIo> io = std::make_shared<EmulatedKernelIo>();
  Seam() { emu->Install(*io); }
};

TEST(NvEmulator, RmRefusesUnknownHandlesClassesAndParents) {
  Seam s;
  absl::StatusOr<std::unique_ptr<NvRm>> rm = NvRm::Open(*s.io, "/dev/nvidiactl", "NV:0");
  ASSERT_TRUE(rm.ok()) << rm.status();
  NvRm& r = **rm;
  // Freeing what was never allocated.
  absl::Status st = r.Free(r.root(), 0x1234);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "NV_ERR_INVALID_OBJECT_HANDLE")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "0x00001234")) << st;
  // A subdevice directly under the client (it belongs under a device).
  nvrm::NV2080_ALLOC_PARAMETERS sp{};
  st = r.Alloc(r.root(), nvrm::kSubdevice0, &sp, sizeof(sp)).status();
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(absl::StrContains(st.message(), "class 0x2080")) << st;
  nvrm::NV0080_ALLOC_PARAMETERS dp{};
  dp.hClientShare = r.root();
  absl::StatusOr<nvrm::Handle> dev = r.Alloc(r.root(), nvrm::kDevice0, &dp, sizeof(dp));
  ASSERT_TRUE(dev.ok()) << dev.status();
  // A class this GPU does not have.
  st = r.Alloc(*dev, 0xbeef, nullptr, 0).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "NV_ERR_INVALID_CLASS")) << st;
  // Freed twice: the second is an unknown handle.
  ASSERT_TRUE(r.Free(r.root(), *dev).ok());
  EXPECT_FALSE(r.Free(r.root(), *dev).ok());
  rm->reset();
  EXPECT_TRUE(s.io->CheckClean().ok()) << s.io->CheckClean();
}

TEST(NvEmulator, IoctlsOfTheWrongSizeOrNodeAreRefused) {
  Seam s;
  absl::StatusOr<int> fd = s.io->Open("/dev/nvidiactl", O_RDWR);
  ASSERT_TRUE(fd.ok());
  // NV_ESC_RM_ALLOC's number with a size no driver struct has.
  uint8_t junk[24] = {};
  const unsigned long bad =
      IocEncode(kIocRead | kIocWrite, nvrm::kIoctlMagic, IocNr(nvrm::kIoctlRmAlloc), sizeof(junk));
  absl::Status st = s.io->Ioctl(*fd, bad, junk, "NV_ESC_RM_ALLOC (short)");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  // UVM's calls before UVM_INITIALIZE.
  absl::StatusOr<int> uvm = s.io->Open("/dev/nvidia-uvm", O_RDWR);
  ASSERT_TRUE(uvm.ok());
  nvrm::UVM_CREATE_EXTERNAL_RANGE_PARAMS r{0x1000000000, 4096, 0};
  EXPECT_FALSE(
      s.io->Ioctl(*uvm, nvrm::kUvmCreateExternalRange, &r, "UVM_CREATE_EXTERNAL_RANGE").ok());
  // A GPU node that was never registered with a control fd.
  absl::StatusOr<int> gpu = s.io->Open("/dev/nvidia0", O_RDWR);
  ASSERT_TRUE(gpu.ok());
  nvrm::nv_ioctl_nvos02_parameters_with_fd m{};
  EXPECT_FALSE(s.io->Ioctl(*gpu, nvrm::kIoctlRmAllocMemory, &m, "NV_ESC_RM_ALLOC_MEMORY").ok());
  // An mmap that no NV_ESC_RM_MAP_MEMORY prepared.
  EXPECT_FALSE(
      s.io->Mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, *gpu, 0, "unprepared").ok());
  for (int f : {*fd, *uvm, *gpu}) ASSERT_TRUE(s.io->Close(f).ok());
}

TEST(NvEmulator, UvmChecksRangesAndMappingBounds) {
  NvEmulator* emu;
  absl::StatusOr<std::unique_ptr<NvDevice>> d = CreateEmulatedNvDevice({}, {}, &emu);
  ASSERT_TRUE(d.ok()) << d.status();
  NvDevice& dev = **d;
  absl::StatusOr<NvAllocation> a = dev.vmm().Allocate(8192, NvMemKind::kDevice);
  ASSERT_TRUE(a.ok()) << a.status();
  NvRm& rm = dev.rm();
  // A range that overlaps one in use.
  absl::Status st = dev.uvm().CreateExternalRange(a->va, 4096);
  EXPECT_TRUE(absl::StrContains(st.message(), "UVM_CREATE_EXTERNAL_RANGE")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "NV_ERR_INVALID_ARGUMENT")) << st;
  // A mapping outside every external range, and one larger than the memory.
  st = dev.uvm().MapExternal(dev.uuid(), a->va + (uint64_t{1} << 40), 4096, rm.ctl_fd(), rm.root(),
                             a->memory);
  EXPECT_TRUE(absl::StrContains(st.message(), "UVM_MAP_EXTERNAL_ALLOCATION")) << st;
  ASSERT_TRUE(dev.uvm().CreateExternalRange(a->va + (uint64_t{1} << 40), 1 << 20).ok());
  st = dev.uvm().MapExternal(dev.uuid(), a->va + (uint64_t{1} << 40), 1 << 20, rm.ctl_fd(),
                             rm.root(), a->memory);
  EXPECT_FALSE(st.ok());
  // Freeing a range that does not exist.
  EXPECT_FALSE(dev.uvm().Free(a->va + 4096, 4096).ok());
  ASSERT_TRUE(dev.uvm().Free(a->va + (uint64_t{1} << 40), 1 << 20).ok());
  ASSERT_TRUE(dev.vmm().Free(*a).ok());
  EXPECT_EQ(emu->fault(), "");
}

TEST(NvEmulator, GpuAccessToUnmappedMemoryFaultsTheChannel) {
  NvEmulator* emu;
  NvDevice::Options o;
  o.wait_timeout = absl::Milliseconds(200);
  absl::StatusOr<std::unique_ptr<NvDevice>> d = CreateEmulatedNvDevice({}, std::move(o), &emu);
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<std::unique_ptr<NvEngine>> e =
      NvEngine::Create(d->get(), "NV:0/faulty", absl::Milliseconds(200));
  ASSERT_TRUE(e.ok()) << e.status();
  absl::StatusOr<NvAllocation> a = (*d)->vmm().Allocate(4096, NvMemKind::kDevice);
  ASSERT_TRUE(a.ok());
  // A copy into GPU memory nothing is mapped at.
  ASSERT_TRUE((*e)->AddRawCopy(uint64_t{0x6000} << 32, a->va, 256).ok());
  absl::StatusOr<uint64_t> fence = (*e)->Flush();
  ASSERT_TRUE(fence.ok());
  absl::Status st = (*e)->AwaitFence(*fence, absl::Milliseconds(200), "a faulting copy");
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "NV:0/faulty")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "a faulting copy")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "copy notifier [00000000 00000000 000000e1")) << st;
  EXPECT_TRUE(absl::StrContains(emu->fault(), "MMU fault")) << emu->fault();
  e->reset();
  ASSERT_TRUE((*d)->vmm().Free(*a).ok());
}

}  // namespace
}  // namespace uop
