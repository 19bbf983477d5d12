// multi_gpu: serving throughput of one model at batch 32 with its instances
// on 1 GPU vs on every GPU (up to --max-gpus), through the same
// PlaceInstances + Scheduler path uopd serves with, many concurrent clients.
//
//   multi_gpu_bench [--prefix CUDA] [--max-gpus 2] [--per-gpu 2] [--clients 32]
//                   [--seconds 8] [--batch 32] [--model ppocr_v4_det | --model DIR]
//                   [--dim 4096] [--layers 8]
//
// --model (the default: ppocr_v4_det): an ONNX dev model served by the
// server's ONNX backend (LoadOnnxBackend, one OnnxModel per instance placed
// on the instance's GPU, replays through the process-wide Engine). A name is
// looked up in /work/shared/models and $HOME/.cache/uop/onnx-models; a DIR
// holds model.onnx and test_data_set_0. Every request is the fixed input of
// test_data_set_0 tiled --batch times along its first variable dim; every
// instance's output for it must match the reference (tiled; rtol 1e-3, atol
// 1e-4) and be byte-identical across instances.
//
// --model mlp: an MLP of --layers fp32 [dim x dim] Linear+ReLU layers (same
// seeded weights on every GPU), built with the Tensor API on the instance's
// device, captured once per instance and replayed (one device graph per
// execution) by a per-instance Engine; instances must agree bit for bit.
//
// Prints per configuration: rows/s, requests/s, p50/p99 latency, and per
// device executions, rows and busy time; then the ratio; then the uop_gpu_*
// series a /metrics scrape shows during the multi-GPU run.
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
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
#include "runtime/onnx/tensor_proto.h"
#include "runtime/tensor/storage.h"
#include "runtime/tensor/tensor.h"
#include "runtime/uop/arg.h"
#include "server/device_placement.h"
#include "server/gpu_metrics.h"
#include "server/model_config.h"
#include "server/model_stats.h"
#include "server/onnx_backend.h"
#include "server/scheduler.h"

namespace uop {
namespace {

using server::InferJob;
using server::InputTensor;
using server::OutputTensor;

struct Flags {
  std::string model = "ppocr_v4_det";
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

// What is served: how to make an instance on a device, the one request
// every client sends (--batch rows), and a check of an instance's answer.
struct Workload {
  std::string name;  // the BENCH row's model part
  std::string description;
  std::function<absl::StatusOr<std::unique_ptr<server::ModelBackend>>(const std::string& device)>
      make;
  std::vector<std::string> storage;  // the request's bytes
  std::vector<InputTensor> request;  // views into `storage`
  // "" when `outputs` (of `request`) are right; null: no reference.
  std::function<std::string(const std::vector<OutputTensor>& outputs)> check;
};

Workload MlpWorkload(const Flags& f) {
  Workload w;
  w.name = "mlp";
  w.description = absl::StrCat("MLP ", f.layers, " x [", f.dim, " x ", f.dim,
                               "] fp32 Linear+ReLU (Tensor API, per-instance Engine)");
  w.make = [dim = f.dim, layers = f.layers](
               const std::string& device) -> absl::StatusOr<std::unique_ptr<server::ModelBackend>> {
    ASSIGN_OR_RETURN(std::unique_ptr<MlpBackend> b, MlpBackend::Create(device, dim, layers));
    return std::unique_ptr<server::ModelBackend>(std::move(b));
  };
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(f.batch) * f.dim);
  for (float& x : v) x = u(rng);
  w.storage.emplace_back(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  w.request = {{"x", inference::TYPE_FP32, {f.batch, f.dim}, w.storage[0]}};
  return w;
}

// A dev model's folder: `model` itself when it holds model.onnx, else the
// folder of that name in the shared models or the fetched-models cache.
std::string FindModel(const std::string& model) {
  namespace fs = std::filesystem;
  std::vector<std::string> candidates = {model, "/work/shared/models/" + model};
  if (const char* home = std::getenv("HOME"))
    candidates.push_back(absl::StrCat(home, "/.cache/uop/onnx-models/", model));
  for (const std::string& dir : candidates) {
    if (fs::exists(fs::path(dir) / "model.onnx")) return dir;
  }
  return "";
}

absl::StatusOr<onnx_import::HostTensor> ReadTensor(const std::string& file) {
  ASSIGN_OR_RETURN(std::string bytes, onnx_import::ReadFileBytes(file));
  ASSIGN_OR_RETURN(onnx_import::HostValue v,
                   onnx_import::ParseValueFile(bytes, onnx_import::ValueFileKind::kTensor));
  if (!v.is_tensor() || v.tensor().is_string) {
    return absl::InvalidArgumentError(absl::StrCat(file, " does not hold a numeric tensor"));
  }
  return v.tensor();
}

// `t` repeated `batch` times along `axis`, where it has 1.
absl::StatusOr<std::string> Tile(const onnx_import::HostTensor& t, int axis, int batch,
                                 std::vector<int64_t>* shape) {
  if (axis < 0 || axis >= static_cast<int>(t.shape.size()) || t.shape[axis] != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(t.Describe(), " has no dim of 1 at its batch axis ", axis));
  }
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= t.shape[d];
  const size_t block = t.bytes.size() / outer;
  std::string out;
  out.reserve(t.bytes.size() * batch);
  for (int64_t o = 0; o < outer; ++o) {
    for (int b = 0; b < batch; ++b) {
      out.append(reinterpret_cast<const char*>(t.bytes.data()) + o * block, block);
    }
  }
  *shape = {t.shape.begin(), t.shape.end()};
  (*shape)[axis] = batch;
  return out;
}

absl::StatusOr<Workload> OnnxWorkload(const Flags& f) {
  const std::string dir = FindModel(f.model);
  if (dir.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no model.onnx for '", f.model,
                     "' (a folder, or a name in /work/shared/models or ~/.cache/uop/onnx-models)"));
  }
  Workload w;
  w.name = std::filesystem::path(dir).filename().string();
  w.description = absl::StrCat("ONNX ", dir, " (server ONNX backend, OnnxModel on each GPU)");
  w.make = [dir](const std::string& device) {
    server::ModelFiles files;
    files.version_dir = dir;
    files.file_name = "model.onnx";
    files.device = device;
    return server::LoadOnnxBackend(files, {});
  };
  // A CPU instance only to read the declared inputs (nothing is compiled).
  ASSIGN_OR_RETURN(std::unique_ptr<server::ModelBackend> spec, w.make("CPU"));
  const std::vector<server::TensorSpec>& inputs = spec->inputs();
  w.storage.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSIGN_OR_RETURN(onnx_import::HostTensor t,
                     ReadTensor(absl::StrCat(dir, "/test_data_set_0/input_", i, ".pb")));
    const auto& dims = inputs[i].dims;
    const int axis = static_cast<int>(std::find(dims.begin(), dims.end(), -1) - dims.begin());
    InputTensor in;
    in.name = inputs[i].name;
    in.dtype = inputs[i].dtype;
    if (axis == static_cast<int>(dims.size())) {  // nothing to tile (a scalar such as a rate)
      in.shape = {t.shape.begin(), t.shape.end()};
      w.storage.emplace_back(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
    } else {
      ASSIGN_OR_RETURN(std::string tiled, Tile(t, axis, f.batch, &in.shape));
      w.storage.push_back(std::move(tiled));
    }
    in.data = w.storage.back();
    w.request.push_back(std::move(in));
  }
  std::vector<onnx_import::HostTensor> refs;
  for (size_t i = 0; i < spec->outputs().size(); ++i) {
    ASSIGN_OR_RETURN(refs.emplace_back(),
                     ReadTensor(absl::StrCat(dir, "/test_data_set_0/output_", i, ".pb")));
  }
  // Each output is its reference repeated: element k against k mod the
  // reference's size when the batch axis is the outermost varying one (as
  // for every dev model's outputs, [batch, ...]).
  w.check = [refs = std::move(refs), batch = f.batch](const std::vector<OutputTensor>& outs) {
    std::string problems;
    for (size_t i = 0; i < refs.size() && i < outs.size(); ++i) {
      const onnx_import::HostTensor& r = refs[i];
      const std::string& o = outs[i].data;
      if (outs[i].dtype != inference::TYPE_FP32 || r.dtype != DType::Float32() ||
          o.size() != r.bytes.size() * batch) {
        absl::StrAppend(&problems, " output ", i, ": not float32 or not ", batch,
                        " x the reference ", r.Describe(), ";");
        continue;
      }
      const size_t n_ref = r.bytes.size() / 4;
      size_t bad = 0;
      double max_err = 0;
      for (size_t k = 0; k < o.size() / 4; ++k) {
        float got, want;
        std::memcpy(&got, o.data() + 4 * k, 4);
        std::memcpy(&want, r.bytes.data() + 4 * (k % n_ref), 4);
        const double err = std::abs(static_cast<double>(got) - want);
        if (!(err <= 1e-4 + 1e-3 * std::abs(static_cast<double>(want)))) ++bad;
        if (!(err <= max_err)) max_err = err;
      }
      if (bad > 0) {
        absl::StrAppend(&problems, " output ", i, ": ", bad, " of ", o.size() / 4,
                        " elements off the reference, max abs error ", max_err, ";");
      }
    }
    return problems;
  };
  return w;
}

absl::StatusOr<Result> Serve(const Flags& f, const Workload& w, const server::GpuSet& gpus,
                             int use_gpus, server::GpuMemoryBudget& budget,
                             std::string* metrics_text) {
  std::vector<std::string> ids;
  for (int g = 0; g < use_gpus; ++g) ids.push_back(absl::StrCat(g));
  ASSIGN_OR_RETURN(inference::ModelConfig config,
                   server::ParseModelConfigText(
                       absl::StrCat("max_batch_size: ", f.batch,
                                    " instance_group [{ kind: KIND_GPU count: ", f.per_gpu,
                                    " gpus: [", absl::StrJoin(ids, ", "), "] }]"),
                       "bench"));
  ASSIGN_OR_RETURN(std::vector<server::InstancePlacement> placement,
                   server::PlaceInstances(config, w.name, gpus));
  std::vector<std::unique_ptr<server::ModelBackend>> instances;
  std::vector<std::pair<int, int64_t>> need;
  for (const auto& p : placement) {
    absl::StatusOr<std::unique_ptr<server::ModelBackend>> b = w.make(p.device);
    if (!b.ok())
      return absl::Status(b.status().code(), absl::StrCat(p.device, ": ", b.status().message()));
    need.emplace_back(p.gpu, (*b)->DeviceBytes());
    instances.push_back(*std::move(b));
  }
  ASSIGN_OR_RETURN(auto held, budget.Reserve(w.name, need));
  server::SchedulerOptions so;
  so.model_name = w.name;
  so.max_batch_size = f.batch;
  so.buckets = {f.batch};
  // Every client may have a request queued: the default 1 GiB byte limit
  // refuses some of 32 ppocr requests of 37.5 MiB (the 2026-11-25 run with
  // 2 instances per GPU hit it), which would measure refusals.
  int64_t request_bytes = 0;
  for (const InputTensor& in : w.request) request_bytes += static_cast<int64_t>(in.data.size());
  so.max_queue_size = std::max<int64_t>(so.max_queue_size, 2 * f.clients);
  so.max_queue_bytes = std::max<int64_t>(so.max_queue_bytes, 2 * f.clients * request_bytes);
  server::DeviceIndex(placement, &so.devices, &so.instance_device);
  server::ModelStats stats(w.name, "1", nullptr);
  server::Scheduler scheduler(so, std::move(instances), &stats);

  // Warm (build, compile, capture) every instance; each must answer the
  // request right and byte-identically to instance 0.
  std::string first;
  for (int i = 0; i < scheduler.num_instances(); ++i) {
    std::vector<OutputTensor> out;
    const absl::Time t0 = absl::Now();
    absl::Status st = scheduler.instance(i).Run(w.request, &out);
    if (!st.ok())
      return absl::Status(st.code(), absl::StrCat(placement[i].device, ": ", st.message()));
    std::printf("    instance %d on %s: first run %.0f ms, %.1f MiB charged\n", i,
                placement[i].device.c_str(), absl::ToDoubleMilliseconds(absl::Now() - t0),
                need[i].second / 1048576.0);
    std::string all;
    for (const OutputTensor& o : out) all += o.data;
    if (i == 0) {
      first = all;
      if (w.check) {
        const std::string wrong = w.check(out);
        if (!wrong.empty()) {
          return absl::InternalError(
              absl::StrCat("instance 0 on ", placement[0].device, " answered wrong:", wrong));
        }
      }
    } else if (all != first) {
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
    threads.emplace_back([&] {
      std::vector<double> mine;
      while (!stop.load(std::memory_order_relaxed)) {
        InferJob job;
        job.batch = f.batch;
        job.inputs = w.request;
        const absl::Time t0 = absl::Now();
        absl::Status st = scheduler.Infer(&job);
        if (st.ok()) mine.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
        if (!st.ok()) {
          if (failed.fetch_add(1) == 0)
            std::fprintf(stderr, "request failed: %s\n", st.ToString().c_str());
          absl::SleepFor(absl::Milliseconds(1));  // a refusal returns at once: no busy loop
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
    if (k == "--model")
      f.model = v;
    else if (k == "--prefix")
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
  absl::StatusOr<Workload> w = f.model == "mlp" ? MlpWorkload(f) : OnnxWorkload(f);
  if (!w.ok()) {
    std::fprintf(stderr, "multi_gpu_bench: %s\n", w.status().ToString().c_str());
    return 1;
  }
  if (f.prefix == "NULL") {
    // Null devices compute nothing (outputs are zeros): the placement,
    // scheduling and metrics path only.
    w->check = nullptr;
    std::printf("NULL devices: outputs are not checked against the reference\n");
  }
  std::printf("model: %s, batch %d; %d instances per GPU, %d clients, %.0f s per configuration\n",
              w->description.c_str(), f.batch, f.per_gpu, f.clients, f.seconds);
  absl::StatusOr<Result> one = Serve(f, *w, gpus, 1, budget, nullptr);
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
  absl::StatusOr<Result> all = Serve(f, *w, gpus, gpus.count, budget, &text);
  if (!all.ok()) {
    std::fprintf(stderr, "%d GPUs: %s\n", gpus.count, all.status().ToString().c_str());
    return 1;
  }
  const std::string label = absl::StrCat(gpus.count, " GPUs");
  Print(label.c_str(), *all);
  std::printf("multi_gpu_%s_b%d: 1 GPU %.0f rows/s | %d GPUs %.0f rows/s | ratio %.3fx\n",
              w->name.c_str(), f.batch, one->rows_per_s, gpus.count, all->rows_per_s,
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
