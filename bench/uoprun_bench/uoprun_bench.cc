// uoprun_<what>_<model>: the on-device runner on the dev models (CPU).
//
//   uoprun_bench [--runs N] [--iterations N] [CASE_DIR...]
//
// CASE_DIRs hold model.onnx and test_data_set_0 (default: the dev models
// assembled by tests/onnx/fetch_models.py in $HOME/.cache/uop/onnx-models).
// Integer scalar inputs (silero's sample rate) are bound at compile time.
//
// uoprun_load_<model>: exec of a fresh process to its first result from the
//   artifact (map, validate, load kernels, one step), against the peer
//   "compile": exec to the first result of the same model from its ONNX file
//   with an empty kernel cache (import, schedule, compile, run). Median of
//   --runs child processes each; ratio = compile / load. The load is
//   Runner::Open (which overlaps the checksum with the rest on a second
//   thread), the inputs and one step. A third child per run takes the same
//   steps one after another, each timed: map the file, header, checksum,
//   parse, device creation, load (weights and kernels), inputs and a step;
//   their medians are printed (they add up to more than the overlapped load).
// uoprun_overhead_<model>: one Runner step (the loop's work per period),
//   against the peer "jit_replay": one bare Jit replay of the same captured
//   function in the same process. Medians over interleaved rounds of calls
//   back to back; ratio = replay / step (1: no overhead).
// uoprun_jitter_<model>: p99 of |actual - scheduled| step start at 20 Hz for
//   --iterations steps, normal scheduling; uoprun_jitter_rt_<model> the same
//   with SCHED_FIFO priority 50 where permitted (skipped otherwise).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/uoprun/mapped_file.h"
#include "client/uoprun/model_case.h"
#include "client/uoprun/realtime.h"
#include "client/uoprun/runner.h"
#include "client/uoprun/tensor_io.h"
#include "drivers/device_registry.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/jit.h"
#include "runtime/onnx/onnx_model.h"

extern char** environ;

namespace uop::uoprun {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string TempDir() {
  const char* t = getenv("TMPDIR");
  return t ? t : "/tmp";
}

// ---- child modes: print "ms=<in-process time to the first result>" ----

int ChildCompile(const std::string& dir) {
  // Reading the test data is not part of compiling: before the clock starts.
  absl::StatusOr<ModelCase> c = ReadModelCase(dir);
  if (!c.ok()) return 1;
  std::vector<std::pair<std::string, onnx_import::HostValue>> feed;
  for (const auto& [name, a] : c->inputs) {
    onnx_import::HostTensor t;
    t.dtype = *ToDType(a.datatype);
    t.shape = Shape(a.shape.begin(), a.shape.end());
    t.bytes.assign(a.data.begin(), a.data.end());
    feed.emplace_back(name, onnx_import::HostValue::Tensor(std::move(t)));
  }
  const absl::Time t0 = absl::Now();
  Engine::Install({.cache_dir = "-"});
  absl::StatusOr<std::unique_ptr<onnx_import::OnnxModel>> m =
      onnx_import::OnnxModel::Load(c->model);
  absl::StatusOr<std::vector<onnx_import::HostValue>> out = m.ok() ? (*m)->Run(feed) : m.status();
  if (!out.ok()) {
    std::fprintf(stderr, "uoprun_bench: %s\n", std::string(out.status().message()).c_str());
    return 1;
  }
  std::printf("ms=%.3f\n", absl::ToDoubleMilliseconds(absl::Now() - t0));
  return 0;
}

int ChildLoad(const std::string& file, const std::string& dir) {
  absl::StatusOr<ModelCase> c = ReadModelCase(dir);
  if (!c.ok()) return 1;
  const absl::Time t0 = absl::Now();
  absl::StatusOr<std::unique_ptr<Runner>> r = Runner::Open(file, "CPU");
  if (!r.ok()) {
    std::fprintf(stderr, "uoprun_bench: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  for (const auto& [name, a] : c->RuntimeInputs()) {
    std::memcpy((*r)->input(*(*r)->InputIndex(name)).data(), a.data.data(), a.data.size());
  }
  if (!(*r)->Step().ok()) return 1;
  std::printf("ms=%.3f\n", absl::ToDoubleMilliseconds(absl::Now() - t0));
  return 0;
}

// The steps of Runner::Open (MappedFile::Open, Artifact::CheckHeader,
// CheckChecksum, ParsePayload, DeviceRegistry::Get, Runner::Create) one
// after another, each timed, then the inputs and the first step.
int ChildLoadSteps(const std::string& file, const std::string& dir) {
  absl::StatusOr<ModelCase> c = ReadModelCase(dir);
  if (!c.ok()) return 1;
  auto fail = [](const absl::Status& st) {
    std::fprintf(stderr, "uoprun_bench: %s\n", std::string(st.message()).c_str());
    return 1;
  };
  const absl::Time t0 = absl::Now();
  absl::Time last = t0;
  std::string phases;
  auto lap = [&](const char* name) {
    const absl::Time now = absl::Now();
    absl::StrAppend(&phases, " ", name, "=", absl::ToDoubleMilliseconds(now - last));
    last = now;
  };
  absl::StatusOr<std::shared_ptr<const MappedFile>> f = MappedFile::Open(file);
  if (!f.ok()) return fail(f.status());
  lap("map");
  absl::StatusOr<absl::string_view> payload = Artifact::CheckHeader((*f)->bytes());
  if (!payload.ok()) return fail(payload.status());
  lap("header");
  if (absl::Status st = Artifact::CheckChecksum((*f)->bytes()); !st.ok()) return fail(st);
  lap("checksum");
  absl::StatusOr<Artifact> a = Artifact::ParsePayload(*payload, *f);
  if (!a.ok()) return fail(a.status());
  lap("parse");
  absl::StatusOr<Device*> d = DeviceRegistry::Global().Get("CPU");
  if (!d.ok()) return fail(d.status());
  lap("device");
  absl::StatusOr<std::unique_ptr<Runner>> r = Runner::Create(*a, **d);
  if (!r.ok()) return fail(r.status());
  lap("load");
  for (const auto& [name, in] : c->RuntimeInputs()) {
    std::memcpy((*r)->input(*(*r)->InputIndex(name)).data(), in.data.data(), in.data.size());
  }
  if (absl::Status st = (*r)->Step(); !st.ok()) return fail(st);
  lap("step");
  std::printf("ms=%.3f%s\n", absl::ToDoubleMilliseconds(last - t0), phases.c_str());
  return 0;
}

// Runs this program in `mode`; the exec-to-exit wall time and the child's own figure.
struct ChildTimes {
  bool ok = false;
  double wall_ms = 0, inner_ms = 0;
  std::vector<std::pair<std::string, double>> phases;  // "name=ms" after the total
};

ChildTimes RunChild(const std::vector<std::string>& args) {
  ChildTimes t;
  const std::string out = absl::StrCat(TempDir(), "/uoprun_bench_child.", getpid());
  std::vector<std::string> argv = {"/proc/self/exe"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  const absl::Time start = absl::Now();
  const int rc = posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return t;
  int status = 0;
  waitpid(pid, &status, 0);
  t.wall_ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  unlink(out.c_str());
  std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
  t.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !fields.empty() &&
         fields[0].rfind("ms=", 0) == 0 && absl::SimpleAtod(fields[0].substr(3), &t.inner_ms);
  for (size_t i = 1; t.ok && i < fields.size(); ++i) {
    const size_t eq = fields[i].find('=');
    double ms = 0;
    t.ok = eq != std::string::npos && absl::SimpleAtod(fields[i].substr(eq + 1), &ms);
    t.phases.emplace_back(fields[i].substr(0, eq), ms);
  }
  return t;
}

// ---- the measurements ----

bool Load(const std::string& name, const std::string& dir, const std::string& file, int runs) {
  std::vector<double> load_wall, load_inner, compile_wall, compile_inner;
  std::vector<std::pair<std::string, std::vector<double>>> phases;
  for (int i = 0; i < runs; ++i) {
    ChildTimes l = RunChild({"--child-load", file, dir});
    ChildTimes c = RunChild({"--child-compile", dir});
    ChildTimes steps = RunChild({"--child-load-steps", file, dir});
    if (!l.ok || !c.ok || !steps.ok) return false;
    for (size_t p = 0; p < steps.phases.size(); ++p) {
      if (phases.size() <= p) phases.push_back({steps.phases[p].first, {}});
      phases[p].second.push_back(steps.phases[p].second);
    }
    load_wall.push_back(l.wall_ms);
    load_inner.push_back(l.inner_ms);
    compile_wall.push_back(c.wall_ms);
    compile_inner.push_back(c.inner_ms);
  }
  const double lw = Median(load_wall), cw = Median(compile_wall);
  std::printf("BENCH uoprun_load_%s value=%.2f unit=ms peer=compile:%.2f ratio=%.1f\n",
              name.c_str(), lw, cw, cw / lw);
  std::fprintf(stderr,
               "uoprun_load_%s: exec to first result %.2f ms (artifact) vs %.2f ms (compile, "
               "empty cache) = %.3fx; in-process load to first result %.2f ms vs %.2f ms = %.3fx\n",
               name.c_str(), lw, cw, lw / cw, Median(load_inner), Median(compile_inner),
               Median(load_inner) / Median(compile_inner));
  std::string breakdown;
  for (const auto& [phase, ms] : phases)
    absl::StrAppend(&breakdown, " ", phase, " ", absl::StrFormat("%.3f", Median(ms)));
  std::fprintf(stderr, "uoprun_load_%s: the load's steps one after another, median ms:%s\n",
               name.c_str(), breakdown.c_str());
  return true;
}

bool Overhead(const std::string& name, const ModelCase& c, Runner& runner, int rounds) {
  auto engine = Engine::Install({});
  absl::StatusOr<TensorFunction> f = OnnxFunction(c.model, c.Options("CPU"));
  if (!f.ok()) return false;
  Jit jit(engine, f->fn);
  std::vector<Tensor> args;
  for (const TensorSpec& spec : f->inputs) {
    for (const auto& [n, a] : c.RuntimeInputs()) {
      if (n != spec.name) continue;
      args.push_back(Tensor::FromBytes(
          absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(a.data.data()), a.data.size()),
          spec.dtype, Shape(spec.shape.begin(), spec.shape.end()), "CPU"));
    }
  }
  for (int i = 0; i < 3; ++i) {
    if (!jit.Call(args).ok()) return false;
  }
  for (const auto& [n, a] : c.RuntimeInputs()) {
    std::memcpy(runner.input(*runner.InputIndex(n)).data(), a.data.data(), a.data.size());
  }
  constexpr int kCalls = 20;
  std::vector<double> jit_us, step_us;
  for (int round = 0; round < rounds; ++round) {
    absl::Time t0 = absl::Now();
    for (int i = 0; i < kCalls; ++i) {
      if (!jit.Call(args).ok()) return false;
    }
    jit_us.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0) / kCalls);
    t0 = absl::Now();
    for (int i = 0; i < kCalls; ++i) {
      if (!runner.Step().ok()) return false;
    }
    step_us.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0) / kCalls);
  }
  const double j = Median(jit_us), s = Median(step_us);
  std::printf("BENCH uoprun_overhead_%s value=%.1f unit=us peer=jit_replay:%.1f ratio=%.3f\n",
              name.c_str(), s, j, j / s);
  std::fprintf(stderr, "uoprun_overhead_%s: step %.1f us vs bare replay %.1f us: %+.1f%%\n",
               name.c_str(), s, j, 100 * (s / j - 1));
  return true;
}

bool Jitter(const std::string& name, Runner& runner, int64_t iterations, bool rt) {
  LoopOptions o{.hz = 20, .iterations = iterations};
  if (rt) {
    // Only where SCHED_FIFO is permitted: probe on this thread, then put it
    // back (Run sets and restores the priority of every thread itself).
    absl::StatusOr<ThreadScheduling> before = SaveThreadScheduling(CurrentThreadId());
    const bool permitted = before.ok() && SetThreadRealtime(CurrentThreadId(), 1).ok();
    if (before.ok()) RestoreThreadScheduling(*before).IgnoreError();
    if (!permitted) {
      std::fprintf(stderr, "uoprun_jitter_rt_%s: SCHED_FIFO not permitted, skipped\n",
                   name.c_str());
      return true;
    }
    o.rt_priority = 50;
  }
  absl::StatusOr<LoopStats> s = runner.Run(o);
  if (!s.ok()) return false;
  std::printf("BENCH uoprun_jitter_%s%s value=%.3f unit=ms\n", rt ? "rt_" : "", name.c_str(),
              s->jitter.p99);
  std::fprintf(stderr, "uoprun_jitter_%s%s: %s", rt ? "rt_" : "", name.c_str(),
               s->Format().c_str());
  return true;
}

int Main(int argc, char** argv) {
  int runs = 5;
  int64_t iterations = 100;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--child-compile" && i + 1 < argc) return ChildCompile(argv[i + 1]);
    if (a == "--child-load" && i + 2 < argc) return ChildLoad(argv[i + 1], argv[i + 2]);
    if (a == "--child-load-steps" && i + 2 < argc) return ChildLoadSteps(argv[i + 1], argv[i + 2]);
    if (a == "--runs" && i + 1 < argc) {
      runs = std::max(1, atoi(argv[++i]));
    } else if (a == "--iterations" && i + 1 < argc) {
      iterations = std::max(1, atoi(argv[++i]));
    } else {
      dirs.push_back(a);
    }
  }
  if (dirs.empty()) {
    const std::string root =
        absl::StrCat(getenv("HOME") ? getenv("HOME") : "/tmp", "/.cache/uop/onnx-models");
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root, ec)) {
      if (std::filesystem::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
    }
    std::sort(dirs.begin(), dirs.end());
    if (dirs.empty()) {
      std::fprintf(stderr, "uoprun_bench: no models in %s (run tests/onnx/fetch_models.py)\n",
                   root.c_str());
      return 1;
    }
  }
  int failed = 0;
  for (const std::string& dir : dirs) {
    const std::string name = std::filesystem::path(dir).filename();
    absl::StatusOr<ModelCase> c = ReadModelCase(dir);
    absl::StatusOr<Artifact> a = c.ok() ? CompileOnnx(c->model, c->Options("CPU")) : c.status();
    const std::string file = absl::StrCat(TempDir(), "/uoprun_bench_", name, ".uop");
    absl::Status st = a.ok() ? WriteArtifactFile(file, *a) : a.status();
    absl::StatusOr<std::unique_ptr<Runner>> runner =
        st.ok() ? Runner::Open(file, "CPU") : absl::StatusOr<std::unique_ptr<Runner>>(st);
    if (!runner.ok()) {
      std::fprintf(stderr, "uoprun_bench: %s: %s\n", name.c_str(),
                   std::string(runner.status().message()).c_str());
      ++failed;
      continue;
    }
    bool ok = Load(name, dir, file, runs) && Overhead(name, *c, **runner, 15) &&
              Jitter(name, **runner, iterations, /*rt=*/false) &&
              Jitter(name, **runner, iterations, /*rt=*/true);
    if (!ok) {
      std::fprintf(stderr, "uoprun_bench: %s: a measurement failed\n", name.c_str());
      ++failed;
    }
    unlink(file.c_str());
  }
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace uop::uoprun

int main(int argc, char** argv) { return uop::uoprun::Main(argc, argv); }
