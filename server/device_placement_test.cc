#include "server/device_placement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/model_config.h"

namespace uop::server {
namespace {

using ::testing::HasSubstr;

inference::ModelConfig Config(const std::string& text) {
  absl::StatusOr<inference::ModelConfig> c = ParseModelConfigText(text, "test");
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

std::vector<std::string> Devices(const std::vector<InstancePlacement>& p) {
  std::vector<std::string> out;
  for (const InstancePlacement& i : p) out.push_back(i.device);
  return out;
}

TEST(PlaceInstances, CountOnEachListedGpu) {
  GpuSet gpus{"CUDA", 3, {}};
  auto p = PlaceInstances(Config("instance_group [{ kind: KIND_GPU count: 2 gpus: [2, 0] }]"), "m",
                          gpus);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(Devices(*p), ::testing::ElementsAre("CUDA:2", "CUDA:2", "CUDA:0", "CUDA:0"));
  EXPECT_EQ((*p)[0].gpu, 2);
  EXPECT_EQ((*p)[3].gpu, 0);
}

TEST(PlaceInstances, NoGpuListMeansEveryGpu) {
  GpuSet gpus{"NULL", 4, {}};
  auto p = PlaceInstances(Config("instance_group [{ kind: KIND_GPU }]"), "m", gpus);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(Devices(*p), ::testing::ElementsAre("NULL:0", "NULL:1", "NULL:2", "NULL:3"));
}

TEST(PlaceInstances, CpuGroupsUnchangedAndMixed) {
  GpuSet gpus{"CUDA", 1, {}};
  auto p = PlaceInstances(
      Config("instance_group [{ kind: KIND_CPU count: 2 }, { kind: KIND_GPU gpus: [0] }]"), "m",
      gpus);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(Devices(*p), ::testing::ElementsAre("CPU", "CPU", "CUDA:0"));
  EXPECT_EQ((*p)[0].gpu, -1);
  // No group at all: one CPU instance.
  auto none = PlaceInstances(Config(""), "m", gpus);
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(Devices(*none), ::testing::ElementsAre("CPU"));
}

TEST(PlaceInstances, MissingGpuIsRefusedNamingModelAndGpu) {
  GpuSet gpus{"CUDA", 2, {}};
  auto p = PlaceInstances(Config("instance_group [{ name: \"g\" kind: KIND_GPU gpus: [0, 5] }]"),
                          "resnet", gpus);
  ASSERT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("model 'resnet' instance_group 'g' names GPU 5"));
  EXPECT_THAT(p.status().message(), HasSubstr("owns 2 GPU(s), ids 0..1"));

  auto twice =
      PlaceInstances(Config("instance_group [{ kind: KIND_GPU gpus: [1, 1] }]"), "m", gpus);
  EXPECT_THAT(twice.status().message(), HasSubstr("lists GPU 1 twice"));

  auto cpu = PlaceInstances(Config("instance_group [{ kind: KIND_CPU gpus: [0] }]"), "m", gpus);
  EXPECT_THAT(cpu.status().message(), HasSubstr("lists gpus but is not KIND_GPU"));
}

TEST(PlaceInstances, GpuKindWithoutGpusIsRefused) {
  GpuSet none{"CUDA", 0, {}};
  auto p = PlaceInstances(Config("instance_group [{ kind: KIND_GPU }]"), "m", none);
  ASSERT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("KIND_GPU but uopd owns no GPU"));
}

TEST(DeviceIndex, DistinctDevicesInFirstUseOrder) {
  std::vector<std::string> devices;
  std::vector<int> index;
  DeviceIndex({{"CUDA:1", 1}, {"CUDA:0", 0}, {"CUDA:1", 1}, {"CPU", -1}}, &devices, &index);
  EXPECT_THAT(devices, ::testing::ElementsAre("CUDA:1", "CUDA:0", "CPU"));
  EXPECT_THAT(index, ::testing::ElementsAre(0, 1, 0, 2));
}

TEST(DiscoverGpus, CountsRegisteredDevicesOfThePrefix) {
  EXPECT_EQ(DiscoverGpus("NULL", -1).count, 4);
  EXPECT_EQ(DiscoverGpus("NULL", 2).count, 2);
  EXPECT_EQ(DiscoverGpus("NOSUCH", -1).count, 0);
  EXPECT_EQ(DiscoverGpus("NULL", 2).Name(1), "NULL:1");
}

TEST(GpuMemoryBudget, ReservesAllOrNothingAndReleases) {
  GpuSet gpus{"CUDA", 2, {1000, 0}};
  GpuMemoryBudget budget(gpus, /*budget_bytes=*/600);
  EXPECT_EQ(budget.budget(0), 600);
  EXPECT_EQ(budget.budget(1), 600);
  auto a = budget.Reserve("a", {{0, 400}, {1, 100}});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(budget.used(0), 400);
  // 400 + 300 > 600 on GPU 0: nothing is taken, not even GPU 1's share.
  auto b = budget.Reserve("b", {{1, 100}, {0, 300}});
  ASSERT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(b.status().message(), HasSubstr("model 'b' needs"));
  EXPECT_THAT(b.status().message(), HasSubstr("on GPU 0 (CUDA:0)"));
  EXPECT_THAT(b.status().message(), HasSubstr("--gpu-memory-budget-mb"));
  EXPECT_EQ(budget.used(1), 100);
  a->reset();
  EXPECT_EQ(budget.used(0), 0);
  EXPECT_EQ(budget.used(1), 0);
  EXPECT_TRUE(budget.Reserve("b", {{1, 100}, {0, 300}}).ok());
}

TEST(GpuMemoryBudget, DefaultsToEachGpusTotalAndUnknownIsUnlimited) {
  GpuMemoryBudget budget(GpuSet{"CUDA", 2, {1000, 0}}, 0);
  EXPECT_EQ(budget.budget(0), 1000);
  EXPECT_EQ(budget.budget(1), -1);
  EXPECT_FALSE(budget.Reserve("m", {{0, 1001}}).ok());
  EXPECT_TRUE(budget.Reserve("m", {{1, int64_t{1} << 50}}).ok());
  EXPECT_EQ(budget.Reserve("m", {{7, 1}}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace uop::server
