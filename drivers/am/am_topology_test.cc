#include "drivers/am/am_topology.h"

#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(AmTopology, ArchitectureNamesFromTargetVersions) {
  EXPECT_EQ(GfxArchFromTargetVersion(110000), "gfx1100");
  EXPECT_EQ(GfxArchFromTargetVersion(90010), "gfx90a");
  EXPECT_EQ(GfxArchFromTargetVersion(90402), "gfx942");
  EXPECT_EQ(GfxArchFromTargetVersion(100302), "gfx1032");
  EXPECT_EQ(GfxArchFromTargetVersion(120001), "gfx1201");
}

TEST(AmTopology, ParsesPropertiesAndRejectsBadLines) {
  absl::StatusOr<std::map<std::string, uint64_t>> p =
      ParseKfdProperties("simd_count 96\ngfx_target_version 110000\n\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->at("simd_count"), 96u);
  absl::StatusOr<std::map<std::string, uint64_t>> bad = ParseKfdProperties("simd_count many\n");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("simd_count many"), absl::string_view::npos);
}

TEST(AmTopology, FindsOnlyGpuNodesInOrder) {
  EmulatedKernelIo io;
  const std::string t = kKfdTopology;
  io.AddFile(t + "/0/gpu_id", "0\n");
  io.AddFile(t + "/0/properties", "cpu_cores_count 16\n");
  io.AddFile(t + "/2/gpu_id", "777\n");
  io.AddFile(t + "/2/properties", "simd_count 120\nsimd_per_cu 2\ngfx_target_version 90010\n");
  io.AddFile(t + "/1/gpu_id", "4660\n");
  io.AddFile(t + "/1/properties", "simd_count 96\nsimd_per_cu 2\ngfx_target_version 110000\n");
  absl::StatusOr<std::vector<AmGpuNode>> gpus = FindKfdGpus(io);
  ASSERT_TRUE(gpus.ok()) << gpus.status();
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_EQ((*gpus)[0].node, 1);
  EXPECT_EQ((*gpus)[0].gpu_id, 4660u);
  EXPECT_EQ((*gpus)[0].arch, "gfx1100");
  EXPECT_EQ((*gpus)[0].compute_units(), 48);
  EXPECT_EQ((*gpus)[1].arch, "gfx90a");
  EXPECT_EQ((*gpus)[1].property("missing", 5), 5u);
}

TEST(AmTopology, NoKfdMeansNoGpus) {
  EmulatedKernelIo io;
  absl::StatusOr<std::vector<AmGpuNode>> gpus = FindKfdGpus(io);
  ASSERT_TRUE(gpus.ok()) << gpus.status();
  EXPECT_TRUE(gpus->empty());
}

TEST(AmTopology, LibdrmEnumerationRunsHere) {
  // This machine may have no AMD GPU; the call must still work and report
  // only AMD devices.
  for (const DrmGpu& g : ListAmdDrmDevices()) {
    EXPECT_EQ(g.vendor_id, 0x1002);
    EXPECT_FALSE(g.render_node.empty());
  }
}

}  // namespace
}  // namespace uop
