// serve_inproc: how long one execution of a model takes inside the process,
// without any server around it: the baseline that uopd's per-request
// overhead is measured against (bench/serve_bench.py).
//
//   serve_inproc --model-repository=examples/models --model=add [--runs=2000] [--batch=1]
//
// Loads the model the way uopd does (ModelManager: import, compile, warm),
// then times the backend's Run on zero inputs. Prints
//   serve_inproc: model=add runs=2000 p50_us=... p99_us=...
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "runtime/engine/engine.h"
#include "server/data_type.h"
#include "server/model_manager.h"
#include "server/onnx_backend.h"

int main(int argc, char** argv) {
  using namespace uop::server;  // NOLINT: a small tool
  std::string repo, model;
  int runs = 2000;
  int64_t batch = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* flag) {
      return arg.rfind(flag, 0) == 0 ? arg.substr(std::string(flag).size()) : std::string();
    };
    if (!value("--model-repository=").empty()) {
      repo = value("--model-repository=");
    } else if (!value("--model=").empty()) {
      model = value("--model=");
    } else if (!value("--runs=").empty()) {
      if (!absl::SimpleAtoi(value("--runs="), &runs)) runs = 0;
    } else if (!value("--batch=").empty()) {
      if (!absl::SimpleAtoi(value("--batch="), &batch)) batch = 0;
    } else {
      runs = 0;
    }
  }
  if (repo.empty() || model.empty() || runs <= 0 || batch <= 0) {
    std::fprintf(stderr, "serve_inproc: usage: --model-repository=DIR --model=NAME [--runs=N]\n");
    return 2;
  }
  uop::Engine::Install();
  BackendRegistry backends;
  RegisterOnnxBackend(backends);
  ModelManagerOptions o;
  o.repository = repo;
  o.mode = ControlMode::kExplicit;
  o.startup_models = {model};
  ModelManager models(o, &backends, nullptr);
  absl::Status loaded = models.LoadStartupModels();
  auto version = models.Get(model, "");
  if (!loaded.ok() || !version.ok()) {
    std::fprintf(stderr, "serve_inproc: %s\n", std::string(loaded.message()).c_str());
    return 1;
  }
  const inference::ModelConfig& config = (*version)->config;
  std::vector<std::string> storage;
  std::vector<InputTensor> inputs;
  storage.reserve(config.input_size());
  for (const auto& in : config.input()) {
    InputTensor t;
    t.name = in.name();
    t.dtype = in.data_type();
    if (config.max_batch_size() > 0) t.shape.push_back(batch);
    for (int64_t d : in.dims()) t.shape.push_back(d < 0 ? 1 : d);
    int64_t n = ElementCount(t.shape).value_or(0);
    storage.emplace_back(static_cast<size_t>(n * ElementSize(t.dtype)), '\0');
    t.data = storage.back();
    inputs.push_back(std::move(t));
  }
  ModelBackend& backend = (*version)->scheduler->instance(0);
  std::vector<OutputTensor> outputs;
  std::vector<int64_t> ns;
  ns.reserve(runs);
  for (int i = 0; i < runs + runs / 10; ++i) {
    const int64_t t0 = absl::GetCurrentTimeNanos();
    absl::Status s = backend.Run(inputs, &outputs);
    const int64_t t1 = absl::GetCurrentTimeNanos();
    if (!s.ok()) {
      std::fprintf(stderr, "serve_inproc: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    if (i >= runs / 10) ns.push_back(t1 - t0);  // the first tenth warms caches
  }
  std::sort(ns.begin(), ns.end());
  std::printf("serve_inproc: model=%s runs=%d p50_us=%.1f p99_us=%.1f\n", model.c_str(), runs,
              ns[ns.size() / 2] / 1e3, ns[ns.size() * 99 / 100] / 1e3);
  models.Stop();
  return 0;
}
