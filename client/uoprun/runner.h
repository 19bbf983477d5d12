// Runner: runs an ahead-of-time artifact in a fixed-rate loop, the way an
// on-device model runner does (openpilot's modeld): inputs in preallocated
// buffers the producer writes in place (or a shared-memory / mmap region
// bound zero-copy), one step per period, nothing allocated in the loop,
// optional SCHED_FIFO priority and CPU pinning, a watchdog, and statistics of
// latency, jitter and deadline misses. uoprun is a thin command line over it.
//
//   ASSIGN_OR_RETURN(auto runner, Runner::Open("model.uop", "CPU"));
//   std::memcpy(runner->input(0).data(), frame, runner->input(0).size());  // or BindInput
//   LoopOptions o{.hz = 20, .iterations = 100};
//   o.after_step = [&](int64_t step) { use(runner->output(0)); };  // must not allocate
//   ASSIGN_OR_RETURN(LoopStats s, runner->Run(o));
//
// Timing: step k is scheduled at start + k * period (absolute sleeps on
// CLOCK_MONOTONIC, so error never accumulates). A step that ends after its
// deadline (default: one period) is a miss; periods that passed while it ran
// are skipped, not made up, so the loop keeps its phase.
//
// Thread safety: one thread runs Step/Run; Stop may be called from any
// thread or a signal handler.
#ifndef UOP_CLIENT_UOPRUN_RUNNER_H_
#define UOP_CLIENT_UOPRUN_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "client/uoprun/loop_stats.h"
#include "client/uoprun/realtime.h"
#include "runtime/engine/artifact.h"

namespace uop::uoprun {

// Exit status of a process whose watchdog fired with `watchdog_abort`.
inline constexpr int kWatchdogExitCode = 4;

struct LoopOptions {
  double hz = 20;
  int64_t iterations = 0;                          // 0: until Stop()
  absl::Duration deadline = absl::ZeroDuration();  // zero: one period
  // SCHED_FIFO priority (1..99) for the runner's threads, with all memory
  // locked; 0: normal scheduling. Not permitted: a warning, and it runs anyway.
  int rt_priority = 0;
  // Pin every thread of the process (the loop and the device's workers) to these CPUs.
  // Priority and pinning hold while Run runs; it puts the threads back after.
  std::vector<int> cpus;
  // A step running longer than this fires the watchdog (zero: no watchdog):
  // it reports on stderr and, with watchdog_abort, ends the process with
  // kWatchdogExitCode so a supervisor can restart it.
  absl::Duration watchdog = absl::ZeroDuration();
  bool watchdog_abort = false;
  // Untimed steps before the loop starts (caches, page faults). A model that
  // updates state in place advances it on these too.
  int warmup_steps = 1;
  // Latency samples kept for the percentiles (the latest ones).
  int64_t max_samples = int64_t{1} << 20;
  // Called on the loop thread after every step; must not allocate or block.
  std::function<void(int64_t step)> after_step;
  // Receives warnings (scheduling not permitted, ...); default: stderr.
  std::function<void(const std::string&)> warn;
};

class Runner {
 public:
  static absl::StatusOr<std::unique_ptr<Runner>> Create(const Artifact& artifact, Device& device);
  // Maps, validates and loads `path` on `device` ("CPU", "CUDA:0"), with the
  // file's checksum computed on a second thread meanwhile (see runner.cc).
  static absl::StatusOr<std::unique_ptr<Runner>> Open(const std::string& path,
                                                      const std::string& device);
  ~Runner();

  const Artifact& artifact() const { return loaded_->artifact(); }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  // Index of the input/output named `name`; NotFound listing the names.
  absl::StatusOr<int> InputIndex(const std::string& name) const;
  absl::StatusOr<int> OutputIndex(const std::string& name) const;

  // The memory the next step reads input `i` from: write the data there.
  absl::Span<uint8_t> input(int i) const { return inputs_[i]; }
  // Reads input `i` from `data` from now on, without a copy (a producer's
  // shared memory or a mapped file). At least the input's size, 64-byte
  // aligned, valid while the runner uses it. Host-visible devices only.
  absl::Status BindInput(int i, void* data, size_t bytes);
  // Output `i` as of the last step.
  absl::Span<const uint8_t> output(int i) const { return outputs_[i]; }

  // One run of the model. Allocation-free.
  absl::Status Step();
  // The fixed-rate loop; returns its statistics when `iterations` are done
  // or Stop() was called, or the first step error.
  absl::StatusOr<LoopStats> Run(const LoopOptions& options);
  // Ends Run after the current step (or before its first, when called
  // during the warm-up). Async-signal-safe.
  void Stop() { stop_.store(true, std::memory_order_relaxed); }

 private:
  Runner() = default;
  class Watchdog;
  // Create with LoadedArtifact::Load's gate (Open waits for the checksum there).
  static absl::StatusOr<std::unique_ptr<Runner>> Create(const Artifact& artifact, Device& device,
                                                        absl::FunctionRef<absl::Status()> gate);
  // Returns what it changed, to be put back when the loop ends.
  std::vector<ThreadScheduling> ApplyScheduling(const LoopOptions& options, pid_t watchdog_tid);

  std::unique_ptr<LoadedArtifact> loaded_;
  // Per input/output: where the caller reads/writes. On host-visible
  // devices this is the device memory itself; otherwise a host staging copy.
  std::vector<absl::Span<uint8_t>> inputs_, outputs_;
  std::vector<std::vector<uint8_t>> staging_;  // host copies, non-host-visible devices
  std::vector<bool> input_staged_, output_staged_;
  std::atomic<bool> stop_{false};
  // Start of the running step (ns, CLOCK_MONOTONIC), 0 between steps; read by the watchdog.
  std::atomic<int64_t> step_started_ns_{0};
};

}  // namespace uop::uoprun

#endif  // UOP_CLIENT_UOPRUN_RUNNER_H_
