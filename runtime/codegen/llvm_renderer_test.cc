#include "runtime/codegen/llvm_renderer.h"

#include "gtest/gtest.h"
#include "llvm/AsmParser/Parser.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"
#include "runtime/codegen/linearize.h"
#include "runtime/codegen/test_kernels.h"

namespace uop {
namespace {

// Parses and verifies IR with LLVM itself; returns the problem, or "".
std::string VerifyIr(const std::string& ir) {
  llvm::LLVMContext ctx;
  llvm::SMDiagnostic diag;
  std::unique_ptr<llvm::Module> m = llvm::parseAssemblyString(ir, diag, ctx);
  if (!m) {
    std::string msg;
    llvm::raw_string_ostream os(msg);
    diag.print("kernel", os);
    return os.str();
  }
  std::string msg;
  llvm::raw_string_ostream os(msg);
  if (llvm::verifyModule(*m, &os)) return os.str();
  return "";
}

std::string RenderOrDie(const UOpPtr& sink, const std::string& name) {
  absl::StatusOr<std::vector<UOpPtr>> prog = Linearize(sink);
  EXPECT_TRUE(prog.ok()) << prog.status();
  absl::StatusOr<std::string> ir = LlvmRenderer(2).Render(name, *prog);
  EXPECT_TRUE(ir.ok()) << ir.status();
  return ir.ok() ? *ir : "";
}

TEST(LlvmRenderer, ElementwiseIsValidIr) {
  std::string ir = RenderOrDie(testing::ElementwiseAdd(16), "add16");
  EXPECT_EQ(VerifyIr(ir), "") << ir;
  EXPECT_NE(ir.find("define void @add16(ptr noalias %bufs, ptr noalias %vars, i64 %core_id)"),
            std::string::npos);
  EXPECT_NE(ir.find("fadd contract float"), std::string::npos) << ir;
}

TEST(LlvmRenderer, ReductionIsValidIr) {
  std::string ir = RenderOrDie(testing::RowSum(4, 8), "rowsum");
  EXPECT_EQ(VerifyIr(ir), "") << ir;
  EXPECT_NE(ir.find("alloca float"), std::string::npos) << ir;
}

TEST(LlvmRenderer, VectorKernelIsValidIr) {
  std::string ir = RenderOrDie(testing::VectorRelu(1024, 16, 2), "relu");
  EXPECT_EQ(VerifyIr(ir), "") << ir;
  EXPECT_NE(ir.find("load <16 x float>"), std::string::npos) << ir;
}

TEST(LlvmRenderer, GatedLoadIsValidIr) {
  std::string ir = RenderOrDie(testing::GatedCopy(16, 10), "gated");
  EXPECT_EQ(VerifyIr(ir), "") << ir;
}

TEST(LlvmRenderer, CastsAndIntegerOpsAreValidIr) {
  // Every cast pair and the guarded integer ops in one kernel.
  std::vector<DType> types = {DType::Bool(),     DType::Int8(),    DType::UInt8(),
                              DType::Int16(),    DType::Int32(),   DType::UInt32(),
                              DType::Int64(),    DType::UInt64(),  DType::Float16(),
                              DType::BFloat16(), DType::Float32(), DType::Float64()};
  std::vector<UOpPtr> stores;
  int slot = 0;
  UOpPtr i = UOp::Create(Op::kRange, DType::Index(), {UOp::Index(4)}, Arg(int64_t{0}));
  for (DType from : types) {
    UOpPtr in = UOp::Create(Op::kDefineGlobal, from.Ptr(), {}, Arg(int64_t{slot++}));
    UOpPtr x = UOp::Create(Op::kLoad, from, {UOp::Create(Op::kIndex, in->dtype(), {in, i})});
    for (DType to : types) {
      UOpPtr out = UOp::Create(Op::kDefineGlobal, to.Ptr(), {}, Arg(int64_t{slot++}));
      UOpPtr v = Cast(x, to);
      if (to.is_int() && from == to) v = (v / v) % (v + v);  // guarded division
      stores.push_back(UOp::Create(Op::kStore, DType::Void(),
                                   {UOp::Create(Op::kIndex, out->dtype(), {out, i}), v}));
    }
  }
  UOpPtr sink = UOp::Create(Op::kSink, DType::Void(), stores);
  std::string ir = RenderOrDie(sink, "casts");
  EXPECT_EQ(VerifyIr(ir), "") << ir.substr(0, 4000);
}

TEST(LlvmRenderer, UnknownSpecialIsAnError) {
  DType f = DType::Float32();
  UOpPtr buf = UOp::Create(Op::kDefineGlobal, f.Ptr(), {}, Arg(int64_t{0}));
  UOpPtr g = UOp::Create(Op::kSpecial, DType::Index(), {UOp::Index(4)}, Arg("gidx0"));
  UOpPtr st = UOp::Create(Op::kStore, DType::Void(),
                          {UOp::Create(Op::kIndex, buf->dtype(), {buf, g}), UOp::Const(f, 1.0)});
  absl::StatusOr<std::vector<UOpPtr>> prog = Linearize(UOp::Create(Op::kSink, DType::Void(), {st}));
  ASSERT_TRUE(prog.ok());
  absl::StatusOr<std::string> ir = LlvmRenderer().Render("k", *prog);
  ASSERT_FALSE(ir.ok());
  EXPECT_NE(ir.status().message().find("gidx0"), std::string::npos);
}

}  // namespace
}  // namespace uop
