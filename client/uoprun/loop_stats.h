// Statistics of a fixed-rate loop: per-step latency, start jitter (how late
// each step started against its schedule), deadline misses and skipped
// periods. Samples go into arrays sized before the loop starts, so recording
// never allocates; summaries are computed after the loop (or from a signal
// handler's request, outside the loop thread).
//
//   LoopRecorder rec(/*capacity=*/1 << 20, period);
//   rec.Record(scheduled, started, finished);     // per step, allocation-free
//   LoopStats s = rec.Summarize();  std::puts(s.Format().c_str());
#ifndef UOP_CLIENT_UOPRUN_LOOP_STATS_H_
#define UOP_CLIENT_UOPRUN_LOOP_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace uop::uoprun {

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;  // milliseconds
};

struct LoopStats {
  int64_t iterations = 0;
  int64_t deadline_misses = 0;  // steps that ended after their deadline
  int64_t skipped_periods = 0;  // periods with no step because an earlier one overran
  int64_t watchdog_fires = 0;
  double hz = 0;
  double seconds = 0;   // wall time of the loop
  Percentiles latency;  // step duration
  Percentiles jitter;   // |actual start - scheduled start|
  int64_t samples = 0;  // steps the percentiles cover (the latest `capacity`)

  // A few aligned lines: rate, latency and jitter percentiles, misses.
  std::string Format() const;
};

class LoopRecorder {
 public:
  // `capacity` samples are kept (a ring: the latest ones); `deadline_ns`
  // after its scheduled start a step must have finished.
  LoopRecorder(int64_t capacity, int64_t deadline_ns);

  // One step; times in ns on one monotonic clock. No allocation.
  void Record(int64_t scheduled_ns, int64_t started_ns, int64_t finished_ns) {
    const int64_t latency = finished_ns - started_ns;
    const int64_t late = started_ns - scheduled_ns;
    const size_t slot = static_cast<size_t>(count_ % capacity_);
    latency_ns_[slot] = latency;
    jitter_ns_[slot] = late < 0 ? -late : late;
    latency_sum_ns_ += latency;
    jitter_sum_ns_ += jitter_ns_[slot];
    if (finished_ns > scheduled_ns + deadline_ns_) ++misses_;
    ++count_;
  }
  void RecordSkipped(int64_t periods) { skipped_ += periods; }

  int64_t count() const { return count_; }
  // Copies and sorts the samples: call outside the loop.
  LoopStats Summarize() const;

 private:
  int64_t capacity_;
  int64_t deadline_ns_;
  std::vector<int64_t> latency_ns_, jitter_ns_;
  int64_t count_ = 0, misses_ = 0, skipped_ = 0;
  int64_t latency_sum_ns_ = 0, jitter_sum_ns_ = 0;
};

}  // namespace uop::uoprun

#endif  // UOP_CLIENT_UOPRUN_LOOP_STATS_H_
