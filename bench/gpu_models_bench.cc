// gpu_model_<model>_b<B>: latency of the ONNX dev models on the first CUDA
// GPU at batch 1 and 32, against torch running the same ONNX graph captured
// in a CUDA graph (bench/peers/torch_onnx.py) on the same GPU in the same
// run; gpu_model_<model>_cold: load to the first result in a fresh process
// with an empty kernel cache.
//
//   gpu_models_bench [--runs N] [--batches 1,32] [--no-peer] [--device NAME] [CASE_DIR...]
//
// CASE_DIRs hold model.onnx and test_data_set_0 (default: the dev models
// assembled by tests/onnx/fetch_models.py in $HOME/.cache/uop/onnx-models).
// Batch B is the fixed input tiled B times along its first symbolic dim
// (scalars such as silero's sr are not tiled). Latency is wall clock per
// OnnxModel::Run, inputs uploaded and outputs downloaded included (the
// recorded launches replayed as one CUDA graph): the median of up to --runs
// Runs after 5 warm-ups (fewer when they pass 3 s). Outputs are checked
// against test_data_set_0 (rtol 1e-3, atol 1e-4), at batch B against the
// reference tiled along the axis where it has 1 and the output B. ratio =
// torch ms / uop ms (above 1: uop is faster).
//
// A model that fails on the GPU prints its error on stderr and the others
// still run. Without a GPU it says so on stderr and prints nothing.
// --device CPU runs the same measurements and checks on the CPU (no peer):
// a check of the bench itself where there is no GPU.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/child_process.h"
#include "drivers/cuda/cuda_device.h"
#include "drivers/device_registry.h"
#include "runtime/engine/engine.h"
#include "runtime/onnx/onnx_model.h"
#include "runtime/onnx/tensor_proto.h"

namespace uop::onnx_import {
namespace {

using Feed = std::vector<std::pair<std::string, HostValue>>;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

absl::StatusOr<HostValue> ReadValue(const std::string& file) {
  absl::StatusOr<std::string> bytes = ReadFileBytes(file);
  if (!bytes.ok()) return bytes.status();
  return ParseValueFile(*bytes, ValueFileKind::kTensor);
}

// The model's inputs from test_data_set_0, each tiled `batch` times along
// its first symbolic dim.
absl::StatusOr<Feed> ReadFeed(const std::string& dir, const OnnxModel& model, int batch) {
  Feed feed;
  for (size_t i = 0; i < model.inputs().size(); ++i) {
    const std::string file = absl::StrCat(dir, "/test_data_set_0/input_", i, ".pb");
    if (access(file.c_str(), R_OK) != 0) break;
    absl::StatusOr<HostValue> v = ReadValue(file);
    if (!v.ok()) return v.status();
    const std::vector<Dim>& dims = model.inputs()[i].type.dims;
    int axis = -1;
    for (size_t d = 0; d < dims.size(); ++d) {
      if (dims[d].value < 0) {
        axis = static_cast<int>(d);
        break;
      }
    }
    if (batch == 1 || axis < 0 || !v->is_tensor()) {
      feed.emplace_back(model.inputs()[i].name, *std::move(v));
      continue;
    }
    const HostTensor& t = v->tensor();
    if (axis >= static_cast<int>(t.shape.size()) || t.shape[axis] != 1) {
      return absl::InvalidArgumentError(absl::StrCat("input ", i, " (", t.Describe(),
                                                     ") has no dim of 1 at its batch axis ", axis));
    }
    // Row-major: tiling along `axis` repeats each block of the dims after it.
    int64_t outer = 1;
    for (int d = 0; d < axis; ++d) outer *= t.shape[d];
    const size_t block = t.bytes.size() / outer;
    HostTensor tiled;
    tiled.dtype = t.dtype;
    tiled.shape = t.shape;
    tiled.shape[axis] = batch;
    tiled.bytes.reserve(t.bytes.size() * batch);
    for (int64_t o = 0; o < outer; ++o) {
      for (int b = 0; b < batch; ++b) {
        tiled.bytes.insert(tiled.bytes.end(), t.bytes.begin() + o * block,
                           t.bytes.begin() + (o + 1) * block);
      }
    }
    feed.emplace_back(model.inputs()[i].name, HostValue::Tensor(std::move(tiled)));
  }
  return feed;
}

// Checks float32 outputs against test_data_set_0 (tiled for batch > 1);
// returns "" when they match, else what differs.
std::string CheckOutputs(const std::string& dir, const std::vector<HostValue>& outs, int batch) {
  std::string problems;
  for (size_t i = 0; i < outs.size(); ++i) {
    const std::string file = absl::StrCat(dir, "/test_data_set_0/output_", i, ".pb");
    if (access(file.c_str(), R_OK) != 0) break;
    absl::StatusOr<HostValue> ref = ReadValue(file);
    if (!ref.ok() || !ref->is_tensor() || !outs[i].is_tensor()) {
      absl::StrAppend(&problems, " output ", i, ": unreadable reference or not a tensor;");
      continue;
    }
    const HostTensor& r = ref->tensor();
    const HostTensor& o = outs[i].tensor();
    if (r.dtype != DType::Float32() || o.dtype != DType::Float32()) {
      absl::StrAppend(&problems, " output ", i, ": not float32 (", o.Describe(), ");");
      continue;
    }
    // The axis where the reference has 1 and the output `batch`.
    int axis = -1;
    bool same_rank = r.shape.size() == o.shape.size();
    for (size_t d = 0; same_rank && d < r.shape.size(); ++d) {
      if (r.shape[d] == o.shape[d]) continue;
      if (axis < 0 && r.shape[d] == 1 && o.shape[d] == batch) {
        axis = static_cast<int>(d);
      } else {
        same_rank = false;
      }
    }
    if (!same_rank || (batch > 1 && axis < 0 && r.shape != o.shape)) {
      absl::StrAppend(&problems, " output ", i, ": shape ", o.Describe(), " vs reference ",
                      r.Describe(), ";");
      continue;
    }
    int64_t outer = 1;
    for (int d = 0; d < axis; ++d) outer *= r.shape[d];
    const size_t n_ref = r.bytes.size() / 4, block = axis < 0 ? n_ref : n_ref / outer;
    const size_t n_out = o.bytes.size() / 4;
    const int reps = axis < 0 ? 1 : batch;
    double max_err = 0;
    size_t bad = 0;
    for (size_t k = 0; k < n_out; ++k) {
      // Output element k of block (outer o, copy b) at offset j.
      const size_t j = k % block, o_index = k / (block * reps);
      float got, want;
      std::memcpy(&got, o.bytes.data() + 4 * k, 4);
      std::memcpy(&want, r.bytes.data() + 4 * (o_index * block + j), 4);
      const double err = std::abs(static_cast<double>(got) - want);
      if (!(err <= 1e-4 + 1e-3 * std::abs(static_cast<double>(want)))) ++bad;
      if (!(err <= max_err)) max_err = err;  // NaN sticks
    }
    if (bad > 0) {
      absl::StrAppend(&problems, " output ", i, ": ", bad, " of ", n_out,
                      " elements off, max abs error ", absl::StrFormat("%g", max_err), ";");
    } else {
      fprintf(stderr, "#   output %zu %s matches (max abs error %g)\n", i, o.Describe().c_str(),
              max_err);
    }
  }
  return problems;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

// Child mode: a fresh Engine with `compile_threads`, the kernel cache in
// $UOP_CACHE_DIR (empty), load to the first result on the GPU at batch 1.
int Cold(const std::string& dir, const std::string& device, int compile_threads) {
  absl::Time t0 = absl::Now();
  auto engine = Engine::Install({.compile_threads = compile_threads});
  absl::StatusOr<Device*> dev = DeviceRegistry::Global().Get(device);
  if (!dev.ok()) {
    fprintf(stderr, "gpu_models_bench: cold: %s\n", Message(dev.status()).c_str());
    return 1;
  }
  absl::Time t1 = absl::Now();
  LoadOptions options;
  options.device = device;
  absl::StatusOr<std::unique_ptr<OnnxModel>> model = OnnxModel::Load(dir + "/model.onnx", options);
  absl::StatusOr<Feed> feed = model.ok() ? ReadFeed(dir, **model, 1) : model.status();
  if (!feed.ok()) {
    fprintf(stderr, "gpu_models_bench: cold: %s\n", Message(feed.status()).c_str());
    return 1;
  }
  absl::Time t2 = absl::Now();
  absl::StatusOr<std::vector<HostValue>> out = (*model)->Run(*feed);
  if (!out.ok()) {
    fprintf(stderr, "gpu_models_bench: cold: %s\n", Message(out.status()).c_str());
    return 1;
  }
  absl::Time t3 = absl::Now();
  printf("cold_ms %.3f device_ms %.3f load_ms %.3f first_run_ms %.3f compiled %llu\n",
         absl::ToDoubleMilliseconds(t3 - t0), absl::ToDoubleMilliseconds(t1 - t0),
         absl::ToDoubleMilliseconds(t2 - t1), absl::ToDoubleMilliseconds(t3 - t2),
         static_cast<unsigned long long>(engine->stats().compiler.compiled));
  return 0;
}

// torch's median ms per "<model> <batch>" from bench/peers/torch_onnx.py
// lines "result <model> <batch> <ms> <ok|wrong>"; "#" lines go to stderr.
std::map<std::string, double> TorchPeer(const std::vector<std::string>& dirs,
                                        const std::vector<int>& batches, int runs) {
  std::string cmd = absl::StrCat("python3 bench/peers/torch_onnx.py --runs ", runs, " --batches ",
                                 absl::StrJoin(batches, ","));
  for (const std::string& d : dirs) absl::StrAppend(&cmd, " ", d);
  std::map<std::string, double> ms;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return ms;
  char line[1024];
  while (fgets(line, sizeof(line), p)) {
    char model[256], ok[16];
    int batch;
    double v;
    if (sscanf(line, "result %255s %d %lf %15s", model, &batch, &v, ok) == 4) {
      fprintf(stderr, "# torch %s batch %d: %.4f ms, outputs %s\n", model, batch, v, ok);
      if (std::string(ok) == "ok") ms[absl::StrCat(model, " ", batch)] = v;
    } else {
      fprintf(stderr, "%s", line);
    }
  }
  pclose(p);
  return ms;
}

int Main(int argc, char** argv) {
  int runs = 200;
  bool peer = true;
  std::vector<int> batches = {1, 32};
  std::string device = "CUDA";
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cold" && i + 3 < argc) return Cold(argv[i + 1], argv[i + 2], atoi(argv[i + 3]));
    if (a == "--runs" && i + 1 < argc) {
      runs = std::max(1, atoi(argv[++i]));
    } else if (a == "--batches" && i + 1 < argc) {
      batches.clear();
      for (absl::string_view b : absl::StrSplit(argv[++i], ',')) {
        int n;
        if (absl::SimpleAtoi(b, &n) && n > 0) batches.push_back(n);
      }
    } else if (a == "--no-peer") {
      peer = false;
    } else if (a == "--device" && i + 1 < argc) {
      device = argv[++i];
    } else {
      dirs.push_back(a);
    }
  }
  absl::Status avail = cuda::CudaDevice::Availability();
  if (device != "CUDA") {
    peer = false;
  } else if (!avail.ok()) {
    fprintf(stderr, "gpu_models_bench: no CUDA GPU: %s\n", Message(avail).c_str());
    return 0;
  }
  if (dirs.empty()) {
    const std::string root =
        absl::StrCat(getenv("HOME") ? getenv("HOME") : "/tmp", "/.cache/uop/onnx-models");
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root, ec))
      if (std::filesystem::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    if (dirs.empty()) {
      fprintf(stderr, "gpu_models_bench: no models in %s (run tests/onnx/fetch_models.py)\n",
              root.c_str());
      return 1;
    }
  }
  // The peer first, in its own process: it has exited (and freed its GPU
  // memory) before uop starts.
  std::map<std::string, double> torch_ms;
  if (peer) torch_ms = TorchPeer(dirs, batches, runs);

  // No disk cache: each shape's first Run compiles every kernel (in a warm
  // process: context up, NVRTC loaded).
  auto engine = Engine::Install({.cache_dir = "-"});
  absl::StatusOr<Device*> gpu = DeviceRegistry::Global().Get(device);
  if (!gpu.ok()) {
    fprintf(stderr, "gpu_models_bench: %s\n", Message(gpu.status()).c_str());
    return 1;
  }
  fprintf(stderr, "# uop device: %s\n", (*gpu)->info().description.c_str());
  int failed = 0;
  for (const std::string& dir : dirs) {
    const std::string name = bench::BaseName(dir);
    LoadOptions options;
    options.device = device;
    absl::StatusOr<std::unique_ptr<OnnxModel>> model =
        OnnxModel::Load(dir + "/model.onnx", options);
    if (!model.ok()) {
      fprintf(stderr, "gpu_models_bench: %s: load: %s\n", name.c_str(),
              Message(model.status()).c_str());
      ++failed;
      continue;
    }
    for (int batch : batches) {
      absl::StatusOr<Feed> feed = ReadFeed(dir, **model, batch);
      if (!feed.ok()) {
        fprintf(stderr, "gpu_models_bench: %s batch %d: inputs: %s\n", name.c_str(), batch,
                Message(feed.status()).c_str());
        ++failed;
        continue;
      }
      const EngineStats e0 = engine->stats();
      absl::Time t0 = absl::Now();
      absl::StatusOr<std::vector<HostValue>> out = (*model)->Run(*feed);
      const double first_ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
      if (!out.ok()) {
        fprintf(stderr, "gpu_models_bench: %s batch %d: first run failed: %s\n", name.c_str(),
                batch, Message(out.status()).c_str());
        ++failed;
        break;  // the model does not run on the GPU; the next model
      }
      const EngineStats e1 = engine->stats();
      fprintf(stderr,
              "# %s batch %d: first run (build + compile, no disk cache) %.1f ms, %llu "
              "kernels compiled, %llu kernels run\n",
              name.c_str(), batch, first_ms,
              static_cast<unsigned long long>(e1.compiler.compiled - e0.compiler.compiled),
              static_cast<unsigned long long>(e1.kernels_run - e0.kernels_run));
      std::string wrong = CheckOutputs(dir, *out, batch);
      // The replayed run must give the same answer as the recording one.
      absl::StatusOr<std::vector<HostValue>> again = (*model)->Run(*feed);
      if (!again.ok()) {
        fprintf(stderr, "gpu_models_bench: %s batch %d: replay failed: %s\n", name.c_str(), batch,
                Message(again.status()).c_str());
        ++failed;
        continue;
      }
      absl::StrAppend(&wrong, CheckOutputs(dir, *again, batch));
      if (!wrong.empty()) {
        fprintf(stderr, "gpu_models_bench: %s batch %d: WRONG outputs:%s\n", name.c_str(), batch,
                wrong.c_str());
        ++failed;
      }
      const EngineStats e2 = engine->stats();
      std::vector<double> times;
      bool ok = true;
      absl::Time start = absl::Now();
      for (int i = 0; i < runs + 5 && ok; ++i) {
        absl::Time t = absl::Now();
        absl::StatusOr<std::vector<HostValue>> o = (*model)->Run(*feed);
        ok = o.ok();
        if (!ok) {
          fprintf(stderr, "gpu_models_bench: %s batch %d: %s\n", name.c_str(), batch,
                  Message(o.status()).c_str());
        }
        if (i >= 5) times.push_back(absl::ToDoubleMilliseconds(absl::Now() - t));
        if (i >= 15 && absl::Now() - start > absl::Seconds(3)) break;
      }
      if (!ok || times.empty()) {
        ++failed;
        continue;
      }
      const OnnxModelStats ms = (*model)->stats();
      const EngineStats e3 = engine->stats();
      fprintf(stderr,
              "# %s batch %d: %zu timed runs, min %.4f ms, %.1f kernels per run; model "
              "runs %llu replays %llu captures %llu uncacheable %llu\n",
              name.c_str(), batch, times.size(), *std::min_element(times.begin(), times.end()),
              static_cast<double>(e3.kernels_run - e2.kernels_run) / (times.size() + 5),
              static_cast<unsigned long long>(ms.runs), static_cast<unsigned long long>(ms.replays),
              static_cast<unsigned long long>(ms.captures),
              static_cast<unsigned long long>(ms.uncacheable));
      const double uop_ms = Median(times);
      std::string line =
          absl::StrFormat("BENCH gpu_model_%s_b%d value=%.4f unit=ms", name, batch, uop_ms);
      auto it = torch_ms.find(absl::StrCat(name, " ", batch));
      if (it != torch_ms.end()) {
        line +=
            absl::StrFormat(" peer=torch_graph:%.4f ratio=%.3f", it->second, it->second / uop_ms);
        fprintf(stderr, "# %s batch %d: uop/torch latency %.2fx (to resolve <= 2x)\n", name.c_str(),
                batch, uop_ms / it->second);
      } else if (peer) {
        fprintf(stderr, "gpu_models_bench: %s batch %d: no torch figure\n", name.c_str(), batch);
      }
      printf("%s\n", line.c_str());
      fflush(stdout);
    }
    // Cold compile in a fresh process with an empty kernel cache, with the
    // Engine's default compile threads and with one per core.
    const int cores = static_cast<int>(std::min<long>(sysconf(_SC_NPROCESSORS_ONLN), 64));
    std::vector<int> thread_counts = {EngineOptions().compile_threads};
    if (cores > thread_counts[0]) thread_counts.push_back(cores);
    for (int threads : thread_counts) {
      char tmpl[] = "/tmp/uop_gpu_cold_XXXXXX";
      const char* cache = mkdtemp(tmpl);
      if (cache == nullptr) break;
      std::string out =
          bench::CaptureStdout({"/proc/self/exe", "--cold", dir, device, std::to_string(threads)},
                               {absl::StrCat("UOP_CACHE_DIR=", cache)});
      std::filesystem::remove_all(cache);
      const double cold = bench::NumberAfter(out, "cold_ms");
      if (cold < 0) {
        fprintf(stderr, "gpu_models_bench: %s: the cold child failed\n", name.c_str());
        ++failed;
        break;
      }
      fprintf(stderr,
              "# %s cold, %d compile threads: device open %.1f ms, load %.1f ms, first run "
              "%.1f ms, %.0f kernels compiled\n",
              name.c_str(), threads, bench::NumberAfter(out, "device_ms"),
              bench::NumberAfter(out, "load_ms"), bench::NumberAfter(out, "first_run_ms"),
              bench::NumberAfter(out, "compiled"));
      printf("BENCH gpu_model_%s_cold%s value=%.1f unit=ms\n", name.c_str(),
             threads == EngineOptions().compile_threads ? "" : absl::StrCat("_t", threads).c_str(),
             cold);
      fflush(stdout);
    }
  }
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace uop::onnx_import

int main(int argc, char** argv) { return uop::onnx_import::Main(argc, argv); }
