#include "runtime/codegen/decompose.h"

#include <cmath>
#include <limits>

namespace uop {
namespace {

// Small builders over values that may be vectors: constants splat to the
// value's width.
UOpPtr C(const UOpPtr& like, double v) { return UOp::Const(like->dtype(), v); }
UOpPtr CI(const UOpPtr& like, int64_t v) { return UOp::Const(like->dtype(), v); }
DType Same(DType scalar, const UOpPtr& like) { return scalar.Vec(like->dtype().count()); }
UOpPtr Bitcast(const UOpPtr& x, DType scalar) {
  return UOp::Create(Op::kBitcast, Same(scalar, x), {x});
}
UOpPtr CastTo(const UOpPtr& x, DType scalar) { return Cast(x, Same(scalar, x)); }
UOpPtr Shl(const UOpPtr& x, int64_t n) { return UOp::Alu(Op::kShl, {x, CI(x, n)}); }
UOpPtr Shr(const UOpPtr& x, int64_t n) { return UOp::Alu(Op::kShr, {x, CI(x, n)}); }
UOpPtr And(const UOpPtr& x, int64_t m) { return UOp::Alu(Op::kAnd, {x, CI(x, m)}); }
UOpPtr Or(const UOpPtr& a, const UOpPtr& b) { return UOp::Alu(Op::kOr, {a, b}); }
UOpPtr Xor(const UOpPtr& a, const UOpPtr& b) { return UOp::Alu(Op::kXor, {a, b}); }
UOpPtr IsNan(const UOpPtr& x) { return Ne(x, x); }
UOpPtr Not(const UOpPtr& b) { return Xor(b, UOp::Const(b->dtype(), int64_t{1})); }

// Horner evaluation of coeffs[0] + coeffs[1] x + coeffs[2] x^2 + ...
UOpPtr Poly(const UOpPtr& x, const std::vector<double>& coeffs) {
  UOpPtr acc = C(x, coeffs.back());
  for (int i = static_cast<int>(coeffs.size()) - 2; i >= 0; --i) acc = acc * x + C(x, coeffs[i]);
  return acc;
}

bool IsF64(const UOpPtr& x) { return x->dtype().scalar_type() == ScalarType::kFloat64; }

// Round to nearest (ties away from zero), as a float.
UOpPtr RoundFloat(const UOpPtr& x) {
  UOpPtr half = Where(Lt(x, C(x, 0.0)), C(x, -0.5), C(x, 0.5));
  return UOp::Alu(Op::kTrunc, {x + half});
}

// u * 2^q for an integer-valued float q in [-2 * max_exp, 2 * max_exp]: two
// factors built from exponent bits are each normal, and multiplying u by one
// then the other rounds a subnormal result only once.
UOpPtr Ldexp(const UOpPtr& u, const UOpPtr& qf) {
  bool f64 = IsF64(qf);
  DType it = f64 ? DType::Int64() : DType::Int32();
  int mant = f64 ? 52 : 23;
  int64_t bias = f64 ? 1023 : 127;
  UOpPtr q = CastTo(qf, it);
  UOpPtr q1 = UOp::Alu(Op::kShr, {q, CI(q, 1)});  // arithmetic: floor(q / 2)
  UOpPtr q2 = q - q1;
  UOpPtr p1 = Bitcast(Shl(q1 + bias, mant), qf->dtype().Scalar());
  UOpPtr p2 = Bitcast(Shl(q2 + bias, mant), qf->dtype().Scalar());
  return (u * p1) * p2;
}

std::vector<double> TaylorExp2(int degree) {
  std::vector<double> c;
  double term = 1.0;
  for (int n = 0; n <= degree; ++n) {
    c.push_back(term);
    term *= M_LN2 / (n + 1);
  }
  return c;
}

// Float16/bfloat16 compute in float32.
template <typename F>
UOpPtr Widened(const UOpPtr& x, F f) {
  DType s = x->dtype().Scalar();
  if (s == DType::Float32() || s == DType::Float64()) return f(x);
  return CastTo(f(CastTo(x, DType::Float32())), s);
}

}  // namespace

UOpPtr Exp2Poly(const UOpPtr& d_in) {
  return Widened(d_in, [](const UOpPtr& d) {
    bool f64 = IsF64(d);
    double upper = f64 ? 1024.0 : 128.0, lower = f64 ? -1075.0 : -150.0;
    // Clamp first so the integer part never overflows; NaN becomes 0 here and
    // is restored at the end.
    UOpPtr x = Where(IsNan(d), C(d, 0.0), d);
    x = Max(Where(Lt(C(d, upper), x), C(d, upper), x), C(d, lower - 1));
    UOpPtr q = RoundFloat(x);
    UOpPtr s = x - q;  // in [-0.5, 0.5]
    UOpPtr u = Ldexp(Poly(s, TaylorExp2(f64 ? 13 : 7)), q);
    u = Where(Lt(d, C(d, upper)), u, C(d, std::numeric_limits<double>::infinity()));
    u = Where(Lt(d, C(d, lower)), C(d, 0.0), u);
    return Where(IsNan(d), d, u);
  });
}

UOpPtr Log2Poly(const UOpPtr& d_in) {
  return Widened(d_in, [](const UOpPtr& d) {
    bool f64 = IsF64(d);
    DType it = f64 ? DType::Int64() : DType::Int32();
    int mant = f64 ? 52 : 23;
    int64_t exp_mask = f64 ? 0x7ff : 0xff, bias = f64 ? 1023 : 127;
    int64_t mant_mask = (int64_t{1} << mant) - 1;
    double tiny = f64 ? 2.2250738585072014e-308 : 1.17549435e-38;
    // Subnormals: scale into the normal range first.
    UOpPtr small = Lt(d, C(d, tiny));
    UOpPtr a = Where(small, d * C(d, 18446744073709551616.0), d);
    UOpPtr e_adj = Where(small, C(d, -64.0), C(d, 0.0));
    UOpPtr bits = Bitcast(a, it);
    UOpPtr e = CastTo(And(Shr(bits, mant), exp_mask) - bias, d->dtype().Scalar());
    UOpPtr m = Bitcast(Or(And(bits, mant_mask), CI(bits, bias << mant)), d->dtype().Scalar());
    UOpPtr big = Lt(C(d, M_SQRT2), m);  // center m on [sqrt(1/2), sqrt(2))
    m = Where(big, m * C(d, 0.5), m);
    e = Where(big, e + C(d, 1.0), e);
    UOpPtr x = (m - C(d, 1.0)) / (m + C(d, 1.0));
    UOpPtr x2 = x * x;
    // ln(m) = 2 atanh(x) = 2 (x + x^3/3 + x^5/5 + ...), |x| <= 0.172.
    std::vector<double> c;
    for (int k = 0; k < (f64 ? 12 : 6); ++k) c.push_back(2.0 / (2 * k + 1));
    UOpPtr ln_m = x * Poly(x2, c);
    UOpPtr r = e + e_adj + ln_m * C(d, 1.0 / M_LN2);
    r = Where(Eq(d, C(d, 0.0)), C(d, -std::numeric_limits<double>::infinity()), r);
    r = Where(Lt(d, C(d, 0.0)), C(d, std::numeric_limits<double>::quiet_NaN()), r);
    r = Where(Eq(d, C(d, std::numeric_limits<double>::infinity())), d, r);
    return Where(IsNan(d), d, r);
  });
}

UOpPtr SinPoly(const UOpPtr& d_in) {
  DType orig = d_in->dtype().Scalar();
  // Reduction and polynomials in float64 for every input type: float32 gets
  // a correctly reduced argument for free.
  UOpPtr d = CastTo(d_in, DType::Float64());
  UOpPtr finite = Lt(UOp::Alu(Op::kMax, {d, -d}), C(d, std::numeric_limits<double>::infinity()));
  UOpPtr x = Where(finite, d, C(d, 0.0));
  UOpPtr q = RoundFloat(x * C(x, M_2_PI));
  // pi/2 = P1 + P2 + P3 (fdlibm's split): q * P1 and q * P2 are exact for |q| < 2^20.
  UOpPtr r = ((x - q * C(x, 1.57079632673412561417e+00)) - q * C(x, 6.07710050630396597660e-11)) -
             q * C(x, 2.02226624879595063154e-21);
  UOpPtr r2 = r * r;
  std::vector<double> sc, cc;  // sin: r * (1 - r^2/3! + ...), cos: 1 - r^2/2! + ...
  double fact = 1.0;
  for (int n = 1; n <= 19; ++n) {
    fact *= n;
    if (n % 2 == 1) sc.push_back(((n / 2) % 2 ? -1.0 : 1.0) / fact);
  }
  fact = 1.0;
  cc.push_back(1.0);
  for (int n = 1; n <= 20; ++n) {
    fact *= n;
    if (n % 2 == 0) cc.push_back(((n / 2) % 2 ? -1.0 : 1.0) / fact);
  }
  UOpPtr s = r * Poly(r2, sc);
  UOpPtr c = Poly(r2, cc);
  UOpPtr qi = CastTo(q, DType::Int64());
  UOpPtr quadrant = And(qi, 3);
  UOpPtr odd = Eq(And(qi, 1), CI(qi, 1));
  UOpPtr v = Where(odd, c, s);
  UOpPtr neg = Lt(CI(quadrant, 1), quadrant);  // quadrants 2 and 3
  v = Where(neg, -v, v);
  v = Where(finite, v, C(d, std::numeric_limits<double>::quiet_NaN()));
  v = Where(IsNan(d), d, v);
  return CastTo(v, orig);
}

UOpPtr ThreefryInts(const UOpPtr& x, const UOpPtr& key) {
  DType u32 = DType::UInt32(), u64 = DType::UInt64();
  auto lo = [&](const UOpPtr& v) { return CastTo(And(v, 0xffffffffLL), u32); };
  auto hi = [&](const UOpPtr& v) { return CastTo(Shr(v, 32), u32); };
  UOpPtr k0 = lo(key), k1 = hi(key);
  UOpPtr ks[3] = {k0, k1, Xor(Xor(k0, k1), CI(k0, 0x1BD11BDA))};
  UOpPtr x0 = lo(x) + ks[0], x1 = hi(x) + ks[1];
  static constexpr int kRotations[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
  for (int group = 1; group <= 5; ++group) {
    for (int r : kRotations[(group - 1) % 2]) {
      x0 = x0 + x1;
      x1 = Xor(Or(Shl(x1, r), Shr(x1, 32 - r)), x0);
    }
    x0 = x0 + ks[group % 3];
    x1 = x1 + ks[(group + 1) % 3] + CI(x1, group);
  }
  return Or(Shl(CastTo(x1, u64), 32), CastTo(x0, u64));
}

const PatternMatcher& DecompositionRules() {
  static const PatternMatcher* pm = new PatternMatcher({
      {UPat(Op::kExp2).WithSrcs({UPat::Var("x")}),
       [](const Captures& m) { return Exp2Poly(m["x"]); }, "exp2_poly"},
      {UPat(Op::kLog2).WithSrcs({UPat::Var("x")}),
       [](const Captures& m) { return Log2Poly(m["x"]); }, "log2_poly"},
      {UPat(Op::kSin).WithSrcs({UPat::Var("x")}), [](const Captures& m) { return SinPoly(m["x"]); },
       "sin_poly"},
      {UPat(Op::kThreefry).WithSrcs({UPat::Var("x"), UPat::Var("k")}),
       [](const Captures& m) { return ThreefryInts(m["x"], m["k"]); }, "threefry_ints"},
      // mulacc(a, b, c) -> a * b + c
      {UPat(Op::kMulAcc).WithSrcs({UPat::Var("a"), UPat::Var("b"), UPat::Var("c")}),
       [](const Captures& m) { return m["a"] * m["b"] + m["c"]; }, "mulacc_split"},
  });
  return *pm;
}

}  // namespace uop
