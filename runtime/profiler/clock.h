// The profiler's host clock, and ClockSync: how a backend puts device
// timestamps onto it.
//
// Every event is stamped in nanoseconds of CLOCK_MONOTONIC (NowNs()). CPU
// kernels run on the host, so their spans use the same clock directly. A
// device with its own timer (a GPU's globaltimer, CUDA events, an HCQ signal's
// timestamp) reports its times together with sync pairs; ClockSync fits
//
//   host_ns = anchor_host + (device_ticks - anchor_device) * rate
//
// where the anchor is the pair measured with the tightest host window (the
// host read just before and just after the device clock was sampled) and the
// rate is the least-squares slope through the recent pairs once they span at
// least `min_rate_span` of device time (before that, the nominal rate).
//
//   ClockSync sync(/*device_ticks_per_second=*/1e9);
//   int64_t before = NowNs();
//   uint64_t gpu = ReadGlobalTimer();          // backend-specific
//   int64_t after = NowNs();
//   RETURN_IF_ERROR(sync.AddPair(gpu, before, after));
//   int64_t host_begin = sync.ToHost(kernel_begin_ticks);
//
// docs/profiler.md describes the method per backend (CPU, CUDA events).
//
// Thread safety: ClockSync is a value type; guard a shared one yourself.
#ifndef UOP_RUNTIME_PROFILER_CLOCK_H_
#define UOP_RUNTIME_PROFILER_CLOCK_H_

#include <cstdint>
#include <deque>

#include "absl/status/status.h"

namespace uop::profiler {

// CLOCK_MONOTONIC in nanoseconds (vDSO, ~20 ns).
int64_t NowNs();
// CLOCK_BOOTTIME in nanoseconds; read once per export for the clock snapshot
// that lets Perfetto align our monotonic timestamps with system traces.
int64_t BootTimeNs();

class ClockSync {
 public:
  struct Options {
    double device_ticks_per_second = 1e9;  // nominal rate of the device clock
    int max_pairs = 32;                    // pairs kept for the fit (oldest dropped)
    int64_t min_rate_span_ticks = 0;       // 0: one second of nominal device time
  };
  ClockSync() : ClockSync(Options{}) {}
  explicit ClockSync(const Options& options);

  // One sync point: the device clock read `device_ticks` while the host clock
  // went from `host_before_ns` to `host_after_ns`.
  // InvalidArgument when host_after < host_before, or when the device clock
  // is not after the previous pair's (a reset device: call Reset()).
  absl::Status AddPair(int64_t device_ticks, int64_t host_before_ns, int64_t host_after_ns);

  // Host nanoseconds for a device timestamp. Before any pair: the device
  // ticks scaled by the nominal rate (no offset) — callers should add a pair
  // first; has_pairs() tells.
  int64_t ToHost(int64_t device_ticks) const;

  bool has_pairs() const { return !pairs_.empty(); }
  // Host nanoseconds per device tick currently used.
  double rate() const { return rate_; }
  // Half the host window of the anchor pair: the offset's error bound.
  int64_t uncertainty_ns() const;
  void Reset();

 private:
  struct Pair {
    int64_t device;
    int64_t host_mid;
    int64_t window;
  };
  void Refit();

  Options options_;
  std::deque<Pair> pairs_;
  double nominal_rate_;
  double rate_;
  Pair anchor_{0, 0, 0};
};

}  // namespace uop::profiler

#endif  // UOP_RUNTIME_PROFILER_CLOCK_H_
