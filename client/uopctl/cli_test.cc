// uopctl's commands against the in-process fake server (every RPC, failures
// injected); tests/e2e/uopctl_e2e_test.cc runs them against the real uopd.
#include "client/uopctl/cli.h"

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/lib/npy.h"
#include "client/testing/fake_inference_server.h"
#include "gtest/gtest.h"

namespace uop::uopctl {
namespace {

using client::testing::FakeInferenceServer;

struct Result {
  int code;
  std::string out, err;
};

class UopctlTest : public ::testing::Test {
 protected:
  Result Run(std::vector<std::string> args) {
    std::ostringstream out, err;
    args.insert(args.begin(), {"-u", server_.target()});
    const int code = RunUopctl(args, "", out, err);
    return {code, out.str(), err.str()};
  }
  static bool Has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }
  static std::string Temp(const std::string& name) { return ::testing::TempDir() + "/" + name; }

  FakeInferenceServer server_;
};

TEST_F(UopctlTest, StatusReportsReadinessWithExitCodes) {
  Result r = Run({"status"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, "server      fake 0.0.1 at 127.0.0.1:")) << r.out;
  EXPECT_TRUE(Has(r.out, "ready       yes")) << r.out;
  EXPECT_TRUE(Has(r.out, "system_shared_memory")) << r.out;
  // The host's GPUs (libdrm): none in CI, a line per GPU elsewhere.
  EXPECT_TRUE(Has(r.out, "host gpus   none") || Has(r.out, "host gpu    ")) << r.out;
  r = Run({"status", "-m", "add"});
  EXPECT_TRUE(Has(r.out, "model       add ready")) << r.out;
  r = Run({"status", "-m", "broken"});
  EXPECT_EQ(r.code, kExitNotReady);
  server_.set_ready(false);
  r = Run({"status"});
  EXPECT_EQ(r.code, kExitNotReady);
  EXPECT_TRUE(Has(r.out, "ready       no")) << r.out;
  // --wait polls until the server turns ready.
  std::thread later([&] {
    absl::SleepFor(absl::Milliseconds(300));
    server_.set_ready(true);
  });
  r = Run({"status", "--wait", "10"});
  later.join();
  EXPECT_EQ(r.code, kExitOk) << r.err;
}

TEST_F(UopctlTest, UnreachableServerExits3InOneLine) {
  std::ostringstream out, err;
  const int code = RunUopctl({"--retries=1", "status", "-u", "127.0.0.1:1"}, "", out, err);
  EXPECT_EQ(code, kExitUnreachable);
  EXPECT_TRUE(Has(err.str(), "uopctl: ServerLive: ")) << err.str();
  EXPECT_TRUE(Has(err.str(), "(UNAVAILABLE)")) << err.str();
  const std::string text = err.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  // $UOPCTL_URL is the default server.
  std::ostringstream out2, err2;
  EXPECT_EQ(RunUopctl({"status"}, server_.target(), out2, err2), kExitOk) << err2.str();
}

TEST_F(UopctlTest, ModelsListsTheRepository) {
  Result r = Run({"models"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(Has(r.out, "MODEL    VERSION  STATE        REASON")) << r.out;
  EXPECT_TRUE(Has(r.out, "broken   1        UNAVAILABLE  not loaded")) << r.out;
  r = Run({"models", "--ready"});
  EXPECT_FALSE(Has(r.out, "broken")) << r.out;
  r = Run({"models", "--json"});
  EXPECT_TRUE(Has(r.out, R"({"name": "add", "version": "1", "state": "READY", "reason": ""})"))
      << r.out;
}

TEST_F(UopctlTest, LoadShowsProgressUntilReady) {
  server_.set_load_step(absl::Milliseconds(250));
  Result r = Run({"load", "add"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, "add: LOADING compiling kernels 1/4")) << r.out;
  EXPECT_TRUE(Has(r.out, "add: LOADING compiling kernels 4/4")) << r.out;
  EXPECT_TRUE(Has(r.out, "add: READY (version 1) in ")) << r.out;
  r = Run({"load", "broken", "-q"});
  EXPECT_EQ(r.code, kExitServerError);
  EXPECT_TRUE(Has(r.err, "failed to load 'broken': unsupported operator Foo")) << r.err;
  EXPECT_FALSE(Has(r.out, "LOADING")) << r.out;
  r = Run({"load", "missing"});
  EXPECT_EQ(r.code, kExitNotFound);
  r = Run({"load", "add", "--config", "{not json"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "flag --config: malformed JSON at byte 1: expected a string key"))
      << r.err;
  r = Run({"unload", "add"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(Has(r.out, "add: unloaded in ")) << r.out;
  EXPECT_EQ(Run({"status", "-m", "add"}).code, kExitNotReady);
  EXPECT_EQ(Run({"load", "add", "-q", "--config", R"({"max_batch_size": 0})"}).code, kExitOk);
}

TEST_F(UopctlTest, ConfigAndMetadata) {
  Result r = Run({"config", "add"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(Has(r.out, "name: \"add\"")) << r.out;
  EXPECT_TRUE(Has(r.out, "data_type: TYPE_FP32")) << r.out;
  r = Run({"config", "add", "--json"});
  EXPECT_TRUE(Has(r.out, "\"data_type\": \"TYPE_FP32\"")) << r.out;
  r = Run({"metadata", "add"});
  EXPECT_TRUE(Has(r.out, "input     A FP32[4]")) << r.out;
  EXPECT_TRUE(Has(r.out, "output    C FP32[4]")) << r.out;
  EXPECT_EQ(Run({"config", "nope"}).code, kExitNotFound);
}

TEST_F(UopctlTest, InferPrintsAndWritesOutputs) {
  ASSERT_TRUE(
      client::WriteNpyFile(Temp("b.npy"), {client::Datatype::kFp32, {4}, std::string(16, '\0')})
          .ok());
  Result r = Run({"infer", "add", "-i", "A=[1, 2, 3, 4.5]", "-i", "B=" + Temp("b.npy"), "-o",
                  "C=" + Temp("c.npy")});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "C FP32[4] = [1, 2, 3, 4.5]\n");
  absl::StatusOr<client::NpyArray> c = client::ReadNpyFile(Temp("c.npy"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->shape, (std::vector<int64_t>{4}));
  r = Run({"infer", "add_sub", "-i", "INPUT0=[[1, 2, 3]]", "-i", "INPUT1=[[1, 1, 1]]", "--json",
           "--shape", "INPUT0=3", "--shape", "INPUT1=3", "--id", "r7"});
  // --shape [3] contradicts the JSON's [1, 3]: a usage error.
  EXPECT_EQ(r.code, kExitUsage) << r.err;
  r = Run({"infer", "add_sub", "-i", "INPUT0=[1, 2, 3]", "-i", "INPUT1=[1, 1, 1]", "--json", "--id",
           "r7", "--output", "OUTPUT1", "--output-dir", ::testing::TempDir()});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(
      r.out,
      R"({"model_name": "add_sub", "model_version": "1", "id": "r7", "outputs": [{"name": "OUTPUT1", "datatype": "INT32", "shape": [3], "data": [0, 1, 2]}]})"
      "\n");
  EXPECT_TRUE(client::ReadNpyFile(Temp("OUTPUT1.npy")).ok());
}

TEST_F(UopctlTest, InferThroughSharedMemory) {
  Result r = Run({"infer", "add", "-i", "A=[1, 2, 3, 4]", "-i", "B=[1, 1, 1, 1]", "--shared-memory",
                  "system"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "C FP32[4] = [2, 3, 4, 5]\n");
  EXPECT_GE(server_.Calls("SystemSharedMemoryRegister"), 1);
  EXPECT_EQ(server_.Calls("SystemSharedMemoryUnregister"),
            server_.Calls("SystemSharedMemoryRegister"));
  r = Run(
      {"infer", "add_sub", "-i", "INPUT0=[1]", "-i", "INPUT1=[1]", "--shared-memory", "system"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "needs outputs of fixed size")) << r.err;
}

TEST_F(UopctlTest, InferErrorsMapToExitCodes) {
  Result r = Run({"infer", "add", "-i", "A=[1, 2, 3, 4]"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "no data for input(s) B")) << r.err;
  r = Run({"infer", "add", "-i", "A=[1, 2, 3]", "-i", "B=zeros"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "input 'A': JSON data has shape [3], the model takes [4]")) << r.err;
  r = Run({"infer", "add", "-i", "Q=zeros"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "has no input 'Q' (inputs: A, B)")) << r.err;
  r = Run({"infer", "nope", "-i", "A=zeros"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.err, "uopctl: ModelMetadata: unknown model 'nope' (NOT_FOUND)\n");
  // The server rejects it: INPUT0 and INPUT1 differ in size.
  r = Run({"infer", "add_sub", "-i", "INPUT0=[1, 2]", "-i", "INPUT1=[1]"});
  EXPECT_EQ(r.code, kExitServerError);
  EXPECT_TRUE(Has(r.err, "(INVALID_ARGUMENT)")) << r.err;
  server_.set_slow_delay(absl::Seconds(5));
  r = Run({"--timeout", "0.3", "infer", "slow", "-i", "X=[1]"});
  EXPECT_EQ(r.code, kExitDeadline) << r.err;
  server_.FailNextCalls(100);
  r = Run({"infer", "add", "-i", "A=zeros", "-i", "B=zeros", "--retries", "2"});
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_TRUE(Has(r.err, "after 3 attempts")) << r.err;
}

TEST_F(UopctlTest, PerfSweepsConcurrency) {
  const std::string csv = Temp("perf.csv");
  Result r =
      Run({"perf", "add", "--concurrency-range", "1:2", "-p", "300", "--warmup", "50", "-f", csv});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, "Concurrency: 1, throughput: ")) << r.out;
  EXPECT_TRUE(Has(r.out, "Concurrency: 2, throughput: ")) << r.out;
  EXPECT_TRUE(Has(r.out, "server us")) << r.out;
  std::ifstream in(csv);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  r = Run({"perf", "-m", "add", "-p", "100", "--warmup", "0", "--shared-memory", "system",
           "--input-data", "zeros"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, "in shared memory")) << r.out;
  EXPECT_EQ(Run({"perf", "add", "--concurrency-range", "4:1"}).code, kExitUsage);
  EXPECT_EQ(Run({"perf", "nope"}).code, kExitNotFound);
}

TEST_F(UopctlTest, TraceFetchesAndWritesTheTrace) {
  const std::string path = Temp("t.perfetto-trace");
  Result r = Run({"trace", "--seconds", "5", "-o", path});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, "42 events (3 dropped)")) << r.out;
  std::ifstream in(path, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), {}),
            client::testing::kFakePerfettoTrace);
  r = Run({"trace", "--format", "json", "-o", Temp("t.json")});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(*client::ReadWholeFile(Temp("t.json")), client::testing::kFakeJsonTrace);
  r = Run({"trace", "--record", "off"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "recording off (65536 events per thread)\n");
  r = Run({"trace", "-o", Temp("off.trace")});
  EXPECT_EQ(r.code, kExitServerError);
  EXPECT_TRUE(Has(r.err, "GetTrace: recording is off (FAILED_PRECONDITION)")) << r.err;

  FakeInferenceServer no_profiler(/*profiler=*/false);
  std::ostringstream out, err;
  EXPECT_EQ(RunUopctl({"trace", "-u", no_profiler.target(), "-o", Temp("x")}, "", out, err),
            kExitUnimplemented);
  EXPECT_TRUE(Has(err.str(), "does not serve uop's profiler extension")) << err.str();
}

TEST_F(UopctlTest, UsageAndHelp) {
  Result r = Run({});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "no command")) << r.err;
  r = Run({"frob"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, "uopctl: unknown command 'frob' (see --help)\n");
  r = Run({"infer", "add", "--bogus"});
  EXPECT_EQ(r.err, "uopctl: unknown flag --bogus (see --help)\n");
  EXPECT_EQ(r.code, kExitUsage);
  std::ostringstream out, err;
  EXPECT_EQ(RunUopctl({"--help"}, "", out, err), kExitOk);
  EXPECT_TRUE(Has(out.str(), "exit codes:")) << out.str();
  for (const char* cmd :
       {"status", "models", "load", "unload", "config", "metadata", "infer", "perf", "trace"}) {
    r = Run({cmd, "--help"});
    EXPECT_EQ(r.code, kExitOk) << cmd;
    EXPECT_TRUE(Has(r.out, absl::StrCat("usage: uopctl ", cmd))) << r.out;
    EXPECT_TRUE(Has(r.out, "-u, --url=HOST:PORT")) << cmd << r.out;
  }
  r = Run({"status", "extra"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(Run({"status", "-u", "http://x:1"}).code, kExitUsage);
}

TEST(UopctlBinary, ExitCodesOfTheRealBinary) {
  FakeInferenceServer server;
  const std::string bin = "client/uopctl/uopctl -u " + server.target();
  auto run = [](const std::string& cmd) {
    const int status = std::system((cmd + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(run(bin + " status"), kExitOk);
  EXPECT_EQ(run(bin + " infer nope -i A=zeros"), kExitNotFound);
  EXPECT_EQ(run(bin + " infer add --bogus"), kExitUsage);
  EXPECT_EQ(run("UOPCTL_URL=" + server.target() + " client/uopctl/uopctl models"), kExitOk);
}

}  // namespace
}  // namespace uop::uopctl
