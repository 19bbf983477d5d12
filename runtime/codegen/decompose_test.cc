#include "runtime/codegen/decompose.h"

#include <cmath>
#include <limits>
#include <random>

#include "gtest/gtest.h"
#include "runtime/uop/const_fold.h"

namespace uop {
namespace {

// Evaluates a decomposed expression of constants by folding it exactly as a
// device computes it (every op rounded in its dtype).
const PatternMatcher& Folder() {
  static const PatternMatcher* pm = new PatternMatcher({
      {UPat(), [](const Captures& m) { return ConstFold(*m.root()); }, "fold"},
  });
  return *pm;
}

double Eval(UOpPtr (*f)(const UOpPtr&), DType d, double x) {
  UOpPtr r = GraphRewrite(f(UOp::Const(d, x)), Folder());
  EXPECT_TRUE(r->is_const()) << r->ToString().substr(0, 2000);
  return r->const_float();
}

double UlpDiff(double got, double want, DType d) {
  if (std::isnan(want)) return std::isnan(got) ? 0 : 1e30;
  if (std::isinf(want)) return got == want ? 0 : 1e30;
  double ulp = d == DType::Float32()
                   ? std::max<double>(std::abs(std::nextafter(static_cast<float>(want), INFINITY) -
                                               static_cast<float>(want)),
                                      1.4e-45)
                   : std::max(std::abs(std::nextafter(want, INFINITY) - want), 4.9e-324);
  return std::abs(got - want) / ulp;
}

TEST(Decompose, Exp2Float32) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> dist(-160.0, 140.0);
  double worst = 0;
  for (int i = 0; i < 3000; ++i) {
    float x = static_cast<float>(dist(rng));
    worst = std::max(worst,
                     UlpDiff(Eval(Exp2Poly, DType::Float32(), x), std::exp2f(x), DType::Float32()));
  }
  EXPECT_LE(worst, 4.0);
  EXPECT_EQ(Eval(Exp2Poly, DType::Float32(), 0.0), 1.0);
  EXPECT_EQ(Eval(Exp2Poly, DType::Float32(), 10.0), 1024.0);
  EXPECT_TRUE(std::isinf(Eval(Exp2Poly, DType::Float32(), 1000.0)));
  EXPECT_EQ(Eval(Exp2Poly, DType::Float32(), -1000.0), 0.0);
  EXPECT_TRUE(std::isinf(Eval(Exp2Poly, DType::Float32(), INFINITY)));
  EXPECT_EQ(Eval(Exp2Poly, DType::Float32(), -INFINITY), 0.0);
  EXPECT_TRUE(std::isnan(Eval(Exp2Poly, DType::Float32(), NAN)));
}

TEST(Decompose, Exp2Float64) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> dist(-1080.0, 1030.0);
  double worst = 0;
  for (int i = 0; i < 3000; ++i) {
    double x = dist(rng);
    worst = std::max(worst,
                     UlpDiff(Eval(Exp2Poly, DType::Float64(), x), std::exp2(x), DType::Float64()));
  }
  EXPECT_LE(worst, 4.0);
}

TEST(Decompose, Log2Float32) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> expo(-149.0, 127.9);
  double worst = 0;
  for (int i = 0; i < 3000; ++i) {
    float x = static_cast<float>(std::exp2(expo(rng)));
    if (x == 0) continue;
    worst = std::max(worst,
                     UlpDiff(Eval(Log2Poly, DType::Float32(), x), std::log2f(x), DType::Float32()));
  }
  EXPECT_LE(worst, 4.0);
  EXPECT_EQ(Eval(Log2Poly, DType::Float32(), 1.0), 0.0);
  EXPECT_EQ(Eval(Log2Poly, DType::Float32(), 8.0), 3.0);
  EXPECT_EQ(Eval(Log2Poly, DType::Float32(), 0.0), -INFINITY);
  EXPECT_TRUE(std::isnan(Eval(Log2Poly, DType::Float32(), -1.0)));
  EXPECT_EQ(Eval(Log2Poly, DType::Float32(), INFINITY), INFINITY);
  EXPECT_TRUE(std::isnan(Eval(Log2Poly, DType::Float32(), NAN)));
}

TEST(Decompose, Log2Float64) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> expo(-1070.0, 1023.0);
  double worst = 0;
  for (int i = 0; i < 3000; ++i) {
    double x = std::exp2(expo(rng));
    worst = std::max(worst,
                     UlpDiff(Eval(Log2Poly, DType::Float64(), x), std::log2(x), DType::Float64()));
  }
  EXPECT_LE(worst, 4.0);
}

TEST(Decompose, SinFloat32AndFloat64) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> dist(-1e5, 1e5);
  double worst32 = 0, worst64 = 0;
  for (int i = 0; i < 3000; ++i) {
    double x = dist(rng) * (i % 3 == 0 ? 1e-4 : 1.0);
    float xf = static_cast<float>(x);
    worst32 = std::max(worst32, UlpDiff(Eval(SinPoly, DType::Float32(), xf),
                                        std::sin(static_cast<double>(xf)), DType::Float32()));
    // float64: absolute error relative to 1 ulp of 1.0 (sin near its zeros).
    worst64 =
        std::max(worst64, std::abs(Eval(SinPoly, DType::Float64(), x) - std::sin(x)) / 2.2e-16);
  }
  EXPECT_LE(worst32, 1.0);
  EXPECT_LE(worst64, 8.0);
  EXPECT_TRUE(std::isnan(Eval(SinPoly, DType::Float32(), INFINITY)));
  EXPECT_TRUE(std::isnan(Eval(SinPoly, DType::Float32(), NAN)));
  EXPECT_EQ(Eval(SinPoly, DType::Float32(), 0.0), 0.0);
}

TEST(Decompose, HalfPrecisionGoesThroughFloat32) {
  EXPECT_EQ(Eval(Exp2Poly, DType::Float16(), 3.0), 8.0);
  EXPECT_EQ(Eval(Log2Poly, DType::BFloat16(), 0.25), -2.0);
}

TEST(Decompose, ThreefryMatchesReference) {
  std::mt19937_64 rng(6);
  for (int i = 0; i < 200; ++i) {
    uint64_t x = rng(), k = rng();
    UOpPtr e = ThreefryInts(UOp::Const(DType::UInt64(), static_cast<int64_t>(x)),
                            UOp::Const(DType::UInt64(), static_cast<int64_t>(k)));
    UOpPtr r = GraphRewrite(e, Folder());
    ASSERT_TRUE(r->is_const());
    EXPECT_EQ(static_cast<uint64_t>(r->const_int()), Threefry2x32(x, k)) << x << " " << k;
  }
}

TEST(Decompose, RulesReplaceEveryTranscendental) {
  UOpPtr x = UOp::Var("x", 0, 10);
  UOpPtr f = Cast(x, DType::Float32().Vec(8));
  UOpPtr e = UOp::Alu(Op::kSin, {UOp::Alu(Op::kExp2, {UOp::Alu(Op::kLog2, {f})})});
  UOpPtr out = GraphRewrite(e, DecompositionRules());
  for (const UOp* u : out->Toposort()) {
    EXPECT_NE(u->op(), Op::kExp2);
    EXPECT_NE(u->op(), Op::kLog2);
    EXPECT_NE(u->op(), Op::kSin);
  }
  EXPECT_EQ(out->dtype(), DType::Float32().Vec(8));
}

}  // namespace
}  // namespace uop
