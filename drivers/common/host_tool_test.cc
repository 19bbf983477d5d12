#include "drivers/common/host_tool.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace uop {
namespace {

std::string TempPath(const char* name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

TEST(HostTool, CapturesOutputAndExitStatus) {
  const std::string out = TempPath("host_tool_out");
  absl::StatusOr<int> rc = RunHostTool({"sh", "-c", "echo hi; echo err >&2; exit 3"}, out);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(*rc, 3);
  EXPECT_EQ(ReadWholeFile(out), "hi\nerr\n");
}

TEST(HostTool, MissingToolAndEmptyCommandAreErrors) {
  absl::StatusOr<int> rc = RunHostTool({"uop-no-such-tool"}, TempPath("host_tool_missing"));
  ASSERT_FALSE(rc.ok());
  EXPECT_NE(rc.status().message().find("uop-no-such-tool"), absl::string_view::npos);
  EXPECT_FALSE(RunHostTool({}, TempPath("host_tool_empty")).ok());
  EXPECT_EQ(ReadWholeFile(TempPath("host_tool_never_written")), "");
}

}  // namespace
}  // namespace uop
