#include "client/uoprun/loop_stats.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace uop::uoprun {
namespace {

Percentiles Summarize(std::vector<int64_t> ns, int64_t sum_ns, int64_t count) {
  Percentiles p;
  if (ns.empty()) return p;
  std::sort(ns.begin(), ns.end());
  // Nearest rank: the smallest sample with at least q of the samples at or below it.
  auto at = [&](double q) {
    size_t rank = static_cast<size_t>(q * static_cast<double>(ns.size()) + 0.999999);
    rank = std::clamp<size_t>(rank, 1, ns.size());
    return ns[rank - 1] / 1e6;
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.max = ns.back() / 1e6;
  p.mean = count > 0 ? static_cast<double>(sum_ns) / static_cast<double>(count) / 1e6 : 0;
  return p;
}

}  // namespace

LoopRecorder::LoopRecorder(int64_t capacity, int64_t deadline_ns)
    : capacity_(std::max<int64_t>(capacity, 1)),
      deadline_ns_(deadline_ns),
      latency_ns_(capacity_),
      jitter_ns_(capacity_) {}

LoopStats LoopRecorder::Summarize() const {
  LoopStats s;
  s.iterations = count_;
  s.deadline_misses = misses_;
  s.skipped_periods = skipped_;
  const int64_t n = std::min(count_, capacity_);
  s.samples = n;
  s.latency =
      uoprun::Summarize({latency_ns_.begin(), latency_ns_.begin() + n}, latency_sum_ns_, count_);
  s.jitter =
      uoprun::Summarize({jitter_ns_.begin(), jitter_ns_.begin() + n}, jitter_sum_ns_, count_);
  return s;
}

std::string LoopStats::Format() const {
  std::string out = absl::StrFormat(
      "iterations %d in %.2f s at %.1f Hz: %d deadline misses, %d skipped periods, %d watchdog "
      "fires\n",
      iterations, seconds, hz, deadline_misses, skipped_periods, watchdog_fires);
  auto line = [&](const char* what, const Percentiles& p) {
    out += absl::StrFormat("%-8s ms  mean %8.3f  p50 %8.3f  p90 %8.3f  p99 %8.3f  max %8.3f\n",
                           what, p.mean, p.p50, p.p90, p.p99, p.max);
  };
  line("latency", latency);
  line("jitter", jitter);
  return out;
}

}  // namespace uop::uoprun
