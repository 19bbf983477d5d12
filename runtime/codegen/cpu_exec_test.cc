// Runs generated kernels on the CPU device and checks them against plain
// C++ loops, with the heuristic opts and with none.
#include <cmath>
#include <random>

#include "drivers/cpu/cpu_device.h"
#include "gtest/gtest.h"
#include "runtime/codegen/ast_builder_for_test.h"
#include "runtime/codegen/compile.h"
#include "runtime/codegen/device_runner_for_test.h"
#include "runtime/codegen/llvm_renderer.h"

namespace uop {
namespace {

// Every kernel these tests compile is checked by the IR validity rules between passes.
const bool kVerifyPasses = (SetVerifyPasses(true), true);

using testing::Bytes;
using testing::FromBytes;
using testing::LoadedKernel;

CpuDevice& Cpu() {
  static CpuDevice* cpu = CpuDevice::Create({.threads = 2}).value().release();
  return *cpu;
}

std::vector<float> Random(size_t n, int seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// Runs `ast` with `inputs` in slots 1.. and returns slot 0.
std::vector<float> RunKernel(const UOpPtr& ast, const std::vector<std::vector<float>>& inputs,
                             const std::optional<std::vector<Opt>>& opts) {
  LlvmRenderer renderer(2, 64);
  absl::StatusOr<ProgramSpec> spec = RenderKernel(ast, renderer, opts);
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return {};
  absl::StatusOr<LoadedKernel> k = LoadedKernel::Load(Cpu(), *spec);
  EXPECT_TRUE(k.ok()) << k.status() << "\n" << spec->source;
  if (!k.ok()) return {};
  for (size_t i = 0; i < inputs.size(); ++i) EXPECT_TRUE(k->SetInput(i + 1, Bytes(inputs[i])).ok());
  absl::Status st = k->Run();
  EXPECT_TRUE(st.ok()) << st;
  return FromBytes<float>(*k->Read(0));
}

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], tol * (1 + std::abs(want[i]))) << "at " << i;
  }
}

class OptsParam : public ::testing::TestWithParam<bool> {
 protected:
  std::optional<std::vector<Opt>> opts() const {
    return GetParam() ? std::nullopt : std::optional<std::vector<Opt>>(std::vector<Opt>{});
  }
};

TEST_P(OptsParam, Matmul) {
  for (auto [m, n, k] :
       std::vector<std::array<int64_t, 3>>{{64, 64, 64}, {3, 5, 7}, {128, 96, 80}, {33, 64, 17}}) {
    std::vector<float> a = Random(m * k, 1), b = Random(k * n, 2), want(m * n, 0.0f);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t x = 0; x < k; ++x) acc += static_cast<double>(a[i * k + x]) * b[x * n + j];
        want[i * n + j] = static_cast<float>(acc);
      }
    ExpectNear(RunKernel(testing::MatmulAst(m, n, k), {a, b}, opts()), want, 1e-4f);
  }
}

TEST_P(OptsParam, Elementwise) {
  for (auto [r, c] : std::vector<std::array<int64_t, 2>>{{256, 256}, {3, 5}, {1, 1}}) {
    std::vector<float> a = Random(r * c, 3), b = Random(r * c, 4), want(r * c);
    for (int64_t i = 0; i < r * c; ++i) want[i] = a[i] + b[i];
    ExpectNear(RunKernel(testing::AddAst(r, c), {a, b}, opts()), want, 0);
  }
}

TEST_P(OptsParam, RowSum) {
  for (auto [r, c] : std::vector<std::array<int64_t, 2>>{{16, 64}, {5, 3}, {64, 1024}, {1, 4096}}) {
    std::vector<float> a = Random(r * c, 5), want(r, 0.0f);
    for (int64_t i = 0; i < r; ++i) {
      double acc = 0;
      for (int64_t j = 0; j < c; ++j) acc += a[i * c + j];
      want[i] = static_cast<float>(acc);
    }
    ExpectNear(RunKernel(testing::RowSumAst(r, c), {a}, opts()), want, 1e-4f);
  }
}

TEST_P(OptsParam, PaddedFlippedPermutedLoads) {
  // out[6, 8] = 2 * pad(flip(a^T)) with a: [6, 4] -> a^T [4, 6] -> pad ((1, 1), (2, 0)).
  DType f = DType::Float32();
  UOpPtr out = testing::Buf(0, f, 48), a = testing::Buf(1, f, 24);
  ShapeTracker st = ShapeTracker::FromShape({6, 4})
                        .Permute({1, 0})
                        .value()
                        .Flip({1, 1})
                        .value()
                        .Pad({{1, 1}, {2, 0}})
                        .value();
  UOpPtr v = testing::LoadAst(a, st) * UOp::Const(f, 2.0);
  UOpPtr ast = testing::SinkOf({testing::StoreAst(out, ShapeTracker::FromShape({6, 8}), v)});
  std::vector<float> in = Random(24, 6), want(48, 0.0f);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 8; ++j) {
      int r = i - 1, c = j - 2;  // coordinates in flip(a^T) [4, 6]
      if (r < 0 || r >= 4 || c < 0 || c >= 6) continue;
      int tr = 3 - r, tc = 5 - c;  // un-flip: a^T[tr][tc] = a[tc][tr]
      want[i * 8 + j] = 2 * in[tc * 4 + tr];
    }
  ExpectNear(RunKernel(ast, {in}, opts()), want, 0);
}

TEST_P(OptsParam, Transcendentals) {
  DType f = DType::Float32();
  int n = 1024;
  UOpPtr out = testing::Buf(0, f, n), a = testing::Buf(1, f, n);
  ShapeTracker st = ShapeTracker::FromShape({n});
  UOpPtr x = testing::LoadAst(a, st);
  UOpPtr v = UOp::Alu(Op::kExp2, {x}) + UOp::Alu(Op::kLog2, {x * x + UOp::Const(f, 1.0)}) +
             UOp::Alu(Op::kSin, {x * UOp::Const(f, 100.0)});
  std::vector<float> in = Random(n, 7), want(n);
  for (int i = 0; i < n; ++i)
    want[i] = std::exp2(in[i]) + std::log2(in[i] * in[i] + 1.0f) + std::sin(in[i] * 100.0f);
  ExpectNear(RunKernel(testing::SinkOf({testing::StoreAst(out, st, v)}), {in}, opts()), want,
             1e-5f);
}

INSTANTIATE_TEST_SUITE_P(Cpu, OptsParam, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Heuristics" : "NoOpts"; });

}  // namespace
}  // namespace uop
