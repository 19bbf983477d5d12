#include "client/uopctl/perf.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace uop::uopctl {
namespace {

double PerRequestUs(uint64_t ns, int64_t requests) {
  return requests > 0 ? static_cast<double>(ns) / 1e3 / static_cast<double>(requests) : 0;
}

// Nearest-rank percentile of sorted microseconds.
double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(q * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

absl::StatusOr<PerfPoint> MeasureLevel(int concurrency, const PerfOptions& o, const InferFn& infer,
                                       const StatsFn& stats) {
  std::atomic<bool> measuring{false}, stop{false};
  absl::Mutex mu;
  absl::Status first_error;
  std::vector<std::vector<double>> latencies(concurrency);
  std::vector<std::thread> workers;
  for (int w = 0; w < concurrency; ++w) {
    latencies[w].reserve(1 << 16);
    workers.emplace_back([&, w] {
      while (!stop.load()) {
        const bool counted = measuring.load();  // started inside the window
        const absl::Time t0 = absl::Now();
        absl::Status st = infer();
        const absl::Time t1 = absl::Now();
        if (!st.ok()) {
          absl::MutexLock lock(&mu);
          if (first_error.ok()) first_error = st;
          stop.store(true);
          return;
        }
        if (counted && measuring.load()) {
          latencies[w].push_back(absl::ToDoubleMicroseconds(t1 - t0));
        }
      }
    });
  }
  absl::SleepFor(o.warmup);
  absl::StatusOr<inference::ModelStatistics> before =
      stats ? stats() : absl::UnavailableError("no statistics");
  const absl::Time start = absl::Now();
  measuring.store(true);
  absl::SleepFor(o.window);
  measuring.store(false);
  const absl::Time end = absl::Now();
  absl::StatusOr<inference::ModelStatistics> after =
      stats ? stats() : absl::UnavailableError("no statistics");
  stop.store(true);
  for (std::thread& t : workers) t.join();
  if (!first_error.ok()) return first_error;

  PerfPoint p;
  p.concurrency = concurrency;
  p.seconds = absl::ToDoubleSeconds(end - start);
  std::vector<double> all;
  for (const auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  p.requests = static_cast<int64_t>(all.size());
  p.throughput = p.seconds > 0 ? static_cast<double>(p.requests) / p.seconds : 0;
  double sum = 0;
  for (double x : all) sum += x;
  p.avg_us = all.empty() ? 0 : sum / static_cast<double>(all.size());
  p.p50_us = Percentile(all, 0.50);
  p.p90_us = Percentile(all, 0.90);
  p.p95_us = Percentile(all, 0.95);
  p.p99_us = Percentile(all, 0.99);
  if (before.ok() && after.ok()) p.server = ServerTimeBetween(*before, *after);
  return p;
}

}  // namespace

ServerTime ServerTimeBetween(const inference::ModelStatistics& before,
                             const inference::ModelStatistics& after) {
  const auto& b = before.inference_stats();
  const auto& a = after.inference_stats();
  ServerTime t;
  t.requests = static_cast<int64_t>(a.success().count() - b.success().count());
  if (t.requests <= 0) return t;
  t.available = true;
  t.total_us = PerRequestUs(a.success().ns() - b.success().ns(), t.requests);
  t.queue_us = PerRequestUs(a.queue().ns() - b.queue().ns(), t.requests);
  t.compute_input_us = PerRequestUs(a.compute_input().ns() - b.compute_input().ns(), t.requests);
  t.compute_infer_us = PerRequestUs(a.compute_infer().ns() - b.compute_infer().ns(), t.requests);
  t.compute_output_us = PerRequestUs(a.compute_output().ns() - b.compute_output().ns(), t.requests);
  return t;
}

absl::StatusOr<std::vector<PerfPoint>> MeasurePerf(const PerfOptions& o, const InferFn& infer,
                                                   const StatsFn& stats) {
  if (o.concurrency.empty()) return absl::InvalidArgumentError("no concurrency levels");
  std::vector<PerfPoint> points;
  for (int c : o.concurrency) {
    absl::StatusOr<PerfPoint> p = MeasureLevel(c, o, infer, stats);
    if (!p.ok()) return p.status();
    points.push_back(*p);
  }
  return points;
}

absl::StatusOr<std::vector<int>> ParseConcurrencyRange(const std::string& range) {
  std::vector<absl::string_view> parts = absl::StrSplit(range, ':');
  int v[3] = {0, 0, 1};
  bool ok = parts.size() <= 3;
  for (size_t i = 0; ok && i < parts.size(); ++i) ok = absl::SimpleAtoi(parts[i], &v[i]);
  if (parts.size() == 1) v[1] = v[0];
  if (!ok || v[0] < 1 || v[1] < v[0] || v[2] < 1 || v[1] > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(
        "concurrency range '", range, "': expected START[:END[:STEP]] with 1 <= START <= END"));
  }
  std::vector<int> levels;
  for (int c = v[0]; c <= v[1]; c += v[2]) levels.push_back(c);
  return levels;
}

std::string FormatPerfTable(const std::vector<PerfPoint>& points) {
  std::string out =
      absl::StrFormat("%-11s %10s %10s %10s %10s %10s %10s | %10s %10s %10s %10s\n", "concurrency",
                      "infer/s", "avg us", "p50 us", "p90 us", "p99 us", "requests", "server us",
                      "queue us", "compute us", "overhead us");
  for (const PerfPoint& p : points) {
    std::string server = absl::StrFormat("%10s %10s %10s %10s", "-", "-", "-", "-");
    if (p.server.available) {
      const double compute =
          p.server.compute_input_us + p.server.compute_infer_us + p.server.compute_output_us;
      server = absl::StrFormat("%10.0f %10.0f %10.0f %10.0f", p.server.total_us, p.server.queue_us,
                               compute, std::max(0.0, p.avg_us - p.server.total_us));
    }
    out +=
        absl::StrFormat("%-11d %10.1f %10.0f %10.0f %10.0f %10.0f %10d | %s\n", p.concurrency,
                        p.throughput, p.avg_us, p.p50_us, p.p90_us, p.p99_us, p.requests, server);
  }
  return out;
}

std::string PerfCsv(const std::vector<PerfPoint>& points) {
  std::string out =
      "Concurrency,Inferences/Second,Client Send+Recv+Network,Server Queue,Server Compute Input,"
      "Server Compute Infer,Server Compute Output,Avg latency,p50 latency,p90 latency,"
      "p95 latency,p99 latency\n";
  for (const PerfPoint& p : points) {
    const ServerTime& s = p.server;
    out += absl::StrFormat(
        "%d,%.2f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f\n", p.concurrency, p.throughput,
        s.available ? std::max(0.0, p.avg_us - s.total_us) : 0.0, s.queue_us, s.compute_input_us,
        s.compute_infer_us, s.compute_output_us, p.avg_us, p.p50_us, p.p90_us, p.p95_us, p.p99_us);
  }
  return out;
}

}  // namespace uop::uopctl
