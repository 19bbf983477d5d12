#include <cmath>
#include <limits>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Tensor F(std::vector<float> v, std::optional<Shape> s = std::nullopt) {
  return s ? Tensor::FromVector(v, *s) : Tensor::FromVector(v);
}
Tensor I(std::vector<int32_t> v, std::optional<Shape> s = std::nullopt) {
  return s ? Tensor::FromVector(v, *s) : Tensor::FromVector(v);
}

TEST(TensorElementwise, BroadcastsLikeNumpy) {
  Tensor a = F({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  Tensor row = F({10, 20, 30});
  Tensor col = F({100, 200}, Shape{2, 1});
  EXPECT_EQ(Values(a + row), (std::vector<double>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(Values(a + col), (std::vector<double>{101, 102, 103, 204, 205, 206}));
  Tensor outer = col.Mul(row);  // (2, 1) * (3,) -> (2, 3)
  EXPECT_EQ(outer.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values(outer), (std::vector<double>{1000, 2000, 3000, 2000, 4000, 6000}));
  EXPECT_EQ(Values(a - 1), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(Values(10 - row), (std::vector<double>{0, -10, -20}));
  EXPECT_EQ(Values(-row), (std::vector<double>{-10, -20, -30}));
}

TEST(TensorElementwise, BroadcastErrorNamesOpAndShapes) {
  Tensor t = F({1, 2, 3, 4, 5, 6}, Shape{2, 3}).Add(F({1, 2, 3, 4}));
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf(t), "Add: cannot broadcast shapes (2, 3) and (4,)");
  // Errors propagate unchanged through later ops.
  Tensor chain = t.Relu().Sum({0}).Mul(2);
  EXPECT_EQ(chain.status(), t.status());
  EXPECT_EQ(chain.ToVector<float>().status(), t.status());
  EXPECT_EQ(Tensor(chain).Realize(), t.status());
  EXPECT_EQ(ErrorOf(F({1}).Add(F({1}).To("CUDA"))),
            "Add: tensors are on different devices CPU and CUDA");
}

TEST(TensorElementwise, PromotesDTypes) {
  Tensor i8 = Tensor::FromVector<int8_t>({100});
  Tensor u8 = Tensor::FromVector<uint8_t>({200});
  EXPECT_EQ((i8 + u8).dtype(), DType::Int16());
  EXPECT_EQ(Values(i8 + u8), (std::vector<double>{300}));
  EXPECT_EQ((I({1}) + F({1})).dtype(), DType::Float32());
  EXPECT_EQ((F({1}) + Tensor::FromVector<double>({1})).dtype(), DType::Float64());
  // Numbers adopt the tensor's dtype like Python scalars.
  EXPECT_EQ((u8 + 100).dtype(), DType::UInt8());
  EXPECT_EQ(Values(u8 + 100), (std::vector<double>{44}));  // wraps in uint8
  EXPECT_EQ((I({1}) + 2.5).dtype(), DType::Float32());
  EXPECT_EQ(Values(I({1}) + 2.5), (std::vector<double>{3.5}));
  EXPECT_EQ((Tensor::FromVector<bool>({true}) + 1).dtype(), DType::Int32());
  Tensor h = F({1}).Cast(DType::Float16());
  EXPECT_EQ((h * 0.1).dtype(), DType::Float16());
  EXPECT_EQ(Values(h * 0.1), (std::vector<double>{HalfToFloat(FloatToHalf(0.1f))}));
}

TEST(TensorElementwise, DivisionFamilies) {
  Tensor a = I({7, -7, 7, -7});
  Tensor b = I({2, 2, -2, -2});
  Tensor div = a / b;
  EXPECT_EQ(div.dtype(), DType::Float32());
  EXPECT_EQ(Values(div), (std::vector<double>{3.5, -3.5, -3.5, 3.5}));
  EXPECT_EQ(Values(a.IntDiv(b)), (std::vector<double>{3, -3, -3, 3}));    // truncates
  EXPECT_EQ(Values(a.FloorDiv(b)), (std::vector<double>{3, -4, -4, 3}));  // floors
  EXPECT_EQ(Values(a.Mod(b)), (std::vector<double>{1, 1, -1, -1}));       // divisor's sign
  EXPECT_EQ(Values(a.Fmod(b)), (std::vector<double>{1, -1, 1, -1}));      // dividend's sign
  Tensor fa = F({7.5, -7.5}), fb = F({2, 2});
  EXPECT_EQ(Values(fa.FloorDiv(fb)), (std::vector<double>{3, -4}));
  EXPECT_EQ(Values(fa.Mod(fb)), (std::vector<double>{1.5, 0.5}));
  EXPECT_EQ(Values(fa.Fmod(fb)), (std::vector<double>{1.5, -1.5}));
  EXPECT_EQ(Values(a.Mod(3)), (std::vector<double>{1, 2, 1, 2}));
  EXPECT_EQ(Values(1 / F({4})), (std::vector<double>{0.25}));
  EXPECT_EQ(ErrorOf(F({1}).IntDiv(F({1}))),
            "IntDiv: needs integer dtypes, got float32 and float32");
}

TEST(TensorElementwise, IntegerPowIsExact) {
  Tensor three = Tensor::FromVector<int64_t>({3, -3});
  EXPECT_EQ(*three.Pow(39).ToVector<int64_t>(),
            (std::vector<int64_t>{4052555153018976267LL, -4052555153018976267LL}));
  // Wraps like int32 multiplication: 7^13 mod 2^32 as a signed value.
  int32_t wrapped = 1;
  for (int k = 0; k < 13; ++k) wrapped = static_cast<int32_t>(static_cast<uint32_t>(wrapped) * 7u);
  EXPECT_EQ(*I({7}).Pow(13).ToVector<int32_t>(), (std::vector<int32_t>{wrapped}));
  EXPECT_EQ(*I({5}).Pow(0).ToVector<int32_t>(), (std::vector<int32_t>{1}));
  // No EXP2/LOG2 in the integer graph: only multiplications.
  for (const UOp* u : three.Pow(39).uop()->Toposort())
    EXPECT_TRUE(u->op() != Op::kExp2 && u->op() != Op::kLog2 && u->op() != Op::kPow);
  EXPECT_EQ(ErrorOf(I({2}).Pow(-1)), "Pow: integer int32 base with negative exponent -1");
}

TEST(TensorElementwise, IntegerPowByTensor) {
  Tensor base = I({2, 3, -2, 1, -1, -1, 5, 0});
  Tensor exp = I({10, 5, 3, -4, -3, -2, -1, 0});
  EXPECT_EQ(*base.Pow(exp).ToVector<int32_t>(),
            (std::vector<int32_t>{1024, 243, -8, 1, -1, 1, 0, 1}));
}

TEST(TensorElementwise, FloatPow) {
  Tensor x = F({2, -2, -2, -8, 0, 0, 0, 4, kNaN});
  Tensor y = F({0.5, 3, 2, 1.0 / 3, 0, 2, -1, -0.5, 0});
  EXPECT_TRUE(
      AllClose(Values(x.Pow(y)), {std::sqrt(2.0), -8, 4, kNaN, 1, 0, kInf, 0.5, 1}, 1e-6, 1e-6));
  EXPECT_TRUE(AllClose(Values(F({-2, 3}).Pow(3)), {-8, 27}));
  EXPECT_TRUE(AllClose(Values(F({-2, 4}).Pow(-2)), {0.25, 0.0625}));
  EXPECT_TRUE(AllClose(Values(F({2, 9}).Pow(0.5)), {std::sqrt(2.0), 3}, 1e-6, 1e-6));
  EXPECT_EQ(I({2}).Pow(0.5).dtype(), DType::Float32());
}

TEST(TensorElementwise, ZeroTimesInfIsNaN) {
  Tensor inf = F({static_cast<float>(kInf), 1});
  std::vector<double> v = Values(inf * 0);
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], 0);
  EXPECT_TRUE(std::isnan(Values(inf.Mul(F({0, 0})))[0]));
}

TEST(TensorElementwise, MaximumMinimumClip) {
  Tensor a = F({1, 5, -3, static_cast<float>(kNaN)});
  Tensor b = F({2, 4, -3, 0});
  EXPECT_TRUE(AllClose(Values(a.Maximum(b)), {2, 5, -3, kNaN}));
  EXPECT_TRUE(AllClose(Values(a.Minimum(b)), {1, 4, -3, kNaN}));
  Tensor ints = Tensor::FromVector<int32_t>(
      {std::numeric_limits<int32_t>::min(), 3, std::numeric_limits<int32_t>::max()});
  EXPECT_EQ(*ints.Minimum(0).ToVector<int32_t>(),
            (std::vector<int32_t>{std::numeric_limits<int32_t>::min(), 0, 0}));
  Tensor u = Tensor::FromVector<uint8_t>({0, 200, 255});
  EXPECT_EQ(Values(u.Minimum(100)), (std::vector<double>{0, 100, 100}));
  EXPECT_EQ(Values(u.Maximum(100)), (std::vector<double>{100, 200, 255}));
  EXPECT_EQ(Values(F({-2, 0.5, 9}).Clip(0, 1)), (std::vector<double>{0, 0.5, 1}));
  EXPECT_EQ(Values(F({-2, 9}).Clip(std::nullopt, 1)), (std::vector<double>{-2, 1}));
}

TEST(TensorElementwise, WhereBroadcastsAndPromotes) {
  Tensor c = Tensor::FromVector<bool>({true, false});
  Tensor r = c.Where(F({1, 2}), 0);
  EXPECT_EQ(Values(r), (std::vector<double>{1, 0}));
  Tensor col = Tensor::FromVector<bool>({true, false}, Shape{2, 1});
  Tensor m = col.Where(I({1, 2, 3}), F({0.5}));
  EXPECT_EQ(m.shape(), (Shape{2, 3}));
  EXPECT_EQ(m.dtype(), DType::Float32());
  EXPECT_EQ(Values(m), (std::vector<double>{1, 2, 3, 0.5, 0.5, 0.5}));
  // A non-bool condition is x != 0.
  EXPECT_EQ(Values(I({0, 3}).Where(7, 9)), (std::vector<double>{9, 7}));
}

TEST(TensorElementwise, ComparisonsHandleNaN) {
  Tensor a = F({1, 2, 3, static_cast<float>(kNaN)});
  Tensor b = F({2, 2, 2, 1});
  auto bools = [](const Tensor& t) { return *t.ToVector<bool>(); };
  EXPECT_EQ(bools(a.Lt(b)), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(bools(a.Le(b)), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(bools(a.Gt(b)), (std::vector<bool>{false, false, true, false}));
  EXPECT_EQ(bools(a.Ge(b)), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(bools(a.Eq(b)), (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ(bools(a.Ne(b)), (std::vector<bool>{true, false, true, true}));
  EXPECT_EQ(bools(a.Gt(1.5)), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(bools(I({1, 2}).Le(1)), (std::vector<bool>{true, false}));
}

TEST(TensorElementwise, LogicalAndBitwise) {
  Tensor p = Tensor::FromVector<bool>({true, true, false, false});
  Tensor q = Tensor::FromVector<bool>({true, false, true, false});
  auto bools = [](const Tensor& t) { return *t.ToVector<bool>(); };
  EXPECT_EQ(bools(p.LogicalAnd(q)), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(bools(p.LogicalOr(q)), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(bools(p.LogicalXor(q)), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(bools(p.LogicalNot()), (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ(bools(F({0, 2.5}).LogicalNot()), (std::vector<bool>{true, false}));
  EXPECT_EQ(bools(p.BitwiseXor(q)), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(bools(p.Neg()), (std::vector<bool>{false, false, true, true}));
  Tensor x = I({12, -1}), y = I({10, 255});
  EXPECT_EQ(Values(x.BitwiseAnd(y)), (std::vector<double>{8, 255}));
  EXPECT_EQ(Values(x.BitwiseOr(y)), (std::vector<double>{14, -1}));
  EXPECT_EQ(Values(x.BitwiseXor(y)), (std::vector<double>{6, -256}));
  EXPECT_EQ(Values(x.BitwiseNot()), (std::vector<double>{-13, 0}));
  EXPECT_EQ(Values(Tensor::FromVector<uint8_t>({1}).BitwiseNot()), (std::vector<double>{254}));
  EXPECT_EQ(Values(I({3, -16}).LShift(2)), (std::vector<double>{12, -64}));
  EXPECT_EQ(Values(I({3, -16}).RShift(2)), (std::vector<double>{0, -4}));  // arithmetic
  EXPECT_EQ(Values(Tensor::FromVector<uint32_t>({0x80000000u}).RShift(31)),
            (std::vector<double>{1}));
}

TEST(TensorElementwise, BitwiseRejectsFloats) {
  EXPECT_EQ(ErrorOf(F({1}).BitwiseAnd(F({1}))),
            "BitwiseAnd: needs integer or bool dtypes, got float32 and float32");
  EXPECT_EQ(ErrorOf(F({1}).BitwiseNot()),
            "BitwiseNot: needs an integer or bool dtype, got float32");
  Tensor b = Tensor::FromVector<bool>({true});
  EXPECT_EQ(ErrorOf(b.LShift(b)), "LShift: needs integer dtypes, got bool and bool");
  EXPECT_EQ(b.LShift(1).dtype(), DType::Int32());  // an int number makes bools int32
  EXPECT_FALSE(I({1}).BitwiseAnd(1.5).ok());
}

TEST(TensorElementwise, CastAndBitcast) {
  Tensor f = F({1.9, -1.9, 300, -0.0});
  EXPECT_EQ(Values(f.Cast(DType::Int32())), (std::vector<double>{1, -1, 300, 0}));
  EXPECT_EQ(Values(f.Cast(DType::UInt8())), (std::vector<double>{1, 255, 44, 0}));
  EXPECT_EQ(*f.Cast(DType::Bool()).ToVector<bool>(), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(*F({1.0f}).Bitcast(DType::UInt32()).ToVector<uint32_t>(),
            (std::vector<uint32_t>{0x3f800000u}));
  EXPECT_EQ(*Tensor::FromVector<int32_t>({0x40490fdb}).Bitcast(DType::Float32()).ToVector<float>(),
            (std::vector<float>{3.14159274f}));
  EXPECT_EQ(ErrorOf(F({1}).Bitcast(DType::Int16())),
            "Bitcast: cannot reinterpret float32 as int16 (needs equal item sizes, no bool)");
  EXPECT_FALSE(F({1}).Cast(DType::Void()).ok());
}

}  // namespace
}  // namespace uop
