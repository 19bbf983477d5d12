#include "runtime/codegen/linearize.h"

#include <algorithm>

#include "gtest/gtest.h"
#include "runtime/codegen/test_kernels.h"

namespace uop {
namespace {

int PositionOf(const std::vector<UOpPtr>& prog, const std::function<bool(const UOp&)>& pred,
               int nth = 0) {
  for (size_t i = 0; i < prog.size(); ++i)
    if (pred(*prog[i]) && nth-- == 0) return static_cast<int>(i);
  return -1;
}

bool IsOp(const UOp& u, Op op) { return u.op() == op; }

TEST(Linearize, SingleLoopOrder) {
  absl::StatusOr<std::vector<UOpPtr>> prog = Linearize(testing::ElementwiseAdd(16));
  ASSERT_TRUE(prog.ok()) << prog.status();
  int range = PositionOf(*prog, [](const UOp& u) { return IsOp(u, Op::kRange); });
  int store = PositionOf(*prog, [](const UOp& u) { return IsOp(u, Op::kStore); });
  int end = PositionOf(*prog, [](const UOp& u) { return IsOp(u, Op::kEndRange); });
  int load = PositionOf(*prog, [](const UOp& u) { return IsOp(u, Op::kLoad); });
  EXPECT_LT(range, load);
  EXPECT_LT(load, store);
  EXPECT_LT(store, end);
  EXPECT_EQ(prog->back()->op(), Op::kSink);
  // Definitions sit before any loop.
  EXPECT_LT(PositionOf(
                *prog, [](const UOp& u) { return IsOp(u, Op::kDefineGlobal); }, 2),
            range);
}

TEST(Linearize, AccumulatorAroundReduceLoop) {
  absl::StatusOr<std::vector<UOpPtr>> prog = Linearize(testing::RowSum(4, 8));
  ASSERT_TRUE(prog.ok()) << prog.status();
  auto range = [&](int64_t id) {
    return PositionOf(
        *prog, [id](const UOp& u) { return u.op() == Op::kRange && u.arg().get<int64_t>() == id; });
  };
  auto end = [&](int64_t id) {
    return PositionOf(*prog, [id](const UOp& u) {
      return u.op() == Op::kEndRange && u.src(0)->arg().get<int64_t>() == id;
    });
  };
  int init =
      PositionOf(*prog, [](const UOp& u) { return u.op() == Op::kStore && u.num_srcs() == 3; });
  int update = PositionOf(*prog, [](const UOp& u) {
    return u.op() == Op::kStore && u.num_srcs() == 2 && u.src(1)->op() == Op::kAdd;
  });
  int total = PositionOf(*prog, [](const UOp& u) {
    return u.op() == Op::kLoad && u.num_srcs() == 2 && u.src(1)->op() == Op::kEndRange;
  });
  int out_store = PositionOf(
      *prog, [](const UOp& u) { return u.op() == Op::kStore && u.src(1)->op() == Op::kLoad; });
  ASSERT_GE(init, 0);
  EXPECT_LT(range(0), init);
  EXPECT_LT(init, range(1));
  EXPECT_LT(range(1), update);
  EXPECT_LT(update, end(1));
  EXPECT_LT(end(1), total);
  EXPECT_LT(total, out_store);
  EXPECT_LT(out_store, end(0));
  // Each loop is closed exactly once.
  EXPECT_EQ(std::count_if(prog->begin(), prog->end(),
                          [](const UOpPtr& u) { return u->op() == Op::kEndRange; }),
            2);
}

TEST(Linearize, RejectsDuplicateLoopIds) {
  DType f = DType::Float32();
  UOpPtr buf = UOp::Create(Op::kDefineGlobal, f.Ptr(), {}, Arg(int64_t{0}));
  UOpPtr r1 = UOp::Create(Op::kRange, DType::Index(), {UOp::Index(4)}, Arg(int64_t{0}));
  UOpPtr r2 = UOp::Create(Op::kRange, DType::Index(), {UOp::Index(8)}, Arg(int64_t{0}));
  UOpPtr idx = UOp::Create(Op::kIndex, buf->dtype(), {buf, r1 + r2});
  UOpPtr st = UOp::Create(Op::kStore, DType::Void(), {idx, UOp::Const(f, 1.0)});
  absl::StatusOr<std::vector<UOpPtr>> prog = Linearize(UOp::Create(Op::kSink, DType::Void(), {st}));
  ASSERT_FALSE(prog.ok());
  EXPECT_NE(prog.status().message().find("loop id"), std::string::npos);
}

}  // namespace
}  // namespace uop
