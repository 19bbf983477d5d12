#include "runtime/uop/const_fold.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"

namespace uop {
namespace {

using i128 = __int128;
using u128 = unsigned __int128;

template <typename T>
DType DTypeOf() {
  if constexpr (std::is_same_v<T, int8_t>) return DType::Int8();
  if constexpr (std::is_same_v<T, int16_t>) return DType::Int16();
  if constexpr (std::is_same_v<T, int32_t>) return DType::Int32();
  if constexpr (std::is_same_v<T, int64_t>) return DType::Int64();
  if constexpr (std::is_same_v<T, uint8_t>) return DType::UInt8();
  if constexpr (std::is_same_v<T, uint16_t>) return DType::UInt16();
  if constexpr (std::is_same_v<T, uint32_t>) return DType::UInt32();
  if constexpr (std::is_same_v<T, uint64_t>) return DType::UInt64();
}

template <typename T>
UOpPtr C(T v) {
  return UOp::Const(DTypeOf<T>(), static_cast<int64_t>(v));
}

// The folded value as T (nullopt when not folded).
template <typename T>
std::optional<T> Fold(Op op, T a, T b) {
  UOpPtr r = ConstFold(op, DTypeOf<T>(), {C(a), C(b)});
  if (!r) return std::nullopt;
  EXPECT_EQ(r->dtype(), DTypeOf<T>());
  return static_cast<T>(r->const_int());
}

template <typename T>
std::optional<bool> FoldCmp(Op op, T a, T b) {
  UOpPtr r = ConstFold(op, DType::Bool(), {C(a), C(b)});
  if (!r) return std::nullopt;
  return r->const_int() != 0;
}

template <typename T>
std::vector<T> Samples() {
  using L = std::numeric_limits<T>;
  std::vector<T> v = {0, 1, 2, 3, 7, 100, L::max(), static_cast<T>(L::max() - 1), L::min()};
  if constexpr (std::is_signed_v<T>) {
    for (T x : {T(-1), T(-2), T(-7), T(-100), static_cast<T>(L::min() + 1)}) v.push_back(x);
  }
  if constexpr (sizeof(T) >= 4) v.push_back(static_cast<T>(0x12345678));
  if constexpr (sizeof(T) == 8) v.push_back(static_cast<T>(int64_t{1} << 40) + 12345);
  return v;
}

// Every integer op against C++'s own arithmetic on T. Wrapping results are
// computed in 128 bits and narrowed (modular since C++20), a path independent
// of the folder's 64-bit one.
template <typename T>
void CheckIntegerOps() {
  SCOPED_TRACE(DTypeOf<T>().ToString());
  constexpr int kWidth = sizeof(T) * 8;
  for (T a : Samples<T>()) {
    for (T b : Samples<T>()) {
      SCOPED_TRACE(testing::Message() << "a=" << +a << " b=" << +b);
      EXPECT_EQ(Fold(Op::kAdd, a, b), static_cast<T>(i128(a) + i128(b)));
      EXPECT_EQ(Fold(Op::kSub, a, b), static_cast<T>(i128(a) - i128(b)));
      EXPECT_EQ(Fold(Op::kMul, a, b), static_cast<T>(static_cast<u128>(a) * static_cast<u128>(b)));
      EXPECT_EQ(Fold(Op::kMax, a, b), std::max(a, b));
      EXPECT_EQ(Fold(Op::kAnd, a, b), static_cast<T>(a & b));
      EXPECT_EQ(Fold(Op::kOr, a, b), static_cast<T>(a | b));
      EXPECT_EQ(Fold(Op::kXor, a, b), static_cast<T>(a ^ b));
      EXPECT_EQ(FoldCmp(Op::kCmpLt, a, b), a < b);
      EXPECT_EQ(FoldCmp(Op::kCmpNe, a, b), a != b);
      EXPECT_EQ(FoldCmp(Op::kCmpEq, a, b), a == b);
      if (b == 0) {
        EXPECT_EQ(Fold(Op::kIdiv, a, b), std::nullopt) << "division by zero must not fold";
        EXPECT_EQ(Fold(Op::kMod, a, b), std::nullopt) << "modulo by zero must not fold";
      } else if (std::is_signed_v<T> && a == std::numeric_limits<T>::min() && b == T(-1)) {
        EXPECT_EQ(Fold(Op::kIdiv, a, b), a);  // wraps
        EXPECT_EQ(Fold(Op::kMod, a, b), T(0));
      } else {
        EXPECT_EQ(Fold(Op::kIdiv, a, b), static_cast<T>(a / b));
        EXPECT_EQ(Fold(Op::kMod, a, b), static_cast<T>(a % b));
      }
    }
    for (int s = 0; s < kWidth; ++s) {
      T amount = static_cast<T>(s);
      EXPECT_EQ(Fold(Op::kShl, a, amount), static_cast<T>(static_cast<uint64_t>(a) << s));
      EXPECT_EQ(Fold(Op::kShr, a, amount), static_cast<T>(a >> s));
    }
    EXPECT_EQ(Fold(Op::kShl, a, static_cast<T>(kWidth)), std::nullopt);
    if constexpr (std::is_signed_v<T>) EXPECT_EQ(Fold(Op::kShr, a, T(-1)), std::nullopt);
    UOpPtr neg = ConstFold(Op::kNeg, DTypeOf<T>(), {C(a)});
    ASSERT_NE(neg, nullptr);
    EXPECT_EQ(static_cast<T>(neg->const_int()), static_cast<T>(-i128(a)));
  }
}

TEST(ConstFold, Int8Ops) { CheckIntegerOps<int8_t>(); }
TEST(ConstFold, Int16Ops) { CheckIntegerOps<int16_t>(); }
TEST(ConstFold, Int32Ops) { CheckIntegerOps<int32_t>(); }
TEST(ConstFold, Int64Ops) { CheckIntegerOps<int64_t>(); }
TEST(ConstFold, UInt8Ops) { CheckIntegerOps<uint8_t>(); }
TEST(ConstFold, UInt16Ops) { CheckIntegerOps<uint16_t>(); }
TEST(ConstFold, UInt32Ops) { CheckIntegerOps<uint32_t>(); }
TEST(ConstFold, UInt64Ops) { CheckIntegerOps<uint64_t>(); }

TEST(ConstFold, IndexIsInt64) {
  int64_t big = int64_t{1} << 40;
  EXPECT_EQ(ConstFold(Op::kMul, DType::Index(), {UOp::Index(big), UOp::Index(big)})->const_int(),
            0);  // 2^80 wraps to 0 in 64 bits
  EXPECT_EQ(ConstFold(Op::kAdd, DType::Index(), {UOp::Index(big), UOp::Index(3)})->const_int(),
            big + 3);
  EXPECT_EQ(ConstFold(Op::kIdiv, DType::Index(), {UOp::Index(-7), UOp::Index(2)})->const_int(), -3);
  EXPECT_EQ(ConstFold(Op::kMod, DType::Index(), {UOp::Index(-7), UOp::Index(2)})->const_int(), -1);
  EXPECT_EQ(ConstFold(Op::kMod, DType::Index(), {UOp::Index(7), UOp::Index(-2)})->const_int(), 1);
}

TEST(ConstFold, DoesNotFoldDivisionByZero) {
  EXPECT_EQ(ConstFold(Op::kIdiv, DType::Index(), {UOp::Index(5), UOp::Index(0)}), nullptr);
  EXPECT_EQ(ConstFold(Op::kMod, DType::Int32(), {C<int32_t>(5), C<int32_t>(0)}), nullptr);
}

TEST(ConstFold, BoolArithmetic) {
  UOpPtr t = UOp::ConstBool(true), f = UOp::ConstBool(false);
  DType b = DType::Bool();
  EXPECT_EQ(ConstFold(Op::kAdd, b, {t, t}), t);  // OR
  EXPECT_EQ(ConstFold(Op::kMul, b, {t, f}), f);  // AND
  EXPECT_EQ(ConstFold(Op::kSub, b, {t, t}), f);  // XOR
  EXPECT_EQ(ConstFold(Op::kMax, b, {f, t}), t);
  EXPECT_EQ(ConstFold(Op::kNeg, b, {t}), f);  // logical not
  EXPECT_EQ(ConstFold(Op::kAnd, b, {t, f}), f);
  EXPECT_EQ(ConstFold(Op::kOr, b, {t, f}), t);
  EXPECT_EQ(ConstFold(Op::kXor, b, {t, t}), f);
  EXPECT_EQ(ConstFold(Op::kCmpLt, b, {f, t}), t);
  EXPECT_EQ(ConstFold(Op::kShl, b, {t, t}), nullptr);
}

float F32(const UOpPtr& u) { return static_cast<float>(u->const_float()); }
UOpPtr F(float v) { return UOp::Const(DType::Float32(), static_cast<double>(v)); }

TEST(ConstFold, Float32ArithmeticRoundsLikeFloat) {
  const float vals[] = {0.1f, 3.0f, -2.5f, 1e30f, 1e-30f, 16777217.0f, 0.0f, -0.0f, 7.0f};
  DType d = DType::Float32();
  for (float a : vals) {
    for (float b : vals) {
      SCOPED_TRACE(testing::Message() << a << ", " << b);
      EXPECT_EQ(F32(ConstFold(Op::kAdd, d, {F(a), F(b)})), a + b);
      EXPECT_EQ(F32(ConstFold(Op::kSub, d, {F(a), F(b)})), a - b);
      EXPECT_EQ(F32(ConstFold(Op::kMul, d, {F(a), F(b)})), a * b);
      float q = F32(ConstFold(Op::kFdiv, d, {F(a), F(b)}));
      if (std::isnan(a / b)) {
        EXPECT_TRUE(std::isnan(q));
      } else {
        EXPECT_EQ(q, a / b);
      }
      EXPECT_EQ(ConstFold(Op::kCmpLt, DType::Bool(), {F(a), F(b)})->const_int(), a < b);
      EXPECT_EQ(ConstFold(Op::kCmpEq, DType::Bool(), {F(a), F(b)})->const_int(), a == b);
    }
  }
  // 0.1 + 0.2 in float32 differs from the double result rounded once more.
  EXPECT_EQ(F32(ConstFold(Op::kAdd, d, {F(0.1f), F(0.2f)})), 0.1f + 0.2f);
}

// Transcendental functions: the folded value is the correctly rounded double
// result, which is within one float ulp of the float libm function.
TEST(ConstFold, Float32UnaryOps) {
  DType d = DType::Float32();
  for (float a : {0.5f, 1.0f, 2.0f, 3.7f, 100.25f, 1e-3f}) {
    SCOPED_TRACE(a);
    auto near = [](float got, float want) {
      EXPECT_LE(std::fabs(got - want), std::fabs(std::nextafter(want, INFINITY) - want));
    };
    near(F32(ConstFold(Op::kExp2, d, {F(a)})), std::exp2f(a));
    near(F32(ConstFold(Op::kLog2, d, {F(a)})), std::log2f(a));
    near(F32(ConstFold(Op::kSin, d, {F(a)})), std::sin(a));
    EXPECT_EQ(F32(ConstFold(Op::kSqrt, d, {F(a)})), std::sqrt(a));  // sqrt is exact-rounded
    EXPECT_EQ(F32(ConstFold(Op::kRecip, d, {F(a)})), 1.0f / a);
    EXPECT_EQ(F32(ConstFold(Op::kTrunc, d, {F(-a)})), std::trunc(-a));
    EXPECT_EQ(F32(ConstFold(Op::kNeg, d, {F(a)})), -a);
  }
  EXPECT_TRUE(std::isnan(F32(ConstFold(Op::kSqrt, d, {F(-1.0f)}))));
  EXPECT_EQ(F32(ConstFold(Op::kLog2, d, {F(0.0f)})), -INFINITY);
}

TEST(ConstFold, FloatOnlyOpsDoNotFoldOnIntegers) {
  for (Op op : {Op::kExp2, Op::kLog2, Op::kSin, Op::kSqrt, Op::kRecip})
    EXPECT_EQ(ConstFold(op, DType::Int32(), {C<int32_t>(4)}), nullptr) << OpName(op);
  EXPECT_EQ(ConstFold(Op::kFdiv, DType::Int32(), {C<int32_t>(4), C<int32_t>(2)}), nullptr);
  EXPECT_EQ(ConstFold(Op::kTrunc, DType::Int32(), {C<int32_t>(4)})->const_int(), 4);
}

TEST(ConstFold, Float16AndBFloat16RoundThroughDTypeConversions) {
  DType h = DType::Float16(), bf = DType::BFloat16();
  auto hc = [&](double v) { return UOp::Const(h, v); };
  auto round_h = [](float v) { return HalfToFloat(FloatToHalf(v)); };
  // 2048 + 1 is not representable in float16 (ties to even: 2048).
  EXPECT_EQ(ConstFold(Op::kAdd, h, {hc(2048), hc(1)})->const_float(), round_h(2049.0f));
  EXPECT_EQ(ConstFold(Op::kAdd, h, {hc(2048), hc(1)})->const_float(), 2048.0);
  EXPECT_EQ(ConstFold(Op::kMul, h, {hc(300), hc(300)})->const_float(), INFINITY);  // > 65504
  EXPECT_EQ(ConstFold(Op::kFdiv, h, {hc(1), hc(3)})->const_float(), round_h(1.0f / 3.0f));
  auto bc = [&](double v) { return UOp::Const(bf, v); };
  EXPECT_EQ(ConstFold(Op::kAdd, bf, {bc(256), bc(1)})->const_float(),
            BFloat16ToFloat(FloatToBFloat16(257.0f)));
  EXPECT_EQ(ConstFold(Op::kAdd, bf, {bc(256), bc(1)})->const_float(), 256.0);
}

TEST(ConstFold, FloatMaxPropagatesNaNAndPrefersPositiveZero) {
  DType d = DType::Float32();
  EXPECT_EQ(F32(ConstFold(Op::kMax, d, {F(1.0f), F(2.0f)})), 2.0f);
  EXPECT_EQ(F32(ConstFold(Op::kMax, d, {F(-1.0f), F(-2.0f)})), -1.0f);
  EXPECT_TRUE(std::isnan(F32(ConstFold(Op::kMax, d, {F(NAN), F(2.0f)}))));
  EXPECT_TRUE(std::isnan(F32(ConstFold(Op::kMax, d, {F(2.0f), F(NAN)}))));
  EXPECT_FALSE(std::signbit(F32(ConstFold(Op::kMax, d, {F(-0.0f), F(0.0f)}))));
  EXPECT_FALSE(std::signbit(F32(ConstFold(Op::kMax, d, {F(0.0f), F(-0.0f)}))));
}

TEST(ConstFold, ZeroTimesInfIsNaN) {
  UOpPtr r = ConstFold(Op::kMul, DType::Float32(), {F(INFINITY), F(0.0f)});
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(std::isnan(r->const_float()));
}

int64_t DirectIntPow(int64_t b, int64_t e) {
  uint64_t r = 1;
  for (int64_t i = 0; i < e; ++i) r *= static_cast<uint64_t>(b);
  return static_cast<int64_t>(r);
}

TEST(ConstFold, IntegerPowIsExact) {
  auto pow = [](int64_t b, int64_t e) {
    return ConstFold(Op::kPow, DType::Int64(), {C<int64_t>(b), C<int64_t>(e)});
  };
  EXPECT_EQ(pow(3, 4)->const_int(), 81);
  for (int64_t b : {-3, -2, 0, 1, 2, 3, 7, 1000})
    for (int64_t e = 0; e < 70; ++e) EXPECT_EQ(pow(b, e)->const_int(), DirectIntPow(b, e)) << b;
  EXPECT_EQ(pow(3, 39)->const_int(), 4052555153018976267);  // exact past 2^53
  EXPECT_EQ(pow(2, 64)->const_int(), 0);                    // wraps
  // Negative exponents: truncated 1 / b**n.
  EXPECT_EQ(pow(2, -1)->const_int(), 0);
  EXPECT_EQ(pow(-5, -3)->const_int(), 0);
  EXPECT_EQ(pow(1, -7)->const_int(), 1);
  EXPECT_EQ(pow(-1, -3)->const_int(), -1);
  EXPECT_EQ(pow(-1, -4)->const_int(), 1);
  EXPECT_EQ(pow(0, -1), nullptr);
  EXPECT_EQ(pow(0, 0)->const_int(), 1);
  // Narrow types wrap in their width.
  UOpPtr p = ConstFold(Op::kPow, DType::Int8(), {C<int8_t>(3), C<int8_t>(5)});
  EXPECT_EQ(p->const_int(), static_cast<int8_t>(243));
  UOpPtr u = ConstFold(Op::kPow, DType::UInt8(), {C<uint8_t>(2), C<uint8_t>(200)});
  EXPECT_EQ(u->const_int(), 0);
}

TEST(ConstFold, FloatPow) {
  DType d = DType::Float32();
  EXPECT_EQ(F32(ConstFold(Op::kPow, d, {F(2.0f), F(0.5f)})), std::sqrt(2.0f));
  EXPECT_EQ(F32(ConstFold(Op::kPow, d, {F(3.0f), F(4.0f)})), 81.0f);
  EXPECT_EQ(F32(ConstFold(Op::kPow, d, {F(2.0f), F(-2.0f)})), 0.25f);
}

// Known-answer vectors of Random123 (kat_vectors, threefry2x32 with 20 rounds):
// counter (x0, x1), key (k0, k1) -> (y0, y1).
TEST(ConstFold, ThreefryMatchesRandom123KnownAnswers) {
  struct Kat {
    uint32_t x0, x1, k0, k1, y0, y1;
  };
  const Kat kats[] = {
      {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x6b200159, 0x99ba4efe},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x1cb996fc, 0xbb002be7},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xc4923a9c, 0x483df7a0},
  };
  for (const Kat& k : kats) {
    uint64_t x = (uint64_t{k.x1} << 32) | k.x0, key = (uint64_t{k.k1} << 32) | k.k0;
    uint64_t want = (uint64_t{k.y1} << 32) | k.y0;
    EXPECT_EQ(Threefry2x32(x, key), want);
    UOpPtr r = ConstFold(Op::kThreefry, DType::UInt64(), {C<uint64_t>(x), C<uint64_t>(key)});
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(static_cast<uint64_t>(r->const_int()), want);
  }
}

TEST(ConstFold, CastFloatToIntTruncatesAndFollowsCastToDouble) {
  auto cast = [](double v, DType to) {
    return ConstFold(Op::kCast, to, {UOp::Const(DType::Float64(), v)})->const_int();
  };
  EXPECT_EQ(cast(3.7, DType::Int32()), 3);
  EXPECT_EQ(cast(-3.7, DType::Int32()), -3);
  EXPECT_EQ(cast(300.5, DType::UInt8()), 44);
  EXPECT_EQ(cast(-1.0, DType::UInt8()), 255);
  EXPECT_EQ(cast(3e9, DType::Int32()), static_cast<int32_t>(int64_t{3000000000}));
  EXPECT_EQ(cast(NAN, DType::Int32()), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(cast(INFINITY, DType::Int64()), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(cast(1e30, DType::Int16()), std::numeric_limits<int16_t>::min());
  EXPECT_EQ(cast(0.5, DType::Bool()), 1);
  // 2^63 + 2^11 is past INT64_MAX: converted through uint64, exactly.
  double big = 9223372036854777856.0;
  EXPECT_EQ(static_cast<uint64_t>(cast(big, DType::UInt64())), uint64_t{9223372036854777856u});
  // Small values agree with dtype.h's CastToDouble.
  for (double v : {-129.9, -1.5, 0.0, 2.5, 255.9, 65535.5, 1e6, -2147483649.0}) {
    for (DType to : {DType::Int8(), DType::UInt8(), DType::Int16(), DType::UInt16(), DType::Int32(),
                     DType::UInt32(), DType::Int64()}) {
      EXPECT_EQ(static_cast<double>(cast(v, to)), CastToDouble(v, to)) << v << " " << to.ToString();
    }
  }
}

TEST(ConstFold, CastIntegers) {
  auto cast = [](UOpPtr c, DType to) { return ConstFold(Op::kCast, to, {c}); };
  EXPECT_EQ(cast(C<int32_t>(-1), DType::UInt8())->const_int(), 255);
  EXPECT_EQ(cast(C<int32_t>(-1), DType::UInt64())->const_int(), -1);  // all ones
  EXPECT_EQ(cast(C<uint8_t>(200), DType::Int8())->const_int(), -56);
  EXPECT_EQ(cast(C<int64_t>(int64_t{1} << 40), DType::Int32())->const_int(), 0);
  EXPECT_EQ(cast(C<int32_t>(7), DType::Bool())->const_int(), 1);
  EXPECT_EQ(cast(UOp::ConstBool(true), DType::Int32())->const_int(), 1);
  // int -> float rounds once.
  int64_t odd = (int64_t{1} << 53) + 1;
  EXPECT_EQ(cast(C<int64_t>(odd), DType::Float64())->const_float(), static_cast<double>(odd));
  EXPECT_EQ(cast(C<int64_t>(odd), DType::Float32())->const_float(),
            static_cast<double>(static_cast<float>(odd)));
  uint64_t umax = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(cast(C<uint64_t>(umax), DType::Float32())->const_float(),
            static_cast<double>(static_cast<float>(umax)));
  EXPECT_EQ(cast(C<int32_t>(70000), DType::Float16())->const_float(), INFINITY);
  EXPECT_EQ(cast(UOp::Const(DType::Float64(), 0.1), DType::Float32())->const_float(),
            static_cast<double>(0.1f));
}

TEST(ConstFold, BitcastReinterpretsSameSize) {
  auto bitcast = [](UOpPtr c, DType to) { return ConstFold(Op::kBitcast, to, {c}); };
  EXPECT_EQ(bitcast(F(1.0f), DType::Int32())->const_int(), 0x3f800000);
  EXPECT_EQ(bitcast(F(-2.0f), DType::UInt32())->const_int(), std::bit_cast<uint32_t>(-2.0f));
  EXPECT_EQ(bitcast(C<int32_t>(0x40490fdb), DType::Float32())->const_float(),
            static_cast<double>(std::bit_cast<float>(0x40490fdb)));
  EXPECT_EQ(bitcast(C<int16_t>(0x3c00), DType::Float16())->const_float(), 1.0);
  EXPECT_EQ(bitcast(C<uint16_t>(0x3f80), DType::BFloat16())->const_float(), 1.0);
  EXPECT_EQ(bitcast(UOp::Const(DType::Float16(), 1.0), DType::Int16())->const_int(), 0x3c00);
  EXPECT_EQ(bitcast(UOp::Const(DType::Float64(), 1.0), DType::Int64())->const_int(),
            std::bit_cast<int64_t>(1.0));
  EXPECT_EQ(bitcast(C<uint32_t>(0xffffffffu), DType::Int32())->const_int(), -1);
  EXPECT_EQ(bitcast(C<int32_t>(1), DType::Float64()), nullptr);  // size mismatch
  EXPECT_EQ(bitcast(C<int64_t>(1), DType::Int32()), nullptr);
}

TEST(ConstFold, WhereAndMulAcc) {
  UOpPtr t = UOp::ConstBool(true), f = UOp::ConstBool(false);
  EXPECT_EQ(ConstFold(Op::kWhere, DType::Int32(), {t, C<int32_t>(1), C<int32_t>(2)}),
            C<int32_t>(1));
  EXPECT_EQ(ConstFold(Op::kWhere, DType::Int32(), {f, C<int32_t>(1), C<int32_t>(2)}),
            C<int32_t>(2));
  EXPECT_EQ(ConstFold(Op::kMulAcc, DType::Int8(), {C<int8_t>(100), C<int8_t>(3), C<int8_t>(1)})
                ->const_int(),
            static_cast<int8_t>(301));
  EXPECT_EQ(F32(ConstFold(Op::kMulAcc, DType::Float32(), {F(0.1f), F(3.0f), F(1.0f)})),
            0.1f * 3.0f + 1.0f);
}

TEST(ConstFold, RefusesWhatItCannotFold) {
  UOpPtr i = UOp::Var("i", 0, 9);
  EXPECT_EQ(ConstFold(Op::kAdd, DType::Index(), {i, UOp::Index(1)}), nullptr);  // not a const
  DType v4 = DType::Float32().Vec(4);
  UOpPtr vc = UOp::Create(Op::kConst, v4, {}, Arg(1.0));
  EXPECT_EQ(ConstFold(Op::kAdd, v4, {vc, vc}), nullptr);                      // vector types
  EXPECT_EQ(ConstFold(Op::kLoad, DType::Index(), {UOp::Index(1)}), nullptr);  // not elementwise
  EXPECT_EQ(ConstFold(Op::kAdd, DType::Index(), {UOp::Index(1)}), nullptr);   // arity
}

TEST(ConstFold, NodeOverloadUsesTheNodesOpAndDType) {
  UOpPtr e = UOp::Alu(Op::kMul, {C<int16_t>(300), C<int16_t>(300)});
  EXPECT_EQ(ConstFold(*e)->const_int(), static_cast<int16_t>(90000));
  EXPECT_EQ(ConstFold(*e)->dtype(), DType::Int16());
}

}  // namespace
}  // namespace uop
