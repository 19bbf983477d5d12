// Runs the example program against the fake server and checks what it prints.
#include <cstdio>
#include <string>

#include "client/testing/fake_inference_server.h"
#include "gtest/gtest.h"

namespace uop::client {
namespace {

std::string RunCommand(const std::string& cmd, int* exit_status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  *exit_status = pclose(p);
  return out;
}

TEST(SimpleInfer, RunsSyncAsyncAndStreamingAgainstAServer) {
  testing::FakeInferenceServer server;
  int status = -1;
  std::string out = RunCommand("client/example/simple_infer " + server.target(), &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("sync:   C = [11, 22, 33, 44]"), std::string::npos) << out;
  EXPECT_NE(out.find("async:  4 results, last C = [11, 22, 33, 44]"), std::string::npos) << out;
  EXPECT_NE(out.find("stream: 3 responses"), std::string::npos) << out;
}

TEST(SimpleInfer, FailsWithOneLineWhenNoServerListens) {
  int status = -1;
  std::string out = RunCommand("client/example/simple_infer 127.0.0.1:1 2>&1", &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("simple_infer: UNAVAILABLE: ModelReady:"), std::string::npos) << out;
}

}  // namespace
}  // namespace uop::client
