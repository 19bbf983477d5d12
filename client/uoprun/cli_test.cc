#include "client/uoprun/cli.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/lib/npy.h"
#include "client/lib/shared_memory.h"
#include "gtest/gtest.h"

namespace uop::uoprun {
namespace {

using client::Datatype;
using client::NpyArray;

struct Result {
  int code;
  std::string out, err;
};

Result Uoprun(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int code = RunUoprun(args, out, err);
  return {code, out.str(), err.str()};
}

std::string Temp(const std::string& name) { return ::testing::TempDir() + "/" + name; }

std::string FloatsNpy(const std::string& name, std::vector<float> v) {
  const std::string path = Temp(name);
  EXPECT_TRUE(
      client::WriteNpyFile(path, {Datatype::kFp32,
                                  {static_cast<int64_t>(v.size())},
                                  std::string(reinterpret_cast<char*>(v.data()), v.size() * 4)})
          .ok());
  return path;
}

std::string CompileAdd() {
  const std::string uop = Temp("add.uop");
  Result r = Uoprun({"compile", "examples/models/add/1/model.onnx", "-o", uop});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("uoprun: compiled examples/models/add/1/model.onnx for CPU:0"),
            std::string::npos)
      << r.out;
  return uop;
}

TEST(UoprunCli, CompileRunAndCheckAgainstAReference) {
  const std::string uop = CompileAdd();
  const std::string a = FloatsNpy("a.npy", {1, 2, 3, 4}), b = FloatsNpy("b.npy", {10, 20, 30, 40});
  const std::string want = FloatsNpy("want.npy", {11, 22, 33, 44});
  Result r = Uoprun({"run", uop, "--hz", "200", "-n", "10", "--input", "A=" + a, "--inputs",
                     "B=" + b, "--check", "C=" + want, "--output-dir", ::testing::TempDir()});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("iterations 10 in"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("latency  ms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("jitter   ms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("check C: 0 of 4 elements differ"), std::string::npos) << r.out;
  absl::StatusOr<NpyArray> c = client::ReadNpyFile(Temp("C.npy"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->shape, (std::vector<int64_t>{4}));

  const std::string wrong = FloatsNpy("wrong.npy", {11, 22, 33, 45});
  r = Uoprun({"run", uop, "-n", "2", "--hz", "100", "-i", "A=" + a, "-i", "B=" + b, "--check",
              "C=" + wrong});
  EXPECT_EQ(r.code, kExitCheckFailed) << r.err;
  EXPECT_NE(r.out.find("check C: 1 of 4 elements differ"), std::string::npos) << r.out;

  r = Uoprun({"info", uop});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("input     A FP32[4]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("output    C FP32[4]"), std::string::npos) << r.out;
}

TEST(UoprunCli, SharedMemoryInputFromAProducer) {
  const std::string uop = CompileAdd();
  const std::string key = absl::StrCat("/uoprun_cli_test_", getpid());
  auto region = client::SharedMemoryRegion::Create(key, 4096);
  ASSERT_TRUE(region.ok());
  const float a[4] = {1, 1, 1, 1};
  std::memcpy((*region)->data(), a, 16);
  Result r = Uoprun({"run", uop, "-n", "3", "--hz", "100", "-i", "A=shm:" + key, "-i", "B=zeros",
                     "--check", "C=" + FloatsNpy("ones.npy", {1, 1, 1, 1})});
  EXPECT_EQ(r.code, kExitOk) << r.err << r.out;
  r = Uoprun({"run", uop, "-n", "1", "-i", "A=shm:/uoprun_no_such_key", "-i", "B=zeros"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("shm_open '/uoprun_no_such_key'"), std::string::npos) << r.err;
}

TEST(UoprunCli, UsageErrorsAreOneLineWithStatus2) {
  const std::string uop = CompileAdd();
  const std::string a = FloatsNpy("a2.npy", {1, 2, 3, 4});
  auto expect_usage = [](const Result& r, const std::string& text) {
    EXPECT_EQ(r.code, kExitUsage) << r.err;
    EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  };
  expect_usage(Uoprun({}), "usage: uoprun COMMAND");
  expect_usage(Uoprun({"frobnicate"}), "uoprun: unknown command 'frobnicate'");
  expect_usage(Uoprun({"run", uop, "--hz", "fast"}), "flag --hz: 'fast' is not a number");
  expect_usage(Uoprun({"run", uop, "-i", "A=" + a}), "no data for input(s) B");
  expect_usage(Uoprun({"run", uop, "-i", "Z=zeros"}), "no input 'Z' (inputs: A, B)");
  expect_usage(Uoprun({"run", uop, "-i", "A=" + FloatsNpy("short.npy", {1}), "-i", "B=zeros"}),
               "'A' is FP32[4], the file holds FP32[1]");
  expect_usage(Uoprun({"run", uop, "-i", "A=zeros", "-i", "B=zeros", "--cpus", "x"}),
               "bad CPU list 'x'");
  expect_usage(Uoprun({"compile", "m.onnx", "--shape", "x=1,a"}), "not a list of dimensions");
  expect_usage(Uoprun({"compile"}), "compile takes one model file");
  Result h = Uoprun({"run", "--help"});
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("--rt-priority=N"), std::string::npos) << h.out;
  EXPECT_EQ(Uoprun({"compile", "-h"}).code, 0);
  EXPECT_EQ(Uoprun({"info", "--help"}).code, 0);
  EXPECT_EQ(Uoprun({"help"}).code, 0);
}

TEST(UoprunCli, UnusableArtifactsExitWith5) {
  const std::string uop = CompileAdd();
  std::ifstream in(uop, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const std::string cut = Temp("cut.uop");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  Result r = Uoprun({"run", cut, "-i", "A=zeros", "-i", "B=zeros"});
  EXPECT_EQ(r.code, kExitBadArtifact) << r.err;
  EXPECT_NE(r.err.find("uoprun: " + cut + ": "), std::string::npos) << r.err;
  EXPECT_EQ(Uoprun({"info", cut}).code, kExitBadArtifact);
  EXPECT_EQ(Uoprun({"run", Temp("missing.uop")}).code, kExitFailure);
  // An ONNX file where an artifact belongs: a clear word, not a crash.
  r = Uoprun({"info", "examples/models/add/1/model.onnx"});
  EXPECT_EQ(r.code, kExitBadArtifact);
  EXPECT_NE(r.err.find("magic"), std::string::npos) << r.err;
}

TEST(UoprunCli, CompileFailuresExitWith1) {
  Result r = Uoprun({"compile", Temp("nope.onnx"), "-o", Temp("nope.uop")});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("nope.onnx"), std::string::npos) << r.err;
}

// The real binary: SIGINT ends an unbounded loop and the statistics print.
TEST(UoprunBinary, SigintPrintsStatisticsAndExitsZero) {
  const std::string uop = CompileAdd();
  const std::string out = Temp("sigint.out");
  const std::string cmd =
      absl::StrCat("timeout --preserve-status -s INT 1 client/uoprun/uoprun run ", uop,
                   " --hz 50 -i A=zeros -i B=zeros > ", out, " 2>&1");
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("(Ctrl-C stops)"), std::string::npos) << text;
  EXPECT_NE(text.find("at 50.0 Hz: 0 deadline misses"), std::string::npos) << text;
  EXPECT_NE(text.find("jitter   ms"), std::string::npos) << text;
}

}  // namespace
}  // namespace uop::uoprun
