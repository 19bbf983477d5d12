// Multi-GPU serving through the real uopd binary without a GPU: uopd started
// with --gpu-backend NULL (4 null GPUs that accept every launch and compute
// nothing) serves an ONNX model whose instance_group places one instance on
// each of GPUs 0 and 1. Checked: requests are answered with the declared
// shapes, /metrics shows executions and rows on both GPUs and none on the
// GPUs the config did not list, and each GPU's reserved memory is the
// model's weight bytes. NULL devices return zeros, so no values are checked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/e2e/uopd_process.h"

namespace uop::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kUopd[] = "server/uopd";
// examples/models/mlp: W1 [64, 128], b1 [128], W2 [128, 16], b2 [16], fp32.
constexpr int64_t kMlpWeightBytes = (64 * 128 + 128 + 128 * 16 + 16) * 4;

// A repository holding examples/models/mlp with `instance_group`.
std::string Repository(const std::string& instance_group) {
  const fs::path repo = fs::path(testing::TempDir()) / "multi_gpu_repo";
  fs::remove_all(repo);
  fs::create_directories(repo / "mlp" / "1");
  fs::copy_file("examples/models/mlp/1/model.onnx", repo / "mlp" / "1" / "model.onnx");
  std::ofstream(repo / "mlp" / "config.pbtxt")
      << "name: \"mlp\"\nbackend: \"onnxruntime\"\nmax_batch_size: 32\n"
      << "input [{ name: \"x\" data_type: TYPE_FP32 dims: [ 64 ] }]\n"
      << "output [{ name: \"y\" data_type: TYPE_FP32 dims: [ 16 ] }]\n"
      << "dynamic_batching { max_queue_delay_microseconds: 0 }\n"
      << instance_group << "\n";
  return repo.string();
}

// uopd owning 4 null GPUs, serving `repo`; not waited for.
UopdProcess StartOnNullGpus(const std::string& repo) {
  return UopdProcess::Start(kUopd,
                            {absl::StrCat("--model-repository=", repo), "--gpu-backend=NULL",
                             absl::StrCat("--kernel-cache-dir=", testing::TempDir(), "/kernels"),
                             "--exit-timeout-secs=5"});
}

// The value of the series `name{labels}` in a /metrics text, or -1.
double Series(const std::string& metrics, const std::string& name_and_labels) {
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, name_and_labels + " ")) continue;
    double v = -1;
    if (absl::SimpleAtod(line.substr(name_and_labels.size() + 1), &v)) return v;
  }
  return -1;
}

std::string Gpu(int g) { return absl::StrCat("{gpu=\"", g, "\",device=\"NULL:", g, "\"}"); }

TEST(MultiGpuE2e, AnOnnxModelOnTwoNullGpusServesOnBoth) {
  UopdProcess u =
      StartOnNullGpus(Repository("instance_group [{ kind: KIND_GPU count: 1 gpus: [0, 1] }]"));
  ASSERT_TRUE(u.started()) << u.Output();
  ASSERT_TRUE(u.WaitReady(absl::Seconds(120))) << u.Output();

  // Concurrent clients keep both instances busy; with one client at a time
  // the scheduler still alternates (ties go to the GPU that has done less).
  std::string row = "[";
  for (int i = 0; i < 64; ++i) absl::StrAppend(&row, i ? "," : "", i % 7);
  row += "]";
  const std::string body = absl::StrCat(
      R"({"inputs":[{"name":"x","shape":[1,64],"datatype":"FP32","data":)", row, "}]}");
  constexpr int kClients = 4, kRequests = 10;
  std::atomic<int> answered{0};
  std::vector<std::string> errors(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int r = 0; r < kRequests; ++r) {
        HttpResult res = Http(u.http_port, "POST", "/v2/models/mlp/infer", body);
        if (res.status == 200 && absl::StrContains(res.body, R"("shape":[1,16])")) {
          ++answered;
        } else if (errors[c].empty()) {
          errors[c] = absl::StrCat(res.status, " ", res.body);
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(answered.load(), kClients * kRequests);

  const std::string metrics = Http(u.metrics_port, "GET", "/metrics").body;
  const double exec0 = Series(metrics, "uop_gpu_executions_total" + Gpu(0));
  const double exec1 = Series(metrics, "uop_gpu_executions_total" + Gpu(1));
  EXPECT_GT(exec0, 0) << metrics;
  EXPECT_GT(exec1, 0) << metrics;
  // Every request ran once (one row each), split between the two GPUs.
  EXPECT_EQ(Series(metrics, "uop_gpu_rows_total" + Gpu(0)) +
                Series(metrics, "uop_gpu_rows_total" + Gpu(1)),
            kClients * kRequests)
      << metrics;
  // uopd owns 4 null GPUs; the config listed two.
  EXPECT_EQ(Series(metrics, "uop_gpu_executions_total" + Gpu(2)), 0) << metrics;
  EXPECT_EQ(Series(metrics, "uop_gpu_executions_total" + Gpu(3)), 0) << metrics;
  for (int g = 0; g < 2; ++g) {
    EXPECT_EQ(Series(metrics, "uop_gpu_healthy" + Gpu(g)), 1) << metrics;
    EXPECT_EQ(Series(metrics, absl::StrCat("uop_gpu_memory_bytes{gpu=\"", g, "\",device=\"NULL:", g,
                                           "\",kind=\"reserved\"}")),
              kMlpWeightBytes)
        << metrics;
  }
  EXPECT_EQ(Series(metrics, R"(uop_gpu_memory_bytes{gpu="2",device="NULL:2",kind="reserved"})"), 0)
      << metrics;
}

TEST(MultiGpuE2e, AGroupNamingAGpuUopdDoesNotOwnLeavesTheModelUnavailable) {
  UopdProcess u =
      StartOnNullGpus(Repository("instance_group [{ kind: KIND_GPU count: 1 gpus: [0, 7] }]"));
  ASSERT_TRUE(u.started()) << u.Output();
  const std::string line = u.process->WaitForStdoutLine("uopd: not ready", absl::Seconds(120));
  EXPECT_THAT(line, HasSubstr("model 'mlp'")) << u.Output();
  EXPECT_THAT(line, HasSubstr("names GPU 7, which does not exist")) << u.Output();
  HttpResult ready = Http(u.http_port, "GET", "/v2/models/mlp/ready");
  EXPECT_NE(ready.status, 200) << ready.body;
}

}  // namespace
}  // namespace uop::e2e
