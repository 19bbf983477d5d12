// A real run through the Engine on the CPU, profiled, exported to Perfetto
// and decoded with perfetto_trace.proto: the spans the hooks promise, flows
// by ID from each kernel to its request and to its compile, copies with
// bytes, and a memory counter that equals the allocator's numbers.
#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "drivers/device_registry.h"
#include "gtest/gtest.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/jit.h"
#include "runtime/profiler/perfetto_writer.h"
#include "runtime/profiler/profiler.h"
#include "runtime/profiler/trace_decoder.h"
#include "runtime/tensor/tensor.h"

namespace uop::profiler {
namespace {

std::vector<float> Ramp(int n, float scale) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = scale * static_cast<float>((i * 7) % 11 - 5);
  return v;
}

// A two-layer MLP: relu(x @ w1) @ w2, summed per row.
Tensor Mlp(const Tensor& x, const Tensor& w1, const Tensor& w2) {
  return x.Matmul(w1).Relu().Matmul(w2).Sum({1});
}

class EngineTraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = Tensor::GetRealizer();
    engine_ = Engine::Install({.cache_dir = "-"});
    Start();
    Clear();
  }
  void TearDown() override {
    Stop();
    Tensor::SetRealizer(previous_);
  }

  DecodedTrace Decode() {
    absl::StatusOr<DecodedTrace> t = DecodePerfetto(ToPerfetto(SnapshotTrace()));
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *std::move(t) : DecodedTrace{};
  }

  // Kernel launches: slices on a "compute" queue of the CPU device group.
  static std::vector<const DecodedSlice*> Kernels(const DecodedTrace& t, uint64_t group) {
    std::vector<const DecodedSlice*> out;
    for (const DecodedSlice& s : t.slices) {
      const DecodedTrack& track = t.tracks.at(s.track);
      if (t.IsUnder(s.track, group) && absl::StartsWith(track.name, "compute")) out.push_back(&s);
    }
    return out;
  }

  // The request span (realize or a JIT call) around `s` that shares a flow with it.
  static const DecodedSlice* RequestOf(const DecodedTrace& t, const DecodedSlice& s) {
    for (const DecodedSlice* r : t.Linked(s)) {
      const bool request = r->name == "realize" || absl::StartsWith(r->name, "jit ");
      if (request && r->begin <= s.begin && s.end <= r->end) return r;
    }
    return nullptr;
  }

  // The compile of `kernel`: "compile <name>", sharing a flow, finished before it ran.
  static const DecodedSlice* CompileOf(const DecodedTrace& t, const DecodedSlice& kernel) {
    for (const DecodedSlice* c : t.Linked(kernel))
      if (c->name == "compile " + kernel.name && c->end <= kernel.begin) return c;
    return nullptr;
  }

  std::shared_ptr<Realizer> previous_;
  std::shared_ptr<Engine> engine_;
};

TEST_F(EngineTraceTest, RealizeProducesLinkedSpansOnTheCpuDevice) {
  Tensor w1 = Tensor::FromVector(Ramp(8 * 16, 0.1f), Shape{8, 16});
  Tensor w2 = Tensor::FromVector(Ramp(16 * 4, 0.2f), Shape{16, 4});
  for (int call = 0; call < 2; ++call) {
    Tensor x = Tensor::FromVector(Ramp(4 * 8, 1.0f + call), Shape{4, 8});
    absl::StatusOr<std::vector<float>> y = Mlp(x, w1, w2).ToVector<float>();
    ASSERT_TRUE(y.ok()) << y.status();
    ASSERT_EQ(y->size(), 4u);
  }
  DecodedTrace t = Decode();
  const DecodedTrack* cpu = t.TrackNamed("CPU:0");
  ASSERT_NE(cpu, nullptr);

  // Realize > schedule, on a host thread.
  std::vector<const DecodedSlice*> realizes = t.SlicesNamed("realize");
  ASSERT_GE(realizes.size(), 2u);
  for (const DecodedSlice* r : realizes) EXPECT_TRUE(t.tracks.at(r->track).is_thread);
  for (const DecodedSlice* s : t.SlicesNamed("schedule")) {
    EXPECT_GE(s->depth, 1);
    EXPECT_TRUE(std::any_of(realizes.begin(), realizes.end(), [&](const DecodedSlice* r) {
      return r->track == s->track && r->begin <= s->begin && s->end <= r->end;
    }));
  }

  // Every kernel: on the CPU's compute queue, with launch dims, linked by ID
  // to the realize that ran it and to the compile that produced it.
  std::vector<const DecodedSlice*> kernels = Kernels(t, cpu->uuid);
  ASSERT_GE(kernels.size(), 2u);
  for (const DecodedSlice* k : kernels) {
    EXPECT_FALSE(k->name.empty());
    EXPECT_GE(std::stoll(k->args.at("global.x")), 1) << k->name;
    EXPECT_EQ(k->args.at("global.y"), "1");
    ASSERT_NE(RequestOf(t, *k), nullptr) << "kernel " << k->name << " has no flow to its request";
    const DecodedSlice* compile = CompileOf(t, *k);
    ASSERT_NE(compile, nullptr) << "kernel " << k->name << " has no flow to its compile";
    EXPECT_EQ(compile->args.at("cache"), "miss");  // no disk cache in this test
    // The compile (on a compile thread) belongs to the realize it ran in.
    EXPECT_NE(RequestOf(t, *compile), nullptr) << compile->name;
  }

  // The second realize found its kernels in the memory cache: an instant per
  // kernel, linked to that kernel's compile and to the realize around it.
  std::vector<const DecodedSlice*> hits = t.SlicesNamed("kernel cache hit");
  EXPECT_GE(hits.size(), 1u);
  for (const DecodedSlice* h : hits) {
    EXPECT_TRUE(h->instant);
    EXPECT_NE(RequestOf(t, *h), nullptr);
    const std::vector<const DecodedSlice*> linked = t.Linked(*h);
    EXPECT_TRUE(std::any_of(linked.begin(), linked.end(), [&](const DecodedSlice* c) {
      return c->name == "compile " + h->args.at("kernel");
    })) << h->args.at("kernel");
  }

  // Copies: the 4x8 float input goes in (128 bytes), the 4 sums come out (16).
  std::vector<const DecodedSlice*> ins = t.SlicesNamed("copy in");
  std::vector<const DecodedSlice*> outs = t.SlicesNamed("copy out");
  EXPECT_TRUE(
      std::any_of(ins.begin(), ins.end(), [](auto* c) { return c->args.at("bytes") == "128"; }));
  EXPECT_TRUE(
      std::any_of(outs.begin(), outs.end(), [](auto* c) { return c->args.at("bytes") == "16"; }));
  for (const DecodedSlice* c : ins) {
    EXPECT_TRUE(t.IsUnder(c->track, cpu->uuid));
    EXPECT_EQ(t.tracks.at(c->track).name, "copy");
  }
}

TEST_F(EngineTraceTest, MemoryCounterAddsUpToTheAllocator) {
  Tensor w = Tensor::FromVector(Ramp(32 * 32, 0.01f), Shape{32, 32});
  for (int call = 0; call < 3; ++call) {
    Tensor x = Tensor::FromVector(Ramp(16 * 32, 1.0f), Shape{16, 32});
    ASSERT_TRUE(x.Matmul(w).Relu().Sum({0}).ToVector<float>().ok());
  }
  absl::StatusOr<Device*> cpu = DeviceRegistry::Global().Get("CPU");
  ASSERT_TRUE(cpu.ok());
  const uint64_t in_use = (*cpu)->allocator().stats().bytes_in_use;
  DecodedTrace t = Decode();
  const DecodedTrack* counter = t.TrackNamed("memory in use");
  ASSERT_NE(counter, nullptr);
  ASSERT_TRUE(t.IsUnder(counter->uuid, t.TrackNamed("CPU:0")->uuid));
  std::vector<double> values;
  for (const DecodedCounter& c : t.counters)
    if (c.track == counter->uuid) values.push_back(c.value);
  std::vector<const DecodedSlice*> changes;
  for (const DecodedSlice& s : t.slices)
    if ((s.name == "alloc" || s.name == "free") && s.args.at("device") == "CPU:0")
      changes.push_back(&s);
  ASSERT_GE(values.size(), 4u);
  ASSERT_EQ(values.size(), changes.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(values[i], std::stod(changes[i]->args.at("bytes_in_use")));
    if (i == 0) continue;
    const double bytes = std::stod(changes[i]->args.at("bytes"));
    EXPECT_EQ(values[i] - values[i - 1], changes[i]->name == "alloc" ? bytes : -bytes) << i;
  }
  EXPECT_EQ(values.back(), static_cast<double>(in_use));
}

TEST_F(EngineTraceTest, JitCaptureAndReplayAreSpansWithLinkedKernels) {
  Tensor w1 = Tensor::FromVector(Ramp(8 * 16, 0.1f), Shape{8, 16});
  Tensor w2 = Tensor::FromVector(Ramp(16 * 4, 0.2f), Shape{16, 4});
  ASSERT_TRUE(w1.Realize().ok() && w2.Realize().ok());
  Jit jit(engine_,
          [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{Mlp(in[0], w1, w2)}; });
  Tensor x = Tensor::FromVector(Ramp(4 * 8, 1.0f), Shape{4, 8});
  ASSERT_TRUE(x.Realize().ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(jit.Call({x}).ok());
  ASSERT_TRUE(jit.captured());

  DecodedTrace t = Decode();
  EXPECT_EQ(t.SlicesNamed("jit warmup").size(), 1u);
  EXPECT_EQ(t.SlicesNamed("jit capture").size(), 1u);
  std::vector<const DecodedSlice*> replays = t.SlicesNamed("jit replay");
  ASSERT_EQ(replays.size(), 2u);
  // Warmup and capture realize through the engine; replays do not.
  const DecodedSlice* capture = t.SlicesNamed("jit capture")[0];
  int realizes_in_capture = 0;
  for (const DecodedSlice* r : t.SlicesNamed("realize"))
    if (r->begin >= capture->begin && r->end <= capture->end) {
      ++realizes_in_capture;
      EXPECT_EQ(r->flows, capture->flows);  // the JIT call is the request
    }
  EXPECT_GE(realizes_in_capture, 1);
  for (const DecodedSlice* replay : replays) {
    int launched = 0;
    for (const DecodedSlice* k : Kernels(t, t.TrackNamed("CPU:0")->uuid)) {
      if (k->begin < replay->begin || k->end > replay->end) continue;
      ++launched;
      EXPECT_EQ(RequestOf(t, *k), replay) << k->name;
      EXPECT_NE(CompileOf(t, *k), nullptr) << k->name;
    }
    EXPECT_EQ(launched, static_cast<int>(jit.num_launches()));
  }
}

TEST_F(EngineTraceTest, NothingIsRecordedWhenProfilingIsOff) {
  Stop();
  Tensor x = Tensor::FromVector(Ramp(64, 1.0f), Shape{8, 8});
  ASSERT_TRUE(x.Mul(2).Sum({1}).ToVector<float>().ok());
  EXPECT_TRUE(SnapshotTrace().events.empty());
}

}  // namespace
}  // namespace uop::profiler
