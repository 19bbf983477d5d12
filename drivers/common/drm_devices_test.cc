#include "drivers/common/drm_devices.h"

#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(DrmDevices, DescribesEachKind) {
  EXPECT_EQ(DescribeHostGpu({.node = "/dev/dri/renderD128",
                             .bus = "pci",
                             .location = "0000:03:00.0",
                             .vendor_id = 0x1002,
                             .device_id = 0x744c,
                             .backend = "AM"}),
            "AMD 1002:744c at 0000:03:00.0 (/dev/dri/renderD128, backend AM)");
  EXPECT_EQ(DescribeHostGpu({.node = "/dev/dri/renderD129",
                             .bus = "pci",
                             .location = "0000:41:00.0",
                             .vendor_id = 0x1234,
                             .device_id = 0x1111}),
            "GPU 1234:1111 at 0000:41:00.0 (/dev/dri/renderD129)");
  EXPECT_EQ(DescribeHostGpu({.node = "/dev/kgsl-3d0", .bus = "kgsl", .backend = "QCOM"}),
            "Qualcomm Adreno (KGSL) (/dev/kgsl-3d0, backend QCOM)");
  EXPECT_EQ(DescribeHostGpu(
                {.node = "/dev/dri/renderD128", .bus = "platform", .location = "/soc/gpu@3d00000"}),
            "platform GPU /soc/gpu@3d00000 (/dev/dri/renderD128)");
}

TEST(DrmDevices, BackendsByVendor) {
  EXPECT_EQ(BackendForPciVendor(0x1002), "AM");
  EXPECT_EQ(BackendForPciVendor(0x10de), "NV, CUDA");
  EXPECT_EQ(BackendForPciVendor(0x8086), "");
}

TEST(DrmDevices, ListingNeverFails) {
  // Whatever this host has (CI: usually nothing), every entry is complete.
  for (const HostGpu& g : ListHostGpus()) {
    EXPECT_FALSE(g.node.empty());
    EXPECT_FALSE(g.bus.empty());
  }
}

}  // namespace
}  // namespace uop
