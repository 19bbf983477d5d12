#include "drivers/am/pci/pci_sysfs.h"

#include <cerrno>

#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

constexpr char kRoot[] = "/sys/bus/pci/devices";

void AddOtherFunction(EmulatedKernelIo& io, const std::string& bdf, const char* vendor,
                      const char* cls) {
  const std::string dir = std::string(kRoot) + "/" + bdf;
  io.AddFile(dir + "/vendor", vendor);
  io.AddFile(dir + "/device", "0x1234\n");
  io.AddFile(dir + "/class", cls);
  io.AddFile(dir + "/resource", "not read for devices that are not AMD GPUs\n");
}

TEST(PciSysfs, FindsAmdGpusOnlyWithTheirBars) {
  EmulatedKernelIo io;
  EmulatedPciGpuConfig config;
  config.vram_size = 512 << 20;
  auto gpu = EmulatedPciGpu::Install(io, config);
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  AddOtherFunction(io, "0000:03:00.1", "0x1002\n", "0x040300\n");  // the GPU's HDMI audio
  AddOtherFunction(io, "0000:00:02.0", "0x8086\n", "0x030000\n");  // another vendor's GPU
  AddOtherFunction(io, "0000:00:1f.6", "0x8086\n", "0x020000\n");  // a NIC

  absl::StatusOr<std::vector<PciFunction>> gpus = FindAmdGpus(io, kRoot);
  ASSERT_TRUE(gpus.ok()) << gpus.status();
  ASSERT_EQ(gpus->size(), 1u);
  const PciFunction& fn = (*gpus)[0];
  EXPECT_EQ(fn.bdf, "0000:03:00.0");
  EXPECT_EQ(fn.dir, "/sys/bus/pci/devices/0000:03:00.0");
  EXPECT_EQ(fn.vendor, 0x1002);
  EXPECT_EQ(fn.device, 0x743f);
  EXPECT_EQ(fn.class_code, 0x030000u);
  EXPECT_EQ(fn.bars[0].size(), 512u << 20);
  EXPECT_TRUE(fn.bars[0].memory());
  EXPECT_TRUE(fn.bars[0].prefetchable());
  EXPECT_EQ(fn.bars[2].size(), 2u << 20);
  EXPECT_FALSE(fn.bars[1].present());
  EXPECT_FALSE(fn.bars[4].memory());  // I/O ports
  EXPECT_EQ(fn.bars[5].size(), 1u << 20);
  EXPECT_FALSE(fn.bars[5].prefetchable());
  EXPECT_EQ(fn.bars[5].start, 0xfcd00000u);
}

TEST(PciSysfs, DriverlessGpusAreThoseWithoutADriverLink) {
  EmulatedKernelIo io;
  EmulatedPciGpuConfig a, b;
  b.bdf = "0000:04:00.0";
  auto ga = EmulatedPciGpu::Install(io, a);
  auto gb = EmulatedPciGpu::Install(io, b);
  ASSERT_TRUE(ga.ok() && gb.ok());
  EmulatedPciGpuConfig c;
  c.bdf = "0000:05:00.0";
  auto gc = EmulatedPciGpu::Install(io, c);
  ASSERT_TRUE(gc.ok());
  io.AddFile((*gb)->dir() + "/driver/unbind", "");  // amdgpu drives 04:00.0
  io.AddFile((*gb)->dir() + "/uevent", "DRIVER=amdgpu\nPCI_SLOT_NAME=0000:04:00.0\n");
  io.AddFile((*gc)->dir() + "/driver/unbind", "");  // vfio-pci holds 05:00.0 for us
  io.AddFile((*gc)->dir() + "/uevent", "DRIVER=vfio-pci\nPCI_SLOT_NAME=0000:05:00.0\n");
  absl::StatusOr<std::vector<PciFunction>> free = FindDriverlessAmdGpus(io);
  ASSERT_TRUE(free.ok()) << free.status();
  ASSERT_EQ(free->size(), 2u);
  EXPECT_EQ((*free)[0].bdf, "0000:03:00.0");
  EXPECT_EQ((*free)[0].driver, "");
  EXPECT_EQ((*free)[1].bdf, "0000:05:00.0");
  EXPECT_EQ((*free)[1].driver, "vfio-pci");
  ASSERT_TRUE(FindAmdGpus(io).ok());
  EXPECT_EQ(FindAmdGpus(io)->size(), 3u);
}

TEST(PciSysfs, NoGpuIsAnEmptyListAndAnUnreadableRootAnError) {
  EmulatedKernelIo io;
  AddOtherFunction(io, "0000:00:1f.6", "0x8086\n", "0x020000\n");
  absl::StatusOr<std::vector<PciFunction>> gpus = FindAmdGpus(io, kRoot);
  ASSERT_TRUE(gpus.ok());
  EXPECT_TRUE(gpus->empty());
  EXPECT_EQ(FindAmdGpus(io, "/sys/bus/absent").status().code(), absl::StatusCode::kNotFound);
}

TEST(PciSysfs, ParsesResourcesAndRejectsMalformedOnes) {
  const std::string ok =
      "0x0000007800000000 0x000000780fffffff 0x000000000014220c\n"
      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
      "0x0000007c00000000 0x0000007c001fffff 0x000000000014220c\n"
      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
      "0x000000000000e000 0x000000000000e0ff 0x0000000000040101\n"
      "0x00000000fcd00000 0x00000000fcdfffff 0x0000000000040200\n"
      "0x00000000fce00000 0x00000000fce1ffff 0x0000000000046200\n";
  absl::StatusOr<std::array<PciBar, 6>> bars = ParsePciResources(ok);
  ASSERT_TRUE(bars.ok()) << bars.status();
  EXPECT_EQ((*bars)[0].size(), 256u << 20);
  EXPECT_EQ((*bars)[5].flags, 0x40200u);

  EXPECT_FALSE(ParsePciResources("0x0 0x1\n").ok());
  EXPECT_FALSE(ParsePciResources(ok.substr(0, ok.find("0x00000000fcd00000"))).ok());  // 5 lines
  std::string bad_hex = ok;
  bad_hex.replace(0, 4, "zz00");
  absl::Status s = ParsePciResources(bad_hex).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("resource line 0"), absl::string_view::npos) << s;
  std::string reversed = ok;
  reversed.replace(0, 18, "0x0000007900000000");  // start above end
  EXPECT_FALSE(ParsePciResources(reversed).ok());
}

TEST(PciSysfs, EnableWritesEnableThenCommandAndTheDeviceSeesBoth) {
  EmulatedKernelIo io;
  auto gpu = EmulatedPciGpu::Install(io, {});
  ASSERT_TRUE(gpu.ok());
  absl::StatusOr<std::vector<PciFunction>> gpus = FindAmdGpus(io, kRoot);
  ASSERT_TRUE(gpus.ok() && gpus->size() == 1);
  const PciFunction& fn = (*gpus)[0];

  // Before: the emulator refuses the state, and the liveness probe says why.
  EXPECT_FALSE((*gpu)->CheckEnabled().ok());
  absl::Status before = CheckPciAlive(io, fn);
  EXPECT_EQ(before.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(before.message().find("memory decoding is off"), absl::string_view::npos) << before;

  const size_t start = io.Trace().size();
  ASSERT_TRUE(EnablePciFunction(io, fn).ok());
  std::vector<IoCall> trace = io.Trace();
  EXPECT_TRUE((*gpu)->CheckEnabled().ok()) << (*gpu)->CheckEnabled();
  EXPECT_TRUE(CheckPciAlive(io, fn).ok());

  // The order: enable, read config, write Command, read it back.
  std::vector<std::pair<IoCall::Kind, std::string>> seen;
  for (size_t i = start; i < trace.size(); ++i) seen.push_back({trace[i].kind, trace[i].path});
  const std::string dir = fn.dir;
  const std::vector<std::pair<IoCall::Kind, std::string>> want = {
      {IoCall::kWriteFile, dir + "/enable"},
      {IoCall::kReadFile, dir + "/config"},
      {IoCall::kWriteFile, dir + "/config"},
      {IoCall::kReadFile, dir + "/config"},
  };
  EXPECT_EQ(seen, want);
  // Only the Command register was written: the rest of config is intact.
  std::string config = *io.FileContents(dir + "/config");
  EXPECT_EQ(config.size(), 256u);
  EXPECT_EQ(static_cast<uint8_t>(config[0]), 0x02);
  EXPECT_EQ(static_cast<uint8_t>(config[1]), 0x10);
  EXPECT_EQ(static_cast<uint8_t>(config[4]), kPciCommandMemory | kPciCommandMaster);
  EXPECT_EQ(static_cast<uint8_t>(config[6]), 0x10);  // Status untouched
}

TEST(PciSysfs, EnableFailuresNameTheFile) {
  EmulatedKernelIo io;
  auto gpu = EmulatedPciGpu::Install(io, {});
  ASSERT_TRUE(gpu.ok());
  PciFunction fn = (*FindAmdGpus(io, kRoot))[0];
  io.FailNext(IoCall::kWriteFile, 0, EACCES);  // not root
  absl::Status s = EnablePciFunction(io, fn);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("0000:03:00.0/enable"), absl::string_view::npos) << s;
  EXPECT_FALSE((*gpu)->CheckEnabled().ok());

  io.AddFile(fn.Path("config"), std::string(32, '\0'));  // truncated config space
  s = EnablePciFunction(io, fn);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("32 bytes"), absl::string_view::npos) << s;
}

TEST(PciSysfs, ARemovedDeviceFailsTheProbe) {
  EmulatedKernelIo io;
  EmulatedPciGpuConfig config;
  config.vram_size = 64 << 20;  // Remove() fills VRAM with 0xFF
  auto gpu = EmulatedPciGpu::Install(io, config);
  ASSERT_TRUE(gpu.ok());
  PciFunction fn = (*FindAmdGpus(io, kRoot))[0];
  ASSERT_TRUE(EnablePciFunction(io, fn).ok());
  (*gpu)->Remove();
  absl::Status s = CheckPciAlive(io, fn);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("0xffff"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("gone"), absl::string_view::npos) << s;
  EXPECT_EQ(EnablePciFunction(io, fn).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace uop
