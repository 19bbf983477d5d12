// uoprun run: an artifact in a fixed-rate loop, statistics at the end and on SIGINT.
#include <signal.h>

#include <atomic>
#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/lib/flags.h"
#include "client/lib/shared_memory.h"
#include "client/uoprun/cli.h"
#include "client/uoprun/commands.h"
#include "client/uoprun/realtime.h"
#include "client/uoprun/runner.h"
#include "client/uoprun/tensor_io.h"

namespace uop::uoprun {
namespace {

std::atomic<Runner*> g_running{nullptr};

void StopOnSignal(int) {
  if (Runner* r = g_running.load()) r->Stop();
}

// SIGINT and SIGTERM stop the loop (statistics still print) while installed.
class StopSignals {
 public:
  explicit StopSignals(Runner* r) {
    g_running.store(r);
    struct sigaction sa {};
    sa.sa_handler = StopOnSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    g_running.store(nullptr);
  }

 private:
  struct sigaction old_int_, old_term_;
};

// Puts data for one input in place: from a .npy file (copied once into the
// input's buffer), zeros, or a producer's memory bound without a copy.
absl::Status SetUpInput(Runner& r, const std::string& arg,
                        std::vector<std::unique_ptr<client::SharedMemoryRegion>>& regions) {
  absl::StatusOr<std::pair<std::string, std::string>> nv = client::SplitNameValue("input", arg);
  if (!nv.ok()) return nv.status();
  const auto& [name, spec] = *nv;
  absl::StatusOr<int> i = r.InputIndex(name);
  if (!i.ok())
    return absl::InvalidArgumentError(absl::StrCat("flag --input: ", i.status().message()));
  const ArtifactTensor& t = r.artifact().inputs[*i];
  if (spec == "zeros") {
    std::memset(r.input(*i).data(), 0, r.input(*i).size());
    return absl::OkStatus();
  }
  const bool shm = absl::StartsWith(spec, "shm:"), mapped = absl::StartsWith(spec, "mmap:");
  if (shm || mapped) {
    const std::string where = spec.substr(shm ? 4 : 5);
    absl::StatusOr<std::unique_ptr<client::SharedMemoryRegion>> region =
        shm ? client::SharedMemoryRegion::Open(where, /*writable=*/false)
            : client::SharedMemoryRegion::MapFile(where, /*writable=*/false);
    if (!region.ok()) return region.status();
    if ((*region)->size() < r.input(*i).size()) {
      return absl::InvalidArgumentError(absl::StrCat("input '", name, "' needs ",
                                                     r.input(*i).size(), " bytes, ", where, " has ",
                                                     (*region)->size()));
    }
    if (absl::Status st = r.BindInput(*i, (*region)->data(), (*region)->size()); !st.ok()) {
      return st;
    }
    regions.push_back(std::move(*region));
    return absl::OkStatus();
  }
  absl::StatusOr<client::NpyArray> a = client::ReadNpyFile(spec);
  if (!a.ok()) return a.status();
  if (absl::Status st = CheckMatches(*a, t); !st.ok()) return st;
  std::memcpy(r.input(*i).data(), a->data.data(), a->data.size());
  return absl::OkStatus();
}

}  // namespace

int RunCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string device = "CPU", cpus, output_dir;
  std::vector<std::string> inputs, input_lists, checks;
  double hz = 20, deadline_ms = 0, watchdog_ms = 0, rtol = 1e-4, atol = 1e-5;
  int64_t iterations = 0, rt_priority = 0, warmup = 1;
  bool watchdog_abort = false, quiet = false;
  client::FlagSet f(
      "uoprun run MODEL.uop [--hz 20] [--input NAME=SPEC]... [flags]",
      "Runs an artifact in a fixed-rate loop and prints latency, jitter and deadline misses\n"
      "at the end (and when stopped with Ctrl-C / SIGTERM). An input SPEC is FILE.npy (read\n"
      "once), zeros, shm:/KEY (a POSIX shared-memory object a producer writes) or mmap:PATH\n"
      "(a mapped file); shm and mmap inputs are read in place every step, without a copy.");
  f.Double("hz", 0, &hz, "loop rate");
  f.Int("iterations", 'n', &iterations, "steps to run (0: until stopped)");
  f.Repeated("input", 'i', &inputs, "NAME=SPEC", "data for one input (repeatable)");
  f.Repeated("inputs", 0, &input_lists, "NAME=SPEC,...", "several inputs at once");
  f.String("device", 'd', &device, "NAME", "device to run on");
  f.Double("deadline-ms", 0, &deadline_ms,
           "a step must end this long after its start time "
           "(default: one period)");
  f.Int("rt-priority", 0, &rt_priority,
        "SCHED_FIFO priority 1..99 for the runner's threads (0: normal scheduling)");
  f.String("cpus", 0, &cpus, "LIST", "pin the runner's threads to these CPUs, e.g. 2,3 or 4-7");
  f.Double("watchdog-ms", 0, &watchdog_ms, "report a step running longer than this (0: off)");
  f.Bool("watchdog-abort", 0, &watchdog_abort, "exit with status 4 when the watchdog fires");
  f.Int("warmup", 0, &warmup, "untimed steps before the loop");
  f.Repeated("check", 0, &checks, "NAME=FILE.npy",
             "after the loop, compare an output with a reference (exit 3 if it differs)");
  f.Double("rtol", 0, &rtol, "relative tolerance of --check");
  f.Double("atol", 0, &atol, "absolute tolerance of --check");
  f.String("output-dir", 0, &output_dir, "DIR", "write the last outputs there as NAME.npy");
  f.Bool("quiet", 'q', &quiet, "print only the statistics");
  absl::StatusOr<std::vector<std::string>> pos = f.Parse(args);
  if (!pos.ok()) return Fail(err, pos.status(), kExitUsage);
  if (f.help_requested()) {
    out << f.Help();
    return kExitOk;
  }
  if (pos->size() != 1) {
    return Fail(err, absl::InvalidArgumentError("run takes one artifact file (see --help)"),
                kExitUsage);
  }
  LoopOptions o;
  o.hz = hz;
  o.iterations = iterations;
  o.deadline = absl::Microseconds(deadline_ms * 1000);
  o.rt_priority = static_cast<int>(rt_priority);
  o.watchdog = absl::Microseconds(watchdog_ms * 1000);
  o.watchdog_abort = watchdog_abort;
  o.warmup_steps = static_cast<int>(warmup);
  o.warn = [&err](const std::string& w) { err << "uoprun: warning: " << w << "\n"; };
  if (!cpus.empty()) {
    absl::StatusOr<std::vector<int>> list = ParseCpuList(cpus);
    if (!list.ok()) return Fail(err, list.status(), kExitUsage);
    o.cpus = *list;
  }

  absl::StatusOr<std::unique_ptr<Runner>> runner = Runner::Open((*pos)[0], device);
  if (!runner.ok()) return Fail(err, runner.status(), ArtifactExitCode(runner.status()));
  Runner& r = **runner;

  std::vector<std::unique_ptr<client::SharedMemoryRegion>> regions;
  for (const std::string& list : input_lists) {
    for (absl::string_view one : absl::StrSplit(list, ',', absl::SkipEmpty())) {
      inputs.emplace_back(one);
    }
  }
  std::vector<bool> given(r.num_inputs(), false);
  for (const std::string& in : inputs) {
    if (absl::Status st = SetUpInput(r, in, regions); !st.ok()) {
      return Fail(err, st,
                  st.code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitFailure);
    }
    given[*r.InputIndex(in.substr(0, in.find('=')))] = true;
  }
  std::vector<std::string> missing;
  for (int i = 0; i < r.num_inputs(); ++i) {
    if (!given[i]) missing.push_back(r.artifact().inputs[i].name);
  }
  if (!missing.empty()) {
    return Fail(err,
                absl::InvalidArgumentError(
                    absl::StrCat("no data for input(s) ", absl::StrJoin(missing, ", "),
                                 ": give --input NAME=FILE.npy|zeros|shm:/KEY|mmap:PATH")),
                kExitUsage);
  }

  if (!quiet) {
    out << absl::StrFormat("uoprun: running %s on %s at %g Hz%s (Ctrl-C stops)\n", (*pos)[0],
                           r.artifact().device, hz,
                           iterations > 0 ? absl::StrCat(" for ", iterations, " steps") : "");
    out.flush();
  }
  absl::StatusOr<LoopStats> stats;
  {
    StopSignals stop(&r);
    stats = r.Run(o);
  }
  if (!stats.ok()) return Fail(err, stats.status(), kExitFailure);
  out << stats->Format();

  if (!output_dir.empty()) {
    for (int i = 0; i < r.num_outputs(); ++i) {
      const ArtifactTensor& t = r.artifact().outputs[i];
      absl::StatusOr<client::NpyArray> a = ToNpy(t, r.output(i));
      absl::Status st =
          a.ok() ? client::WriteNpyFile(output_dir + "/" + client::NpyFileName(t.name), *a)
                 : a.status();
      if (!st.ok()) return Fail(err, st, kExitFailure);
    }
  }
  bool all_match = true;
  for (const std::string& c : checks) {
    absl::StatusOr<std::pair<std::string, std::string>> nv = client::SplitNameValue("check", c);
    if (!nv.ok()) return Fail(err, nv.status(), kExitUsage);
    absl::StatusOr<int> idx = r.OutputIndex(nv->first);
    if (!idx.ok()) return Fail(err, idx.status(), kExitUsage);
    absl::StatusOr<client::NpyArray> ref = client::ReadNpyFile(nv->second);
    if (!ref.ok()) return Fail(err, ref.status(), kExitUsage);
    absl::StatusOr<Comparison> cmp =
        CompareWithReference(r.output(*idx), r.artifact().outputs[*idx], *ref, rtol, atol);
    if (!cmp.ok()) return Fail(err, cmp.status(), kExitUsage);
    out << absl::StrFormat("check %s: %d of %d elements differ (max abs error %.3g)\n", nv->first,
                           cmp->mismatches, cmp->elements, cmp->max_abs_error);
    all_match &= cmp->mismatches == 0;
  }
  return all_match ? kExitOk : kExitCheckFailed;
}

}  // namespace uop::uoprun
