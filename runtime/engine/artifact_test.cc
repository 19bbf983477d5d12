#include "runtime/engine/artifact.h"

#include "drivers/device_registry.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

class ArtifactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = Tensor::GetRealizer();
    engine_ = Engine::Install({.cache_dir = "-"});
    cpu_ = *DeviceRegistry::Global().Get("CPU");
  }
  void TearDown() override { Tensor::SetRealizer(previous_); }

  // A small net with weights, a reduction and intermediates.
  Artifact Build() {
    Tensor w = Tensor::FromVector<float>({1, -2, 3, 0.5f, -1, 2}, Shape{3, 2});
    Tensor b = Tensor::FromVector<float>({0.25f, -0.75f}, Shape{2});
    Jit jit(engine_, [w, b](const std::vector<Tensor>& in) {
      Tensor h = in[0].Matmul(w).Add(b).Relu();
      return std::vector<Tensor>{h.Softmax(-1), h.Sum({1})};
    });
    Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, Shape{4, 3});
    for (int i = 0; i < 2; ++i) EXPECT_TRUE(jit.Call({x}).ok());
    absl::StatusOr<Artifact> a = Artifact::FromJit(jit, *engine_, {"x"}, {"probs", "total"});
    EXPECT_TRUE(a.ok()) << a.status();
    return *a;
  }

  std::vector<float> Expected(const std::vector<float>& x, int which) {
    Tensor w = Tensor::FromVector<float>({1, -2, 3, 0.5f, -1, 2}, Shape{3, 2});
    Tensor b = Tensor::FromVector<float>({0.25f, -0.75f}, Shape{2});
    Tensor h = Tensor::FromVector(x, Shape{4, 3}).Matmul(w).Add(b).Relu();
    return *(which == 0 ? h.Softmax(-1) : h.Sum({1})).ToVector<float>();
  }

  std::shared_ptr<Realizer> previous_;
  std::shared_ptr<Engine> engine_;
  Device* cpu_;
};

std::vector<float> Floats(const std::vector<uint8_t>& b) {
  std::vector<float> f(b.size() / 4);
  std::memcpy(f.data(), b.data(), b.size());
  return f;
}

TEST_F(ArtifactTest, RoundTripsAndRunsWithNewInputs) {
  Artifact a = Build();
  EXPECT_EQ(a.inputs[0].name, "x");
  EXPECT_EQ(a.inputs[0].shape, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(a.outputs[1].name, "total");
  absl::StatusOr<std::string> bytes = a.Serialize();
  ASSERT_TRUE(bytes.ok());
  absl::StatusOr<Artifact> parsed = Artifact::Parse(*bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<std::unique_ptr<LoadedArtifact>> run = LoadedArtifact::Load(*parsed, *cpu_);
  ASSERT_TRUE(run.ok()) << run.status();
  for (float scale : {1.0f, -0.5f, 3.0f}) {
    std::vector<float> x(12);
    for (int i = 0; i < 12; ++i) x[i] = scale * (i - 5.5f);
    ASSERT_TRUE((*run)->SetInput(0, AsBytes(absl::MakeConstSpan(x))).ok());
    ASSERT_TRUE((*run)->Run().ok());
    for (int o = 0; o < 2; ++o) {
      std::vector<float> got = Floats(*(*run)->ReadOutput(o)), want = Expected(x, o);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << o << "," << i;
    }
  }
}

TEST_F(ArtifactTest, ParseViewsTheBytesAndLoadKeepsNoReferenceToThem) {
  auto bytes = std::make_shared<std::string>(*Build().Serialize());
  const char* begin = bytes->data();
  const char* end = begin + bytes->size();
  absl::StatusOr<absl::string_view> payload = Artifact::Verify(*bytes);
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(payload->data(), begin + bytes->size() - payload->size());
  absl::StatusOr<Artifact> a = Artifact::Parse(*bytes, bytes);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->storage, bytes);
  for (const ArtifactKernel& k : a->kernels) {
    ASSERT_FALSE(k.binary.empty());
    EXPECT_TRUE(k.binary.data() >= begin && k.binary.data() + k.binary.size() <= end);
  }
  int weights = 0;
  for (const ArtifactBuffer& b : a->buffers) {
    if (b.kind != ArtifactBuffer::Kind::kState) continue;
    ++weights;
    const char* p = reinterpret_cast<const char*>(b.data.data());
    EXPECT_TRUE(p >= begin && p + b.data.size() <= end);
  }
  EXPECT_GT(weights, 0);
  absl::StatusOr<std::unique_ptr<LoadedArtifact>> run = LoadedArtifact::Load(*a, *cpu_);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ((*run)->artifact().storage, nullptr);
  for (const ArtifactKernel& k : (*run)->artifact().kernels) EXPECT_TRUE(k.binary.empty());
  // The bytes and the parsed artifact may go: the loaded one still runs.
  a = absl::UnknownError("gone");
  std::fill(bytes->begin(), bytes->end(), '\0');
  bytes.reset();
  std::vector<float> x(12, 2.0f);
  ASSERT_TRUE((*run)->SetInput(0, AsBytes(absl::MakeConstSpan(x))).ok());
  ASSERT_TRUE((*run)->Run().ok());
  std::vector<float> got = Floats(*(*run)->ReadOutput(1)), want = Expected(x, 1);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
}

// Load's gate runs after the weights are copied in and before any kernel
// is loaded; its error is the load's.
TEST_F(ArtifactTest, LoadGateComesBeforeTheKernelsAndCanRefuse) {
  Artifact a = Build();
  int calls = 0;
  absl::StatusOr<std::unique_ptr<LoadedArtifact>> refused =
      LoadedArtifact::Load(a, *cpu_, [&calls] {
        ++calls;
        return absl::InvalidArgumentError("artifact: checksum mismatch (corrupt file)");
      });
  EXPECT_EQ(calls, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("checksum mismatch"), std::string::npos);
  // Kernels are not loaded before the gate: a broken kernel is not reached.
  Artifact broken = Build();
  broken.kernels[0].binary = "not an ELF object";
  EXPECT_EQ(LoadedArtifact::Load(broken, *cpu_, [] { return absl::DataLossError("stop"); })
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(LoadedArtifact::Load(broken, *cpu_).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::unique_ptr<LoadedArtifact>> ok =
      LoadedArtifact::Load(a, *cpu_, [] { return absl::OkStatus(); });
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE((*ok)->Run().ok());
}

TEST_F(ArtifactTest, ZeroCopyInputMemory) {
  Artifact a = Build();
  auto run = *LoadedArtifact::Load(a, *cpu_);
  std::vector<float> x(12, 1.0f);
  ASSERT_TRUE(run->BindInputMemory(0, x.data(), x.size() * 4).ok());
  for (int round = 0; round < 2; ++round) {
    for (float& v : x) v += 1;  // the producer writes in place
    ASSERT_TRUE(run->Run().ok());
    std::vector<float> got = Floats(*run->ReadOutput(1)), want = Expected(x, 1);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5);
  }
  EXPECT_FALSE(run->BindInputMemory(0, x.data(), 8).ok());  // too small
  EXPECT_FALSE(run->SetInput(0, std::vector<uint8_t>(5)).ok());
  EXPECT_FALSE(run->SetInput(3, std::vector<uint8_t>(48)).ok());
}

TEST_F(ArtifactTest, CorruptOrTruncatedFilesAreErrors) {
  std::string bytes = *Build().Serialize();
  // Every truncation and a flipped byte in every region: errors, never crashes.
  for (size_t cut = 0; cut < bytes.size(); cut += std::max<size_t>(1, bytes.size() / 200)) {
    EXPECT_FALSE(Artifact::Parse(absl::string_view(bytes).substr(0, cut)).ok()) << cut;
  }
  for (size_t pos = 0; pos < bytes.size(); pos += std::max<size_t>(1, bytes.size() / 100)) {
    std::string bad = bytes;
    bad[pos] ^= 0x5a;
    absl::StatusOr<Artifact> r = Artifact::Parse(bad);
    EXPECT_FALSE(r.ok()) << pos;
  }
  absl::StatusOr<Artifact> r =
      Artifact::Parse("not an artifact at all, but long enough to have a header");
  EXPECT_NE(r.status().message().find("magic"), std::string::npos) << r.status();
  // Every byte of the header matters, the reserved field included.
  for (size_t pos = 0; pos < 56; ++pos) {
    std::string bad = bytes;
    bad[pos] ^= 0x01;
    EXPECT_FALSE(Artifact::Parse(bad).ok()) << pos;
  }
}

TEST_F(ArtifactTest, WrongDeviceOrCompilerIsRefused) {
  Artifact a = Build();
  a.compiler_key = "llvm-99 some-other-cpu";
  absl::StatusOr<std::unique_ptr<LoadedArtifact>> r = LoadedArtifact::Load(a, *cpu_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("recompile"), std::string::npos);
  Artifact b = Build();
  b.device = "NULL:0";
  EXPECT_EQ(LoadedArtifact::Load(b, *cpu_).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ArtifactTest, UncapturedJitIsRefused) {
  Jit jit(engine_, [](const std::vector<Tensor>& in) { return in; });
  EXPECT_EQ(Artifact::FromJit(jit, *engine_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace uop
