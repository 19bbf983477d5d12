// Malformed graphs give a Status naming the node, never a crash.
#include <string>

#include "gtest/gtest.h"
#include "runtime/schedule/schedule.h"
#include "runtime/schedule/test_graphs.h"

namespace uop {
namespace {

using namespace uop::testing;  // NOLINT: graph builders

absl::Status Error(const UOpPtr& out, const ScheduleOptions& options = {}) {
  return CreateSchedule(Sink({out}), options).status();
}

void ExpectError(const absl::Status& s, absl::StatusCode code, const std::string& part) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_NE(s.message().find(part), absl::string_view::npos) << s;
}

TEST(GraphErrors, NotASink) {
  ExpectError(CreateSchedule(Input({4})).status(), absl::StatusCode::kInvalidArgument,
              "expected a SINK");
  ExpectError(CreateSchedule(nullptr).status(), absl::StatusCode::kInvalidArgument, "null");
}

TEST(GraphErrors, ElementwiseShapeMismatchNamesTheNode) {
  UOpPtr bad = UOp::Alu(Op::kAdd, {Input({2, 3}), Input({3, 2})});
  ExpectError(Error(bad), absl::StatusCode::kInvalidArgument, "ADD float32");
  ExpectError(Error(bad), absl::StatusCode::kInvalidArgument, "(2, 3) and (3, 2)");
}

TEST(GraphErrors, BadMovementArguments) {
  UOpPtr x = Input({2, 3});
  ExpectError(Error(Reshape(x, {4})), absl::StatusCode::kInvalidArgument, "cannot reshape");
  ExpectError(Error(Reshape(x, {-1, -6})), absl::StatusCode::kInvalidArgument, "RESHAPE");
  ExpectError(Error(Expand(x, {4, 3})), absl::StatusCode::kInvalidArgument, "cannot expand");
  ExpectError(Error(Expand(x, {2, 3, 1})), absl::StatusCode::kInvalidArgument, "ranks differ");
  ExpectError(Error(Permute(x, {0, 0})), absl::StatusCode::kInvalidArgument, "permutation");
  ExpectError(Error(Pad(x, {{0, -1}, {0, 0}})), absl::StatusCode::kInvalidArgument, "PAD");
  ExpectError(Error(Pad(x, {{0, 1}})), absl::StatusCode::kInvalidArgument, "one pair per axis");
  ExpectError(Error(Shrink(x, {{0, 3}, {0, 3}})), absl::StatusCode::kInvalidArgument, "SHRINK");
  ExpectError(Error(Shrink(x, {{2, 1}, {0, 3}})), absl::StatusCode::kInvalidArgument, "bad pair");
  ExpectError(Error(Flip(x, {0, 2})), absl::StatusCode::kInvalidArgument, "0 or 1");
  ExpectError(Error(UOp::Create(Op::kReshape, DType::Float32(), {x}, Arg(int64_t{6}))),
              absl::StatusCode::kInvalidArgument, "not a shape");
}

TEST(GraphErrors, BadReduce) {
  UOpPtr x = Input({2, 3});
  ExpectError(Error(Sum(x, {2})), absl::StatusCode::kInvalidArgument, "bad reduce axes");
  ExpectError(Error(Sum(x, {1, 1})), absl::StatusCode::kInvalidArgument, "bad reduce axes");
  UOpPtr sub = UOp::Create(Op::kReduceAxis, DType::Float32(), {x}, Arg(ReduceArg{Op::kSub, {0}}));
  ExpectError(Error(sub), absl::StatusCode::kInvalidArgument, "ADD, MUL or MAX");
}

TEST(GraphErrors, Devices) {
  ScheduleOptions only_cpu;
  only_cpu.known_devices = {"CPU"};
  ExpectError(
      Error(Input({4}, DType::Float32(), "TPU") * Input({4}, DType::Float32(), "TPU"), only_cpu),
      absl::StatusCode::kInvalidArgument, "unknown device 'TPU'");
  ExpectError(Error(CopyTo(Input({4}), "TPU"), only_cpu), absl::StatusCode::kInvalidArgument,
              "unknown device");
  ExpectError(Error(Input({4}) + Input({4}, DType::Float32(), "GPU")),
              absl::StatusCode::kInvalidArgument, "sources on devices CPU and GPU");
  UOpPtr no_device = UOp::Create(Op::kBuffer, DType::Float32(),
                                 {UOp::Const(DType::Int32(), int64_t{1})}, Arg(BufferArg{5, 4}));
  ExpectError(Error(no_device * no_device), absl::StatusCode::kInvalidArgument,
              "expected a DEVICE");
  UOpPtr unnamed =
      UOp::Create(Op::kBuffer, DType::Float32(), {DeviceNode("")}, Arg(BufferArg{6, 4}));
  ExpectError(Error(unnamed * unnamed), absl::StatusCode::kInvalidArgument, "expected a DEVICE");
}

TEST(GraphErrors, BadBuffers) {
  UOpPtr negative_id =
      UOp::Create(Op::kBuffer, DType::Float32(), {DeviceNode()}, Arg(BufferArg{-1, 4}));
  ExpectError(Error(negative_id * negative_id), absl::StatusCode::kInvalidArgument,
              "buffer id -1 is negative");
  UOpPtr negative_size =
      UOp::Create(Op::kBuffer, DType::Float32(), {DeviceNode()}, Arg(BufferArg{3, -4}));
  ExpectError(Error(negative_size * negative_size), absl::StatusCode::kInvalidArgument,
              "size >= 0");
  UOpPtr void_buffer =
      UOp::Create(Op::kBuffer, DType::Void(), {DeviceNode()}, Arg(BufferArg{3, 4}));
  ExpectError(CreateSchedule(Sink({void_buffer})).status(), absl::StatusCode::kInvalidArgument,
              "bad buffer dtype");
}

TEST(GraphErrors, BadAssign) {
  UOpPtr b = Input({4});
  ExpectError(Error(Assign(Expand(Reshape(b, {1, 4}), {2, 4}), Input({2, 4}))),
              absl::StatusCode::kInvalidArgument, "target must be a BUFFER");
  ExpectError(Error(Assign(b, Input({4}, DType::Int32()))), absl::StatusCode::kInvalidArgument,
              "dtype");
  ExpectError(Error(Assign(b, Input({4}, DType::Float32(), "GPU"))),
              absl::StatusCode::kInvalidArgument, "value on GPU, target on CPU");
}

TEST(GraphErrors, UnsupportedOps) {
  UOpPtr var = UOp::Var("n", 1, 8);
  UOpPtr x = Input({4});
  UOpPtr bad = UOp::Create(Op::kAdd, DType::Float32(), {x, Expand(Reshape(var, {1}), {4})});
  ExpectError(Error(bad), absl::StatusCode::kUnimplemented, "symbolic");
  UOpPtr range = UOp::Create(Op::kRange, DType::Index(), {UOp::Index(4)}, Arg(int64_t{0}));
  ExpectError(CreateSchedule(Sink({range})).status(), absl::StatusCode::kUnimplemented, "RANGE");
}

TEST(GraphErrors, ShapelessValues) {
  UOpPtr c = UOp::Const(DType::Float32(), 1.0);
  ExpectError(CreateSchedule(Sink({c})).status(), absl::StatusCode::kInvalidArgument,
              "has no shape");
  ExpectError(CreateSchedule(Sink({c + c})).status(), absl::StatusCode::kInvalidArgument,
              "without a shape");
}

TEST(GraphErrors, WrongArity) {
  UOpPtr x = Input({4});
  UOpPtr bad = UOp::Create(Op::kAdd, DType::Float32(), {x});
  ExpectError(Error(bad), absl::StatusCode::kInvalidArgument, "expected 2 sources");
  UOpPtr copy = UOp::Create(Op::kCopy, DType::Float32(), {x});
  ExpectError(Error(copy), absl::StatusCode::kInvalidArgument, "expected 2 sources");
}

}  // namespace
}  // namespace uop
