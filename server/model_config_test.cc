#include "server/model_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/test_backend.h"

namespace uop::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

inference::ModelConfig Text(const std::string& text) {
  absl::StatusOr<inference::ModelConfig> c = ParseModelConfigText(text, "config.pbtxt");
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : inference::ModelConfig();
}

TEST(ParseModelConfigText, ReadsTritonConfigs) {
  inference::ModelConfig c = Text(R"(
    name: "add" backend: "onnxruntime" max_batch_size: 8
    input [{ name: "A" data_type: TYPE_FP32 dims: [ 4 ] }]
    dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 100 }
    instance_group [{ kind: KIND_CPU count: 2 }]
    version_policy { latest { num_versions: 2 } })");
  EXPECT_EQ(c.max_batch_size(), 8);
  EXPECT_EQ(c.input(0).dims(0), 4);
  EXPECT_EQ(c.dynamic_batching().max_queue_delay_microseconds(), 100u);
  EXPECT_EQ(c.instance_group(0).count(), 2);
}

TEST(ParseModelConfigText, ErrorNamesFileAndLine) {
  absl::StatusOr<inference::ModelConfig> c =
      ParseModelConfigText("name: \"x\"\nmax_batch_size: \"eight\"\n", "repo/x/config.pbtxt");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("repo/x/config.pbtxt:2:"));
}

TEST(ParseConfigJson, ReadsTritonJsonAndRefusesUnknownFields) {
  absl::StatusOr<inference::ModelConfig> c = ParseConfigJson(
      R"({"name": "add", "max_batch_size": 4, "input": [{"name": "A", "data_type": "TYPE_FP32", "dims": [4]}]})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_batch_size(), 4);
  EXPECT_EQ(c->input(0).data_type(), inference::TYPE_FP32);
  absl::StatusOr<inference::ModelConfig> bad = ParseConfigJson(R"({"max_batchsize": 4})");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("not a valid model config"));
  EXPECT_FALSE(ParseConfigJson("{").ok());
}

TEST(CompleteConfig, FillsInputsAndOutputsFromTheModel) {
  TestBackend backend(TestBackend::AddSpec());
  inference::ModelConfig c;
  ASSERT_TRUE(CompleteConfig(backend, "add", &c).ok());
  EXPECT_EQ(c.name(), "add");
  ASSERT_EQ(c.input_size(), 2);
  EXPECT_EQ(c.input(1).name(), "B");
  EXPECT_THAT(c.input(1).dims(), ElementsAre(4));
  EXPECT_EQ(c.output(0).name(), "C");
  EXPECT_EQ(c.default_model_filename(), "model.onnx");
  ASSERT_EQ(c.instance_group_size(), 1);
  EXPECT_EQ(c.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(c.instance_group(0).count(), 1);
}

TEST(CompleteConfig, BatchingStripsTheBatchDimension) {
  TestBackend backend(TestBackend::BatchedAddSpec());
  inference::ModelConfig c;
  c.set_max_batch_size(8);
  ASSERT_TRUE(CompleteConfig(backend, "badd", &c).ok());
  EXPECT_THAT(c.input(0).dims(), ElementsAre(4));
}

TEST(CompleteConfig, MismatchesNameTheTensorAndBothSides) {
  TestBackend backend(TestBackend::AddSpec());
  struct Case {
    const char* config;
    const char* message;
  } cases[] = {
      {R"(input [{ name: "X" data_type: TYPE_FP32 dims: [4] }, { name: "B" dims: [4] }])",
       "input 'X' is not in the model (it has A, B)"},
      {R"(input [{ name: "A" data_type: TYPE_INT64 dims: [4] }, { name: "B" dims: [4] }])",
       "input 'A' is TYPE_INT64 in the config but TYPE_FP32 in the model"},
      {R"(input [{ name: "A" dims: [5] }, { name: "B" dims: [4] }])",
       "input 'A' has dims [5] in the config but [4] in the model"},
      {R"(input [{ name: "A" dims: [4] }])", "needs input 'B', which the config omits"},
      {R"(input [{ name: "A" dims: [4] }, { name: "A" dims: [4] }])", "configured twice"},
      {R"(max_batch_size: 4)", "has no batch dimension for max_batch_size 4"},
      {R"(name: "other")", "the config names the model 'other', its folder is 'add'"},
      {R"(dynamic_batching {})", "dynamic_batching needs max_batch_size > 0"},
      {R"(instance_group [{ kind: KIND_GPU gpus: [0, -1] }])", "names GPU -1"},
      {R"(sequence_batching {})", "not supported"},
  };
  for (const Case& c : cases) {
    inference::ModelConfig config = Text(c.config);
    absl::Status s = CompleteConfig(backend, "add", &config);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.config;
    EXPECT_THAT(s.message(), HasSubstr(c.message)) << c.config;
  }
}

TEST(CompleteConfig, PreferredSizesMustFitMaxBatch) {
  TestBackend backend(TestBackend::BatchedAddSpec());
  inference::ModelConfig c =
      Text("max_batch_size: 4 dynamic_batching { preferred_batch_size: [ 8 ] }");
  EXPECT_THAT(CompleteConfig(backend, "m", &c).message(),
              HasSubstr("preferred_batch_size 8 is not in [1, max_batch_size=4]"));
}

TEST(BatchBuckets, PowersOfTwoPreferredAndMax) {
  EXPECT_THAT(BatchBuckets(Text("")), ElementsAre(0));
  EXPECT_THAT(BatchBuckets(Text("max_batch_size: 1")), ElementsAre(1));
  EXPECT_THAT(BatchBuckets(Text("max_batch_size: 12")), ElementsAre(1, 2, 4, 8, 12));
  EXPECT_THAT(
      BatchBuckets(Text("max_batch_size: 8 dynamic_batching { preferred_batch_size: [3, 6] }")),
      ElementsAre(1, 2, 3, 4, 6, 8));
}

TEST(SelectVersions, LatestAllSpecific) {
  const std::vector<int64_t> have = {1, 2, 5};
  EXPECT_THAT(SelectVersions(inference::ModelVersionPolicy(), have), ElementsAre(5));
  inference::ModelVersionPolicy latest2;
  latest2.mutable_latest()->set_num_versions(2);
  EXPECT_THAT(SelectVersions(latest2, have), ElementsAre(2, 5));
  inference::ModelVersionPolicy all;
  all.mutable_all();
  EXPECT_THAT(SelectVersions(all, have), ElementsAre(1, 2, 5));
  inference::ModelVersionPolicy specific;
  specific.mutable_specific()->add_versions(1);
  specific.mutable_specific()->add_versions(3);
  EXPECT_THAT(SelectVersions(specific, have), ElementsAre(1));
  EXPECT_TRUE(SelectVersions(all, {}).empty());
}

}  // namespace
}  // namespace uop::server
