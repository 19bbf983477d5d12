// multi_gpu: serving throughput of one model at batch 32 with its instances
// on 1 GPU vs on every GPU (up to --max-gpus), through the same
// PlaceInstances + Scheduler path uopd serves with, many concurrent clients.
//
//   multi_gpu_bench [--prefix CUDA] [--max-gpus 2] [--per-gpu 2] [--clients 32]
//                   [--seconds 8] [--dim 4096] [--layers 8] [--batch 32]
//
// The model: an MLP of --layers fp32 [dim x dim] Linear+ReLU layers (same
// seeded weights on every GPU), built with the Tensor API on the instance's
// device, captured once per instance and replayed (one device graph per
// execution) by a per-instance Engine, so instances on different GPUs never
// share a lock. ONNX models run on the CPU device only in this tree (the
// ONNX importer places its tensors on "CPU"), so no dev ONNX model can be
// served on a GPU yet; this model is GPU-bound at batch 32 (see the printed
// per-execution time) and measures what the issue asks of multi-GPU serving:
// whether N GPUs serve N times the work.
//
// Prints per configuration: rows/s, requests/s, p50/p99 latency, and per
// device executions, rows and busy time; then the ratio; then the uop_gpu_*
// series a /metrics scrape shows after the multi-GPU run. Results are
// checked: every GPU's instance must return the same bytes for one input.
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "drivers/buffer.h"
#include "drivers/device_registry.h"
#include "runtime/base/status_macros.h"
#include "runtime/engine/engine.h"
#include "runtime/tensor/storage.h"
#include "runtime/tensor/tensor.h"
#include "runtime/uop/arg.h"
#include "server/device_placement.h"
#include "server/gpu_metrics.h"
#include "server/model_config.h"
#include "server/model_stats.h"
#include "server/scheduler.h"

namespace uop {
namespace {

using server::InferJob;
using server::InputTensor;
using server::OutputTensor;

struct Flags {
  std::string prefix = "CUDA";
  int max_gpus = 2;
  int per_gpu = 2;
  int clients = 32;
  double seconds = 8;
  int dim = 4096;
  int layers = 8;
  int batch = 32;
};

// Captures go through the process-wide Engine's recorder: one at a time.
std::mutex& CaptureMutex() {
  static auto* mu = new std::mutex();
  return *mu;
}

class Rec : public Recorder {
 public:
  void OnLaunch(const RecordedLaunch& launch) override { launches.push_back(launch); }
  void OnHostRead(const Storage&) override { host_read = true; }
  void KeepAlive(std::shared_ptr<void> resource) override { keep.push_back(std::move(resource)); }
  std::vector<RecordedLaunch> launches;
  std::vector<std::shared_ptr<void>> keep;
  bool host_read = false;
};

std::shared_ptr<Storage> OutputStorage(const Tensor& t) {
  const UOp* u = t.uop().get();
  if (u->op() == Op::kReshape) u = u->src(0).get();
  if (u->op() != Op::kBuffer) return nullptr;
  return LookupStorage(u->arg().get<BufferArg>().id);
}

class MlpBackend final : public server::ModelBackend {
 public:
  static absl::StatusOr<std::unique_ptr<MlpBackend>> Create(const std::string& device, int dim,
                                                            int layers) {
    auto b = std::unique_ptr<MlpBackend>(new MlpBackend(device, dim));
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.f, 1.f / std::sqrt(static_cast<float>(dim)));
    std::vector<float> w(static_cast<size_t>(dim) * dim);
    for (int l = 0; l < layers; ++l) {
      for (float& v : w) v = normal(rng);
      b->weights_.push_back(Tensor::FromVector<float>(w, {dim, dim}, device));
    }
    {
      std::lock_guard<std::mutex> lock(CaptureMutex());
      std::vector<Tensor*> ws;
      for (Tensor& t : b->weights_) ws.push_back(&t);
      RETURN_IF_ERROR(Tensor::RealizeAll(ws));
    }
    b->inputs_ = {{"x", inference::TYPE_FP32, {-1, dim}}};
    b->outputs_ = {{"y", inference::TYPE_FP32, {-1, dim}}};
    return b;
  }

  const std::vector<server::TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<server::TensorSpec>& outputs() const override { return outputs_; }
  int64_t DeviceBytes() const override {
    return static_cast<int64_t>(weights_.size()) * dim_ * dim_ * 4;
  }

  absl::Status Run(absl::Span<const InputTensor> inputs,
                   std::vector<OutputTensor>* outputs) override {
    if (inputs.size() != 1 || inputs[0].shape.size() != 2 || inputs[0].shape[1] != dim_) {
      return absl::InvalidArgumentError("expected one input x of shape [batch, dim]");
    }
    const int64_t batch = inputs[0].shape[0];
    if (plan_batch_ != batch) RETURN_IF_ERROR(Capture(batch));
    auto* in = static_cast<DeviceBuffer*>(input_->device_handle.get());
    RETURN_IF_ERROR(in->owner()->CopyIn(
        *in, 0,
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(inputs[0].data.data()),
                            inputs[0].data.size())));
    RETURN_IF_ERROR(engine_.Replay(launches_));
    outputs->resize(1);
    OutputTensor& out = (*outputs)[0];
    out.name = "y";
    out.dtype = inference::TYPE_FP32;
    out.shape = {batch, dim_};
    out.data.resize(output_->nbytes());
    auto* ob = static_cast<DeviceBuffer*>(output_->device_handle.get());
    return ob->owner()->CopyOut(
        *ob, 0, absl::MakeSpan(reinterpret_cast<uint8_t*>(out.data.data()), out.data.size()));
  }

 private:
  MlpBackend(std::string device, int dim)
      : device_(std::move(device)), dim_(dim), engine_(EngineOptions{.cache_dir = "-"}) {}

  absl::Status Capture(int64_t batch) {
    std::lock_guard<std::mutex> lock(CaptureMutex());
    auto global = std::dynamic_pointer_cast<Engine>(Tensor::GetRealizer());
    if (!global) return absl::FailedPreconditionError("Engine::Install() first");
    std::vector<uint8_t> zeros(static_cast<size_t>(batch) * dim_ * 4, 0);
    Tensor x = Tensor::FromBytes(zeros, DType::Float32(), {batch, dim_}, device_);
    Tensor h = x;
    for (const Tensor& w : weights_) h = h.Matmul(w).Relu();
    Rec rec;
    global->SetRecorder(&rec);
    absl::Status st = h.Realize();
    global->SetRecorder(nullptr);
    RETURN_IF_ERROR(st);
    if (rec.host_read) return absl::InternalError("the capture read data back to the host");
    input_ = x.storages().storages()[0];
    output_ = OutputStorage(h);
    if (!input_ || !input_->device_handle || !output_ || !output_->device_handle) {
      return absl::InternalError("captured input/output are not device buffers");
    }
    launches_ = std::move(rec.launches);
    keep_ = std::move(rec.keep);
    keep_tensors_ = {x, h};
    plan_batch_ = batch;
    return absl::OkStatus();
  }

  std::string device_;
  int64_t dim_;
  Engine engine_;  // this instance's replays: its own lock and device queue
  std::vector<Tensor> weights_;
  std::vector<server::TensorSpec> inputs_, outputs_;
  int64_t plan_batch_ = -1;
  std::shared_ptr<Storage> input_, output_;
  std::vector<RecordedLaunch> launches_;
  std::vector<std::shared_ptr<void>> keep_;
  std::vector<Tensor> keep_tensors_;
};

struct Result {
  double rows_per_s = 0, req_per_s = 0, p50_ms = 0, p99_ms = 0;
  int64_t failed = 0;
  std::vector<server::DeviceLoad> loads;
};

std::vector<char> RandomInput(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& f : v) f = u(rng);
  std::vector<char> out(n * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

absl::StatusOr<Result> Serve(const Flags& f, const server::GpuSet& gpus, int use_gpus,
                             server::GpuMemoryBudget& budget, std::string* metrics_text) {
  std::vector<std::string> ids;
  for (int g = 0; g < use_gpus; ++g) ids.push_back(absl::StrCat(g));
  ASSIGN_OR_RETURN(inference::ModelConfig config,
                   server::ParseModelConfigText(
                       absl::StrCat("max_batch_size: ", f.batch,
                                    " instance_group [{ kind: KIND_GPU count: ", f.per_gpu,
                                    " gpus: [", absl::StrJoin(ids, ", "), "] }]"),
                       "bench"));
  ASSIGN_OR_RETURN(std::vector<server::InstancePlacement> placement,
                   server::PlaceInstances(config, "mlp", gpus));
  std::vector<std::unique_ptr<server::ModelBackend>> instances;
  std::vector<std::pair<int, int64_t>> need;
  for (const auto& p : placement) {
    ASSIGN_OR_RETURN(std::unique_ptr<MlpBackend> b, MlpBackend::Create(p.device, f.dim, f.layers));
    need.emplace_back(p.gpu, b->DeviceBytes());
    instances.push_back(std::move(b));
  }
  ASSIGN_OR_RETURN(auto held, budget.Reserve("mlp", need));
  server::SchedulerOptions so;
  so.model_name = "mlp";
  so.max_batch_size = f.batch;
  so.buckets = {f.batch};
  server::DeviceIndex(placement, &so.devices, &so.instance_device);
  server::ModelStats stats("mlp", "1", nullptr);
  server::Scheduler scheduler(so, std::move(instances), &stats);

  // Warm (capture) every instance and check they agree bit for bit.
  const int64_t n = static_cast<int64_t>(f.batch) * f.dim;
  std::vector<char> probe = RandomInput(n, 1);
  std::string first;
  for (int i = 0; i < scheduler.num_instances(); ++i) {
    std::vector<OutputTensor> out;
    InputTensor in{"x", inference::TYPE_FP32, {f.batch, f.dim}, {probe.data(), probe.size()}};
    absl::Status st = scheduler.instance(i).Run({&in, 1}, &out);
    if (!st.ok())
      return absl::Status(st.code(), absl::StrCat(placement[i].device, ": ", st.message()));
    if (i == 0) first = out[0].data;
    if (out[0].data != first) {
      return absl::InternalError(absl::StrCat("instance ", i, " on ", placement[i].device,
                                              " returned other bytes than instance 0"));
    }
  }
  server::GpuCollector collector(gpus, &budget, [&] { return scheduler.devices(); });
  collector.Collect();  // utilization counts from here

  std::atomic<bool> stop{false};
  std::atomic<int64_t> rows{0}, reqs{0}, failed{0};
  std::mutex lat_mu;
  std::vector<double> lat_ms;
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int c = 0; c < f.clients; ++c) {
    threads.emplace_back([&, c] {
      std::vector<char> data = RandomInput(n, 100 + c);
      std::vector<double> mine;
      while (!stop.load(std::memory_order_relaxed)) {
        InferJob job;
        job.batch = f.batch;
        job.inputs = {{"x", inference::TYPE_FP32, {f.batch, f.dim}, {data.data(), data.size()}}};
        const absl::Time t0 = absl::Now();
        absl::Status st = scheduler.Infer(&job);
        mine.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
        if (!st.ok()) {
          if (failed.fetch_add(1) == 0)
            std::fprintf(stderr, "request failed: %s\n", st.ToString().c_str());
          continue;
        }
        rows += f.batch;
        ++reqs;
      }
      std::lock_guard<std::mutex> lock(lat_mu);
      lat_ms.insert(lat_ms.end(), mine.begin(), mine.end());
    });
  }
  absl::SleepFor(absl::Seconds(f.seconds));
  if (metrics_text != nullptr) {
    // What /metrics shows (the same collector uopd registers), mid-run:
    // queue depth and utilization are live.
    *metrics_text = prometheus::TextSerializer().Serialize(collector.Collect());
  }
  stop = true;
  for (auto& t : threads) t.join();
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  scheduler.Close();
  Result r;
  r.rows_per_s = rows.load() / secs;
  r.req_per_s = reqs.load() / secs;
  r.failed = failed.load();
  std::sort(lat_ms.begin(), lat_ms.end());
  if (!lat_ms.empty()) {
    r.p50_ms = lat_ms[lat_ms.size() / 2];
    r.p99_ms = lat_ms[std::min(lat_ms.size() - 1, lat_ms.size() * 99 / 100)];
  }
  r.loads = scheduler.devices();
  return r;
}

void Print(const char* what, const Result& r) {
  std::printf("%-8s %10.0f rows/s %8.1f req/s  p50 %7.2f ms  p99 %7.2f ms  failed %lld\n", what,
              r.rows_per_s, r.req_per_s, r.p50_ms, r.p99_ms, static_cast<long long>(r.failed));
  for (const auto& d : r.loads) {
    std::printf("    %-8s instances %d executions %6lld rows %7lld busy %.2f s (%.3f ms/exec) %s\n",
                d.device.c_str(), d.instances, static_cast<long long>(d.executions),
                static_cast<long long>(d.rows), d.busy_ns / 1e9,
                d.executions ? d.busy_ns / 1e6 / d.executions : 0.0,
                d.healthy ? "healthy" : "FAILED");
  }
}

int Main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    bool ok = true;
    if (k == "--prefix")
      f.prefix = v;
    else if (k == "--max-gpus")
      ok = absl::SimpleAtoi(v, &f.max_gpus);
    else if (k == "--per-gpu")
      ok = absl::SimpleAtoi(v, &f.per_gpu);
    else if (k == "--clients")
      ok = absl::SimpleAtoi(v, &f.clients);
    else if (k == "--seconds")
      ok = absl::SimpleAtod(v, &f.seconds);
    else if (k == "--dim")
      ok = absl::SimpleAtoi(v, &f.dim);
    else if (k == "--layers")
      ok = absl::SimpleAtoi(v, &f.layers);
    else if (k == "--batch")
      ok = absl::SimpleAtoi(v, &f.batch);
    else
      ok = false;
    if (!ok) {
      std::fprintf(stderr, "multi_gpu_bench: bad flag %s %s\n", k.c_str(), v.c_str());
      return 2;
    }
  }
  Engine::Install();
  server::GpuSet gpus = server::DiscoverGpus(f.prefix, f.max_gpus);
  if (gpus.count == 0) {
    std::fprintf(stderr, "multi_gpu_bench: no %s device here; nothing measured\n",
                 f.prefix.c_str());
    return 0;
  }
  for (int g = 0; g < gpus.count; ++g) {
    absl::StatusOr<Device*> d = DeviceRegistry::Global().Get(gpus.Name(g));
    if (!d.ok()) {
      std::fprintf(stderr, "multi_gpu_bench: %s\n", d.status().ToString().c_str());
      return 1;
    }
    gpus.total_bytes[g] = static_cast<int64_t>((*d)->info().total_memory);
    std::printf("%s: %s\n", gpus.Name(g).c_str(), (*d)->info().description.c_str());
  }
  server::GpuMemoryBudget budget(gpus, 0);
  std::printf(
      "model: MLP %d x [%d x %d] fp32 Linear+ReLU, batch %d; %d instances per GPU, %d "
      "clients, %.0f s per configuration\n",
      f.layers, f.dim, f.dim, f.batch, f.per_gpu, f.clients, f.seconds);
  absl::StatusOr<Result> one = Serve(f, gpus, 1, budget, nullptr);
  if (!one.ok()) {
    std::fprintf(stderr, "1 GPU: %s\n", one.status().ToString().c_str());
    return 1;
  }
  Print("1 GPU", *one);
  if (gpus.count < 2) {
    std::fprintf(stderr, "multi_gpu_bench: only one %s device; no multi-GPU figure\n",
                 f.prefix.c_str());
    return 0;
  }
  std::string text;
  absl::StatusOr<Result> all = Serve(f, gpus, gpus.count, budget, &text);
  if (!all.ok()) {
    std::fprintf(stderr, "%d GPUs: %s\n", gpus.count, all.status().ToString().c_str());
    return 1;
  }
  const std::string label = absl::StrCat(gpus.count, " GPUs");
  Print(label.c_str(), *all);
  std::printf("multi_gpu_mlp_b%d: 1 GPU %.0f rows/s | %d GPUs %.0f rows/s | ratio %.3fx\n", f.batch,
              one->rows_per_s, gpus.count, all->rows_per_s,
              all->rows_per_s / std::max(1.0, one->rows_per_s));
  std::printf("per-GPU metrics scraped during the %d-GPU run:\n", gpus.count);
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "uop_gpu_")) std::printf("  %s\n", std::string(line).c_str());
  }
  return (one->failed + all->failed) == 0 ? 0 : 1;
}

}  // namespace
}  // namespace uop

int main(int argc, char** argv) { return uop::Main(argc, argv); }
