// Structure of the CUDA C the renderer emits, on machines without CUDA.
// (drivers/cuda:cuda_codegen_nvrtc_test compiles the same kernels with
// NVRTC where the toolkit exists, and the GPU tests run them.)
#include "runtime/codegen/cuda_renderer.h"

#include "gtest/gtest.h"
#include "runtime/codegen/ast_builder_for_test.h"
#include "runtime/codegen/compile.h"
#include "runtime/codegen/gemm_lowering.h"
#include "runtime/codegen/kernel.h"
#include "runtime/codegen/linearize.h"
#include "runtime/codegen/test_kernels.h"

namespace uop {
namespace {

// Every kernel these tests compile is checked by the IR validity rules between passes.
const bool kVerifyPasses = (SetVerifyPasses(true), true);

using testing::AddAst;
using testing::Buf;
using testing::LoadAst;
using testing::MatmulAst;
using testing::RowSumAst;
using testing::SinkOf;
using testing::StoreAst;
using testing::SumAxes;

std::string RenderLowered(const UOpPtr& sink) {
  absl::StatusOr<std::vector<UOpPtr>> program = Linearize(sink);
  EXPECT_TRUE(program.ok()) << program.status();
  absl::StatusOr<std::string> src = CudaRenderer().Render("k", *program);
  EXPECT_TRUE(src.ok()) << src.status();
  return src.ok() ? *src : "";
}

bool Has(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

TEST(CudaRenderer, EntryFollowsTheKernelAbi) {
  std::string src = RenderLowered(uop::testing::ElementwiseAdd(64));
  EXPECT_TRUE(Has(src, "// uop-abi: globals=3 vars=0 shared=0")) << src;
  EXPECT_TRUE(Has(src, "extern \"C\" __global__ void __launch_bounds__(1) k(")) << src;
  EXPECT_TRUE(Has(src,
                  "float* __restrict__ data0, const float* __restrict__ data1, "
                  "const float* __restrict__ data2)"))
      << src;
  EXPECT_TRUE(Has(src, "for (int v")) << src;  // a 32-bit loop: its bound fits
}

TEST(CudaRenderer, GatedLoadsNeverTouchMaskedMemory) {
  std::string src = RenderLowered(uop::testing::GatedCopy(16, 10));
  EXPECT_TRUE(Has(src, " ? data1[")) << src;  // `valid ? data1[i] : alt`
}

TEST(CudaRenderer, CpuCoreIdIsRefusedByName) {
  absl::StatusOr<std::vector<UOpPtr>> program = Linearize(uop::testing::VectorRelu(64, 4, 2));
  ASSERT_TRUE(program.ok());
  absl::StatusOr<std::string> src = CudaRenderer().Render("k", *program);
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("'core_id'"), std::string::npos) << src.status();
}

TEST(CudaRenderer, ElementwiseIsAGridOfVectorizedThreads) {
  absl::StatusOr<ProgramSpec> spec = RenderKernel(AddAst(64, 256), CudaRenderer());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->language, "cuda");
  // 16384 elements, 4 per thread as one float4 access, 256 threads a block.
  EXPECT_EQ(spec->local_size[0] * spec->local_size[1] * spec->local_size[2], 256) << spec->source;
  EXPECT_EQ(spec->global_size[0] * spec->global_size[1] * spec->global_size[2] * 256 * 4, 64 * 256);
  EXPECT_TRUE(Has(spec->source, "uop_vec<float, 4>")) << spec->source;
  EXPECT_TRUE(Has(spec->source, "blockIdx.")) << spec->source;
  EXPECT_TRUE(Has(spec->source, "threadIdx.x")) << spec->source;
  EXPECT_FALSE(Has(spec->source, "for (")) << spec->source;  // no output loops on a GPU
}

TEST(CudaRenderer, SmallMatmulsGetRegisterTilesAndWorkgroups) {
  // Not a multiple of the GEMM tile: 4x4 register tiles on 16x16 threads.
  absl::StatusOr<ProgramSpec> spec = RenderKernel(MatmulAst(192, 64, 64), CudaRenderer());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->local_size[0], 16);
  EXPECT_EQ(spec->local_size[1], 16);
  EXPECT_EQ(spec->global_size[0] * spec->global_size[1], 3);   // 64x64 outputs per block
  EXPECT_TRUE(Has(spec->source, "for (int")) << spec->source;  // the reduce loop
  EXPECT_TRUE(Has(spec->source, "uop_vec<float, 4>")) << spec->source;
  EXPECT_FALSE(Has(spec->source, "__shared__")) << spec->source;
}

TEST(CudaRenderer, LargeFloatMatmulsAreSharedMemoryGemms) {
  absl::StatusOr<ProgramSpec> spec = RenderKernel(MatmulAst(256, 384, 64), CudaRenderer());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->local_size[0] * spec->local_size[1], 256);
  EXPECT_EQ(spec->global_size[0], 3);  // 128x128 tiles
  EXPECT_EQ(spec->global_size[1], 2);
  EXPECT_TRUE(Has(spec->source, "__shared__ __align__(16) float smem0[1056]")) << spec->source;
  EXPECT_EQ(spec->source.find("__syncthreads();") != spec->source.rfind("__syncthreads();"), true);
  EXPECT_TRUE(Has(spec->source, "for (int v")) << spec->source;  // the K-tile loop
}

UOpPtr HalfMatmulAst(int64_t m, int64_t n, int64_t k, DType in) {
  DType f = DType::Float32();
  UOpPtr out = Buf(0, in, m * n), a = Buf(1, in, m * k), b = Buf(2, in, k * n);
  ShapeTracker sa =
      ShapeTracker::FromShape({m, k}).Reshape({m, 1, k}).value().Expand({m, n, k}).value();
  ShapeTracker sb = ShapeTracker::FromShape({k, n})
                        .Permute({1, 0})
                        .value()
                        .Reshape({1, n, k})
                        .value()
                        .Expand({m, n, k})
                        .value();
  UOpPtr prod = Cast(LoadAst(a, sa) * LoadAst(b, sb), f);
  return SinkOf({StoreAst(out, ShapeTracker::FromShape({m, n, 1}), Cast(SumAxes(prod, {2}), in))});
}

TEST(CudaRenderer, HalfMatmulsUseTensorCores) {
  for (DType in : {DType::Float16(), DType::BFloat16()}) {
    absl::StatusOr<ProgramSpec> spec =
        RenderKernel(HalfMatmulAst(256, 256, 128, in), CudaRenderer());
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_EQ(spec->local_size[0], 32);
    EXPECT_EQ(spec->local_size[1], 8);
    const std::string mma = in == DType::Float16()
                                ? "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"
                                : "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32";
    EXPECT_TRUE(Has(spec->source, mma)) << spec->source;
    // Fragments go to the tensor cores as loaded bits, never through float.
    EXPECT_FALSE(Has(spec->source, "unsigned a0 = ((unsigned)(uop_f2")) << spec->source;
    // Read with ldmatrix (B transposed: it is stored K-major), fed by a
    // cp.async pipeline in dynamic shared memory (past the 48 KiB static limit).
    EXPECT_TRUE(Has(spec->source, "ldmatrix.sync.aligned.m8n8.x4.shared.b16")) << spec->source;
    EXPECT_TRUE(Has(spec->source, "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16"));
    EXPECT_TRUE(Has(spec->source, "cp.async.cg.shared.global")) << spec->source;
    EXPECT_TRUE(Has(spec->source, "cp.async.wait_group 2;")) << spec->source;
    EXPECT_TRUE(Has(spec->source, "extern __shared__ __align__(16) unsigned char uop_smem[];"));
    EXPECT_FALSE(Has(spec->source, "shared=0\n")) << spec->source;
  }
  // Older GPUs have no mma.sync for these: the register-tiled path instead.
  absl::StatusOr<ProgramSpec> old = RenderKernel(HalfMatmulAst(256, 256, 128, DType::Float16()),
                                                 CudaRenderer(CudaTarget{.sm = 75}));
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_FALSE(Has(old->source, "mma.sync")) << old->source;
}

TEST(CudaRenderer, GemmOptIsRefusedWhereItDoesNotFit) {
  absl::StatusOr<Kernel> k = Kernel::Create(MatmulAst(100, 128, 64), CudaRenderer().caps());
  ASSERT_TRUE(k.ok());
  absl::Status st = k->Apply({OptOp::kGemm, 0, kSimt});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("not multiples of the tile"), std::string::npos) << st;
  k = Kernel::Create(MatmulAst(128, 128, 64), CudaRenderer().caps());
  st = k->Apply({OptOp::kGemm, 0, kTensorCore});
  EXPECT_NE(st.message().find("float16 or bfloat16"), std::string::npos) << st;
  k = Kernel::Create(RowSumAst(128, 128), CudaRenderer().caps());
  EXPECT_FALSE(k->Apply({OptOp::kGemm, 0, kSimt}).ok());
  k = Kernel::Create(MatmulAst(128, 128, 64), CudaRenderer().caps());
  ASSERT_TRUE(k->Apply({OptOp::kGemm, 0, kSimt}).ok());
  EXPECT_FALSE(k->Apply({OptOp::kUpcast, 0, 4}).ok());  // nothing after a GEMM
}

TEST(CudaRenderer, FewOutputReductionsUseSharedMemory) {
  absl::StatusOr<ProgramSpec> spec = RenderKernel(RowSumAst(4, 4096), CudaRenderer());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(Has(spec->source, "__shared__")) << spec->source;
  EXPECT_TRUE(Has(spec->source, "__syncthreads();")) << spec->source;
  EXPECT_EQ(spec->local_size[0], 256) << spec->source;
  EXPECT_EQ(spec->global_size[0], 4) << spec->source;
}

TEST(CudaRenderer, ExplicitGpuOptsAreChecked) {
  // LOCAL needs a loop axis, GROUP a reduce axis of a power-of-two size.
  EXPECT_FALSE(
      RenderKernel(RowSumAst(4, 96), CudaRenderer(), std::vector<Opt>{{OptOp::kLocal, 1, 2}}).ok());
  EXPECT_FALSE(
      RenderKernel(RowSumAst(4, 96), CudaRenderer(), std::vector<Opt>{{OptOp::kGroup, 1, 3}}).ok());
  EXPECT_FALSE(RenderKernel(RowSumAst(4, 4096), CudaRenderer(),
                            std::vector<Opt>{{OptOp::kGroup, 1, 512}, {OptOp::kLocal, 0, 4}})
                   .ok());  // 2048 threads
  absl::StatusOr<ProgramSpec> ok =
      RenderKernel(RowSumAst(4, 96), CudaRenderer(),
                   std::vector<Opt>{{OptOp::kGroup, 1, 32}, {OptOp::kLocal, 0, 4}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->local_size[0], 32);
  EXPECT_EQ(ok->local_size[1], 4);
}

TEST(CudaRenderer, CpuKeepsItsLoopsWithTheSameOpts) {
  // GPU opts never apply to a CPU target.
  RendererCaps cpu;
  cpu.language = "llvm-ir";
  absl::StatusOr<Kernel> k = Kernel::Create(RowSumAst(4, 96), cpu);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->Apply({OptOp::kGroup, 1, 32}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(k->Apply({OptOp::kLocal, 0, 2}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(CudaRenderer, HalfIsConvertedAtLoadsAndStores) {
  DType h = DType::Float16();
  UOpPtr out = Buf(0, h, 256), a = Buf(1, h, 256);
  ShapeTracker st = ShapeTracker::FromShape({256});
  UOpPtr ast = SinkOf({StoreAst(out, st, LoadAst(a, st) * UOp::Const(h, 0.5))});
  absl::StatusOr<ProgramSpec> spec = RenderKernel(ast, CudaRenderer());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(Has(spec->source, "unsigned short* __restrict__ data0")) << spec->source;
  EXPECT_TRUE(Has(spec->source, "uop_h2f(")) << spec->source;
  EXPECT_TRUE(Has(spec->source, "uop_f2h(")) << spec->source;
}

TEST(CudaRenderer, FloatToIntegerCastsWrapLikeTheReference) {
  // PTX conversions saturate (-69.5 -> uint8 0); uop wraps through int64
  // (-69.5 -> 187), and NaN gives the type's minimum.
  DType f = DType::Float32();
  UOpPtr out = Buf(0, DType::UInt8(), 64), a = Buf(1, f, 64);
  ShapeTracker st = ShapeTracker::FromShape({64});
  UOpPtr ast = SinkOf({StoreAst(out, st, Cast(LoadAst(a, st), DType::UInt8()))});
  absl::StatusOr<ProgramSpec> spec = RenderKernel(ast, CudaRenderer());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(Has(spec->source, "(unsigned char)(uop_f2i((double)(")) << spec->source;
  UOpPtr out8 = Buf(0, DType::Int8(), 64);
  spec = RenderKernel(SinkOf({StoreAst(out8, st, Cast(LoadAst(a, st), DType::Int8()))}),
                      CudaRenderer());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(Has(spec->source, ", (-128LL))")) << spec->source;
}

TEST(CudaRenderer, ManyOutputAxesFoldIntoThreeGridDimensions) {
  DType f = DType::Float32();
  UOpPtr out = Buf(0, f, 3 * 5 * 7 * 11 * 13), a = Buf(1, f, 3 * 5 * 7 * 11 * 13);
  ShapeTracker st = ShapeTracker::FromShape({3, 5, 7, 11, 13});
  // The input transposed: no two axes merge.
  ShapeTracker flipped =
      ShapeTracker::FromShape({13, 11, 7, 5, 3}).Permute({4, 3, 2, 1, 0}).value();
  UOpPtr ast = SinkOf({StoreAst(out, st, LoadAst(a, flipped) + UOp::Const(f, 1.0))});
  absl::StatusOr<ProgramSpec> spec = RenderKernel(ast, CudaRenderer(), std::vector<Opt>{});
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->global_size[0] * spec->global_size[1] * spec->global_size[2],
            3 * 5 * 7 * 11 * 13);
  EXPECT_TRUE(Has(spec->source, "blockIdx.z")) << spec->source;
}

TEST(CudaRenderer, ParsesTheArchitectureFromADeviceDescription) {
  EXPECT_EQ(ParseSmArch("NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)"), 90);
  EXPECT_EQ(ParseSmArch("NVIDIA A100 (sm_80)"), 80);
  EXPECT_EQ(ParseSmArch("AMD EPYC"), 0);
}

}  // namespace
}  // namespace uop
