#include "runtime/profiler/clock.h"

#include <time.h>

#include <cmath>

#include "absl/strings/str_cat.h"

namespace uop::profiler {

namespace {
int64_t Read(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}
}  // namespace

int64_t NowNs() { return Read(CLOCK_MONOTONIC); }
int64_t BootTimeNs() { return Read(CLOCK_BOOTTIME); }

ClockSync::ClockSync(const Options& options)
    : options_(options), nominal_rate_(1e9 / options.device_ticks_per_second) {
  if (options_.max_pairs < 2) options_.max_pairs = 2;
  if (options_.min_rate_span_ticks <= 0)
    options_.min_rate_span_ticks = static_cast<int64_t>(options.device_ticks_per_second);
  rate_ = nominal_rate_;
}

void ClockSync::Reset() {
  pairs_.clear();
  rate_ = nominal_rate_;
  anchor_ = {0, 0, 0};
}

absl::Status ClockSync::AddPair(int64_t device_ticks, int64_t host_before_ns,
                                int64_t host_after_ns) {
  if (host_after_ns < host_before_ns) {
    return absl::InvalidArgumentError(absl::StrCat("ClockSync: host window ends (", host_after_ns,
                                                   ") before it begins (", host_before_ns, ")"));
  }
  if (!pairs_.empty() && device_ticks <= pairs_.back().device) {
    return absl::InvalidArgumentError(
        absl::StrCat("ClockSync: device clock ", device_ticks, " is not after the previous pair's ",
                     pairs_.back().device, " (device reset? call Reset())"));
  }
  const int64_t window = host_after_ns - host_before_ns;
  pairs_.push_back({device_ticks, host_before_ns + window / 2, window});
  while (static_cast<int>(pairs_.size()) > options_.max_pairs) pairs_.pop_front();
  Refit();
  return absl::OkStatus();
}

void ClockSync::Refit() {
  // Anchor: the tightest window; among equals the most recent (least drift).
  anchor_ = pairs_.back();
  for (const Pair& p : pairs_)
    if (p.window < anchor_.window) anchor_ = p;
  rate_ = nominal_rate_;
  if (pairs_.size() < 2 ||
      pairs_.back().device - pairs_.front().device < options_.min_rate_span_ticks)
    return;
  // Least-squares slope, centred on the anchor so doubles keep ns precision.
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double n = static_cast<double>(pairs_.size());
  for (const Pair& p : pairs_) {
    const double x = static_cast<double>(p.device - anchor_.device);
    const double y = static_cast<double>(p.host_mid - anchor_.host_mid);
    sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  const double denom = n * sxx - sx * sx;
  if (denom <= 0) return;
  const double slope = (n * sxy - sx * sy) / denom;
  // A fit far from the nominal rate means noisy pairs, not a real clock.
  if (slope > 0 && std::fabs(slope / nominal_rate_ - 1) < 0.01) rate_ = slope;
}

int64_t ClockSync::ToHost(int64_t device_ticks) const {
  const double delta = static_cast<double>(device_ticks - anchor_.device) * rate_;
  return anchor_.host_mid + static_cast<int64_t>(std::llround(delta));
}

int64_t ClockSync::uncertainty_ns() const { return anchor_.window / 2; }

}  // namespace uop::profiler
