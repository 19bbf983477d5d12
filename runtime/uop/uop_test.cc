#include "runtime/uop/uop.h"

#include <limits>
#include <thread>

#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(UOp, HashConsingReturnsSameNode) {
  UOpPtr a = UOp::Var("a", 0, 10);
  UOpPtr b = UOp::Var("a", 0, 10);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a + 1, b + 1);
  EXPECT_NE(a + 1, a + 2);
  EXPECT_NE(UOp::Var("a", 0, 11), a);
}

TEST(UOp, ConstsOfDifferentDTypeAreDifferent) {
  EXPECT_NE(UOp::Const(DType::Int32(), int64_t{1}), UOp::Const(DType::Int64(), int64_t{1}));
  EXPECT_NE(UOp::Const(DType::Float32(), 0.0), UOp::Const(DType::Float32(), -0.0));
  // NaN constants still hash-cons (bitwise equality).
  double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(UOp::Const(DType::Float32(), nan), UOp::Const(DType::Float32(), nan));
}

TEST(UOp, ConstsAreCastToTheirDType) {
  EXPECT_EQ(UOp::Const(DType::UInt8(), 300.0)->const_int(), 44);
  EXPECT_EQ(UOp::Const(DType::Float32(), int64_t{3})->const_float(), 3.0);
  EXPECT_EQ(UOp::Const(DType::Float32(), 0.1)->const_float(), static_cast<double>(0.1f));
  EXPECT_EQ(UOp::Const(DType::Bool(), int64_t{7})->const_int(), 1);
}

TEST(UOp, BoundsOfIndexMath) {
  UOpPtr i = UOp::Var("i", 0, 9);
  UOpPtr e = i * 4 + 3;
  EXPECT_EQ(e->vmin(), 3);
  EXPECT_EQ(e->vmax(), 39);
  EXPECT_EQ((i % 4)->vmin(), 0);
  EXPECT_EQ((i % 4)->vmax(), 3);
  EXPECT_EQ((i / 4)->vmax(), 2);
  EXPECT_EQ((i - 20)->vmin(), -20);
  UOpPtr j = UOp::Var("j", -5, 5);
  EXPECT_EQ((j * j)->vmin(), -25);
  EXPECT_EQ((j * j)->vmax(), 25);
  EXPECT_EQ((j % 3)->vmin(), -2);
  EXPECT_EQ((j / 2)->vmin(), -2);  // truncation toward zero
  EXPECT_EQ(Lt(i, 10)->vmin(), 1);
  EXPECT_EQ(Lt(i, 0)->vmax(), 0);
}

TEST(UOp, BoundsPastInt32AreExact) {
  UOpPtr i = UOp::Var("i", 0, 3'000'000'000LL);
  UOpPtr e = i * 4;
  EXPECT_EQ(e->vmax(), 12'000'000'000LL);
  UOpPtr big = UOp::Index(int64_t{1} << 40);
  EXPECT_EQ((i + big)->vmax(), 3'000'000'000LL + (int64_t{1} << 40));
}

TEST(UOp, BoundsSaturateOnOverflow) {
  UOpPtr i = UOp::Var("i", 0, std::numeric_limits<int64_t>::max() / 2);
  UOpPtr e = i * 4;
  EXPECT_EQ(e->vmin(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(e->vmax(), std::numeric_limits<int64_t>::max());
  UOpPtr x = UOp::Create(Op::kAdd, DType::Int32(),
                         {UOp::Const(DType::Int32(), int64_t{2'000'000'000}),
                          UOp::Const(DType::Int32(), int64_t{2'000'000'000})});
  EXPECT_EQ(x->vmin(), std::numeric_limits<int32_t>::min());  // may wrap: full range
}

TEST(UOp, Uint64BoundsPastInt64AreUnknownNotConstant) {
  UOpPtr big = UOp::Const(DType::UInt64(), static_cast<int64_t>(uint64_t{1} << 63));
  UOpPtr x = UOp::Create(Op::kAdd, DType::UInt64(), {big, UOp::Const(DType::UInt64(), int64_t{5})});
  EXPECT_NE(x->vmin(), x->vmax());
  EXPECT_NE(big->vmin(), big->vmax());
}

TEST(UOp, TensorShapesPropagate) {
  UOpPtr buf = UOp::Create(Op::kBuffer, DType::Float32(), {}, BufferArg{1, 12});
  ASSERT_NE(buf->shape(), nullptr);
  EXPECT_EQ(*buf->shape(), (Shape{12}));
  UOpPtr r = UOp::Create(Op::kReshape, DType::Float32(), {buf}, std::vector<int64_t>{3, 4});
  EXPECT_EQ(*r->shape(), (Shape{3, 4}));
  UOpPtr p = UOp::Create(Op::kPermute, DType::Float32(), {r}, std::vector<int64_t>{1, 0});
  EXPECT_EQ(*p->shape(), (Shape{4, 3}));
  UOpPtr pad = UOp::Create(Op::kPad, DType::Float32(), {p}, PairList{{1, 1}, {0, 2}});
  EXPECT_EQ(*pad->shape(), (Shape{6, 5}));
  UOpPtr red = UOp::Create(Op::kReduceAxis, DType::Float32(), {pad}, ReduceArg{Op::kAdd, {1}});
  EXPECT_EQ(*red->shape(), (Shape{6, 1}));
  UOpPtr e = UOp::Alu(Op::kExp2, {red});
  EXPECT_EQ(*e->shape(), (Shape{6, 1}));
  EXPECT_EQ(UOp::Var("i", 0, 1)->shape(), nullptr);
}

TEST(UOp, AluDTypes) {
  UOpPtr f = UOp::Const(DType::Float32(), 1.0);
  EXPECT_EQ(Lt(f, f)->dtype(), DType::Bool());
  EXPECT_EQ(Where(Lt(f, f), UOp::Index(1), UOp::Index(2))->dtype(), DType::Index());
  EXPECT_EQ((f / f)->op(), Op::kFdiv);
  EXPECT_EQ((UOp::Index(4) / UOp::Index(2))->op(), Op::kIdiv);
}

TEST(UOp, ToposortPutsSourcesFirstAndVisitsSharedNodesOnce) {
  UOpPtr i = UOp::Var("i", 0, 9);
  UOpPtr a = i + 1;
  UOpPtr root = a * a;
  std::vector<const UOp*> order = root->Toposort();
  ASSERT_EQ(order.size(), 4u);  // i, 1, i+1, (i+1)*(i+1)
  EXPECT_EQ(order.back(), root.get());
  EXPECT_EQ(order.front(), i.get());
}

TEST(UOp, PrintsReadably) {
  UOpPtr i = UOp::Var("i", 0, 9);
  std::string s = (i + 1)->ToString();
  EXPECT_NE(s.find("DEFINE_VAR index ('i', 0, 9)"), std::string::npos) << s;
  EXPECT_NE(s.find("ADD index <- %0, %1"), std::string::npos) << s;
}

TEST(UOp, DeepChainsDoNotOverflowTheStack) {
  UOpPtr x = UOp::Var("deep", 0, 1);
  for (int i = 0; i < 200000; ++i) x = x + 1;
  EXPECT_EQ(x->Toposort().size(), 200002u);
}

TEST(UOp, GarbageCollectionFreesUnreferencedNodes) {
  size_t before = UOp::InternedCount();
  {
    UOpPtr x = UOp::Var("gc_probe", 0, 100);
    for (int i = 0; i < 1000; ++i) x = x * 3 + 1;
  }
  UOpPtr kept = UOp::Var("gc_kept", 0, 5) + 7;
  UOp::CollectGarbage();
  EXPECT_LE(UOp::InternedCount(), before + 3);
  // The kept node is still usable and still interned.
  EXPECT_EQ(kept, UOp::Var("gc_kept", 0, 5) + 7);
  EXPECT_EQ(kept->vmax(), 12);
}

TEST(UOp, ConcurrentCreationInternsOnce) {
  constexpr int kThreads = 4;
  std::vector<std::vector<UOpPtr>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &made] {
      UOpPtr v = UOp::Var("conc", 0, 1000);
      for (int i = 0; i < 2000; ++i) made[t].push_back(v * i + i);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(made[t], made[0]);
}

}  // namespace
}  // namespace uop
