#include "runtime/profiler/trace_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/profiler/profiler.h"
#include "runtime/profiler/trace_decoder.h"

namespace uop::profiler {
namespace {

std::string TempDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d != nullptr ? d : "/tmp";
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class TraceFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Start();
    Clear();
    Span s("dumped");
  }
  void TearDown() override { Stop(); }
};

TEST_F(TraceFileTest, FormatFollowsTheExtension) {
  EXPECT_EQ(FormatForPath("a.json"), TraceFormat::kChromeJson);
  EXPECT_EQ(FormatForPath("a.perfetto-trace"), TraceFormat::kPerfetto);
  EXPECT_EQ(FormatForPath("trace"), TraceFormat::kPerfetto);
}

TEST_F(TraceFileTest, SerializesInMemoryInEitherFormat) {
  TraceSnapshot snap = SnapshotTrace();
  absl::StatusOr<DecodedTrace> t = DecodePerfetto(SerializeTrace(snap, TraceFormat::kPerfetto));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->SlicesNamed("dumped").size(), 1u);
  const std::string json = SerializeTrace(snap, TraceFormat::kChromeJson);
  EXPECT_NE(json.find("\"name\":\"dumped\""), std::string::npos);
}

TEST_F(TraceFileTest, WritesADecodablePerfettoFile) {
  const std::string path = TempDir() + "/out.perfetto-trace";
  ASSERT_TRUE(WriteTraceFile(path, SnapshotTrace()).ok());
  absl::StatusOr<DecodedTrace> t = DecodePerfetto(ReadFile(path));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->SlicesNamed("dumped").size(), 1u);
}

TEST_F(TraceFileTest, WritesJsonForJsonPaths) {
  const std::string path = TempDir() + "/out.json";
  ASSERT_TRUE(WriteTraceFile(path, SnapshotTrace()).ok());
  const std::string json = ReadFile(path);
  EXPECT_EQ(json.front(), '{');
  EXPECT_NE(json.find("\"dumped\""), std::string::npos);
}

TEST_F(TraceFileTest, FullDiskIsResourceExhaustedNamingThePath) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full";
  absl::Status st = WriteFileBytes("/dev/full", std::string(1 << 16, 'x'));
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_NE(st.message().find("'/dev/full'"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("of 65536 bytes"), absl::string_view::npos) << st;
  EXPECT_EQ(access("/dev/full", F_OK), 0);  // a device is never unlinked
}

TEST_F(TraceFileTest, MissingDirectoryIsNotFound) {
  absl::Status st = WriteTraceFile(TempDir() + "/no/such/dir/t.perfetto-trace", SnapshotTrace());
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
  EXPECT_NE(st.message().find("no/such/dir"), absl::string_view::npos);
}

TEST_F(TraceFileTest, ADirectoryOrAnEmptyPathIsRefused) {
  EXPECT_FALSE(WriteTraceFile(TempDir(), SnapshotTrace()).ok());
  EXPECT_EQ(WriteTraceFile("", SnapshotTrace()).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TraceFileTest, RecordingContinuesAfterAFailedDump) {
  EXPECT_FALSE(DumpRecent(TempDir() + "/missing/x.perfetto-trace", absl::Seconds(5)).ok());
  EXPECT_TRUE(Enabled());
  { Span s("after the failure"); }
  const std::string path = TempDir() + "/recent.perfetto-trace";
  ASSERT_TRUE(DumpRecent(path, absl::Seconds(60)).ok());
  absl::StatusOr<DecodedTrace> t = DecodePerfetto(ReadFile(path));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->SlicesNamed("after the failure").size(), 1u);
}

TEST_F(TraceFileTest, DumpRecentKeepsOnlyTheWindow) {
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  { Span s("recent"); }
  const std::string path = TempDir() + "/window.perfetto-trace";
  ASSERT_TRUE(DumpRecent(path, absl::Milliseconds(20)).ok());
  absl::StatusOr<DecodedTrace> t = DecodePerfetto(ReadFile(path));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->SlicesNamed("recent").size(), 1u);
  EXPECT_TRUE(t->SlicesNamed("dumped").empty());
}

}  // namespace
}  // namespace uop::profiler
