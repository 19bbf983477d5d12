#include "drivers/am/pci/pci_bars.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>

#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

constexpr char kRoot[] = "/sys/bus/pci/devices";

struct Rig {
  EmulatedKernelIo io;
  std::shared_ptr<EmulatedPciGpu> gpu;
  PciFunction fn;
};

std::unique_ptr<Rig> MakeRig(EmulatedPciGpuConfig config = {}) {
  auto rig = std::make_unique<Rig>();
  absl::StatusOr<std::shared_ptr<EmulatedPciGpu>> gpu = EmulatedPciGpu::Install(rig->io, config);
  EXPECT_TRUE(gpu.ok()) << gpu.status();
  rig->gpu = *gpu;
  rig->fn = (*FindAmdGpus(rig->io, kRoot))[0];
  return rig;
}

// Index of the first trace entry of `kind` on `path`, or -1.
int IndexOf(const std::vector<IoCall>& trace, IoCall::Kind kind, const std::string& path) {
  for (size_t i = 0; i < trace.size(); ++i)
    if (trace[i].kind == kind && trace[i].path == path) return static_cast<int>(i);
  return -1;
}

TEST(AmPciBars, EnablesThenMapsRegistersVramAndDoorbells) {
  auto rig = MakeRig();
  {
    absl::StatusOr<std::unique_ptr<AmPciBars>> bars = AmPciBars::Open(rig->io, rig->fn);
    ASSERT_TRUE(bars.ok()) << bars.status();
    EXPECT_TRUE(rig->gpu->CheckEnabled().ok());
    EXPECT_EQ(rig->gpu->MappingsOf(0), 1);
    EXPECT_EQ(rig->gpu->MappingsOf(2), 1);
    EXPECT_EQ(rig->gpu->MappingsOf(5), 1);
    EXPECT_EQ((*bars)->regs().size(), 1u << 20);
    EXPECT_EQ((*bars)->vram().size(), 1u << 30);
    EXPECT_EQ((*bars)->doorbells().size(), 2u << 20);

    // Register reads see the device's register file, writes reach it.
    absl::StatusOr<uint32_t> mib = (*bars)->regs().Read32(4 * kRegRccConfigMemsize);
    ASSERT_TRUE(mib.ok()) << mib.status();
    EXPECT_EQ(*mib, 1024u);
    ASSERT_TRUE((*bars)->regs().Write32(4 * 0x100, 0xabcd1234).ok());
    EXPECT_EQ(rig->gpu->Register(0x100), 0xabcd1234u);
    // The register BAR is trapped (each access reaches the model, in order);
    // VRAM and doorbells are plain mappings.
    EXPECT_TRUE((*bars)->regs().trapped());
    EXPECT_FALSE((*bars)->vram().trapped());
    EXPECT_FALSE((*bars)->doorbells().trapped());
    const std::vector<EmulatedRegisterFile::Access> log = rig->gpu->registers().log();
    ASSERT_EQ(log.size(), 2u);
    EXPECT_FALSE(log[0].write);
    EXPECT_EQ(log[0].dword, kRegRccConfigMemsize);
    EXPECT_TRUE(log[1].write);
    EXPECT_EQ(log[1].dword, 0x100u);
    EXPECT_EQ(log[1].value, 0xabcd1234u);

    // Enable (both writes) before any BAR is opened; every BAR mapped.
    std::vector<IoCall> trace = rig->io.Trace();
    const int enable = IndexOf(trace, IoCall::kWriteFile, rig->fn.Path("enable"));
    const int command = IndexOf(trace, IoCall::kWriteFile, rig->fn.Path("config"));
    const int first_open = IndexOf(trace, IoCall::kOpen, rig->fn.Path("resource5"));
    ASSERT_GE(enable, 0);
    ASSERT_GE(command, 0);
    EXPECT_LT(enable, command);
    EXPECT_LT(command, first_open);
    for (const char* r : {"resource0", "resource2", "resource5"}) {
      EXPECT_GE(IndexOf(trace, IoCall::kMmap, rig->fn.Path(r)), 0) << r;
    }
  }
  EXPECT_EQ(rig->gpu->MappingsOf(0) + rig->gpu->MappingsOf(2) + rig->gpu->MappingsOf(5), 0);
  EXPECT_TRUE(rig->io.CheckClean().ok()) << rig->io.CheckClean();
}

TEST(AmPciBars, AllOnesReadsOfARemovedDeviceAreErrorsNotData) {
  EmulatedPciGpuConfig config;
  config.vram_size = 64 << 20;
  auto rig = MakeRig(config);
  absl::StatusOr<std::unique_ptr<AmPciBars>> bars = AmPciBars::Open(rig->io, rig->fn);
  ASSERT_TRUE(bars.ok()) << bars.status();
  // A register that legitimately reads all-ones on a live device is data.
  rig->gpu->SetRegister(0x200, 0xFFFFFFFF);
  absl::StatusOr<uint32_t> v = (*bars)->regs().Read32(4 * 0x200);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 0xFFFFFFFFu);

  rig->gpu->Remove();
  absl::Status s = (*bars)->regs().Read32(4 * kRegRccConfigMemsize).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("BAR5 (registers)"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("0000:03:00.0"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("gone"), absl::string_view::npos) << s;
  std::vector<uint8_t> page(4096);
  s = (*bars)->vram().ReadBlock(0, absl::MakeSpan(page));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("BAR0 (VRAM aperture)"), absl::string_view::npos) << s;
}

TEST(AmPciBars, ADriverThatSkipsEnableReadsAllOnesAndIsToldWhy) {
  // The missing step: mapping BAR5 without turning memory decoding on.
  auto rig = MakeRig();
  absl::StatusOr<int> fd = rig->io.Open(rig->fn.Path("resource5"), O_RDWR | O_SYNC);
  ASSERT_TRUE(fd.ok());
  absl::StatusOr<void*> p =
      rig->io.Mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0, "resource5");
  ASSERT_TRUE(p.ok()) << p.status();
  KernelIo* io = &rig->io;
  const PciFunction fn = rig->fn;
  MmioRegion regs("AM 0000:03:00.0", "BAR5 (registers)", static_cast<volatile uint8_t*>(*p),
                  1 << 20, [io, fn] { return CheckPciAlive(*io, fn); });
  absl::Status s = regs.Read32(4 * kRegRccConfigMemsize).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("memory decoding is off"), absl::string_view::npos) << s;
  EXPECT_FALSE(rig->gpu->CheckEnabled().ok());
  ASSERT_TRUE(rig->io.Munmap(*p, 1 << 20).ok());
  ASSERT_TRUE(rig->io.Close(*fd).ok());
}

TEST(AmPciBars, RefusesBarsNotLaidOutLikeAnAmdGpuAndLeaksNothing) {
  auto rig = MakeRig();
  PciFunction fn = rig->fn;
  fn.bars[5].flags |= kResourcePrefetch;  // a prefetchable "register" BAR
  absl::Status s = AmPciBars::Open(rig->io, fn).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("BAR5 (registers)"), absl::string_view::npos) << s;

  fn = rig->fn;
  fn.bars[2] = PciBar{};  // no doorbell BAR: fails after BAR5 and BAR0 mapped
  s = AmPciBars::Open(rig->io, fn).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("BAR2 (doorbell aperture) is absent"), absl::string_view::npos) << s;
  EXPECT_TRUE(rig->io.CheckClean().ok()) << rig->io.CheckClean();

  fn = rig->fn;
  fn.vendor = 0x10de;
  EXPECT_EQ(AmPciBars::Open(rig->io, fn).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AmPciBars, AFailedMapIsAnErrorAndLeaksNothing) {
  auto rig = MakeRig();
  rig->io.FailNext(IoCall::kMmap, 0, ENOMEM);
  absl::Status s = AmPciBars::Open(rig->io, rig->fn).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("resource5"), absl::string_view::npos) << s;
  EXPECT_TRUE(rig->io.CheckClean().ok()) << rig->io.CheckClean();
  // A BAR mapped past its size fails in the device model.
  absl::StatusOr<int> fd = rig->io.Open(rig->fn.Path("resource5"), O_RDWR);
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(
      rig->io.Mmap(nullptr, 2 << 20, PROT_READ, MAP_SHARED, *fd, 0, "resource5").status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      rig->io.Mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, *fd, 0, "resource5").status().code(),
      absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(rig->io.Close(*fd).ok());
}

}  // namespace
}  // namespace uop
