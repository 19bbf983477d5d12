#include "server/grpc_log.h"

#include <grpc/support/log.h>
#include <gtest/gtest.h>

namespace uop::server {
namespace {

TEST(OneLine, ReplacesControlCharactersAndTrailingNewlines) {
  EXPECT_EQ(OneLine("a\nb\tc\r\n"), "a b c");
  EXPECT_EQ(OneLine("plain"), "plain");
  EXPECT_EQ(OneLine(""), "");
}

// One test, because the log function and its state are process-wide.
TEST(GrpcLog, HoldsErrorsUntilReleasedThenPrintsOneLineEach) {
  InstallGrpcLog();
  gpr_log(GPR_ERROR, "first\nproblem");
  gpr_log(GPR_INFO, "chatter");  // not an error: not held
  gpr_log(GPR_ERROR, "second");
  EXPECT_EQ(HeldGrpcErrors(), "first problem; second");

  ReleaseGrpcLog();
  EXPECT_EQ(HeldGrpcErrors(), "");
  testing::internal::CaptureStderr();
  gpr_log(GPR_ERROR, "after\nstart");
  std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(HeldGrpcErrors(), "");
  EXPECT_EQ(printed.rfind("uopd: grpc: E ", 0), 0u) << printed;
  EXPECT_NE(printed.find("after start\n"), std::string::npos) << printed;
  EXPECT_EQ(printed.find('\n'), printed.size() - 1) << printed;
}

}  // namespace
}  // namespace uop::server
