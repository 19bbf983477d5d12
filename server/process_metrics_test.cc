#include "server/process_metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

namespace uop::server {
namespace {

namespace fs = std::filesystem;

// A fake /proc with one process whose command name holds spaces and ')'.
fs::path FakeProc(const std::string& name, const std::string& self_stat, int fds) {
  fs::path root = fs::path(testing::TempDir()) / name;
  fs::remove_all(root);
  fs::create_directories(root / "self" / "fd");
  std::ofstream(root / "self" / "stat") << self_stat;
  std::ofstream(root / "stat") << "cpu  1 2 3 4\nbtime 1700000000\nprocesses 5\n";
  for (int i = 0; i < fds; ++i) std::ofstream(root / "self" / "fd" / std::to_string(i)) << "";
  return root;
}

// Fields 3..24 of proc(5): utime=14, stime=15, starttime=22, vsize=23, rss=24.
std::string StatLine(const std::string& comm, long utime, long stime, long start, long vsize,
                     long rss) {
  std::string s = "4242 (" + comm + ") S";
  for (int field = 4; field <= 13; ++field) s += " 0";
  s += " " + std::to_string(utime) + " " + std::to_string(stime);
  for (int field = 16; field <= 21; ++field) s += " 0";
  s += " " + std::to_string(start) + " " + std::to_string(vsize) + " " + std::to_string(rss);
  s += " 18446744073709551615 1 1 0 0\n";
  return s;
}

TEST(ReadProcessStats, ParsesFakeProcWithAwkwardCommandName) {
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  fs::path root = FakeProc("proc_ok", StatLine("uo pd) (x", 150, 50, 1000, 123456789, 10), 3);
  auto stats = ReadProcessStats(root.string());
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_DOUBLE_EQ(stats->cpu_seconds, 200 / hz);
  EXPECT_DOUBLE_EQ(stats->start_time_seconds, 1700000000 + 1000 / hz);
  EXPECT_DOUBLE_EQ(stats->virtual_memory_bytes, 123456789);
  EXPECT_DOUBLE_EQ(stats->resident_memory_bytes, 10 * page);
  EXPECT_EQ(stats->open_fds, 3);
}

TEST(ReadProcessStats, TruncatedStatIsDataLoss) {
  fs::path root = FakeProc("proc_short", "4242 (uopd) S 1 2 3\n", 0);
  auto stats = ReadProcessStats(root.string());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kDataLoss);
}

TEST(ReadProcessStats, MissingProcIsAnErrorNotACrash) {
  EXPECT_FALSE(ReadProcessStats("/nonexistent/proc").ok());
  EXPECT_TRUE(ProcessCollector("/nonexistent/proc").Collect().empty());
}

TEST(ReadProcessStats, RealProcLooksSane) {
  auto stats = ReadProcessStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_GT(stats->resident_memory_bytes, 1 << 20);
  EXPECT_GE(stats->virtual_memory_bytes, stats->resident_memory_bytes);
  EXPECT_GE(stats->open_fds, 3);  // stdin, stdout, stderr at least
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(stats->start_time_seconds, now + 1);
  EXPECT_GT(stats->start_time_seconds, now - 3600);  // this test started recently
}

TEST(ProcessCollector, ExportsFamiliesWithPrometheusNamesAndTypes) {
  std::map<std::string, prometheus::MetricType> got;
  for (const auto& family : ProcessCollector().Collect()) {
    ASSERT_EQ(family.metric.size(), 1u) << family.name;
    got[family.name] = family.type;
  }
  using prometheus::MetricType;
  const std::map<std::string, MetricType> want = {
      {"process_cpu_seconds_total", MetricType::Counter},
      {"process_resident_memory_bytes", MetricType::Gauge},
      {"process_virtual_memory_bytes", MetricType::Gauge},
      {"process_open_fds", MetricType::Gauge},
      {"process_start_time_seconds", MetricType::Gauge},
  };
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace uop::server
