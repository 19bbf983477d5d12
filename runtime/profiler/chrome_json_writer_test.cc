#include "runtime/profiler/chrome_json_writer.h"

#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/profiler/profiler.h"

namespace uop::profiler {
namespace {

class ChromeJsonWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Start();
    Clear();
  }
  void TearDown() override { Stop(); }
};

bool Contains(const std::string& s, absl::string_view part) { return absl::StrContains(s, part); }

TEST_F(ChromeJsonWriterTest, WritesSpansInstantsCountersAndMetadata) {
  uint64_t flow = 0;
  {
    RequestSpan r("realize");
    flow = r.flow();
    KernelSpan k("CPU:4", "E_2", {2, 1, 1}, {1, 1, 1});
  }
  RecordMemory("CPU:4", MemoryOp::kAlloc, 64, 64);
  const std::string json = ToChromeJson(SnapshotTrace());
  EXPECT_EQ(json.rfind("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", 0), 0u);
  EXPECT_TRUE(Contains(json, "\"ph\":\"X\",\"name\":\"realize\"")) << json;
  EXPECT_TRUE(Contains(json, absl::StrCat("\"pid\":", ::getpid(), ",\"tid\":", ::gettid())));
  EXPECT_TRUE(Contains(json, "\"ph\":\"X\",\"name\":\"E_2\"")) << json;
  EXPECT_TRUE(Contains(json, "\"global.x\":2"));
  EXPECT_TRUE(Contains(json, "\"ph\":\"i\",\"s\":\"t\",\"name\":\"alloc\""));
  EXPECT_TRUE(Contains(json, "\"ph\":\"C\",\"name\":\"memory in use\""));
  EXPECT_TRUE(Contains(json, "\"args\":{\"value\":64}"));
  EXPECT_TRUE(Contains(json, "\"name\":\"process_name\"") &&
              Contains(json, "{\"name\":\"CPU:4\"}"));
  EXPECT_TRUE(Contains(json, "\"name\":\"thread_name\"") &&
              Contains(json, "{\"name\":\"compute\"}"));
  // The request's flow from realize to the kernel.
  EXPECT_TRUE(Contains(
      json, absl::StrCat("\"ph\":\"s\",\"cat\":\"flow\",\"name\":\"flow\",\"id\":", flow)));
  EXPECT_TRUE(Contains(
      json, absl::StrCat("\"ph\":\"f\",\"cat\":\"flow\",\"name\":\"flow\",\"id\":", flow)));
  EXPECT_EQ(json.substr(json.size() - 2), "}\n");
}

TEST_F(ChromeJsonWriterTest, EscapesNamesAndPrintsNanosecondDecimals) {
  TraceSnapshot snap;
  snap.pid = 1;
  snap.names = {"", "say \"hi\"\\\n\x01"};
  snap.tracks.resize(2);
  snap.tracks[1].kind = TrackKind::kThread;
  snap.tracks[1].name = "t";
  snap.tracks[1].tid = 2;
  snap.events.push_back(Event::Span(1, 1, 1'234'567, 1'236'000));
  const std::string json = ToChromeJson(snap);
  EXPECT_TRUE(Contains(json, "\"name\":\"say \\\"hi\\\"\\\\\\n\\u0001\"")) << json;
  EXPECT_TRUE(Contains(json, "\"ts\":1234.567,\"dur\":1.433")) << json;
}

}  // namespace
}  // namespace uop::profiler
