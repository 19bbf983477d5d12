// The LLVM IR the AMD renderer emits: its structure, that LLVM's AMDGPU
// backend compiles it into a loadable code object, and its results when run
// through the AM driver on the emulated GPU (the host twin of the same body).
#include "runtime/codegen/amd_renderer.h"

#include <random>

#include "drivers/am/amdgpu_compiler.h"
#include "drivers/am/code_object.h"
#include "drivers/am/emulator/am_emu_device.h"
#include "gtest/gtest.h"
#include "runtime/codegen/ast_builder_for_test.h"
#include "runtime/codegen/compile.h"
#include "runtime/codegen/device_runner_for_test.h"
#include "runtime/codegen/linearize.h"
#include "runtime/codegen/test_kernels.h"

namespace uop {
namespace {

using testing::Buf;
using testing::LoadAst;
using testing::SinkOf;
using testing::StoreAst;

bool Has(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

Device& Am() {
  static EmulatedAm* emu = [] {
    absl::StatusOr<EmulatedAm> e = CreateEmulatedAm();
    EXPECT_TRUE(e.ok()) << e.status();
    return new EmulatedAm(std::move(*e));
  }();
  return *emu->device;
}

std::vector<uint8_t> RunOnAm(const UOpPtr& ast, const std::vector<std::vector<uint8_t>>& in,
                             std::string* source = nullptr) {
  absl::StatusOr<ProgramSpec> spec = RenderKernel(ast, AmdRenderer());
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return {};
  if (source != nullptr) *source = spec->source;
  absl::StatusOr<testing::LoadedKernel> k = testing::LoadedKernel::Load(Am(), *spec);
  EXPECT_TRUE(k.ok()) << k.status() << "\n" << spec->source;
  if (!k.ok()) return {};
  for (size_t slot = 0; slot < in.size(); ++slot)
    if (!in[slot].empty()) EXPECT_TRUE(k->SetInput(static_cast<int>(slot), in[slot]).ok());
  absl::Status st = k->Run();
  EXPECT_TRUE(st.ok()) << st << "\n" << spec->source;
  absl::StatusOr<std::vector<uint8_t>> out = k->Read(0);
  EXPECT_TRUE(out.ok());
  return out.ok() ? *out : std::vector<uint8_t>{};
}

TEST(AmdRenderer, WrapsTheLlvmBodyInAnAmdgpuKernel) {
  absl::StatusOr<ProgramSpec> spec = RenderKernel(uop::testing::AddAst(64, 32), AmdRenderer());
  ASSERT_TRUE(spec.ok()) << spec.status();
  const std::string& src = spec->source;
  EXPECT_EQ(spec->language, "amdgcn");
  EXPECT_TRUE(Has(src, "target triple = \"amdgcn-amd-amdhsa\"")) << src;
  EXPECT_TRUE(Has(src, "; uop-amd-abi: globals=3 vars=0 order=")) << src;
  EXPECT_TRUE(Has(src, absl::StrCat("define amdgpu_kernel void @", spec->name,
                                    "(ptr addrspace(1) noalias align 16 %data0")))
      << src;
  EXPECT_TRUE(Has(src, "@llvm.amdgcn.workgroup.id.x()")) << src;
  EXPECT_TRUE(Has(src, "@llvm.amdgcn.workitem.id.x()")) << src;
  EXPECT_TRUE(Has(src, absl::StrCat("define internal void @", spec->name, "_h("))) << src;
  EXPECT_TRUE(Has(src, "\"amdgpu-no-implicitarg-ptr\"")) << src;
  EXPECT_GT(spec->local_size[0], 1);
}

TEST(AmdRenderer, CompilesToACodeObjectWithTheDriversKernargLayout) {
  absl::StatusOr<ProgramSpec> spec =
      RenderKernel(uop::testing::MatmulAst(64, 64, 32), AmdRenderer());
  ASSERT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<std::unique_ptr<AmdgpuCompiler>> cc = AmdgpuCompiler::Create({.arch = "gfx1100"});
  ASSERT_TRUE(cc.ok()) << cc.status();
  absl::StatusOr<std::string> obj = (*cc)->Compile(spec->name, spec->source);
  ASSERT_TRUE(obj.ok()) << obj.status() << "\n" << spec->source;
  absl::StatusOr<AmdCodeObject> co = LoadAmdCodeObject(*obj, spec->name);
  ASSERT_TRUE(co.ok()) << co.status();
  EXPECT_EQ(co->kd.kernarg_size, 8u * 3);
  EXPECT_EQ(co->kd.private_segment_fixed_size, 0u);  // accumulators live in registers
}

TEST(AmdRenderer, CpuCoreIdAndReservedNamesAreRefused) {
  absl::StatusOr<std::vector<UOpPtr>> program = Linearize(uop::testing::VectorRelu(64, 4, 2));
  ASSERT_TRUE(program.ok());
  absl::StatusOr<std::string> src = AmdRenderer().Render("k", *program);
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("'core_id'"), std::string::npos) << src.status();
}

TEST(AmdRenderer, KernelsRunOnTheEmulatedGpu) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-2, 2);
  auto randoms = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
  };
  {
    std::vector<float> a = randoms(37 * 19), b = randoms(37 * 19);
    auto out = testing::FromBytes<float>(
        RunOnAm(uop::testing::AddAst(37, 19), {{}, testing::Bytes(a), testing::Bytes(b)}));
    ASSERT_EQ(out.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(out[i], a[i] + b[i]) << i;
  }
  {
    const int m = 64, n = 64, k = 32;
    std::vector<float> a = randoms(m * k), b = randoms(k * n);
    auto out = testing::FromBytes<float>(
        RunOnAm(uop::testing::MatmulAst(m, n, k), {{}, testing::Bytes(a), testing::Bytes(b)}));
    ASSERT_EQ(out.size(), size_t{m * n});
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) {
        double want = 0;
        for (int t = 0; t < k; ++t) want += double(a[i * k + t]) * b[t * n + j];
        EXPECT_NEAR(out[i * n + j], want, 1e-4) << i << "," << j;
      }
    }
  }
  {
    const DType d = DType::Float64();
    UOpPtr out = Buf(0, d, 100), a = Buf(1, d, 100);
    ShapeTracker st = ShapeTracker::FromShape({100});
    UOpPtr ast = SinkOf({StoreAst(out, st, LoadAst(a, st) * LoadAst(a, st))});
    std::vector<double> x(100);
    for (int i = 0; i < 100; ++i) x[i] = i * 0.25 - 7;
    auto got = testing::FromBytes<double>(RunOnAm(ast, {{}, testing::Bytes(x)}));
    ASSERT_EQ(got.size(), x.size());
    for (int i = 0; i < 100; ++i) EXPECT_EQ(got[i], x[i] * x[i]);  // float64 works on AMD
  }
}

}  // namespace
}  // namespace uop
