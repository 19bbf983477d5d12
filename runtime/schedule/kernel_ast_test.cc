// The kernel ASTs the scheduler emits (docs/compiler.md "Kernel AST").
#include <vector>

#include "gtest/gtest.h"
#include "runtime/codegen/ast_builder_for_test.h"
#include "runtime/schedule/schedule.h"
#include "runtime/schedule/test_graphs.h"
#include "runtime/shape/shapetracker.h"
#include "runtime/uop/spec.h"

namespace uop {
namespace {

using namespace uop::testing;  // NOLINT: graph builders

UOpPtr OnlyKernel(const UOpPtr& out) {
  absl::StatusOr<Schedule> s = CreateSchedule(Sink({out}));
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok() || s->items.size() != 1) {
    ADD_FAILURE() << "expected one item";
    return nullptr;
  }
  absl::Status spec = VerifyKernelAst(s->items[0].ast);
  EXPECT_TRUE(spec.ok()) << spec;
  return s->items[0].ast;
}

std::vector<const UOp*> OfOp(const UOpPtr& ast, Op op) {
  std::vector<const UOp*> out;
  for (const UOp* u : ast->Toposort())
    if (u->op() == op) out.push_back(u);
  return out;
}

// The scheduler's ASTs are the very nodes codegen's hand-built ones are:
// same slots, views, ops and dtypes.
TEST(KernelAst, MatchesCodegensHandBuiltAsts) {
  EXPECT_EQ(OnlyKernel(Matmul(Input({8, 4}), Input({4, 6}))), MatmulAst(8, 6, 4));
  EXPECT_EQ(OnlyKernel(Input({3, 5}) + Input({3, 5})), AddAst(3, 5));
  EXPECT_EQ(OnlyKernel(Reshape(Sum(Input({7, 9}), {1}), {7})), RowSumAst(7, 9));
}

TEST(KernelAst, BufferReadTwiceHasOneSlot) {
  UOpPtr x = Input({16});
  absl::StatusOr<Schedule> s = CreateSchedule(Sink({x * Flip(x, {1})}));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->items.size(), 1u);
  EXPECT_EQ(s->items[0].bufs.size(), 2u);
  EXPECT_EQ(OfOp(s->items[0].ast, Op::kDefineGlobal).size(), 2u);
  EXPECT_EQ(OfOp(s->items[0].ast, Op::kLoad).size(), 2u);  // two views of slot 1
}

TEST(KernelAst, DefineGlobalCarriesElementTypeAndSize) {
  UOpPtr ast = OnlyKernel(Cast(Input({6}, DType::Int8()), DType::Float16()));
  ASSERT_TRUE(ast);
  for (const UOp* g : OfOp(ast, Op::kDefineGlobal)) {
    const int64_t slot = g->arg().get<int64_t>();
    EXPECT_EQ(g->dtype(),
              (slot == 0 ? DType::Float16() : DType::Int8()).Ptr(AddrSpace::kGlobal, 6));
  }
}

TEST(KernelAst, LoadViewComposesTheMovementChain) {
  UOpPtr x = Input({4, 6});
  UOpPtr v = Flip(Shrink(Permute(x, {1, 0}), {{1, 5}, {0, 3}}), {0, 1});  // (4, 3)
  UOpPtr ast = OnlyKernel(MulScalar(v, 2.0));
  ASSERT_TRUE(ast);
  ShapeTracker want = ShapeTracker::FromShape({24})
                          .Reshape({4, 6})
                          .value()
                          .Permute({1, 0})
                          .value()
                          .Shrink({{1, 5}, {0, 3}})
                          .value()
                          .Flip({0, 1})
                          .value();
  const UOp* load = OfOp(ast, Op::kLoad)[0];
  EXPECT_EQ(*load->src(1)->arg().object<ShapeTracker>(), want);
}

TEST(KernelAst, ScalarConstantIsBare) {
  UOpPtr ast = OnlyKernel(AddScalar(Input({5}), 2.5));
  ASSERT_TRUE(ast);
  std::vector<const UOp*> consts = OfOp(ast, Op::kConst);
  ASSERT_EQ(consts.size(), 1u);
  EXPECT_EQ(consts[0]->num_srcs(), 0u);
  EXPECT_EQ(consts[0]->const_float(), 2.5);
}

TEST(KernelAst, ConstantUnderPadKeepsItsValidity) {
  UOpPtr ones = Pad(Full({2, 3}, 1.0), {{1, 0}, {0, 2}});  // (3, 5), 1 inside, 0 in the padding
  UOpPtr ast = OnlyKernel(ones + Input({3, 5}));
  ASSERT_TRUE(ast);
  std::vector<const UOp*> consts = OfOp(ast, Op::kConst);
  ASSERT_EQ(consts.size(), 1u);
  ASSERT_EQ(consts[0]->num_srcs(), 1u);
  const ShapeTracker& st = *consts[0]->src(0)->arg().object<ShapeTracker>();
  EXPECT_EQ(st.shape(), (std::vector<int64_t>{3, 5}));
  ASSERT_TRUE(st.views().back().has_mask());
  EXPECT_EQ(st.views().back().mask()[0], (Interval{1, 3}));
  EXPECT_EQ(st.views().back().mask()[1], (Interval{0, 3}));
}

TEST(KernelAst, ConstantWhosePaddingIsShrunkAwayIsBare) {
  UOpPtr c = Shrink(Pad(Full({2, 3}, 4.0), {{1, 1}, {1, 1}}), {{1, 3}, {1, 4}});
  UOpPtr ast = OnlyKernel(c * Input({2, 3}));
  ASSERT_TRUE(ast);
  std::vector<const UOp*> consts = OfOp(ast, Op::kConst);
  ASSERT_EQ(consts.size(), 1u);
  EXPECT_EQ(consts[0]->num_srcs(), 0u);
}

TEST(KernelAst, ConstantOnlyOutputStoresABareConstant) {
  UOpPtr ast = OnlyKernel(Full({2, 2}, 7.0));
  ASSERT_TRUE(ast);
  const UOp* store = OfOp(ast, Op::kStore)[0];
  EXPECT_EQ(store->src(2)->op(), Op::kConst);
  EXPECT_EQ(OfOp(ast, Op::kDefineGlobal).size(), 1u);
}

TEST(KernelAst, ReduceKernelViewsShareTheReduceInputRank) {
  // conv: every load is rank 8 (the reduce input), the store and the bias
  // are in reduce-output space (size 1 on the reduced axes).
  UOpPtr ast = OnlyKernel(Relu(Conv2d(Input({1, 2, 5, 5}), Input({3, 2, 3, 3}), Input({3}), 1, 1)));
  ASSERT_TRUE(ast);
  const ShapeTracker& store = *OfOp(ast, Op::kStore)[0]->src(1)->arg().object<ShapeTracker>();
  EXPECT_EQ(store.shape(), (std::vector<int64_t>{1, 1, 3, 5, 5, 1, 1, 1}));
  for (const UOp* load : OfOp(ast, Op::kLoad))
    EXPECT_EQ(load->src(1)->arg().object<ShapeTracker>()->rank(), 8);
  const UOp* reduce = OfOp(ast, Op::kReduceAxis)[0];
  EXPECT_EQ(reduce->arg().get<ReduceArg>().axes, (std::vector<int64_t>{5, 6, 7}));
}

}  // namespace
}  // namespace uop
