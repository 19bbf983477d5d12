#include "runtime/uop/spec.h"

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

// The status is an InvalidArgument error whose message holds every part.
void ExpectError(const absl::Status& s, std::initializer_list<const char*> parts) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  for (const char* p : parts)
    EXPECT_NE(std::string(s.message()).find(p), std::string::npos)
        << "'" << p << "' not in: " << s.message();
}

const DType f32 = DType::Float32();
const DType i32 = DType::Int32();

// ---------------------------------------------------------------------------
// Tensor-level graph

UOpPtr Device() { return UOp::Create(Op::kDevice, DType::Void(), {}, Arg("CPU")); }
UOpPtr Buffer(int64_t id, int64_t size, DType d = f32) {
  return UOp::Create(Op::kBuffer, d, {Device()}, Arg(BufferArg{id, size}));
}
UOpPtr Mv(Op op, const UOpPtr& x, Arg arg) {
  return UOp::Create(op, x->dtype(), {x}, std::move(arg));
}
UOpPtr Reshape(const UOpPtr& x, std::vector<int64_t> s) { return Mv(Op::kReshape, x, Arg(s)); }
UOpPtr Sink(std::initializer_list<UOpPtr> srcs) {
  return UOp::Create(Op::kSink, DType::Void(), srcs);
}

// A (2, 3) float tensor.
UOpPtr T23(int64_t id = 1) { return Reshape(Buffer(id, 6), {2, 3}); }

TEST(VerifyTensorGraph, AcceptsAWellFormedGraph) {
  UOpPtr a = T23(1), b = T23(2);
  UOpPtr sum = a + b;
  UOpPtr p = Mv(Op::kPermute, sum, Arg(std::vector<int64_t>{1, 0}));        // (3, 2)
  UOpPtr padded = Mv(Op::kPad, p, Arg(PairList{{1, 0}, {0, 2}}));           // (4, 4)
  UOpPtr shrunk = Mv(Op::kShrink, padded, Arg(PairList{{0, 3}, {1, 4}}));   // (3, 3)
  UOpPtr flipped = Mv(Op::kFlip, shrunk, Arg(std::vector<int64_t>{0, 1}));  // (3, 3)
  UOpPtr red = UOp::Create(Op::kReduceAxis, f32, {flipped}, Arg(ReduceArg{Op::kMax, {1}}));
  UOpPtr one =
      Mv(Op::kExpand, Reshape(UOp::Const(f32, 1.0), {1, 1}), Arg(std::vector<int64_t>{3, 1}));
  UOpPtr cmp = Lt(red, one);
  UOpPtr w = Where(cmp, red, one);
  UOpPtr c = Cast(w, DType::Float16());
  UOpPtr copy = UOp::Create(Op::kCopy, c->dtype(), {c, Device()});
  UOpPtr contig = UOp::Create(Op::kContiguous, copy->dtype(), {copy});
  UOpPtr assign = UOp::Create(Op::kAssign, f32, {T23(3), a * b});
  EXPECT_TRUE(VerifyTensorGraph(Sink({contig, assign})).ok())
      << VerifyTensorGraph(Sink({contig, assign}));
}

TEST(VerifyTensorGraph, BufferNeedsBufferArgAndDevice) {
  ExpectError(VerifyTensorGraph(UOp::Create(Op::kBuffer, f32, {}, Arg(BufferArg{1, 4}))),
              {"BUFFER", "1 sources, got 0"});
  ExpectError(VerifyTensorGraph(
                  UOp::Create(Op::kBuffer, f32, {UOp::Const(f32, 1.0)}, Arg(BufferArg{1, 4}))),
              {"BUFFER", "src[0] a DEVICE"});
  ExpectError(VerifyTensorGraph(UOp::Create(Op::kBuffer, f32, {Device()}, Arg(int64_t{4}))),
              {"BUFFER", "BufferArg"});
  ExpectError(VerifyTensorGraph(UOp::Create(Op::kDevice, DType::Void(), {}, Arg(""))),
              {"DEVICE", "device name"});
}

TEST(VerifyTensorGraph, ReshapeKeepsElementCount) {
  EXPECT_TRUE(VerifyTensorGraph(Reshape(T23(), {3, 2})).ok());
  EXPECT_TRUE(VerifyTensorGraph(Reshape(UOp::Const(f32, 1.0), {1, 1})).ok());  // scalar: 1
  ExpectError(VerifyTensorGraph(Reshape(T23(), {2, 4})),
              {"RESHAPE float32 (2, 4)", "expected 6 elements", "(2, 3)", "got 8"});
  ExpectError(VerifyTensorGraph(Reshape(T23(), {-2, -3})), {"non-negative"});
}

TEST(VerifyTensorGraph, PermuteIsAPermutation) {
  EXPECT_TRUE(VerifyTensorGraph(Mv(Op::kPermute, T23(), Arg(std::vector<int64_t>{1, 0}))).ok());
  for (std::vector<int64_t> bad : {std::vector<int64_t>{0, 0}, {0, 2}, {0}, {1, 0, 2}})
    ExpectError(VerifyTensorGraph(Mv(Op::kPermute, T23(), Arg(bad))),
                {"PERMUTE", "a permutation of 0..1"});
}

TEST(VerifyTensorGraph, PadIsNonNegative) {
  EXPECT_TRUE(VerifyTensorGraph(Mv(Op::kPad, T23(), Arg(PairList{{0, 0}, {1, 1}}))).ok());
  ExpectError(VerifyTensorGraph(Mv(Op::kPad, T23(), Arg(PairList{{0, 0}, {-1, 1}}))),
              {"PAD", "non-negative padding", "axis 1"});
  ExpectError(VerifyTensorGraph(Mv(Op::kPad, T23(), Arg(PairList{{0, 0}}))),
              {"PAD", "one pair per axis"});
}

TEST(VerifyTensorGraph, ShrinkStaysWithinBounds) {
  EXPECT_TRUE(VerifyTensorGraph(Mv(Op::kShrink, T23(), Arg(PairList{{0, 2}, {1, 3}}))).ok());
  ExpectError(VerifyTensorGraph(Mv(Op::kShrink, T23(), Arg(PairList{{0, 2}, {1, 4}}))),
              {"SHRINK", "0 <= begin <= end <= 3 on axis 1", "got (1, 4)"});
  ExpectError(VerifyTensorGraph(Mv(Op::kShrink, T23(), Arg(PairList{{2, 1}, {0, 3}}))),
              {"SHRINK", "axis 0"});
}

TEST(VerifyTensorGraph, ExpandOnlyGrowsSizeOneAxes) {
  UOpPtr x = Reshape(Buffer(1, 3), {1, 3});
  EXPECT_TRUE(VerifyTensorGraph(Mv(Op::kExpand, x, Arg(std::vector<int64_t>{4, 3}))).ok());
  ExpectError(VerifyTensorGraph(Mv(Op::kExpand, x, Arg(std::vector<int64_t>{4, 6}))),
              {"EXPAND", "axis 1 to stay 3"});
  ExpectError(VerifyTensorGraph(Mv(Op::kExpand, x, Arg(std::vector<int64_t>{1, 1, 3}))),
              {"EXPAND", "rank 2"});
}

TEST(VerifyTensorGraph, FlipTakesOneFlagPerAxis) {
  ExpectError(VerifyTensorGraph(Mv(Op::kFlip, T23(), Arg(std::vector<int64_t>{0, 2}))),
              {"FLIP", "0/1 flag per axis"});
}

TEST(VerifyTensorGraph, ReduceAxisOpAndAxes) {
  auto reduce = [](Op op, std::vector<int64_t> axes) {
    return VerifyTensorGraph(
        UOp::Create(Op::kReduceAxis, f32, {T23()}, Arg(ReduceArg{op, std::move(axes)})));
  };
  EXPECT_TRUE(reduce(Op::kAdd, {0}).ok());
  EXPECT_TRUE(reduce(Op::kMul, {0, 1}).ok());
  ExpectError(reduce(Op::kSub, {0}), {"REDUCE_AXIS", "ADD, MUL or MAX", "got SUB"});
  ExpectError(reduce(Op::kAdd, {2}), {"REDUCE_AXIS", "[0, 2)", "got 2"});
  ExpectError(reduce(Op::kAdd, {1, 1}), {"each reduce axis once"});
  ExpectError(VerifyTensorGraph(UOp::Create(Op::kReduceAxis, f32, {T23()}, Arg(int64_t{0}))),
              {"ReduceArg"});
}

TEST(VerifyTensorGraph, ElementwiseSourcesShareShapeAndDType) {
  UOpPtr t32 = Mv(Op::kPermute, T23(2), Arg(std::vector<int64_t>{1, 0}));  // (3, 2)
  ExpectError(VerifyTensorGraph(T23(1) + t32),
              {"ADD", "sources of one shape", "(2, 3) and (3, 2)"});
  UOpPtr ints = Reshape(Buffer(3, 6, i32), {2, 3});
  ExpectError(VerifyTensorGraph(UOp::Create(Op::kAdd, f32, {T23(), ints})),
              {"ADD", "sources of dtype float32", "src[1]"});
  // A bare CONST has no shape: the Tensor API reshapes and expands it first.
  ExpectError(VerifyTensorGraph(T23() + UOp::Const(f32, 1.0)), {"sources of one shape"});
}

TEST(VerifyTensorGraph, ElementwiseDTypeRules) {
  UOpPtr x = T23();
  UOpPtr b = Lt(x, x);
  EXPECT_TRUE(VerifyTensorGraph(Where(b, x, x)).ok());
  ExpectError(VerifyTensorGraph(UOp::Create(Op::kWhere, f32, {x, x, x})),
              {"WHERE", "bool condition"});
  ExpectError(VerifyTensorGraph(UOp::Create(Op::kCmpLt, f32, {x, x})), {"CMPLT", "bool result"});
  UOpPtr ints = Reshape(Buffer(3, 6, i32), {2, 3});
  ExpectError(VerifyTensorGraph(UOp::Alu(Op::kExp2, {ints})), {"EXP2", "float dtype"});
  ExpectError(VerifyTensorGraph(UOp::Alu(Op::kIdiv, {x, x})), {"IDIV", "integer dtype"});
  EXPECT_TRUE(VerifyTensorGraph(UOp::Alu(Op::kMod, {ints, ints})).ok());
  EXPECT_TRUE(VerifyTensorGraph(UOp::Create(Op::kBitcast, i32, {x})).ok());
  ExpectError(VerifyTensorGraph(UOp::Create(Op::kBitcast, DType::Int64(), {x})),
              {"BITCAST", "same byte size"});
  ExpectError(VerifyTensorGraph(UOp::Create(Op::kAdd, f32, {x})), {"ADD", "2 sources, got 1"});
}

TEST(VerifyTensorGraph, RejectsKernelLevelOps) {
  UOpPtr r = UOp::Create(Op::kRange, DType::Index(), {UOp::Index(4)}, Arg(int64_t{0}));
  ExpectError(VerifyTensorGraph(r), {"RANGE", "not allowed"});
}

TEST(VerifyTensorGraph, AssignCopyAndBind) {
  UOpPtr x = T23(1);
  UOpPtr flat = Reshape(Buffer(2, 6), {6});
  ExpectError(VerifyTensorGraph(UOp::Create(Op::kAssign, f32, {x, flat})), {"ASSIGN", "one shape"});
  ExpectError(VerifyTensorGraph(UOp::Create(Op::kCopy, f32, {x, x})), {"COPY", "src[1] a DEVICE"});
  UOpPtr v = UOp::Var("n", 1, 8);
  EXPECT_TRUE(VerifyTensorGraph(UOp::Create(Op::kBind, v->dtype(), {v, UOp::Index(3)})).ok());
  ExpectError(VerifyTensorGraph(UOp::Create(Op::kBind, v->dtype(), {v, UOp::Index(9)})),
              {"BIND", "[1, 8]", "got 9"});
  ExpectError(
      VerifyTensorGraph(UOp::Create(Op::kDefineVar, DType::Index(), {}, Arg(VarArg{"m", 5, 1}))),
      {"DEFINE_VAR", "min <= max"});
}

// ---------------------------------------------------------------------------
// Kernel AST

// Stands in for a ShapeTracker: spec only needs the shape.
class FakeView final : public ArgObject {
 public:
  explicit FakeView(std::vector<int64_t> shape) : shape_(std::move(shape)) {}
  size_t Hash() const override { return shape_.size(); }
  bool Equals(const ArgObject& o) const override {
    auto* v = dynamic_cast<const FakeView*>(&o);
    return v && v->shape_ == shape_;
  }
  std::string ToString() const override { return "FakeView"; }
  const std::vector<int64_t>* Shape() const override { return &shape_; }

 private:
  std::vector<int64_t> shape_;
};

UOpPtr View(std::vector<int64_t> shape) {
  return UOp::Create(Op::kView, DType::Void(), {},
                     Arg(std::shared_ptr<const ArgObject>(std::make_shared<FakeView>(shape))));
}
UOpPtr Global(int64_t slot, DType elem = f32) {
  return UOp::Create(Op::kDefineGlobal, elem.Ptr(AddrSpace::kGlobal, 16), {}, Arg(slot));
}
UOpPtr AstLoad(int64_t slot, std::vector<int64_t> shape, DType d = f32) {
  return UOp::Create(Op::kLoad, d, {Global(slot, d), View(std::move(shape))});
}
UOpPtr AstStore(const UOpPtr& value, std::vector<int64_t> shape, DType d = f32) {
  return UOp::Create(Op::kStore, DType::Void(), {Global(0, d), View(std::move(shape)), value});
}

TEST(VerifyKernelAst, AcceptsElementwiseAndReduceKernels) {
  UOpPtr sum = AstLoad(1, {4, 4}) + AstLoad(2, {4, 4});
  EXPECT_TRUE(VerifyKernelAst(Sink({AstStore(sum, {4, 4})})).ok());
  UOpPtr red = UOp::Create(Op::kReduceAxis, f32, {AstLoad(1, {4, 4}) * UOp::Const(f32, 2.0)},
                           Arg(ReduceArg{Op::kAdd, {1}}));
  UOpPtr masked = UOp::Create(Op::kConst, f32, {View({4, 1})}, Arg(1.0));  // padding mask
  EXPECT_TRUE(VerifyKernelAst(Sink({AstStore(red + masked, {4, 1})})).ok())
      << VerifyKernelAst(Sink({AstStore(red + masked, {4, 1})}));
}

TEST(VerifyKernelAst, StoreSources) {
  UOpPtr v = AstLoad(1, {4});
  ExpectError(VerifyKernelAst(Sink({UOp::Create(Op::kStore, DType::Void(), {Global(0), v})})),
              {"STORE", "3 sources, got 2"});
  ExpectError(VerifyKernelAst(Sink(
                  {UOp::Create(Op::kStore, DType::Void(), {UOp::Const(f32, 0.0), View({4}), v})})),
              {"STORE", "src[0] a DEFINE_GLOBAL"});
  ExpectError(
      VerifyKernelAst(Sink({UOp::Create(Op::kStore, DType::Void(), {Global(0), Global(1), v})})),
      {"STORE", "src[1] a VIEW"});
  ExpectError(VerifyKernelAst(Sink({AstStore(Cast(v, i32), {4})})),
              {"STORE", "a value of dtype float32", "int32"});
}

TEST(VerifyKernelAst, LoadAndDefineGlobal) {
  UOpPtr bad_load = UOp::Create(Op::kLoad, i32, {Global(1), View({4})});
  ExpectError(VerifyKernelAst(Sink({AstStore(Cast(bad_load, f32), {4})})),
              {"LOAD int32", "dtype float32"});
  UOpPtr not_ptr = UOp::Create(Op::kDefineGlobal, f32, {}, Arg(int64_t{1}));
  ExpectError(
      VerifyKernelAst(Sink({AstStore(UOp::Create(Op::kLoad, f32, {not_ptr, View({4})}), {4})})),
      {"DEFINE_GLOBAL", "global pointer"});
  ExpectError(VerifyKernelAst(Sink({AstStore(AstLoad(-1, {4}), {4})})), {"slot number >= 0"});
  // Two different DEFINE_GLOBALs for slot 1.
  UOpPtr twice = AstLoad(1, {4}) + Cast(AstLoad(1, {4}, i32), f32);
  ExpectError(VerifyKernelAst(Sink({AstStore(twice, {4})})), {"one DEFINE_GLOBAL per slot"});
}

TEST(VerifyKernelAst, ViewsShareOneRank) {
  UOpPtr sum = AstLoad(1, {4, 4}) + AstLoad(2, {16});
  ExpectError(VerifyKernelAst(Sink({AstStore(sum, {4, 4})})), {"VIEW", "rank 2"});
}

TEST(VerifyKernelAst, ReduceAxesWithinTheViewsRank) {
  auto red = [](Op op, std::vector<int64_t> axes) {
    UOpPtr r = UOp::Create(Op::kReduceAxis, f32, {AstLoad(1, {4, 4})}, Arg(ReduceArg{op, axes}));
    return VerifyKernelAst(Sink({AstStore(r, {4, 1})}));
  };
  EXPECT_TRUE(red(Op::kMax, {1}).ok());
  ExpectError(red(Op::kAdd, {2}), {"REDUCE_AXIS", "[0, 2)"});
  ExpectError(red(Op::kOr, {1}), {"REDUCE_AXIS", "got OR"});
}

TEST(VerifyKernelAst, SinkOfStoresOnly) {
  ExpectError(VerifyKernelAst(Sink({AstLoad(1, {4})})), {"SINK", "STORE sources"});
  ExpectError(VerifyKernelAst(AstStore(AstLoad(1, {4}), {4})), {"expected a SINK"});
  UOpPtr r = UOp::Create(Op::kRange, DType::Index(), {UOp::Index(4)}, Arg(int64_t{0}));
  ExpectError(VerifyKernelAst(Sink({AstStore(Cast(r, f32), {4})})), {"RANGE", "not allowed"});
}

// ---------------------------------------------------------------------------
// Lowered and linear kernels

UOpPtr Range(int64_t end, int64_t id) {
  return UOp::Create(Op::kRange, DType::Index(), {UOp::Index(end)}, Arg(id));
}
UOpPtr Index(const UOpPtr& buf, const UOpPtr& idx) {
  return UOp::Create(Op::kIndex, buf->dtype(), {buf, idx});
}
UOpPtr Load(DType d, const UOpPtr& index, std::initializer_list<UOpPtr> more = {}) {
  UOpList srcs = {index};
  for (const UOpPtr& m : more) srcs.push_back(m);
  return UOp::Create(Op::kLoad, d, srcs);
}
UOpPtr Store(const UOpPtr& index, const UOpPtr& v, std::initializer_list<UOpPtr> deps = {}) {
  UOpList srcs = {index, v};
  for (const UOpPtr& d : deps) srcs.push_back(d);
  return UOp::Create(Op::kStore, DType::Void(), srcs);
}

// out[i] = a[i] + b[i]
UOpPtr AddKernel() {
  UOpPtr i = Range(16, 0);
  UOpPtr sum = Load(f32, Index(Global(1), i)) + Load(f32, Index(Global(2), i));
  return Sink({Store(Index(Global(0), i), sum)});
}

// out[r] = sum_c in[r*4 + c] with an accumulator register.
UOpPtr RowSumKernel() {
  UOpPtr r = Range(4, 0), c = Range(4, 1);
  UOpPtr reg = UOp::Create(Op::kDefineReg, f32.Ptr(AddrSpace::kReg, 1), {}, Arg(int64_t{0}));
  UOpPtr acc_ptr = Index(reg, UOp::Index(0));
  UOpPtr init = Store(acc_ptr, UOp::Const(f32, 0.0), {r});
  UOpPtr acc = Load(f32, acc_ptr, {init, c});
  UOpPtr update = Store(acc_ptr, acc + Load(f32, Index(Global(1), r * 4 + c)));
  UOpPtr end = UOp::Create(Op::kEndRange, DType::Void(), {c, update});
  return Sink({Store(Index(Global(0), r), Load(f32, acc_ptr, {end}))});
}

TEST(VerifyLoweredKernel, AcceptsLoopsAccumulatorsGatesAndVectors) {
  EXPECT_TRUE(VerifyLoweredKernel(AddKernel()).ok()) << VerifyLoweredKernel(AddKernel());
  EXPECT_TRUE(VerifyLoweredKernel(RowSumKernel()).ok()) << VerifyLoweredKernel(RowSumKernel());
  UOpPtr i = Range(16, 0);
  UOpPtr gated = UOp::Create(Op::kIndex, Global(1)->dtype(), {Global(1), i, Lt(i, 10)});
  UOpPtr x = Load(f32, gated, {UOp::Const(f32, -1.0)});
  EXPECT_TRUE(VerifyLoweredKernel(Sink({Store(Index(Global(0), i), x)})).ok());
  DType v4 = f32.Vec(4);
  UOpPtr core = UOp::Create(Op::kSpecial, DType::Index(), {UOp::Index(2)}, Arg("core_id"));
  UOpPtr vx = Load(v4, Index(Global(1), core * 4));
  UOpPtr lane = UOp::Create(Op::kGep, f32, {vx}, Arg(std::vector<int64_t>{3}));
  UOpPtr vec = UOp::Create(Op::kVectorize, v4, {lane, lane, lane, lane});
  EXPECT_TRUE(VerifyLoweredKernel(
                  Sink({Store(Index(Global(0), core * 4), Max(vx, UOp::Const(v4, 0.0)) + vec)}))
                  .ok());
  // A lane-index vector (VCONST) added to a splat of the base index.
  DType i4 = DType::Index().Vec(4);
  UOpPtr iota = UOp::Create(Op::kVConst, i4, {}, Arg(std::vector<int64_t>{0, 1, 2, 3}));
  UOpPtr idx = UOp::Create(Op::kVectorize, i4, {core, core, core, core}) + iota;
  UOpPtr lane0 = UOp::Create(Op::kGep, DType::Index(), {idx}, Arg(std::vector<int64_t>{0}));
  EXPECT_TRUE(VerifyLoweredKernel(Sink({Store(Index(Global(0), lane0), lane)})).ok());
  UOpPtr short_iota = UOp::Create(Op::kVConst, i4, {}, Arg(std::vector<int64_t>{0, 1}));
  ExpectError(VerifyLoweredKernel(
                  Sink({Store(Index(Global(0), UOp::Create(Op::kGep, DType::Index(), {short_iota},
                                                           Arg(std::vector<int64_t>{0}))),
                              lane)})),
              {"VCONST", "one int64 per lane"});
}

TEST(VerifyLoweredKernel, IndexSources) {
  UOpPtr i = Range(16, 0);
  auto store_at = [&](const UOpPtr& index) {
    return VerifyLoweredKernel(Sink({Store(index, UOp::Const(f32, 1.0))}));
  };
  ExpectError(store_at(UOp::Create(Op::kIndex, f32, {UOp::Const(f32, 0.0), i})),
              {"INDEX", "src[0] a pointer"});
  ExpectError(store_at(UOp::Create(Op::kIndex, Global(0)->dtype(), {Global(0), Cast(i, f32)})),
              {"INDEX", "integer index"});
  ExpectError(store_at(UOp::Create(Op::kIndex, Global(0)->dtype(), {Global(0), i, i})),
              {"INDEX", "bool valid"});
  // A vector index needs a valid of its width; a scalar one may have a lane mask.
  UOpPtr b4 = UOp::Const(DType::Bool().Vec(4), int64_t{1});
  UOpPtr i2 = UOp::Create(Op::kVectorize, DType::Index().Vec(2), {i, i + 1});
  ExpectError(store_at(UOp::Create(Op::kIndex, Global(0)->dtype(), {Global(0), i2, b4})),
              {"INDEX", "of the index's width", "boolx4"});
  EXPECT_TRUE(VerifyLoweredKernel(
                  Sink({Store(UOp::Create(Op::kIndex, Global(0)->dtype(), {Global(0), i, b4}),
                              UOp::Const(f32.Vec(4), 1.0))}))
                  .ok());
  ExpectError(store_at(UOp::Create(Op::kIndex, f32, {Global(0), i})), {"INDEX", "dtype float32*"});
}

TEST(VerifyLoweredKernel, LoadAndStoreDTypes) {
  UOpPtr i = Range(16, 0);
  UOpPtr gated = UOp::Create(Op::kIndex, Global(1)->dtype(), {Global(1), i, Lt(i, 10)});
  ExpectError(VerifyLoweredKernel(Sink({Store(Index(Global(0), i), Load(f32, gated))})),
              {"LOAD", "gated load's alt value"});
  ExpectError(
      VerifyLoweredKernel(Sink({Store(Index(Global(0), i), Load(i32, Index(Global(1), i)))})),
      {"LOAD int32", "float32 elements"});
  ExpectError(VerifyLoweredKernel(Sink({Store(Index(Global(0), i), UOp::Const(i32, int64_t{1}))})),
              {"STORE", "float32 elements", "int32"});
  ExpectError(VerifyLoweredKernel(Sink({UOp::Create(Op::kStore, DType::Void(), {Global(0), i})})),
              {"STORE", "src[0] an INDEX"});
}

TEST(VerifyLoweredKernel, LoopsAndAluDTypes) {
  UOpPtr bad_range =
      UOp::Create(Op::kRange, DType::Index(), {UOp::Const(f32, 4.0)}, Arg(int64_t{0}));
  ExpectError(VerifyLoweredKernel(Sink({Store(Index(Global(0), bad_range), UOp::Const(f32, 1.0))})),
              {"RANGE", "integer end"});
  UOpPtr i = Range(16, 0);
  UOpPtr bad_end = UOp::Create(Op::kEndRange, DType::Void(), {i + 1});
  ExpectError(VerifyLoweredKernel(Sink({bad_end})), {"ENDRANGE", "src[0] a RANGE"});
  UOpPtr mixed = UOp::Create(Op::kAdd, f32, {Load(f32, Index(Global(1), i)), Cast(i, i32)});
  ExpectError(VerifyLoweredKernel(Sink({Store(Index(Global(0), i), mixed)})),
              {"ADD float32", "sources of dtype float32", "src[1] CAST int32"});
  UOpPtr v4 = UOp::Const(f32.Vec(4), 0.0);
  ExpectError(
      VerifyLoweredKernel(Sink({Store(
          Index(Global(0), i), UOp::Create(Op::kGep, f32, {v4}, Arg(std::vector<int64_t>{4})))})),
      {"GEP", "lanes in [0, 4)"});
  ExpectError(VerifyLoweredKernel(Sink(
                  {Store(Index(Global(0), i), UOp::Create(Op::kVectorize, f32.Vec(3), {i, i}))})),
              {"VECTORIZE", "dtype indexx2"});
}

// The program a linearizer produces for AddKernel, in order.
std::vector<UOpPtr> LinearAdd() {
  UOpPtr g0 = Global(0), g1 = Global(1), g2 = Global(2), end = UOp::Index(16);
  UOpPtr i = Range(16, 0);
  UOpPtr a = Load(f32, Index(g1, i)), b = Load(f32, Index(g2, i));
  UOpPtr st = Store(Index(g0, i), a + b);
  UOpPtr close = UOp::Create(Op::kEndRange, DType::Void(), {i, st});
  return {g0, g1, g2, end, i, a->src(0), a, b->src(0), b, a + b, st->src(0), st, close, Sink({st})};
}

TEST(VerifyLinearKernel, AcceptsAnOrderedProgram) {
  std::vector<UOpPtr> p = LinearAdd();
  EXPECT_TRUE(VerifyLinearKernel(p).ok()) << VerifyLinearKernel(p);
}

TEST(VerifyLinearKernel, SourcesComeFirst) {
  std::vector<UOpPtr> p = LinearAdd();
  std::swap(p[5], p[6]);  // LOAD before its INDEX
  ExpectError(VerifyLinearKernel(p), {"LOAD float32", "src[0] INDEX", "to come before its user"});
}

TEST(VerifyLinearKernel, RangesNestAndClose) {
  std::vector<UOpPtr> p = LinearAdd();
  p.erase(p.begin() + 12);  // no ENDRANGE
  ExpectError(VerifyLinearKernel(p), {"RANGE index 0", "ENDRANGE closing it"});
  UOpPtr outer = Range(4, 0), inner = Range(4, 1);
  UOpPtr four = UOp::Index(4);
  std::vector<UOpPtr> crossed = {four, outer, inner,
                                 UOp::Create(Op::kEndRange, DType::Void(), {outer}),
                                 UOp::Create(Op::kEndRange, DType::Void(), {inner})};
  ExpectError(VerifyLinearKernel(crossed), {"ENDRANGE", "innermost open RANGE"});
}

TEST(VerifyLinearKernel, SinkIsLastAndOpsAppearOnce) {
  std::vector<UOpPtr> p = LinearAdd();
  std::swap(p[12], p[13]);
  ExpectError(VerifyLinearKernel(p), {"SINK", "to be last"});
  std::vector<UOpPtr> twice = LinearAdd();
  twice.insert(twice.begin() + 1, twice[0]);
  ExpectError(VerifyLinearKernel(twice), {"DEFINE_GLOBAL", "each op once"});
}

}  // namespace
}  // namespace uop
