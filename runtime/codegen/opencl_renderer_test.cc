// The OpenCL C the renderer emits: its structure, and its results when
// compiled by the emulated Adreno device (clang's OpenCL C front end for the
// host) and run through the QCOM driver.
#include "runtime/codegen/opencl_renderer.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "drivers/qcom/emulator/qcom_emu_device.h"
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

std::string RenderLowered(const UOpPtr& sink) {
  absl::StatusOr<std::vector<UOpPtr>> program = Linearize(sink);
  EXPECT_TRUE(program.ok()) << program.status();
  absl::StatusOr<std::string> src = OpenClRenderer().Render("k", *program);
  EXPECT_TRUE(src.ok()) << src.status();
  return src.ok() ? *src : "";
}

Device& Qcom() {
  static EmulatedQcom* emu = [] {
    absl::StatusOr<EmulatedQcom> e = CreateEmulatedQcom();
    EXPECT_TRUE(e.ok()) << e.status();
    return new EmulatedQcom(std::move(*e));
  }();
  return *emu->device;
}

// Renders `ast`, runs it on the emulated Adreno with the inputs by slot, and
// returns slot 0.
std::vector<uint8_t> RunOnQcom(const UOpPtr& ast, const std::vector<std::vector<uint8_t>>& in,
                               std::string* source = nullptr) {
  absl::StatusOr<ProgramSpec> spec = RenderKernel(ast, OpenClRenderer());
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return {};
  if (source != nullptr) *source = spec->source;
  absl::StatusOr<testing::LoadedKernel> k = testing::LoadedKernel::Load(Qcom(), *spec);
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

TEST(OpenClRenderer, EntryFollowsTheKernelAbi) {
  std::string src = RenderLowered(uop::testing::ElementwiseAdd(64));
  EXPECT_TRUE(Has(src, "// uop-abi: globals=3 vars=0 local=1,1,1")) << src;
  EXPECT_TRUE(Has(src, "__kernel __attribute__((reqd_work_group_size(1, 1, 1)))")) << src;
  EXPECT_TRUE(Has(src,
                  "void k(__global float* restrict data0, __global const float* restrict data1, "
                  "__global const float* restrict data2)"))
      << src;
  EXPECT_TRUE(Has(src, "for (int v")) << src;
}

TEST(OpenClRenderer, GatedLoadsNeverTouchMaskedMemory) {
  std::string src = RenderLowered(uop::testing::GatedCopy(16, 10));
  EXPECT_TRUE(Has(src, " ? data1[")) << src;
}

TEST(OpenClRenderer, CpuCoreIdIsRefusedByName) {
  absl::StatusOr<std::vector<UOpPtr>> program = Linearize(uop::testing::VectorRelu(64, 4, 2));
  ASSERT_TRUE(program.ok());
  absl::StatusOr<std::string> src = OpenClRenderer().Render("k", *program);
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("'core_id'"), std::string::npos) << src.status();
}

TEST(OpenClRenderer, Float64IsRefusedOnAdreno) {
  const DType d = DType::Float64();
  UOpPtr out = Buf(0, d, 8), a = Buf(1, d, 8);
  ShapeTracker st = ShapeTracker::FromShape({8});
  UOpPtr ast = SinkOf({StoreAst(out, st, LoadAst(a, st) + LoadAst(a, st))});
  absl::StatusOr<ProgramSpec> spec = RenderKernel(ast, OpenClRenderer());
  ASSERT_EQ(spec.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(spec.status().message().find("cl_khr_fp64"), absl::string_view::npos);
  OpenClTarget with_fp64;
  with_fp64.fp64 = true;
  spec = RenderKernel(ast, OpenClRenderer(with_fp64));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(Has(spec->source, "#pragma OPENCL EXTENSION cl_khr_fp64 : enable"));
}

TEST(OpenClRenderer, AddMatmulAndRowSumRunOnTheEmulatedAdreno) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-2, 2);
  auto randoms = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
  };
  {
    std::vector<float> a = randoms(37 * 19), b = randoms(37 * 19);
    std::string src;
    auto out = testing::FromBytes<float>(
        RunOnQcom(uop::testing::AddAst(37, 19), {{}, testing::Bytes(a), testing::Bytes(b)}, &src));
    ASSERT_EQ(out.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(out[i], a[i] + b[i]) << i;
    EXPECT_TRUE(Has(src, "get_group_id(0)")) << src;
  }
  {
    const int m = 16, n = 24, k = 20;
    std::vector<float> a = randoms(m * k), b = randoms(k * n);
    auto out = testing::FromBytes<float>(
        RunOnQcom(uop::testing::MatmulAst(m, n, k), {{}, testing::Bytes(a), testing::Bytes(b)}));
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
    std::vector<float> a = randoms(9 * 300);
    auto out = testing::FromBytes<float>(
        RunOnQcom(uop::testing::RowSumAst(9, 300), {{}, testing::Bytes(a)}));
    ASSERT_EQ(out.size(), 9u);
    for (int r = 0; r < 9; ++r) {
      double want = 0;
      for (int c = 0; c < 300; ++c) want += a[r * 300 + c];
      EXPECT_NEAR(out[r], want, 1e-3) << r;
    }
  }
}

// float -> float16/bfloat16 in the kernel's own integer code must round to
// nearest even like the reference conversions, including subnormals,
// overflow to inf, NaN and ties.
TEST(OpenClRenderer, HalfAndBfloat16ConversionsAreExact) {
  std::vector<float> in = {0.0f,
                           -0.0f,
                           1.0f,
                           -2.5f,
                           65504.0f,
                           65519.9f,
                           65520.0f,
                           1e9f,
                           -1e9f,
                           6.0e-8f,
                           5.96e-8f,
                           2.98023224e-8f,
                           2.99e-8f,
                           1e-10f,
                           3.0e-5f,
                           -6.1e-5f,
                           1.00048828125f,
                           1.0014648438f,
                           3.14159265f,
                           1e-40f,
                           std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(),
                           0.333333343f,
                           1024.5f};
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 2000; ++i) {
    uint32_t b = bits(rng);
    float f;
    std::memcpy(&f, &b, 4);
    if (!std::isnan(f)) in.push_back(f);
  }
  const int64_t n = static_cast<int64_t>(in.size());
  ShapeTracker st = ShapeTracker::FromShape({n});
  for (DType h : {DType::Float16(), DType::BFloat16()}) {
    UOpPtr out = Buf(0, h, n), src = Buf(1, DType::Float32(), n);
    UOpPtr ast = SinkOf({StoreAst(out, st, UOp::Create(Op::kCast, h, {LoadAst(src, st)}))});
    auto got = testing::FromBytes<uint16_t>(RunOnQcom(ast, {{}, testing::Bytes(in)}));
    ASSERT_EQ(got.size(), in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      const uint16_t want = h == DType::Float16() ? FloatToHalf(in[i]) : FloatToBFloat16(in[i]);
      EXPECT_EQ(got[i], want) << h.ToString() << " of " << in[i];
    }
    // And back: every 16-bit pattern widens exactly (NaNs stay NaN).
    std::vector<uint16_t> all(65536);
    for (int i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
    UOpPtr wide = Buf(0, DType::Float32(), 65536), narrow = Buf(1, h, 65536);
    ShapeTracker s2 = ShapeTracker::FromShape({65536});
    UOpPtr back = SinkOf(
        {StoreAst(wide, s2, UOp::Create(Op::kCast, DType::Float32(), {LoadAst(narrow, s2)}))});
    auto widened = testing::FromBytes<float>(RunOnQcom(back, {{}, testing::Bytes(all)}));
    ASSERT_EQ(widened.size(), all.size());
    for (int i = 0; i < 65536; ++i) {
      const float want = h == DType::Float16() ? HalfToFloat(all[i]) : BFloat16ToFloat(all[i]);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(widened[i])) << i;
      } else {
        EXPECT_EQ(widened[i], want) << h.ToString() << " pattern " << i;
      }
    }
  }
}

}  // namespace
}  // namespace uop
