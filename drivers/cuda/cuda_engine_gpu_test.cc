// The whole stack on the GPU: every op of the differential catalog realized
// on "CUDA" through the Engine against the float64 reference interpreter,
// hand-picked GPU opts (LOCAL, GROUP, UPCAST, UNROLL) against plain loops,
// JIT replay and BEAM search. Skips without a GPU.
#include <cmath>
#include <filesystem>
#include <random>

#include "drivers/cuda/cuda_op_cases.h"
#include "drivers/cuda/cuda_test_util.h"
#include "runtime/codegen/ast_builder_for_test.h"
#include "runtime/codegen/compile.h"
#include "runtime/codegen/cuda_renderer.h"
#include "runtime/codegen/device_runner_for_test.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/jit.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop::cuda {
namespace {

// Every kernel these tests compile is checked by the IR validity rules between passes.
const bool kVerifyPasses = (SetVerifyPasses(true), true);

std::string CacheDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/uop_cuda_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

std::shared_ptr<Engine> GpuEngine() {
  static std::shared_ptr<Engine> engine =
      std::make_shared<Engine>(EngineOptions{.cache_dir = CacheDir("diff")});
  return engine;
}

class CudaDifferential : public ::testing::TestWithParam<size_t> {};

TEST_P(CudaDifferential, MatchesTheReference) {
  UOP_GPU_OR_SKIP(gpu);
  const testing::OpCase& c = testing::OpCases()[GetParam()];
  Tensor::SetRealizer(nullptr);
  std::vector<double> want = Values(c.fn(testing::MakeInputs(c, "CPU")));
  Tensor::SetRealizer(GpuEngine());
  Tensor out = c.fn(testing::MakeInputs(c, "CUDA"));
  ASSERT_EQ(out.device(), "CUDA");
  std::vector<double> got = Values(out);
  Tensor::SetRealizer(nullptr);
  ASSERT_FALSE(want.empty());
  EXPECT_TRUE(AllClose(got, want, c.atol, c.rtol)) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Ops, CudaDifferential,
                         ::testing::Range(size_t{0}, testing::OpCases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return testing::OpCases()[info.param].name;
                         });

std::vector<float> Random(size_t n, int seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// Runs `ast` with `opts` on the GPU; returns slot 0.
std::vector<float> RunOnGpu(CudaDevice& gpu, const UOpPtr& ast,
                            const std::vector<std::vector<float>>& inputs,
                            const std::vector<Opt>& opts) {
  CudaRenderer renderer(CudaTarget{.sm = gpu.sm_arch()});
  absl::StatusOr<ProgramSpec> spec = RenderKernel(ast, renderer, opts);
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return {};
  absl::StatusOr<uop::testing::LoadedKernel> k = uop::testing::LoadedKernel::Load(gpu, *spec);
  EXPECT_TRUE(k.ok()) << k.status() << "\n" << spec->source;
  if (!k.ok()) return {};
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_TRUE(k->SetInput(static_cast<int>(i) + 1, uop::testing::Bytes(inputs[i])).ok());
  }
  absl::Status st = k->Run();
  EXPECT_TRUE(st.ok()) << st << "\n" << spec->source;
  return uop::testing::FromBytes<float>(*k->Read(0));
}

TEST(CudaOpts, MatmulUnderEveryOptCombination) {
  UOP_GPU_OR_SKIP(gpu);
  const int64_t m = 128, n = 96, k = 64;
  std::vector<float> a = Random(m * k, 1), b = Random(k * n, 2), want(m * n, 0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t r = 0; r < k; ++r) want[i * n + j] += a[i * k + r] * b[r * n + j];
  const std::vector<std::vector<Opt>> variants = {
      {},
      {{OptOp::kLocal, 1, 32}},
      {{OptOp::kUpcast, 1, 4}, {OptOp::kLocal, 1, 8}, {OptOp::kLocal, 0, 16}},
      {{OptOp::kUpcast, 0, 4},
       {OptOp::kUpcast, 1, 4},
       {OptOp::kUnroll, 2, 4},
       {OptOp::kLocal, 0, 8},
       {OptOp::kLocal, 1, 8}},
      {{OptOp::kGroup, 2, 16}, {OptOp::kLocal, 1, 4}},
      {{OptOp::kUpcast, 1, 4}, {OptOp::kGroup, 2, 8}},
  };
  for (const auto& opts : variants) {
    std::string name;
    for (const Opt& o : opts) name += o.ToString() + " ";
    std::vector<float> got = RunOnGpu(*gpu, uop::testing::MatmulAst(m, n, k), {a, b}, opts);
    ASSERT_EQ(got.size(), want.size()) << name;
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 1e-4) << name << " at " << i;
  }
}

TEST(CudaOpts, GroupReductionsCombineInSharedMemory) {
  UOP_GPU_OR_SKIP(gpu);
  const int64_t rows = 6, cols = 4096;
  std::vector<float> a = Random(rows * cols, 3), want(rows, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) want[r] += a[r * cols + c];
  for (const auto& opts :
       std::vector<std::vector<Opt>>{{{OptOp::kGroup, 1, 256}},
                                     {{OptOp::kGroup, 1, 1024}},
                                     {{OptOp::kUnroll, 1, 4}, {OptOp::kGroup, 1, 64}},
                                     {{OptOp::kGroup, 1, 32}, {OptOp::kLocal, 0, 6}},
                                     {{OptOp::kGroup, 1, 512}, {OptOp::kLocal, 0, 2}}}) {
    std::vector<float> got = RunOnGpu(*gpu, uop::testing::RowSumAst(rows, cols), {a}, opts);
    ASSERT_EQ(got.size(), want.size());
    for (int64_t r = 0; r < rows; ++r) EXPECT_NEAR(got[r], want[r], 1e-3) << opts[0].ToString();
  }
}

TEST(CudaEngine, JitReplaysOnTheGpu) {
  UOP_GPU_OR_SKIP(gpu);
  auto engine = std::make_shared<Engine>(EngineOptions{.cache_dir = "-"});
  Tensor::SetRealizer(engine);
  Tensor w = Tensor::FromVector<float>(Random(64 * 32, 4), Shape{64, 32}, "CUDA");
  Jit jit(engine, [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0].Matmul(w).Relu().Sum({1})};
  });
  for (int call = 0; call < 5; ++call) {
    std::vector<float> x = Random(8 * 64, 10 + call);
    absl::StatusOr<std::vector<Tensor>> out =
        jit.Call({Tensor::FromVector(x, Shape{8, 64}, "CUDA")});
    ASSERT_TRUE(out.ok()) << out.status();
    std::vector<double> got = Values((*out)[0]);
    Tensor::SetRealizer(nullptr);
    std::vector<double> want =
        Values(Tensor::FromVector(x, Shape{8, 64})
                   .Matmul(Tensor::FromVector(Random(64 * 32, 4), Shape{64, 32}))
                   .Relu()
                   .Sum({1}));
    Tensor::SetRealizer(engine);
    EXPECT_TRUE(AllClose(got, want, 1e-4, 1e-4)) << "call " << call;
  }
  EXPECT_TRUE(jit.captured());
  Tensor::SetRealizer(nullptr);
}

TEST(CudaEngine, BeamSearchesOnTheGpuAndPersists) {
  UOP_GPU_OR_SKIP(gpu);
  const std::string dir = CacheDir("beam");
  auto engine = std::make_shared<Engine>(
      EngineOptions{.cache_dir = dir, .beam = 2, .beam_budget = absl::Seconds(4)});
  Tensor::SetRealizer(engine);
  std::vector<float> a = Random(256 * 256, 5), b = Random(256 * 256, 6);
  std::vector<double> got = Values(Tensor::FromVector(a, Shape{256, 256}, "CUDA")
                                       .Matmul(Tensor::FromVector(b, Shape{256, 256}, "CUDA")));
  Tensor::SetRealizer(nullptr);
  std::vector<double> want =
      Values(Tensor::FromVector(a, Shape{256, 256}).Matmul(Tensor::FromVector(b, Shape{256, 256})));
  EXPECT_TRUE(AllClose(got, want, 1e-3, 1e-3));
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir + "/beam")) {
    files += e.path().extension() == ".opts";
  }
  EXPECT_GE(files, 1);
}

}  // namespace
}  // namespace uop::cuda
