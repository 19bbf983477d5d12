// Kernel counts and fusion decisions for canonical graphs (docs/scheduler.md).
#include "runtime/schedule/schedule.h"

#include <chrono>
#include <cstdio>

#include "gtest/gtest.h"
#include "runtime/schedule/test_graphs.h"
#include "runtime/shape/shapetracker.h"
#include "runtime/uop/spec.h"

namespace uop {
namespace {

using namespace uop::testing;  // NOLINT: graph builders

Schedule Sched(const UOpPtr& sink, const ScheduleOptions& options = {}) {
  absl::StatusOr<Schedule> s = CreateSchedule(sink, options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : Schedule{};
}

int Kernels(const Schedule& s) {
  int n = 0;
  for (const ScheduleItem& i : s.items) n += i.kind == ScheduleItem::Kind::kKernel;
  return n;
}

std::vector<const UOp*> OfOp(const UOpPtr& ast, Op op) {
  std::vector<const UOp*> out;
  for (const UOp* u : ast->Toposort())
    if (u->op() == op) out.push_back(u);
  return out;
}

const ShapeTracker& StOf(const UOp* load_or_store) {
  return *load_or_store->src(1)->arg().object<ShapeTracker>();
}

// Every VIEW of every kernel has the kernel's rank; every item depends only
// on earlier ones.
void ExpectWellFormed(const Schedule& s) {
  for (size_t i = 0; i < s.items.size(); ++i) {
    for (int d : s.items[i].deps) EXPECT_LT(d, static_cast<int>(i));
    if (!s.items[i].ast) continue;
    absl::Status spec = VerifyKernelAst(s.items[i].ast);
    EXPECT_TRUE(spec.ok()) << spec << "\n" << s.items[i].ast->ToString();
    int rank = -1;
    for (const UOp* v : OfOp(s.items[i].ast, Op::kView)) {
      int r = v->arg().object<ShapeTracker>()->rank();
      if (rank < 0) rank = r;
      EXPECT_EQ(r, rank) << s.items[i].ast->ToString();
    }
  }
}

TEST(Schedule, ElementwiseChainIsOneKernel) {
  UOpPtr x = Input({4, 8}), y = Input({4, 8});
  UOpPtr out = Relu(MulScalar(Exp(x + y), 2.0));
  Schedule s = Sched(Sink({out}));
  ASSERT_EQ(Kernels(s), 1);
  ExpectWellFormed(s);
  EXPECT_EQ(OfOp(s.items[0].ast, Op::kLoad).size(), 2u);
  EXPECT_EQ(s.items[0].bufs.size(), 3u);
  EXPECT_EQ(s.items[0].root, out);
}

TEST(Schedule, AddThenReduceIsOneKernel) {
  UOpPtr x = Input({4, 8}), y = Input({4, 8});
  Schedule s = Sched(Sink({Sum(x + y, {1})}));
  ASSERT_EQ(Kernels(s), 1);
  ExpectWellFormed(s);
  EXPECT_EQ(OfOp(s.items[0].ast, Op::kReduceAxis).size(), 1u);
  const UOp* store = OfOp(s.items[0].ast, Op::kStore)[0];
  EXPECT_EQ(StOf(store).shape(), (std::vector<int64_t>{4, 1}));
}

TEST(Schedule, MatmulIsOneKernel) {
  Schedule s = Sched(Sink({Matmul(Input({16, 32}), Input({32, 8}))}));
  ASSERT_EQ(Kernels(s), 1);
  ExpectWellFormed(s);
  // The reshape after the reduce moves into the store: (16, 8) -> (16, 8, 1).
  EXPECT_EQ(StOf(OfOp(s.items[0].ast, Op::kStore)[0]).shape(), (std::vector<int64_t>{16, 8, 1}));
}

TEST(Schedule, MatmulBiasReluIsOneKernel) {
  UOpPtr mm = Matmul(Input({16, 32}), Input({32, 8}));
  UOpPtr bias = Input({8});
  Schedule s = Sched(Sink({Relu(mm + Broadcast(bias, {16, 8}))}));
  ASSERT_EQ(Kernels(s), 1);
  ExpectWellFormed(s);
  // The bias joins after the reduce, in the reduce's output space.
  ASSERT_EQ(s.items[0].bufs.size(), 4u);
  EXPECT_EQ(s.items[0].bufs[3], bias);  // slots: out, a, b, bias
  for (const UOp* load : OfOp(s.items[0].ast, Op::kLoad)) {
    if (load->src(0)->arg().get<int64_t>() != 3) continue;
    EXPECT_EQ(StOf(load).shape(), (std::vector<int64_t>{16, 8, 1}));
    EXPECT_EQ(StOf(load).RealStrides()[0], 0);
    EXPECT_EQ(StOf(load).RealStrides()[1], 1);
  }
}

TEST(Schedule, ConvBiasReluIsOneKernel) {
  UOpPtr x = Input({2, 3, 8, 8}), w = Input({4, 3, 3, 3}), b = Input({4});
  Schedule s = Sched(Sink({Relu(Conv2d(x, w, b, /*stride=*/1, /*padding=*/1))}));
  ASSERT_EQ(Kernels(s), 1);
  ExpectWellFormed(s);
  EXPECT_EQ(s.items[0].bufs.size(), 4u);
}

TEST(Schedule, StridedConvIsOneKernel) {
  UOpPtr x = Input({1, 4, 9, 9}), w = Input({8, 4, 3, 3});
  Schedule s = Sched(Sink({Relu(Conv2d(x, w, Input({8}), /*stride=*/2, /*padding=*/1))}));
  ASSERT_EQ(Kernels(s), 1);
  ExpectWellFormed(s);
}

// max (stored: its path to the root crosses an EXPAND), exp-sum (stored at
// the reciprocal, the end of the sum's single-consumer chain), then the
// multiply, which recomputes exp (too cheap to store).
TEST(Schedule, SoftmaxIsThreeKernels) {
  Schedule s = Sched(Sink({Softmax(Input({4, 16}))}));
  ASSERT_EQ(Kernels(s), 3);
  ExpectWellFormed(s);
  EXPECT_EQ(s.items[0].root->op(), Op::kReduceAxis);
  EXPECT_EQ(s.items[1].root->op(), Op::kRecip);
  EXPECT_EQ(OfOp(s.items[1].ast, Op::kReduceAxis).size(), 1u);
  EXPECT_EQ(s.items[2].root->op(), Op::kMul);
  EXPECT_EQ(OfOp(s.items[2].ast, Op::kExp2).size(), 1u);
  EXPECT_EQ(s.items[2].deps, (std::vector<int>{0, 1}));
}

TEST(Schedule, TwoOutputsShareASubgraph) {
  UOpPtr x = Input({64}), y = Input({64});
  UOpPtr shared = Exp(x + y);
  Schedule s = Sched(Sink({MulScalar(shared, 2.0), AddScalar(shared, 1.0)}));
  ASSERT_EQ(Kernels(s), 2);  // the cheap shared part is recomputed
  for (const ScheduleItem& item : s.items) EXPECT_EQ(OfOp(item.ast, Op::kExp2).size(), 1u);
}

TEST(Schedule, LargeSharedSubgraphIsStoredOnce) {
  UOpPtr x = Input({64});
  UOpPtr shared = x;
  for (int i = 0; i < 80; ++i) shared = AddScalar(MulScalar(shared, 1.5), 0.5);
  Schedule s = Sched(Sink({MulScalar(shared, 2.0), AddScalar(shared, 1.0)}));
  ASSERT_EQ(Kernels(s), 3);
  EXPECT_EQ(s.items[0].root, shared);
  // A higher threshold recomputes it instead.
  Schedule dup = Sched(Sink({MulScalar(shared, 2.0), AddScalar(shared, 1.0)}),
                       ScheduleOptions{.max_recompute_cost = 1000});
  EXPECT_EQ(Kernels(dup), 2);
}

TEST(Schedule, DiamondIsOneKernel) {
  UOpPtr a = Exp(Input({32}));
  Schedule s = Sched(Sink({AddScalar(a, 1.0) + MulScalar(a, 2.0)}));
  ASSERT_EQ(Kernels(s), 1);
  EXPECT_EQ(OfOp(s.items[0].ast, Op::kExp2).size(), 1u);
}

TEST(Schedule, PadOverExpRealizesExpFirst) {
  UOpPtr e = Exp(Input({4, 4}));
  Schedule s = Sched(Sink({MulScalar(Pad(e, {{1, 1}, {1, 1}}), 2.0)}));
  ASSERT_EQ(Kernels(s), 2);
  EXPECT_EQ(s.items[0].root, e);
  ExpectWellFormed(s);
}

TEST(Schedule, PadOverPlainLoadDoesNotRealize) {
  UOpPtr x = Input({4, 4});
  Schedule s = Sched(Sink({MulScalar(Pad(x, {{1, 1}, {1, 1}}), 2.0)}));
  ASSERT_EQ(Kernels(s), 1);
  const ShapeTracker& st = StOf(OfOp(s.items[0].ast, Op::kLoad)[0]);
  EXPECT_EQ(st.shape(), (std::vector<int64_t>{6, 6}));
  EXPECT_TRUE(st.views().back().has_mask());
}

TEST(Schedule, PadOverZeroPreservingOpsFuses) {
  UOpPtr x = Input({4, 4}), y = Input({4, 4});
  // relu, add, mul and adding a constant (which carries the pad's validity)
  // all read 0 in the padding.
  UOpPtr inner = AddScalar(Relu(x) * y, 3.0);
  Schedule s = Sched(Sink({Pad(inner, {{0, 2}, {2, 0}})}));
  ASSERT_EQ(Kernels(s), 1);
  ASSERT_EQ(OfOp(s.items[0].ast, Op::kConst).size(), 2u);
  int masked = 0;
  for (const UOp* c : OfOp(s.items[0].ast, Op::kConst)) masked += c->num_srcs() == 1;
  EXPECT_EQ(masked, 2);  // 0 of the relu and the 3.0
}

TEST(Schedule, PadOverComparisonOfEqualityRealizes) {
  UOpPtr x = Input({4}), y = Input({4});
  UOpPtr eq = Eq(x, y);  // 0 == 0 is true: not zero-preserving
  Schedule s = Sched(Sink({Pad(eq, {{1, 1}})}));
  EXPECT_EQ(Kernels(s), 2);
  UOpPtr lt = Lt(x, y);
  Schedule t = Sched(Sink({Pad(lt, {{1, 1}})}));
  EXPECT_EQ(Kernels(t), 1);
}

TEST(Schedule, ViewOfRealizedBufferIsZeroKernels) {
  UOpPtr x = Input({4, 6});
  UOpPtr v = Shrink(Permute(x, {1, 0}), {{1, 5}, {0, 4}});
  Schedule s = Sched(Sink({v, x}));
  EXPECT_TRUE(s.items.empty());
  EXPECT_TRUE(s.becomes.empty());
}

TEST(Schedule, ContiguousForcesABuffer) {
  UOpPtr x = Input({8});
  UOpPtr c = Contiguous(AddScalar(x, 1.0));
  Schedule s = Sched(Sink({MulScalar(c, 2.0)}));
  ASSERT_EQ(Kernels(s), 2);
  EXPECT_EQ(s.items[0].root, c);
  EXPECT_EQ(s.items[1].deps, (std::vector<int>{0}));
}

TEST(Schedule, ContiguousOfAWholeBufferIsThatBuffer) {
  UOpPtr x = Input({2, 4});
  UOpPtr c = Contiguous(Reshape(x, {8}));
  Schedule s = Sched(Sink({c}));
  EXPECT_TRUE(s.items.empty());
  EXPECT_EQ(s.becomes.at(c.get()), Reshape(x, {8}));
  // A permuted view is not in order: it is copied.
  Schedule p = Sched(Sink({Contiguous(Permute(x, {1, 0}))}));
  EXPECT_EQ(Kernels(p), 1);
}

TEST(Schedule, ReduceReadByTwoKernelsIsStored) {
  UOpPtr r = Sum(Input({8, 16}), {1});
  Schedule s = Sched(Sink({MulScalar(r, 2.0), AddScalar(r, 1.0)}));
  ASSERT_EQ(Kernels(s), 3);
  EXPECT_EQ(s.items[0].root, r);
}

TEST(Schedule, ReduceFusesAcrossPermute) {
  UOpPtr x = Input({4, 6, 8});
  UOpPtr r = Permute(Reshape(Sum(x, {2}), {4, 6}), {1, 0});  // (6, 4)
  UOpPtr out = r + Input({6, 4});
  Schedule s = Sched(Sink({out}));
  ASSERT_EQ(Kernels(s), 1);
  ExpectWellFormed(s);
  const UOp* store = OfOp(s.items[0].ast, Op::kStore)[0];
  EXPECT_EQ(StOf(store).shape(), (std::vector<int64_t>{4, 6, 1}));
  // out[j, i] = r[i, j]: in reduce space (i, j, 0) the store steps 1 along i.
  EXPECT_EQ(StOf(store).RealStrides()[0], 1);
  EXPECT_EQ(StOf(store).RealStrides()[1], 4);
}

TEST(Schedule, ReduceStoredAtEndOfItsChain) {
  // conv + bias + relu read by a second conv through a PAD: the first
  // reduce cannot fuse forward, so relu is stored (not the raw reduce).
  UOpPtr x = Input({1, 2, 6, 6});
  UOpPtr a = Relu(Conv2d(x, Input({3, 2, 3, 3}), Input({3}), 1, 1));
  UOpPtr out = Conv2d(a, Input({2, 3, 3, 3}), Input({2}), 1, 1);
  Schedule s = Sched(Sink({out}));
  ASSERT_EQ(Kernels(s), 2);
  EXPECT_EQ(s.items[0].root, a);
  ExpectWellFormed(s);
}

TEST(Schedule, WideningCastIsNotStored) {
  UOpPtr x = Input({4, 8}, DType::Float16());
  UOpPtr r = Cast(Sum(x, {1}), DType::Float32());
  UOpPtr out = Expand(r, {4, 8}) + Input({4, 8});
  Schedule s = Sched(Sink({out}));
  ASSERT_EQ(Kernels(s), 2);
  EXPECT_EQ(s.items[0].root->op(), Op::kReduceAxis);  // the float16 sum, not the cast
}

TEST(Schedule, ReducesWithDifferentAxesAreSeparateKernels) {
  UOpPtr x = Input({4, 4});
  UOpPtr rows = Sum(x, {1});                   // (4, 1)
  UOpPtr cols = Reshape(Sum(x, {0}), {4, 1});  // (1, 4) -> (4, 1)
  Schedule s = Sched(Sink({rows + cols}));
  EXPECT_EQ(Kernels(s), 2);
  ExpectWellFormed(s);
  // Same axes and shape: one kernel with two reduces.
  Schedule t = Sched(Sink({rows + Sum(Input({4, 4}), {1})}));
  ASSERT_EQ(Kernels(t), 1);
  EXPECT_EQ(OfOp(t.items[0].ast, Op::kReduceAxis).size(), 2u);
}

TEST(Schedule, CopyToAnotherDevice) {
  UOpPtr x = Input({16});
  UOpPtr y = CopyTo(AddScalar(x, 1.0), "GPU");
  Schedule s = Sched(Sink({MulScalar(y, 3.0)}));
  ASSERT_EQ(s.items.size(), 3u);
  EXPECT_EQ(s.items[0].kind, ScheduleItem::Kind::kKernel);
  EXPECT_EQ(s.items[1].kind, ScheduleItem::Kind::kCopy);
  EXPECT_EQ(s.items[1].bufs[0]->src(0)->arg().get<std::string>(), "GPU");
  EXPECT_EQ(s.items[1].bufs[1], s.items[0].bufs[0]);
  EXPECT_EQ(s.items[2].bufs[0]->src(0)->arg().get<std::string>(), "GPU");
  EXPECT_EQ(s.items[2].deps, (std::vector<int>{1}));
}

TEST(Schedule, CopyOfAViewCopiesAContiguousBuffer) {
  UOpPtr x = Input({4, 4});
  Schedule s = Sched(Sink({CopyTo(Permute(x, {1, 0}), "GPU")}));
  ASSERT_EQ(s.items.size(), 2u);
  EXPECT_EQ(s.items[0].kind, ScheduleItem::Kind::kKernel);
  EXPECT_EQ(s.items[1].kind, ScheduleItem::Kind::kCopy);
  // A whole buffer is copied directly.
  Schedule t = Sched(Sink({CopyTo(Reshape(x, {16}), "GPU")}));
  ASSERT_EQ(t.items.size(), 1u);
  EXPECT_EQ(t.items[0].bufs[1], BufferOf(x));
}

TEST(Schedule, BecomesPointsAtTheNewBuffers) {
  UOpPtr x = Input({3, 5});
  UOpPtr out = AddScalar(x, 1.0);
  UOpPtr t = Permute(Contiguous(MulScalar(x, 2.0)), {1, 0});
  int64_t next = 77;
  ScheduleOptions options;
  options.new_buffer_id = [&](DType dtype, int64_t size, absl::string_view device) {
    EXPECT_EQ(dtype, DType::Float32());
    EXPECT_EQ(size, 15);
    EXPECT_EQ(device, "CPU");
    return next++;
  };
  Schedule s = Sched(Sink({out, t}), options);
  ASSERT_EQ(Kernels(s), 2);
  const UOpPtr& now = s.becomes.at(out.get());
  ASSERT_EQ(now->op(), Op::kReshape);
  EXPECT_EQ(*now->shape(), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(now->src(0)->arg().get<BufferArg>().id, 77);
  const UOpPtr& tnow = s.becomes.at(t.get());
  ASSERT_EQ(tnow->op(), Op::kPermute);
  EXPECT_EQ(tnow->src(0)->src(0)->arg().get<BufferArg>().id, 78);
  for (const ScheduleBuffer& b : s.buffers) {
    if (b.buffer == BufferOf(x))
      EXPECT_EQ(b.role, BufferRole::kExternal);
    else
      EXPECT_EQ(b.role, BufferRole::kOutput);
  }
}

TEST(Schedule, BoolResultsAreStoredAsBool) {
  Schedule s = Sched(Sink({Lt(Input({8}), Input({8}))}));
  ASSERT_EQ(Kernels(s), 1);
  EXPECT_EQ(s.items[0].bufs[0]->dtype(), DType::Bool());
  const UOp* global = OfOp(s.items[0].ast, Op::kStore)[0]->src(0).get();
  EXPECT_EQ(global->dtype(), DType::Bool().Ptr(AddrSpace::kGlobal, 8));
}

TEST(Schedule, ThousandNodesScheduleQuickly) {
  // A ladder: every rung reads the two before it, so a walk without
  // memoization would take 2^300 steps; it is all elementwise: one kernel.
  UOpPtr a = Input({16, 16}), b = Input({16, 16});
  for (int i = 0; i < 300; ++i) {
    UOpPtr c = a * b;
    a = b;
    b = c;
  }
  // Then an MLP of 60 layers: one kernel per layer.
  UOpPtr h = Reshape(b, {16, 16});
  for (int i = 0; i < 60; ++i)
    h = Relu(Matmul(h, Input({16, 16})) + Broadcast(Input({16}), {16, 16}));
  UOpPtr sink = Sink({h});
  ASSERT_GE(GraphSize(sink), 1000u);
  auto start = std::chrono::steady_clock::now();
  Schedule s = Sched(sink);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("schedule of %zu nodes: %.2f ms, %d kernels\n", GraphSize(sink), ms, Kernels(s));
  EXPECT_EQ(Kernels(s), 60);
  ExpectWellFormed(s);
}

}  // namespace
}  // namespace uop
