#include "server/process_metrics.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "runtime/base/status_macros.h"

namespace uop::server {
namespace {

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::UnavailableError(absl::StrCat("cannot open ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Field numbers as in proc(5), 1-based, counted from the pid.
constexpr int kUtime = 14, kStime = 15, kStartTime = 22, kVsize = 23, kRss = 24;

}  // namespace

absl::StatusOr<ProcessStats> ReadProcessStats(const std::string& proc_root) {
  const std::string stat_path = proc_root + "/self/stat";
  ASSIGN_OR_RETURN(std::string stat, ReadSmallFile(stat_path));
  // The command name (field 2) is in parentheses and may itself hold spaces
  // and ')', so the fixed fields start after the LAST ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) {
    return absl::DataLossError(absl::StrCat("no ')' in ", stat_path));
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 1), ' ', absl::SkipWhitespace());
  auto field = [&](int n, double* out) -> absl::Status {
    size_t index = static_cast<size_t>(n - 3);  // fields[0] is field 3 (state)
    if (index >= fields.size() || !absl::SimpleAtod(fields[index], out)) {
      return absl::DataLossError(absl::StrCat("field ", n, " missing or malformed in ", stat_path));
    }
    return absl::OkStatus();
  };
  double utime, stime, start_ticks, vsize, rss_pages;
  RETURN_IF_ERROR(field(kUtime, &utime));
  RETURN_IF_ERROR(field(kStime, &stime));
  RETURN_IF_ERROR(field(kStartTime, &start_ticks));
  RETURN_IF_ERROR(field(kVsize, &vsize));
  RETURN_IF_ERROR(field(kRss, &rss_pages));

  // Start time is in clock ticks since boot; boot time is "btime" in /proc/stat.
  ASSIGN_OR_RETURN(std::string system_stat, ReadSmallFile(proc_root + "/stat"));
  double boot_time = -1;
  for (absl::string_view line : absl::StrSplit(system_stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ") && absl::SimpleAtod(line, &boot_time)) break;
  }
  if (boot_time < 0) return absl::DataLossError(absl::StrCat("no btime in ", proc_root, "/stat"));

  const double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
  ProcessStats stats;
  stats.cpu_seconds = (utime + stime) / ticks_per_second;
  stats.start_time_seconds = boot_time + start_ticks / ticks_per_second;
  stats.virtual_memory_bytes = vsize;
  stats.resident_memory_bytes = rss_pages * page_size;

  std::error_code ec;
  std::filesystem::directory_iterator fds(proc_root + "/self/fd", ec);
  for (; !ec && fds != std::filesystem::directory_iterator(); fds.increment(ec)) {
    stats.open_fds += 1;
  }
  if (ec) return absl::UnavailableError(absl::StrCat("cannot list ", proc_root, "/self/fd"));
  return stats;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  absl::StatusOr<ProcessStats> stats = ReadProcessStats(proc_root_);
  if (!stats.ok()) return {};
  auto family = [](std::string name, std::string help, prometheus::MetricType type, double value) {
    prometheus::MetricFamily f{std::move(name), std::move(help), type, {}};
    prometheus::ClientMetric m;
    if (type == prometheus::MetricType::Counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    f.metric.push_back(std::move(m));
    return f;
  };
  using prometheus::MetricType;
  return {
      family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
             MetricType::Counter, stats->cpu_seconds),
      family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
             stats->resident_memory_bytes),
      family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
             stats->virtual_memory_bytes),
      family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
             stats->open_fds),
      family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
             MetricType::Gauge, stats->start_time_seconds),
  };
}

}  // namespace uop::server
