#include "runtime/codegen/kernel.h"

#include "gtest/gtest.h"
#include "llvm/AsmParser/Parser.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/SourceMgr.h"
#include "runtime/codegen/ast_builder_for_test.h"
#include "runtime/codegen/compile.h"
#include "runtime/codegen/heuristics.h"
#include "runtime/codegen/llvm_renderer.h"

namespace uop {
namespace {

// Every kernel these tests compile is checked by the IR validity rules between passes.
const bool kVerifyPasses = (SetVerifyPasses(true), true);

using testing::AddAst;
using testing::InnerProductAst;
using testing::MatmulAst;
using testing::RowSumAst;

bool ValidIr(const std::string& ir) {
  llvm::LLVMContext ctx;
  llvm::SMDiagnostic diag;
  std::unique_ptr<llvm::Module> m = llvm::parseAssemblyString(ir, diag, ctx);
  if (!m) {
    diag.print("kernel", llvm::errs());
    return false;
  }
  return !llvm::verifyModule(*m, &llvm::errs());
}

RendererCaps Caps(int threads = 2) { return LlvmRenderer(threads, 64).caps(); }

int CountOps(const UOpPtr& root, Op op) {
  int n = 0;
  for (const UOp* u : root->Toposort()) n += u->op() == op;
  return n;
}

TEST(Kernel, CanonicalFormMergesAxesAndPutsReduceLast) {
  absl::StatusOr<Kernel> k = Kernel::Create(AddAst(64, 32), Caps());
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->full_shape(), (std::vector<int64_t>{2048}));  // contiguous axes merge
  absl::StatusOr<Kernel> mm = Kernel::Create(MatmulAst(8, 16, 32), Caps());
  ASSERT_TRUE(mm.ok()) << mm.status();
  EXPECT_EQ(mm->full_shape(), (std::vector<int64_t>{8, 16, 32}));
  EXPECT_EQ(mm->kinds(),
            (std::vector<AxisKind>{AxisKind::kLoop, AxisKind::kLoop, AxisKind::kReduce}));
  EXPECT_EQ(mm->Name(), "r_8_16_32");
}

TEST(Kernel, OptsSplitAxesIntoKinds) {
  Kernel k = *Kernel::Create(MatmulAst(8, 16, 32), Caps());
  ASSERT_TRUE(k.Apply({OptOp::kUpcast, 1, 16}).ok());
  EXPECT_EQ(k.full_shape(), (std::vector<int64_t>{8, 32, 16}));
  EXPECT_EQ(k.kinds().back(), AxisKind::kUpcast);
  ASSERT_TRUE(k.Apply({OptOp::kUnroll, 1, 4}).ok());
  EXPECT_EQ(k.full_shape(), (std::vector<int64_t>{8, 8, 16, 4}));
  ASSERT_TRUE(k.Apply({OptOp::kThread, 0, 2}).ok());
  EXPECT_EQ(k.full_shape(), (std::vector<int64_t>{2, 4, 8, 16, 4}));
  EXPECT_EQ(k.kinds()[0], AxisKind::kThread);
}

TEST(Kernel, BadOptsAreErrors) {
  Kernel k = *Kernel::Create(MatmulAst(8, 16, 32), Caps());
  absl::Status s = k.Apply({OptOp::kUpcast, 0, 3});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("UPCAST(0, 3)"), std::string::npos) << s;
  EXPECT_FALSE(k.Apply({OptOp::kUnroll, 0, 2}).ok());   // not a reduce axis
  EXPECT_FALSE(k.Apply({OptOp::kUpcast, 7, 2}).ok());   // no such axis
  EXPECT_FALSE(k.Apply({OptOp::kThread, 0, 64}).ok());  // more than the cores
  EXPECT_TRUE(k.applied_opts().empty());
}

TEST(Kernel, MixedReduceAxesAreRejected) {
  DType f = DType::Float32();
  UOpPtr out = testing::Buf(0, f, 1), a = testing::Buf(1, f, 16);
  ShapeTracker st = ShapeTracker::FromShape({4, 4});
  UOpPtr x = testing::LoadAst(a, st);
  UOpPtr v = testing::SumAxes(x, {0}) + testing::SumAxes(x, {1});
  absl::StatusOr<Kernel> k = Kernel::Create(
      testing::SinkOf({testing::StoreAst(out, ShapeTracker::FromShape({1, 1}), v)}), Caps());
  EXPECT_EQ(k.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(Kernel, ElementwiseLowersToVectorAccesses) {
  Kernel k = *Kernel::Create(AddAst(256, 256), Caps());
  std::vector<Opt> opts = ApplyHandCodedOpts(k);
  ASSERT_FALSE(opts.empty());
  absl::StatusOr<UOpPtr> lowered = LowerKernel(k);
  ASSERT_TRUE(lowered.ok()) << lowered.status();
  bool vector_load = false;
  for (const UOp* u : (*lowered)->Toposort())
    vector_load |= u->op() == Op::kLoad && u->dtype().count() == 16;
  EXPECT_TRUE(vector_load) << (*lowered)->ToString();
  EXPECT_EQ(CountOps(*lowered, Op::kSpecial), 1);  // split over cores
}

TEST(Kernel, MatmulLowersToRegisterTile) {
  Kernel k = *Kernel::Create(MatmulAst(64, 64, 64), Caps());
  ApplyHandCodedOpts(k);
  absl::StatusOr<UOpPtr> lowered = LowerKernel(k);
  ASSERT_TRUE(lowered.ok()) << lowered.status();
  // 4 x 32 tile of accumulators: 8 registers of 16 floats.
  EXPECT_EQ(CountOps(*lowered, Op::kDefineReg), 8) << (*lowered)->ToString();
}

TEST(Kernel, OddOutputsReduceInVectorsWithIndependentAccumulators) {
  // 257 x 5 outputs (both odd): vectorize the k reduction and keep 5
  // independent accumulators instead of one FMA chain 512 steps long.
  Kernel k = *Kernel::Create(InnerProductAst(257, 5, 512), Caps());
  std::vector<Opt> opts = ApplyHandCodedOpts(k);
  auto has = [&](Opt o) { return std::find(opts.begin(), opts.end(), o) != opts.end(); };
  EXPECT_TRUE(has({OptOp::kUnroll, 2, 16}));
  EXPECT_TRUE(has({OptOp::kUpcast, 1, 5}));
  absl::StatusOr<UOpPtr> lowered = LowerKernel(k);
  ASSERT_TRUE(lowered.ok()) << lowered.status();
  EXPECT_EQ(CountOps(*lowered, Op::kDefineReg), 5) << (*lowered)->ToString();
  bool vector_load = false;
  for (const UOp* u : (*lowered)->Toposort())
    vector_load |= u->op() == Op::kLoad && u->dtype().count() == 16;
  EXPECT_TRUE(vector_load);
}

TEST(Kernel, OddOutputAxisReducesInVectorsInsteadOfGatheringRows) {
  // 258 x 3 outputs: only the 258 axis would tile, and its lanes would be
  // loaded from rows 256 floats apart; the taps are contiguous in both inputs.
  Kernel k = *Kernel::Create(InnerProductAst(258, 3, 256), Caps());
  std::vector<Opt> opts = ApplyHandCodedOpts(k);
  auto has = [&](Opt o) { return std::find(opts.begin(), opts.end(), o) != opts.end(); };
  EXPECT_TRUE(has({OptOp::kUnroll, 2, 16}));
  EXPECT_FALSE(has({OptOp::kUpcast, 0, 2}));
  absl::StatusOr<UOpPtr> lowered = LowerKernel(k);
  ASSERT_TRUE(lowered.ok()) << lowered.status();
  bool vector_load = false;
  for (const UOp* u : (*lowered)->Toposort())
    vector_load |= u->op() == Op::kLoad && u->dtype().count() == 16;
  EXPECT_TRUE(vector_load);
}

TEST(Kernel, RendersValidIrForEveryShape) {
  LlvmRenderer r(2, 64);
  for (const UOpPtr& ast : {AddAst(64, 32), AddAst(3, 5), MatmulAst(64, 64, 64), MatmulAst(3, 5, 7),
                            InnerProductAst(257, 5, 512), InnerProductAst(3, 7, 96),
                            InnerProductAst(258, 3, 256), RowSumAst(16, 64), RowSumAst(5, 3)}) {
    absl::StatusOr<ProgramSpec> spec = RenderKernel(ast, r);
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_TRUE(ValidIr(spec->source)) << spec->source;
    absl::StatusOr<ProgramSpec> plain = RenderKernel(ast, r, std::vector<Opt>{});
    ASSERT_TRUE(plain.ok()) << plain.status();
    EXPECT_TRUE(ValidIr(plain->source)) << plain->source;
  }
}

TEST(Kernel, ProgramSpecDescribesBuffers) {
  ProgramSpec spec = *RenderKernel(MatmulAst(8, 16, 32), LlvmRenderer(1, 64));
  ASSERT_EQ(spec.buffers.size(), 3u);
  EXPECT_TRUE(spec.buffers[0].is_output);
  EXPECT_FALSE(spec.buffers[1].is_output);
  EXPECT_EQ(spec.buffers[1].size, 8 * 32);
  EXPECT_EQ(spec.buffers[2].dtype, DType::Float32());
  EXPECT_EQ(spec.global_size[0], 1);
}

}  // namespace
}  // namespace uop

namespace uop {
namespace {

TEST(Kernel, PassChecksNameThePassThatBrokeTheIr) {
  // An AST whose ADD mixes float32 and int32 sources: invalid IR.
  DType f = DType::Float32(), i = DType::Int32();
  UOpPtr out = testing::Buf(0, f, 16), a = testing::Buf(1, f, 16), b = testing::Buf(2, i, 16);
  ShapeTracker st = ShapeTracker::FromShape({16});
  UOpPtr bad = UOp::Create(Op::kAdd, f, {testing::LoadAst(a, st), testing::LoadAst(b, st)});
  absl::StatusOr<ProgramSpec> spec =
      RenderKernel(testing::SinkOf({testing::StoreAst(out, st, bad)}), LlvmRenderer(1, 64));
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(spec.status().message().find("IR check after scheduling"), std::string::npos)
      << spec.status();
}

}  // namespace
}  // namespace uop
