#include "client/uoprun/runner.h"

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/lib/shared_memory.h"
#include "client/uoprun/realtime.h"
#include "client/uoprun/test_models.h"
#include "drivers/device_registry.h"
#include "gtest/gtest.h"

namespace uop::uoprun {
namespace {

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { cpu_ = *DeviceRegistry::Global().Get("CPU"); }

  Artifact Compile(const TestModel& m) {
    absl::StatusOr<Artifact> a = CompileFunction(m.fn, m.inputs, m.outputs, {});
    EXPECT_TRUE(a.ok()) << a.status();
    return *a;
  }

  static std::vector<float> Floats(absl::Span<const uint8_t> b) {
    std::vector<float> f(b.size() / 4);
    std::memcpy(f.data(), b.data(), b.size());
    return f;
  }

  static void ExpectNear(const std::vector<float>& got, const std::vector<float>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4) << i;
  }

  Device* cpu_;
};

TEST_F(RunnerTest, BoundedLoopMatchesTheReferenceEveryStep) {
  TestModel m = MlpModel(2, 8, 16, 4);
  auto r = *Runner::Create(Compile(m), *cpu_);
  ASSERT_EQ(r->num_inputs(), 1);
  ASSERT_EQ(r->num_outputs(), 2);
  float* x = reinterpret_cast<float*>(r->input(0).data());
  std::vector<float> xs(16);
  int checked = 0;
  LoopOptions o{.hz = 500, .iterations = 25};
  o.warmup_steps = 0;
  // The producer changes the input in place between steps; every step's
  // outputs match the reference of what it read.
  auto fill = [&](int64_t step) {
    for (int i = 0; i < 16; ++i) xs[i] = std::sin(0.1f * i + 0.3f * step);
    std::memcpy(x, xs.data(), 64);
  };
  fill(0);
  o.after_step = [&](int64_t step) {
    std::vector<std::vector<float>> want = m.reference(xs);
    ExpectNear(Floats(r->output(0)), want[0]);
    ExpectNear(Floats(r->output(1)), want[1]);
    ++checked;
    fill(step + 1);
  };
  absl::StatusOr<LoopStats> s = r->Run(o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->iterations, 25);
  EXPECT_EQ(checked, 25);
  EXPECT_EQ(s->samples, 25);
  EXPECT_GT(s->latency.max, 0);
  EXPECT_LE(s->latency.p50, s->latency.p99);
  // 25 steps at 500 Hz take about 48 ms (the first starts at once).
  EXPECT_GE(s->seconds, 0.045);
}

TEST_F(RunnerTest, ZeroCopyInputFromSharedMemory) {
  TestModel m = MlpModel(2, 8, 16, 4);
  auto r = *Runner::Create(Compile(m), *cpu_);
  const std::string key = absl::StrCat("/uop_runner_test_", getpid());
  auto shm = client::SharedMemoryRegion::Create(key, 4096);
  ASSERT_TRUE(shm.ok()) << shm.status();
  ASSERT_TRUE(r->BindInput(0, (*shm)->data(), (*shm)->size()).ok());
  EXPECT_EQ(static_cast<void*>(r->input(0).data()), (*shm)->data());
  // A second mapping of the same object plays the producer process.
  auto producer = client::SharedMemoryRegion::Open(key, /*writable=*/true);
  ASSERT_TRUE(producer.ok());
  for (float scale : {1.0f, -2.0f}) {
    std::vector<float> xs(16);
    for (int i = 0; i < 16; ++i) xs[i] = scale * (i - 7.5f);
    std::memcpy((*producer)->data(), xs.data(), 64);
    ASSERT_TRUE(r->Step().ok());
    ExpectNear(Floats(r->output(1)), m.reference(xs)[1]);
  }
  // Too small, misaligned, or not an input: refused.
  EXPECT_FALSE(r->BindInput(0, (*shm)->data(), 32).ok());
  EXPECT_EQ(r->BindInput(0, static_cast<char*>((*shm)->data()) + 4, 128).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(r->BindInput(1, (*shm)->data(), 4096).ok());
  EXPECT_EQ(*r->InputIndex("x"), 0);
  EXPECT_EQ(*r->OutputIndex("y"), 1);
  EXPECT_NE(r->InputIndex("z").status().message().find("inputs: x"), std::string::npos);
}

TEST_F(RunnerTest, StopEndsAnUnboundedLoop) {
  auto r = *Runner::Create(Compile(MlpModel(1, 4, 4, 2)), *cpu_);
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(100));
    r->Stop();
  });
  absl::StatusOr<LoopStats> s = r->Run({.hz = 100});
  stopper.join();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_GE(s->iterations, 5);
  EXPECT_LE(s->iterations, 30);
  // A later Run starts afresh.
  EXPECT_EQ(r->Run({.hz = 1000, .iterations = 3})->iterations, 3);
}

TEST_F(RunnerTest, OverrunsCountAsMissesAndSkipPeriods) {
  // About a millisecond of work per step at 20 kHz (50 us periods).
  auto r = *Runner::Create(Compile(MlpModel(64, 256, 512, 64)), *cpu_);
  absl::StatusOr<LoopStats> s = r->Run({.hz = 20000, .iterations = 10});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->deadline_misses, 10);
  EXPECT_GE(s->skipped_periods, 10);
  // The same steps at 50 Hz keep their deadlines (20 ms of slack each).
  s = r->Run({.hz = 50, .iterations = 5});
  ASSERT_TRUE(s.ok());
  EXPECT_LE(s->deadline_misses, 1);
  EXPECT_EQ(s->skipped_periods, s->deadline_misses);
}

TEST_F(RunnerTest, WatchdogReportsLongSteps) {
  auto r = *Runner::Create(Compile(MlpModel(64, 256, 512, 64)), *cpu_);
  std::vector<std::string> warnings;
  LoopOptions o{.hz = 100, .iterations = 5};
  o.watchdog = absl::Microseconds(1);
  o.warn = [&](const std::string& w) { warnings.push_back(w); };
  absl::StatusOr<LoopStats> s = r->Run(o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_GE(s->watchdog_fires, 1);
  // A generous limit never fires.
  o.watchdog = absl::Seconds(5);
  EXPECT_EQ(r->Run(o)->watchdog_fires, 0);
}

TEST_F(RunnerTest, PinsTheRunnerThreads) {
  auto r = *Runner::Create(Compile(MlpModel(1, 4, 4, 2)), *cpu_);
  const std::vector<int> all = *ThreadAffinity(CurrentThreadId());
  LoopOptions o{.hz = 1000, .iterations = 3};
  o.cpus = {all.front()};
  std::vector<int> seen;
  o.after_step = [&](int64_t) {
    if (seen.empty()) seen = *ThreadAffinity(CurrentThreadId());
  };
  ASSERT_TRUE(r->Run(o).ok());
  EXPECT_EQ(seen, (std::vector<int>{all.front()}));
  // Run puts the threads back.
  EXPECT_EQ(*ThreadAffinity(CurrentThreadId()), all);
}

TEST_F(RunnerTest, RealTimePriorityHoldsOnlyWhileRunning) {
  auto r = *Runner::Create(Compile(MlpModel(1, 4, 4, 2)), *cpu_);
  std::vector<std::string> warnings;
  LoopOptions o{.hz = 1000, .iterations = 3};
  o.rt_priority = 10;
  o.warn = [&](const std::string& w) { warnings.push_back(w); };
  bool fifo_in_loop = false;
  o.after_step = [&](int64_t) { fifo_in_loop = IsThreadRealtime(CurrentThreadId()); };
  ASSERT_TRUE(r->Run(o).ok());
  // Granted (FIFO while running) or refused with a warning naming why.
  bool refused = false;
  for (const std::string& w : warnings) refused |= w.find("SCHED_FIFO") != std::string::npos;
  EXPECT_NE(fifo_in_loop, refused);
  EXPECT_FALSE(IsThreadRealtime(CurrentThreadId()));
}

TEST_F(RunnerTest, BadLoopOptionsAreErrors) {
  auto r = *Runner::Create(Compile(MlpModel(1, 4, 4, 2)), *cpu_);
  EXPECT_EQ(r->Run({.hz = 0}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r->Run({.hz = -5}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r->Run({.hz = 10, .iterations = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  LoopOptions o{.hz = 10, .iterations = 1};
  o.rt_priority = 120;
  EXPECT_EQ(r->Run(o).status().code(), absl::StatusCode::kInvalidArgument);
}

// Artifact files that are corrupted, truncated, for another device or of
// another format version: a clear error from Runner::Open, never a crash.
class RunnerFileTest : public RunnerTest {
 protected:
  std::string WriteGood() {
    const std::string path = ::testing::TempDir() + "/good.uop";
    EXPECT_TRUE(WriteArtifactFile(path, Compile(MlpModel(2, 8, 16, 4))).ok());
    return path;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
  static std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
};

TEST_F(RunnerFileTest, TruncatedAndCorruptedFilesAreRefused) {
  const std::string good = Read(WriteGood());
  ASSERT_TRUE(Runner::Open(Write("ok.uop", good), "CPU").ok());
  for (size_t cut : {size_t{0}, size_t{5}, size_t{20}, good.size() / 2, good.size() - 1}) {
    absl::Status st = Runner::Open(Write("cut.uop", good.substr(0, cut)), "CPU").status();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << cut << ": " << st;
    EXPECT_NE(st.message().find("cut.uop: "), std::string::npos) << st;
  }
  for (size_t pos = 0; pos < good.size(); pos += good.size() / 37 + 1) {
    std::string bad = good;
    bad[pos] ^= 0x21;
    EXPECT_FALSE(Runner::Open(Write("flip.uop", bad), "CPU").ok()) << pos;
  }
  absl::Status st = Runner::Open(Write("model.onnx", "\x08\x07\x12\x04onnx-ish"), "CPU").status();
  EXPECT_NE(st.message().find("magic"), std::string::npos) << st;
  EXPECT_EQ(Runner::Open(::testing::TempDir() + "/none.uop", "CPU").status().code(),
            absl::StatusCode::kNotFound);
}

// Open checks the checksum on a second thread while it parses and loads: a
// damaged payload is reported as the checksum mismatch it is, even where
// the parser or the device would have failed on the damage too.
TEST_F(RunnerFileTest, DamagedPayloadIsAChecksumMismatchWhateverElseFails) {
  const std::string good = Read(WriteGood());
  constexpr size_t kHeader = 56;
  for (size_t pos = kHeader; pos < good.size(); pos += (good.size() - kHeader) / 53 + 1) {
    std::string bad = good;
    bad[pos] ^= 0x5a;
    absl::Status st = Runner::Open(Write("damaged.uop", bad), "CPU").status();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << pos << ": " << st;
    EXPECT_NE(st.message().find("damaged.uop: artifact: checksum mismatch"), std::string::npos)
        << pos << ": " << st;
  }
  // A damaged header byte is named for what it is.
  std::string reserved = good;
  reserved[13] = 1;
  absl::Status st = Runner::Open(Write("reserved.uop", reserved), "CPU").status();
  EXPECT_NE(st.message().find("reserved"), std::string::npos) << st;
  // And the good file still opens and runs after all that.
  absl::StatusOr<std::unique_ptr<Runner>> r = Runner::Open(Write("again.uop", good), "CPU");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)->Step().ok());
}

TEST_F(RunnerFileTest, WrongVersionAndWrongDeviceAreRefused) {
  std::string bytes = Read(WriteGood());
  std::string v2 = bytes;
  v2[8] = static_cast<char>(Artifact::kFormatVersion + 1);  // u32 format version after the magic
  absl::Status st = Runner::Open(Write("v2.uop", v2), "CPU").status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("version"), std::string::npos) << st;

  Artifact other = *Artifact::Parse(bytes);
  other.device = "NULL:0";
  const std::string path = ::testing::TempDir() + "/null.uop";
  ASSERT_TRUE(WriteArtifactFile(path, other).ok());
  st = Runner::Open(path, "CPU").status();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("built for device NULL:0"), std::string::npos) << st;
  EXPECT_EQ(Runner::Open(WriteGood(), "NOPE").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace uop::uoprun
