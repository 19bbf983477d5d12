// The load test (bounded, loopback): uopd on the example models, 16
// concurrent clients for a fixed time on a batching model and 4 on a
// non-batching one; no request may fail or be lost. Prints throughput and
// latency percentiles (they are printed, not asserted: timing depends on the
// machine).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "tests/e2e/uopd_process.h"
#include "tests/load/loadgen.h"

namespace uop::load {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Load, ConcurrentClientsGetEveryAnswer) {
  e2e::UopdProcess u = e2e::UopdProcess::Start(
      "server/uopd", {"--model-repository=examples/models", "--model-control-mode=explicit",
                      "--load-model=add,mlp",
                      absl::StrCat("--kernel-cache-dir=", testing::TempDir(), "/kernels")});
  ASSERT_TRUE(u.started() && u.WaitReady(absl::Seconds(120))) << u.Output();
  struct Run {
    const char* model;
    int concurrency;
  } runs[] = {{"mlp", 16}, {"add", 4}};
  for (const Run& run : runs) {
    LoadOptions o;
    o.target = u.GrpcTarget();
    o.model = run.model;
    o.concurrency = run.concurrency;
    o.duration = absl::Seconds(2);
    o.warmup = absl::Milliseconds(200);
    absl::StatusOr<LoadResult> r = RunLoad(o);
    ASSERT_TRUE(r.ok()) << r.status();
    std::printf("load: model=%s concurrency=%d %s\n", run.model, run.concurrency,
                r->Summary().c_str());
    EXPECT_EQ(r->errors, 0) << (r->error_codes.empty() ? "" : r->error_codes.begin()->first);
    EXPECT_GT(r->requests, 100);
    // Nothing lost or doubled: the server counted exactly the successes the
    // clients saw (warm-up included), and no failure.
    e2e::HttpResult stats =
        e2e::Http(u.http_port, "GET", absl::StrCat("/v2/models/", run.model, "/stats"));
    EXPECT_THAT(stats.body, HasSubstr(absl::StrCat(R"("success":{"count":)", r->all_ok, ",")));
    EXPECT_THAT(stats.body, Not(HasSubstr(R"("fail")")));
  }
}

}  // namespace
}  // namespace uop::load
