#include "runtime/tensor/reference_eval.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "gtest/gtest.h"
#include "runtime/uop/const_fold.h"

namespace uop {
namespace {

// A realized host buffer holding `values` as `dtype` (converted through
// Scalar::Float/Int, so test data is written exactly as the dtype stores it).
std::shared_ptr<Storage> MakeStorage(DType dtype, const std::vector<double>& values) {
  auto s = Storage::Create(dtype, static_cast<int64_t>(values.size()), "CPU");
  std::vector<uint8_t> bytes(values.size() * dtype.itemsize());
  for (size_t i = 0; i < values.size(); ++i) {
    uint8_t* p = &bytes[i * dtype.itemsize()];
    if (dtype == DType::Float32()) {
      float f = static_cast<float>(values[i]);
      std::memcpy(p, &f, 4);
    } else if (dtype == DType::Int32()) {
      int32_t v = static_cast<int32_t>(values[i]);
      std::memcpy(p, &v, 4);
    } else if (dtype == DType::UInt8()) {
      p[0] = static_cast<uint8_t>(values[i]);
    } else {
      ADD_FAILURE() << "test helper does not write " << dtype.ToString();
    }
  }
  s->SetHostBytes(std::move(bytes));
  return s;
}

UOpPtr BufferOf(const std::shared_ptr<Storage>& s) {
  UOpPtr device = UOp::Create(Op::kDevice, DType::Void(), {}, Arg(s->device()));
  return UOp::Create(Op::kBuffer, s->dtype(), {device}, BufferArg{s->id(), s->size()});
}

UOpPtr Mv(Op op, const UOpPtr& x, Arg arg) { return UOp::Create(op, x->dtype(), {x}, arg); }

// A tensor-level constant: CONST reshaped to all-ones and expanded to `shape`.
UOpPtr Full(DType dtype, int64_t v, const Shape& shape) {
  UOpPtr c = Mv(Op::kReshape, UOp::Const(dtype, v), Shape(shape.size(), 1));
  return Mv(Op::kExpand, c, shape);
}

std::vector<double> Doubles(const HostArray& a) {
  std::vector<double> out;
  for (int64_t i = 0; i < a.numel(); ++i) out.push_back(a.AsDouble(i));
  return out;
}

TEST(ReferenceEval, MovementOpsMapIndices) {
  auto s = MakeStorage(DType::Float32(), {0, 1, 2, 3, 4, 5});
  UOpPtr x = Mv(Op::kReshape, BufferOf(s), std::vector<int64_t>{2, 3});
  // Transpose: (3, 2) = [[0, 3], [1, 4], [2, 5]].
  UOpPtr t = Mv(Op::kPermute, x, std::vector<int64_t>{1, 0});
  auto r = ReferenceEvaluate(t);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->shape, (Shape{3, 2}));
  EXPECT_EQ(Doubles(*r), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  // Pad one zero column on the left, shrink to rows 1.., flip columns.
  UOpPtr p = Mv(Op::kPad, x, PairList{{0, 0}, {1, 0}});
  UOpPtr sh = Mv(Op::kShrink, p, PairList{{1, 2}, {0, 4}});
  UOpPtr f = Mv(Op::kFlip, sh, std::vector<int64_t>{0, 1});
  r = ReferenceEvaluate(f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Doubles(*r), (std::vector<double>{5, 4, 3, 0}));
  // Expand a (2, 1) column to (2, 3).
  UOpPtr col = Mv(Op::kShrink, x, PairList{{0, 2}, {1, 2}});
  r = ReferenceEvaluate(Mv(Op::kExpand, col, std::vector<int64_t>{2, 3}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Doubles(*r), (std::vector<double>{1, 1, 1, 4, 4, 4}));
}

TEST(ReferenceEval, ElementwiseRoundsToDType) {
  auto s = MakeStorage(DType::Float32(), {1, 3});
  UOpPtr x = BufferOf(s);
  UOpPtr third = UOp::Alu(
      Op::kFdiv, {Mv(Op::kShrink, x, PairList{{0, 1}}), Mv(Op::kShrink, x, PairList{{1, 2}})});
  auto r = ReferenceEvaluate(third);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->AsDouble(0), static_cast<double>(1.0f / 3.0f));
}

TEST(ReferenceEval, IntegersWrap) {
  auto s = MakeStorage(DType::UInt8(), {200, 100});
  UOpPtr x = BufferOf(s);
  auto r = ReferenceEvaluate(x + x);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->AsInt(0), 144);  // 400 mod 256
  EXPECT_EQ(r->AsInt(1), 200);
}

TEST(ReferenceEval, ReduceKeepsAxesAndUsesIdentity) {
  auto s = MakeStorage(DType::Int32(), {1, 2, 3, 4, 5, 6});
  UOpPtr x = Mv(Op::kReshape, BufferOf(s), std::vector<int64_t>{2, 3});
  UOpPtr sum = UOp::Create(Op::kReduceAxis, DType::Int32(), {x}, ReduceArg{Op::kAdd, {1}});
  auto r = ReferenceEvaluate(sum);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->shape, (Shape{2, 1}));
  EXPECT_EQ(Doubles(*r), (std::vector<double>{6, 15}));
  UOpPtr mx = UOp::Create(Op::kReduceAxis, DType::Int32(), {x}, ReduceArg{Op::kMax, {0}});
  r = ReferenceEvaluate(mx);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Doubles(*r), (std::vector<double>{4, 5, 6}));
  UOpPtr empty = Mv(Op::kShrink, x, PairList{{0, 2}, {0, 0}});
  UOpPtr prod = UOp::Create(Op::kReduceAxis, DType::Int32(), {empty}, ReduceArg{Op::kMul, {1}});
  r = ReferenceEvaluate(prod);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Doubles(*r), (std::vector<double>{1, 1}));
}

TEST(ReferenceEval, ThreefryMatchesConstFold) {
  UOpPtr x = UOp::Const(DType::UInt64(), int64_t{12345});
  UOpPtr k = UOp::Const(DType::UInt64(), int64_t{678});
  auto r = ReferenceEvaluate(UOp::Alu(Op::kThreefry, {x, k}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(static_cast<uint64_t>(r->AsInt(0)), Threefry2x32(12345, 678));
}

TEST(ReferenceEval, DivisionByZeroIsZero) {
  UOpPtr a = UOp::Const(DType::Int32(), int64_t{7});
  UOpPtr z = UOp::Const(DType::Int32(), int64_t{0});
  auto r = ReferenceEvaluate(UOp::Alu(Op::kIdiv, {a, z}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->AsInt(0), 0);
}

TEST(ReferenceEval, BitcastReinterpretsStoredBytes) {
  auto s = MakeStorage(DType::Float32(), {1.0});
  UOpPtr b = UOp::Create(Op::kBitcast, DType::Int32(), {BufferOf(s)});
  auto r = ReferenceEvaluate(b);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->AsInt(0), 0x3f800000);
}

TEST(ReferenceEval, AssignWritesThroughViewOnCommit) {
  auto s = MakeStorage(DType::Int32(), {1, 2, 3, 4});
  UOpPtr buf = BufferOf(s);
  // Write 10 * old into the second half, viewed as (2,) reversed.
  UOpPtr half = Mv(Op::kFlip, Mv(Op::kShrink, buf, PairList{{2, 4}}), std::vector<int64_t>{1});
  UOpPtr value = half * Full(DType::Int32(), 10, {2});
  UOpPtr assign = UOp::Create(Op::kAssign, DType::Int32(), {half, value}, Arg(int64_t{1}));
  // Without commit (ReferenceEvaluate) the storage is untouched.
  auto r = ReferenceEvaluate(assign);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Doubles(*r), (std::vector<double>{40, 30}));
  UOpPtr sink = UOp::Create(Op::kSink, DType::Void(), {assign});
  ReferenceRealizer realizer;
  ASSERT_TRUE(realizer.Realize(sink).ok());
  r = ReferenceEvaluate(buf);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Doubles(*r), (std::vector<double>{1, 2, 30, 40}));
}

TEST(ReferenceEval, UsersOfAssignSeeNewContentsOtherReadsSeeOld) {
  auto s = MakeStorage(DType::Int32(), {1, 2});
  UOpPtr buf = BufferOf(s);
  UOpPtr assign = UOp::Create(Op::kAssign, DType::Int32(),
                              {buf, buf + Full(DType::Int32(), 5, {2})}, Arg(int64_t{1}));
  // assign reads (6, 7); buf reads the old (1, 2).
  auto r = ReferenceEvaluate(assign * buf);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Doubles(*r), (std::vector<double>{6, 14}));
}

TEST(ReferenceEval, ErrorsNameTheNode) {
  auto unrealized = Storage::Create(DType::Float32(), 3, "CPU");
  auto r = ReferenceEvaluate(BufferOf(unrealized) + BufferOf(unrealized));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("not realized"), std::string::npos) << r.status();

  auto s = MakeStorage(DType::Float32(), {1, 2, 3});
  UOpPtr bad = Mv(Op::kReshape, BufferOf(s), std::vector<int64_t>{2, 2});
  r = ReferenceEvaluate(bad);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("RESHAPE"), std::string::npos) << r.status();

  UOpPtr f = UOp::Const(DType::Float32(), 1.0);
  r = ReferenceEvaluate(UOp::Create(Op::kXor, DType::Float32(), {f, f}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("XOR"), std::string::npos) << r.status();

  ReferenceRealizer realizer;
  EXPECT_EQ(realizer.Realize(f).code(), absl::StatusCode::kInvalidArgument);
  UOpPtr sink = UOp::Create(Op::kSink, DType::Void(), {f});
  EXPECT_EQ(realizer.Realize(sink).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReferenceEval, NothingIsWrittenWhenTheSinkFails) {
  auto s = MakeStorage(DType::Int32(), {1, 2});
  UOpPtr buf = BufferOf(s);
  auto unrealized = Storage::Create(DType::Int32(), 2, "CPU");
  UOpPtr ok = UOp::Create(Op::kAssign, DType::Int32(), {buf, buf + Full(DType::Int32(), 1, {2})},
                          Arg(int64_t{1}));
  UOpPtr bad = UOp::Create(
      Op::kAssign, DType::Int32(),
      {BufferOf(unrealized), BufferOf(unrealized) + Full(DType::Int32(), 1, {2})}, Arg(int64_t{2}));
  ReferenceRealizer realizer;
  EXPECT_FALSE(realizer.Realize(UOp::Create(Op::kSink, DType::Void(), {ok, bad})).ok());
  auto r = ReferenceEvaluate(buf);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Doubles(*r), (std::vector<double>{1, 2}));
}

}  // namespace
}  // namespace uop
