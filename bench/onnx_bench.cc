// onnx_<model>: CPU latency of the dev models against onnxruntime, and
// onnx_<model>_ready: import + compile to the first result with an empty
// kernel cache.
//
//   onnx_bench [--threads N] [--runs N] [--rounds N] [--no-peer] [CASE_DIR...]
//
// CASE_DIRs hold model.onnx and test_data_set_0 (default: the dev models
// assembled by tests/onnx/fetch_models.py in $HOME/.cache/uop/onnx-models).
// Latency is the median of --runs warm Runs after 5 warm-ups (recorded
// launches replayed; inputs copied in, outputs copied out), the best of
// --rounds rounds that alternate with the peer's. READY is measured
// in a child process with a fresh, empty kernel cache: exec to the first
// result, and the time inside it from loading the file to the first result.
// The peer, onnxruntime-node 1.30.0 on the same threads and input
// (bench/peers/ort_model.sh), runs in its own process; ratio = peer / uop
// (above 1: uop is faster).
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/child_process.h"
#include "onnx/onnx_pb.h"
#include "runtime/engine/engine.h"
#include "runtime/onnx/model.h"
#include "runtime/onnx/onnx_model.h"
#include "runtime/onnx/tensor_proto.h"

namespace uop::onnx_import {
namespace {

using Feed = std::vector<std::pair<std::string, HostValue>>;

absl::StatusOr<Feed> ReadInputs(const std::string& dir, const OnnxModel& model) {
  Feed feed;
  for (size_t i = 0; i < model.inputs().size(); ++i) {
    const std::string file = absl::StrCat(dir, "/test_data_set_0/input_", i, ".pb");
    if (access(file.c_str(), R_OK) != 0) break;
    absl::StatusOr<std::string> bytes = ReadFileBytes(file);
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<HostValue> v = ParseValueFile(*bytes, ValueFileKind::kTensor);
    if (!v.ok()) return v.status();
    feed.emplace_back(model.inputs()[i].name, *std::move(v));
  }
  return feed;
}

// Child mode: load + first result, printing the time it took.
int Ready(const std::string& dir) {
  absl::Time t0 = absl::Now();
  Engine::Install();
  absl::StatusOr<std::unique_ptr<OnnxModel>> model = OnnxModel::Load(dir + "/model.onnx");
  if (!model.ok()) {
    fprintf(stderr, "onnx_bench: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<Feed> feed = ReadInputs(dir, **model);
  if (!feed.ok()) return 1;
  absl::Time t1 = absl::Now();
  absl::StatusOr<std::vector<HostValue>> out = (*model)->Run(*feed);
  if (!out.ok()) {
    fprintf(stderr, "onnx_bench: %s\n", std::string(out.status().message()).c_str());
    return 1;
  }
  absl::Time t2 = absl::Now();
  printf("ready_ms %.3f load_ms %.3f\n", absl::ToDoubleMilliseconds(t2 - t0),
         absl::ToDoubleMilliseconds(t1 - t0));
  return 0;
}

int Main(int argc, char** argv) {
  int threads = 0, runs = 50, rounds = 3;
  bool peer = true;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--ready" && i + 1 < argc) return Ready(argv[i + 1]);
    if (a == "--threads" && i + 1 < argc) {
      threads = atoi(argv[++i]);
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::max(1, atoi(argv[++i]));
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, atoi(argv[++i]));
    } else if (a == "--no-peer") {
      peer = false;
    } else {
      dirs.push_back(a);
    }
  }
  if (threads <= 0) threads = static_cast<int>(std::min<long>(sysconf(_SC_NPROCESSORS_ONLN), 64));
  setenv("UOP_CPU_THREADS", std::to_string(threads).c_str(), 1);
  if (dirs.empty()) {
    const std::string root =
        absl::StrCat(getenv("HOME") ? getenv("HOME") : "/tmp", "/.cache/uop/onnx-models");
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root, ec))
      if (std::filesystem::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    if (dirs.empty()) {
      fprintf(stderr, "onnx_bench: no models in %s (run tests/onnx/fetch_models.py)\n",
              root.c_str());
      return 1;
    }
  }
  Engine::Install();
  int failed = 0;
  for (const std::string& dir : dirs) {
    const std::string name = bench::BaseName(dir);
    absl::StatusOr<std::unique_ptr<OnnxModel>> model = OnnxModel::Load(dir + "/model.onnx");
    absl::StatusOr<Feed> feed = model.ok() ? ReadInputs(dir, **model) : model.status();
    if (!feed.ok()) {
      fprintf(stderr, "onnx_bench: %s: %s\n", name.c_str(),
              std::string(feed.status().message()).c_str());
      ++failed;
      continue;
    }
    // Rounds alternate uop and the peer; each reports the best median of its
    // rounds, so a burst of load on a shared machine hits both alike.
    double ms = 1e300, ort_ms = 1e300;
    bool ok = true;
    for (int round = 0; round < rounds && ok; ++round) {
      std::vector<double> times;
      for (int i = 0; i < runs + 5 && ok; ++i) {
        absl::Time t0 = absl::Now();
        absl::StatusOr<std::vector<HostValue>> out = (*model)->Run(*feed);
        ok = out.ok();
        if (!ok)
          fprintf(stderr, "onnx_bench: %s: %s\n", name.c_str(),
                  std::string(out.status().message()).c_str());
        if (i >= 5) times.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      }
      if (!ok) break;
      std::sort(times.begin(), times.end());
      ms = std::min(ms, times[times.size() / 2]);
      if (peer) {
        std::string out = bench::CaptureStdout(
            {"bench/peers/ort_model.sh", dir, std::to_string(threads), std::to_string(runs)}, {});
        const double m = bench::NumberAfter(out, "ms");
        if (m > 0) ort_ms = std::min(ort_ms, m);
      }
    }
    if (!ok) {
      ++failed;
      continue;
    }
    std::string peer_part;
    if (peer && ort_ms < 1e300) {
      peer_part = absl::StrCat(" peer=onnxruntime:", absl::StrFormat("%.4f", ort_ms),
                               " ratio=", absl::StrFormat("%.3f", ort_ms / ms));
    } else if (peer) {
      fprintf(stderr, "onnx_bench: %s: the onnxruntime peer did not run\n", name.c_str());
    }
    printf("BENCH onnx_%s value=%.4f unit=ms%s\n", name.c_str(), ms, peer_part.c_str());
    // READY with an empty kernel cache, in a fresh process.
    char tmpl[] = "/tmp/uop_onnx_ready_XXXXXX";
    std::string cache = mkdtemp(tmpl);
    double wall = 0;
    std::string out = bench::CaptureStdout(
        {"/proc/self/exe", "--ready", dir},
        {"UOP_CACHE_DIR=" + cache, "UOP_CPU_THREADS=" + std::to_string(threads)}, &wall);
    std::filesystem::remove_all(cache);
    const double ready = bench::NumberAfter(out, "ready_ms");
    if (ready < 0) {
      fprintf(stderr, "onnx_bench: %s: the READY child failed\n", name.c_str());
      ++failed;
      continue;
    }
    fprintf(stderr, "onnx_bench: %s: exec to exit %.1f ms, load %.1f ms, %d threads\n",
            name.c_str(), wall, bench::NumberAfter(out, "load_ms"), threads);
    printf("BENCH onnx_%s_ready value=%.1f unit=ms\n", name.c_str(), ready);
    fflush(stdout);
  }
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace uop::onnx_import

int main(int argc, char** argv) { return uop::onnx_import::Main(argc, argv); }
