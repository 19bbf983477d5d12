#include "server/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace uop::server {
namespace {

using ::testing::HasSubstr;

// A config file in the test's temp dir; each test uses its own name.
std::string WriteConfig(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string ErrorOf(const std::vector<std::string>& args) {
  auto cl = ParseCommandLine(args);
  if (cl.ok()) return "<ok>";
  EXPECT_EQ(cl.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(cl.status().message());
}

TEST(ParseCommandLine, DefaultsMatchTriton) {
  auto cl = ParseCommandLine({"--model-repository=/m"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, Command::kServe);
  EXPECT_EQ(cl->options.address, "0.0.0.0");
  EXPECT_EQ(cl->options.grpc_port, 8001);
  EXPECT_EQ(cl->options.http_port, 8000);
  EXPECT_EQ(cl->options.metrics_port, 8002);
  EXPECT_EQ(cl->options.exit_timeout_secs, 30);
  EXPECT_EQ(cl->options.model_repository, "/m");
}

TEST(ParseCommandLine, TakesEqualsAndSeparateValues) {
  auto cl =
      ParseCommandLine({"--grpc-port", "0", "--metrics-port=0", "--address", "127.0.0.1",
                        "--http-port=9000", "--model-repository", "/m", "--exit-timeout-secs=5"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->options.grpc_port, 0);
  EXPECT_EQ(cl->options.metrics_port, 0);
  EXPECT_EQ(cl->options.http_port, 9000);
  EXPECT_EQ(cl->options.address, "127.0.0.1");
  EXPECT_EQ(cl->options.exit_timeout_secs, 5);
}

TEST(ParseCommandLine, AcceptsIpv6Address) {
  auto cl = ParseCommandLine({"--address=::1", "--model-repository=/m"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->options.address, "::1");
}

TEST(ParseCommandLine, HelpAndVersionWinOverEverythingElse) {
  auto help = ParseCommandLine({"--bogus", "--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_EQ(help->command, Command::kHelp);
  auto h = ParseCommandLine({"-h"});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->command, Command::kHelp);
  auto version = ParseCommandLine({"--version"});
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->command, Command::kVersion);
}

TEST(ParseCommandLine, LaterFlagWins) {
  auto cl = ParseCommandLine({"--grpc-port=1", "--grpc-port=2", "--model-repository=/m"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->options.grpc_port, 2);
}

TEST(ParseCommandLineErrors, UnknownFlag) {
  EXPECT_EQ(ErrorOf({"--grpc_port=1"}), "unknown flag '--grpc_port' (see --help)");
}

TEST(ParseCommandLineErrors, PositionalArgument) {
  EXPECT_THAT(ErrorOf({"serve"}), HasSubstr("unexpected argument 'serve'"));
  EXPECT_THAT(ErrorOf({"-p"}), HasSubstr("unexpected argument '-p'"));
  EXPECT_THAT(ErrorOf({"--"}), HasSubstr("unexpected argument '--'"));
}

TEST(ParseCommandLineErrors, MissingValue) {
  EXPECT_EQ(ErrorOf({"--model-repository=/m", "--grpc-port"}), "--grpc-port needs a value");
}

TEST(ParseCommandLineErrors, ValueOnHelp) {
  EXPECT_EQ(ErrorOf({"--help=yes"}), "--help takes no value");
}

TEST(ParseCommandLineErrors, MalformedPorts) {
  const char* bad[] = {"abc", "", "-1", "+80", " 80", "65536", "99999999999", "80x"};
  for (const char* value : bad) {
    EXPECT_EQ(ErrorOf({"--model-repository=/m", std::string("--grpc-port=") + value}),
              std::string("--grpc-port: '") + value + "' is not a port number (0-65535)");
  }
  EXPECT_THAT(ErrorOf({"--model-repository=/m", "--metrics-port=x"}),
              HasSubstr("--metrics-port: 'x' is not a port number"));
  EXPECT_THAT(ErrorOf({"--model-repository=/m", "--http-port=x"}),
              HasSubstr("--http-port: 'x' is not a port number"));
}

TEST(ParseCommandLineErrors, MalformedAddress) {
  EXPECT_EQ(
      ErrorOf({"--model-repository=/m", "--address=localhost:1"}),
      "--address: 'localhost:1' is not an IPv4 or IPv6 address (e.g. 0.0.0.0, 127.0.0.1, ::)");
  EXPECT_THAT(ErrorOf({"--model-repository=/m", "--address=256.1.1.1"}),
              HasSubstr("is not an IPv4 or IPv6 address"));
}

TEST(ParseCommandLineErrors, MalformedExitTimeout) {
  EXPECT_EQ(ErrorOf({"--model-repository=/m", "--exit-timeout-secs=1.5"}),
            "--exit-timeout-secs: '1.5' is not a number of seconds (0-3600)");
  EXPECT_THAT(ErrorOf({"--model-repository=/m", "--exit-timeout-secs=3601"}),
              HasSubstr("not a number of seconds"));
}

TEST(ParseCommandLineErrors, ModelRepositoryRequiredAndNonEmpty) {
  EXPECT_THAT(ErrorOf({}), HasSubstr("--model-repository is required"));
  EXPECT_EQ(ErrorOf({"--model-repository="}), "--model-repository: the path is empty");
}

TEST(ParseCommandLineErrors, ClashingPorts) {
  EXPECT_EQ(ErrorOf({"--model-repository=/m", "--grpc-port=9000", "--metrics-port=9000"}),
            "--grpc-port and --metrics-port are both 9000");
  EXPECT_EQ(ErrorOf({"--model-repository=/m", "--http-port=8002"}),
            "--http-port and --metrics-port are both 8002");
}

TEST(ParseCommandLine, ZeroPortsNeverClash) {
  auto cl = ParseCommandLine(
      {"--model-repository=/m", "--grpc-port=0", "--http-port=0", "--metrics-port=0"});
  EXPECT_TRUE(cl.ok()) << cl.status();
}

TEST(ConfigFile, SetsOptionsAndFlagsOverrideIt) {
  std::string path = WriteConfig("override.conf",
                                 "# uopd\n"
                                 "grpc-port = 7001\n"
                                 "metrics-port = 7002\n"
                                 "model-repository = /from/file\n");
  // --config after the flag it is overridden by: the order on the line does not matter.
  auto cl = ParseCommandLine({"--metrics-port=0", "--config", path});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->options.grpc_port, 7001);
  EXPECT_EQ(cl->options.metrics_port, 0);
  EXPECT_EQ(cl->options.model_repository, "/from/file");
  EXPECT_EQ(cl->options.config_file, path);
}

TEST(ConfigFileErrors, Unreadable) {
  EXPECT_EQ(ErrorOf({"--config=/nonexistent/uopd.conf"}),
            "cannot read config file '/nonexistent/uopd.conf': No such file or directory");
}

TEST(ConfigFileErrors, UnknownKeyNamesFileAndLine) {
  std::string path = WriteConfig("unknown.conf", "grpc-port = 1\ngprc-port = 2\n");
  EXPECT_EQ(ErrorOf({"--config=" + path}),
            path + ":2: unknown key 'gprc-port' (keys are the flag names, see --help)");
}

TEST(ConfigFileErrors, FlagOnlyKeysAreUnknownInTheFile) {
  std::string path = WriteConfig("nested.conf", "config = other.conf\n");
  EXPECT_THAT(ErrorOf({"--config=" + path}), HasSubstr(":1: unknown key 'config'"));
}

TEST(ConfigFileErrors, BadValueNamesFileLineAndKey) {
  std::string path = WriteConfig("badvalue.conf", "\n\nmetrics-port = lots\n");
  EXPECT_EQ(ErrorOf({"--config=" + path}),
            path + ":3: metrics-port: 'lots' is not a port number (0-65535)");
}

TEST(ConfigFileErrors, SyntaxError) {
  std::string path = WriteConfig("syntax.conf", "grpc-port: 8001\n");
  EXPECT_EQ(ErrorOf({"--config=" + path}),
            path + ":1: expected 'key = value', got 'grpc-port: 8001'");
}

TEST(ConfigFileErrors, GivenTwiceOrEmpty) {
  std::string path = WriteConfig("twice.conf", "model-repository = /m\n");
  EXPECT_EQ(ErrorOf({"--config=" + path, "--config=" + path}), "--config given more than once");
  EXPECT_EQ(ErrorOf({"--config="}), "--config: the path is empty");
}

TEST(HostPort, BracketsIpv6) {
  EXPECT_EQ(HostPort("0.0.0.0", 8001), "0.0.0.0:8001");
  EXPECT_EQ(HostPort("::", 0), "[::]:0");
  EXPECT_EQ(HostPort("::1", 8002), "[::1]:8002");
}

TEST(HelpText, ListsEveryFlag) {
  std::string help = HelpText();
  for (const char* flag :
       {"--address", "--grpc-port", "--http-port", "--metrics-port", "--model-repository",
        "--exit-timeout-secs", "--model-control-mode", "--load-model", "--repository-poll-secs",
        "--kernel-cache-dir", "--max-request-mib", "--max-model-mib", "--max-queue-size",
        "--http-threads", "--config", "--help", "--version"}) {
    EXPECT_THAT(help, HasSubstr(flag));
  }
}

TEST(ParseCommandLine, ServingFlags) {
  auto cl = ParseCommandLine({"--model-repository=/m", "--model-control-mode=explicit",
                              "--load-model=a", "--load-model", "b, c", "--max-queue-size=7",
                              "--max-request-mib=3", "--kernel-cache-dir=/tmp/k"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->options.model_control_mode, "explicit");
  EXPECT_THAT(cl->options.load_models, ::testing::ElementsAre("a", "b", "c"));
  EXPECT_EQ(cl->options.max_queue_size, 7);
  EXPECT_EQ(cl->options.max_request_bytes, 3 << 20);
  EXPECT_EQ(cl->options.kernel_cache_dir, "/tmp/k");
  auto bad = ParseCommandLine({"--model-repository=/m", "--model-control-mode=sometimes"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("--model-control-mode: 'sometimes' is not a model control mode"));
  auto zero = ParseCommandLine({"--model-repository=/m", "--max-queue-size=0"});
  EXPECT_THAT(zero.status().message(), HasSubstr("is not a number in [1, 1048576]"));
}

}  // namespace
}  // namespace uop::server
