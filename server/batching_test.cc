#include "server/batching.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "server/test_backend.h"

namespace uop::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Floats(std::vector<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

std::vector<float> ToFloats(const std::string& s) {
  std::vector<float> v(s.size() / 4);
  std::memcpy(v.data(), s.data(), s.size());
  return v;
}

// A job of `rows` rows of [4] floats starting at `base` for both A and B.
struct Job {
  std::string a, b;
  InferJob job;
  Job(int rows, float base) {
    std::vector<float> v;
    for (int i = 0; i < rows * 4; ++i) v.push_back(base + i);
    a = Floats(v);
    b = Floats(v);
    job.batch = rows;
    job.inputs = {{"A", inference::TYPE_FP32, {rows, 4}, a},
                  {"B", inference::TYPE_FP32, {rows, 4}, b}};
  }
};

TEST(RunBatch, ConcatenatesPadsAndSplitsRowsBack) {
  TestBackend backend(TestBackend::BatchedAddSpec());
  Job j1(1, 0), j2(2, 100);
  InferJob* jobs[] = {&j1.job, &j2.job};
  ASSERT_TRUE(CanJoin(j1.job, j2.job));
  ASSERT_TRUE(RunBatch(backend, jobs, /*bucket=*/4).ok());
  EXPECT_THAT(backend.batch_sizes(), ElementsAre(4));  // 3 rows padded to the bucket
  ASSERT_EQ(j1.job.outputs.size(), 1u);
  EXPECT_THAT(j1.job.outputs[0].shape, ElementsAre(1, 4));
  EXPECT_THAT(ToFloats(j1.job.outputs[0].data), ElementsAre(0, 2, 4, 6));
  EXPECT_THAT(j2.job.outputs[0].shape, ElementsAre(2, 4));
  EXPECT_EQ(ToFloats(j2.job.outputs[0].data)[7], 2 * 107.0f);
  EXPECT_EQ(j2.job.times.executed_batch, 4);
}

TEST(RunBatch, SplitRowsGoStraightIntoAJobsSharedMemoryWhenTheyFit) {
  TestBackend backend(TestBackend::BatchedAddSpec());
  Job j1(1, 0), j2(2, 100);
  std::vector<char> shm1(32, 'x'), shm2(8, 'x');  // j2's 32 bytes do not fit in 8
  j1.job.output_destinations = {{"C", absl::MakeSpan(shm1)}};
  j2.job.output_destinations = {{"C", absl::MakeSpan(shm2)}};
  InferJob* jobs[] = {&j1.job, &j2.job};
  ASSERT_TRUE(RunBatch(backend, jobs, /*bucket=*/4).ok());
  EXPECT_EQ(j1.job.outputs[0].in_destination, 16);
  EXPECT_EQ(j1.job.outputs[0].data, "");
  EXPECT_THAT(ToFloats(std::string(shm1.data(), 16)), ElementsAre(0, 2, 4, 6));
  EXPECT_EQ(shm1[16], 'x');  // nothing past the rows
  // Too small: left in data for the front end to report.
  EXPECT_EQ(j2.job.outputs[0].in_destination, -1);
  EXPECT_EQ(ToFloats(j2.job.outputs[0].data)[7], 2 * 107.0f);
  EXPECT_EQ(shm2, std::vector<char>(8, 'x'));
}

TEST(RunBatch, ASingleJobFillingItsBucketRunsOnItsOwnBuffers) {
  TestBackend backend(TestBackend::BatchedAddSpec());
  Job j(2, 1);
  InferJob* jobs[] = {&j.job};
  ASSERT_TRUE(RunBatch(backend, jobs, 2).ok());
  EXPECT_THAT(ToFloats(j.job.outputs[0].data), ElementsAre(2, 4, 6, 8, 10, 12, 14, 16));
  EXPECT_THAT(backend.batch_sizes(), ElementsAre(2));
  EXPECT_EQ(j.job.times.executed_batch, 2);
}

TEST(RunBatch, FailureReachesEveryJob) {
  TestBackend backend(TestBackend::BatchedAddSpec());
  backend.set_fail(true);
  Job j1(1, 0), j2(1, 0);
  InferJob* jobs[] = {&j1.job, &j2.job};
  EXPECT_THAT(RunBatch(backend, jobs, 2).message(), HasSubstr("test backend failure"));
}

TEST(CanJoin, NeedsEqualTrailingDimsAndBatching) {
  Job a(1, 0), b(3, 0);
  EXPECT_TRUE(CanJoin(a.job, b.job));
  Job c(1, 0);
  c.job.inputs[1].shape = {1, 5};
  EXPECT_FALSE(CanJoin(a.job, c.job));
  Job d(1, 0);
  d.job.batch = 0;
  EXPECT_FALSE(CanJoin(a.job, d.job));
  Job e(1, 0);
  e.job.inputs[0].dtype = inference::TYPE_STRING;
  EXPECT_FALSE(CanJoin(e.job, e.job));
}

TEST(BucketFor, SmallestBucketThatFits) {
  EXPECT_EQ(BucketFor({1, 2, 4, 8}, 3), 4);
  EXPECT_EQ(BucketFor({1, 2, 4, 8}, 8), 8);
  EXPECT_EQ(BucketFor({1, 2, 4, 8}, 9), -1);
}

TEST(BestBucket, PicksTheFastestBucketThatHoldsTheRows) {
  const std::vector<int> buckets = {1, 2, 4, 8};
  // A 2-row batch is slower than an 8-row one here: pad to 8.
  const std::vector<int64_t> cost = {200, 2400, 1400, 470};
  EXPECT_EQ(BestBucket(buckets, cost, 1), 1);
  EXPECT_EQ(BestBucket(buckets, cost, 2), 8);
  EXPECT_EQ(BestBucket(buckets, cost, 5), 8);
  EXPECT_EQ(BestBucket(buckets, cost, 9), -1);
  // Without measurements: the smallest bucket that fits.
  EXPECT_EQ(BestBucket(buckets, {}, 3), 4);
  EXPECT_EQ(BestBucket(buckets, {0, 0, 0, 0}, 2), 2);
}

}  // namespace
}  // namespace uop::server
