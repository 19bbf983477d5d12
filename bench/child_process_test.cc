#include "bench/child_process.h"

#include "gtest/gtest.h"

namespace uop::bench {
namespace {

TEST(CaptureStdout, ReturnsWhatTheChildPrintedWithTheAddedEnvironmentFirst) {
  double wall_ms = -1;
  const std::string out = CaptureStdout({"/bin/sh", "-c", "echo ready_ms $UOP_BENCH_X; echo 2 >&2"},
                                        {"UOP_BENCH_X=12.5"}, &wall_ms);
  EXPECT_EQ(out, "ready_ms 12.5\n");
  EXPECT_GE(wall_ms, 0);
}

TEST(CaptureStdout, IsEmptyWhenTheChildFailsOrCannotStart) {
  EXPECT_EQ(CaptureStdout({"/bin/sh", "-c", "echo partial; exit 3"}, {}), "");
  EXPECT_EQ(CaptureStdout({"/nonexistent/uop-bench-child"}, {}), "");
  EXPECT_EQ(CaptureStdout({}, {}), "");
}

TEST(CaptureStdout, ReadsOutputLargerThanAPipeBuffer) {
  const std::string out =
      CaptureStdout({"/bin/sh", "-c", "head -c 200000 /dev/zero | tr '\\\\0' x"}, {});
  EXPECT_EQ(out.size(), 200000u);
}

TEST(NumberAfter, FindsTheValueOfAKeyOnAnyLine) {
  const std::string text = "# comment\nready_ms 12.5 load_ms 3.25\nkernels 61\n";
  EXPECT_DOUBLE_EQ(NumberAfter(text, "ready_ms"), 12.5);
  EXPECT_DOUBLE_EQ(NumberAfter(text, "load_ms"), 3.25);
  EXPECT_DOUBLE_EQ(NumberAfter(text, "kernels"), 61);
  EXPECT_DOUBLE_EQ(NumberAfter(text, "missing"), -1);
  EXPECT_DOUBLE_EQ(NumberAfter("ready_ms soon", "ready_ms"), -1);  // not a number
  EXPECT_DOUBLE_EQ(NumberAfter("ready_ms", "ready_ms"), -1);       // no value
}

TEST(BaseName, IgnoresTrailingSlashes) {
  EXPECT_EQ(BaseName("/data/models/oww/"), "oww");
  EXPECT_EQ(BaseName("/data/models/oww"), "oww");
  EXPECT_EQ(BaseName("silero"), "silero");
  EXPECT_EQ(BaseName("/"), "/");
}

}  // namespace
}  // namespace uop::bench
