#include "runtime/schedule/pack_panels.h"

#include "gtest/gtest.h"
#include "runtime/codegen/ast_builder_for_test.h"
#include "runtime/tensor/tensor.h"
#include "runtime/uop/spec.h"

namespace uop {
namespace {

TEST(PackPanels, RewritesARowMajorMatmul) {
  UOpPtr ast = testing::MatmulAst(64, 256, 128);  // B rows are 1 KiB apart
  std::optional<PackedKernel> pk = PackKernel(ast, {});
  ASSERT_TRUE(pk.has_value());
  EXPECT_EQ(pk->slot, 2);
  EXPECT_EQ(pk->panel_elements, 256 * 128);
  EXPECT_TRUE(VerifyKernelAst(pk->ast).ok()) << VerifyKernelAst(pk->ast);
  EXPECT_TRUE(VerifyKernelAst(pk->pack_ast).ok()) << VerifyKernelAst(pk->pack_ast);
  // The rewritten kernel's views have the n axis split: rank 4.
  for (const UOp* u : pk->ast->Toposort())
    if (u->op() == Op::kView) EXPECT_EQ(u->arg().object<ShapeTracker>()->rank(), 4);
}

TEST(PackPanels, LeavesSmallOrIneligibleKernelsAlone) {
  EXPECT_FALSE(PackKernel(testing::MatmulAst(8, 64, 64), {}).has_value());     // too small
  EXPECT_FALSE(PackKernel(testing::MatmulAst(64, 250, 128), {}).has_value());  // n % 32 != 0
  EXPECT_FALSE(PackKernel(testing::AddAst(64, 64), {}).has_value());           // no reduce
  EXPECT_FALSE(PackKernel(testing::RowSumAst(64, 4096), {}).has_value());      // no product
}

TEST(PackPanels, InsertsThePackingKernelIntoASchedule) {
  Tensor x = Tensor::Empty({128, 512}), w = Tensor::Empty({512, 256});
  Tensor y = x.Matmul(w).Relu();
  absl::StatusOr<Schedule> s = CreateSchedule(UOp::Create(Op::kSink, DType::Void(), {y.uop()}));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->items.size(), 1u);
  size_t buffers = s->buffers.size();
  absl::StatusOr<int> n = PackPanels(*s);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  ASSERT_EQ(s->items.size(), 2u);
  EXPECT_EQ(s->buffers.size(), buffers + 1);
  EXPECT_EQ(s->buffers.back().role, BufferRole::kIntermediate);
  // The matmul reads what the packing kernel writes, and waits for it.
  EXPECT_EQ(s->items[1].deps.back(), 0);
  EXPECT_NE(std::find(s->items[1].bufs.begin(), s->items[1].bufs.end(), s->items[0].bufs[0]),
            s->items[1].bufs.end());
}

}  // namespace
}  // namespace uop
