#include "runtime/uop/const_fold.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace uop {
namespace {

using S = ScalarType;

int BitWidth(DType d) { return d.is_bool() ? 1 : d.itemsize() * 8; }

bool IsScalarValueType(DType d) {
  return d.count() == 1 && !d.is_ptr() && (d.is_int() || d.is_bool() || d.is_float());
}

// The rule of CastToDouble (dtype.h) for float -> integer, computed exactly.
int64_t FloatToIntBits(double v, DType to) {
  if (to.is_bool()) return v != 0.0;
  uint64_t type_min = static_cast<uint64_t>(to.min_int());
  if (std::isnan(v) || std::isinf(v)) return WrapToDType(type_min, to);
  double t = std::trunc(v);
  if (t >= -9.2233720368547758e18 && t < 9.2233720368547758e18)
    return WrapToDType(static_cast<uint64_t>(static_cast<int64_t>(t)), to);
  if (t >= 0 && t < 1.8446744073709552e19) return WrapToDType(static_cast<uint64_t>(t), to);
  return WrapToDType(type_min, to);
}

double IntToDouble(const Scalar& s) {
  if (s.dtype.scalar_type() == S::kUInt64) return static_cast<double>(static_cast<uint64_t>(s.i));
  return static_cast<double>(s.i);
}

// int -> float with one rounding where the target allows it.
double IntToFloat(const Scalar& s, DType to) {
  bool u64 = s.dtype.scalar_type() == S::kUInt64;
  if (to.scalar_type() == S::kFloat64) return IntToDouble(s);
  float f = u64 ? static_cast<float>(static_cast<uint64_t>(s.i)) : static_cast<float>(s.i);
  return CastToDouble(f, to);
}

double AsDouble(const Scalar& s) { return s.dtype.is_float() ? s.f : IntToDouble(s); }

std::optional<Scalar> Cast(const Scalar& x, DType to) {
  if (to.is_float()) {
    return Scalar::Float(to, x.dtype.is_float() ? x.f : IntToFloat(x, to));
  }
  if (x.dtype.is_float()) return Scalar{to, FloatToIntBits(x.f, to), 0.0};
  if (to.is_bool()) return Scalar{to, x.i != 0, 0.0};
  return Scalar::Int(to, x.i);
}

uint64_t FloatBits(const Scalar& x) {
  switch (x.dtype.scalar_type()) {
    case S::kFloat16:
      return FloatToHalf(static_cast<float>(x.f));
    case S::kBFloat16:
      return FloatToBFloat16(static_cast<float>(x.f));
    case S::kFloat32:
      return std::bit_cast<uint32_t>(static_cast<float>(x.f));
    default:
      return std::bit_cast<uint64_t>(x.f);
  }
}

double FloatFromBits(uint64_t bits, DType to) {
  switch (to.scalar_type()) {
    case S::kFloat16:
      return HalfToFloat(static_cast<uint16_t>(bits));
    case S::kBFloat16:
      return BFloat16ToFloat(static_cast<uint16_t>(bits));
    case S::kFloat32:
      return std::bit_cast<float>(static_cast<uint32_t>(bits));
    default:
      return std::bit_cast<double>(bits);
  }
}

std::optional<Scalar> Bitcast(const Scalar& x, DType to) {
  if (x.dtype.itemsize() != to.itemsize() || x.dtype.is_bool() || to.is_bool()) return std::nullopt;
  uint64_t bits = x.dtype.is_float() ? FloatBits(x) : static_cast<uint64_t>(x.i);
  if (to.is_float()) return Scalar{to, 0, FloatFromBits(bits, to)};
  return Scalar{to, WrapToDType(bits, to), 0.0};
}

// Exact integer pow with wrapping; see the header for negative exponents.
std::optional<uint64_t> IntPow(int64_t base, int64_t exp, bool unsigned_exp) {
  if (!unsigned_exp && exp < 0) {
    if (base == 0) return std::nullopt;
    if (base == 1) return 1;
    if (base == -1) return (exp & 1) ? ~uint64_t{0} : 1;
    return 0;
  }
  uint64_t result = 1, b = static_cast<uint64_t>(base), e = static_cast<uint64_t>(exp);
  while (e != 0) {
    if (e & 1) result *= b;
    b *= b;
    e >>= 1;
  }
  return result;
}

std::optional<Scalar> Unary(Op op, DType dtype, const Scalar& a) {
  if (dtype.is_float()) {
    double x = a.f;
    switch (op) {
      case Op::kNeg:
        return Scalar::Float(dtype, -x);
      case Op::kExp2:
        return Scalar::Float(dtype, std::exp2(x));
      case Op::kLog2:
        return Scalar::Float(dtype, std::log2(x));
      case Op::kSin:
        return Scalar::Float(dtype, std::sin(x));
      case Op::kSqrt:
        return Scalar::Float(dtype, std::sqrt(x));
      case Op::kRecip:
        return Scalar::Float(dtype, 1.0 / x);
      case Op::kTrunc:
        return Scalar::Float(dtype, std::trunc(x));
      default:
        return std::nullopt;
    }
  }
  switch (op) {
    case Op::kNeg:
      if (dtype.is_bool()) return Scalar{dtype, a.i == 0, 0.0};
      return Scalar::Int(dtype, static_cast<int64_t>(0 - static_cast<uint64_t>(a.i)));
    case Op::kTrunc:
      return a;
    default:
      return std::nullopt;  // transcendental ops are float-only
  }
}

std::optional<Scalar> FloatBinary(Op op, DType dtype, double x, double y) {
  switch (op) {
    case Op::kAdd:
      return Scalar::Float(dtype, x + y);
    case Op::kSub:
      return Scalar::Float(dtype, x - y);
    case Op::kMul:
      return Scalar::Float(dtype, x * y);
    case Op::kFdiv:
      return Scalar::Float(dtype, x / y);
    case Op::kPow:
      return Scalar::Float(dtype, std::pow(x, y));
    case Op::kMax:
      if (std::isnan(x) || std::isnan(y)) return Scalar::Float(dtype, std::nan(""));
      if (x == y) return Scalar::Float(dtype, std::signbit(x) ? y : x);
      return Scalar::Float(dtype, x < y ? y : x);
    default:
      return std::nullopt;
  }
}

std::optional<Scalar> Compare(Op op, const Scalar& a, const Scalar& b) {
  DType out = DType::Bool();
  bool r;
  if (a.dtype.is_float()) {
    double x = a.f, y = b.dtype.is_float() ? b.f : IntToDouble(b);
    r = op == Op::kCmpLt ? x < y : op == Op::kCmpNe ? x != y : x == y;
  } else if (a.dtype.scalar_type() == S::kUInt64) {
    uint64_t x = static_cast<uint64_t>(a.i), y = static_cast<uint64_t>(b.i);
    r = op == Op::kCmpLt ? x < y : op == Op::kCmpNe ? x != y : x == y;
  } else {
    // Canonical values of narrower unsigned types are non-negative, so a
    // signed comparison is exact for them too.
    r = op == Op::kCmpLt ? a.i < b.i : op == Op::kCmpNe ? a.i != b.i : a.i == b.i;
  }
  return Scalar{out, r, 0.0};
}

std::optional<Scalar> IntBinary(Op op, DType dtype, const Scalar& a, const Scalar& b) {
  const bool is_unsigned = dtype.is_unsigned();
  const uint64_t x = static_cast<uint64_t>(a.i), y = static_cast<uint64_t>(b.i);
  auto wrap = [&](uint64_t bits) { return Scalar{dtype, WrapToDType(bits, dtype), 0.0}; };
  switch (op) {
    case Op::kAdd:
      return wrap(x + y);
    case Op::kSub:
      return wrap(x - y);
    case Op::kMul:
      return wrap(x * y);
    case Op::kIdiv:
    case Op::kMod: {
      if (b.i == 0) return std::nullopt;
      bool div = op == Op::kIdiv;
      if (is_unsigned) return wrap(div ? x / y : x % y);
      if (b.i == -1) return wrap(div ? 0 - x : 0);  // INT_MIN / -1 wraps
      return wrap(static_cast<uint64_t>(div ? a.i / b.i : a.i % b.i));
    }
    case Op::kMax:
      if (is_unsigned) return wrap(x < y ? y : x);
      return wrap(static_cast<uint64_t>(a.i < b.i ? b.i : a.i));
    case Op::kAnd:
      return wrap(x & y);
    case Op::kOr:
      return wrap(x | y);
    case Op::kXor:
      return wrap(x ^ y);
    case Op::kShl:
    case Op::kShr: {
      if (dtype.is_bool()) return std::nullopt;
      int width = BitWidth(dtype);
      bool amount_unsigned = b.dtype.scalar_type() == S::kUInt64;
      if ((!amount_unsigned && b.i < 0) || y >= static_cast<uint64_t>(width)) return std::nullopt;
      if (op == Op::kShl) return wrap(x << y);
      if (is_unsigned) return wrap(x >> y);
      return wrap(static_cast<uint64_t>(a.i >> y));  // arithmetic (C++20)
    }
    case Op::kPow: {
      auto p = IntPow(a.i, b.i, b.dtype.is_unsigned());
      if (!p) return std::nullopt;
      return wrap(*p);
    }
    case Op::kThreefry:
      return wrap(Threefry2x32(x, y));
    default:
      return std::nullopt;
  }
}

}  // namespace

int64_t WrapToDType(uint64_t bits, DType d) {
  if (d.is_bool()) return bits != 0;
  int width = d.itemsize() * 8;
  if (width >= 64 || width == 0) return static_cast<int64_t>(bits);
  uint64_t mask = (uint64_t{1} << width) - 1;
  bits &= mask;
  if (!d.is_unsigned() && (bits >> (width - 1)) != 0) bits |= ~mask;  // sign-extend
  return static_cast<int64_t>(bits);
}

Scalar Scalar::Int(DType d, int64_t v) {
  return Scalar{d, WrapToDType(static_cast<uint64_t>(v), d), 0};
}

Scalar Scalar::Float(DType d, double v) { return Scalar{d, 0, CastToDouble(v, d.Scalar())}; }

std::optional<Scalar> Scalar::FromConst(const UOp& c) {
  DType d = c.dtype();
  if (c.op() != Op::kConst || !IsScalarValueType(d)) return std::nullopt;
  if (const auto* i = c.arg().get_if<int64_t>()) {
    if (d.is_float()) return Scalar::Float(d, static_cast<double>(*i));
    return Scalar::Int(d, *i);
  }
  if (const auto* f = c.arg().get_if<double>()) {
    if (d.is_float()) return Scalar::Float(d, *f);
    return Scalar{d, FloatToIntBits(*f, d), 0.0};
  }
  return std::nullopt;
}

uint64_t Threefry2x32(uint64_t x, uint64_t key) {
  static constexpr int kRotations[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
  auto rotl = [](uint32_t v, int r) { return (v << r) | (v >> (32 - r)); };
  const uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  const uint32_t ks[3] = {k0, k1, k0 ^ k1 ^ 0x1BD11BDAu};
  uint32_t x0 = static_cast<uint32_t>(x) + ks[0];
  uint32_t x1 = static_cast<uint32_t>(x >> 32) + ks[1];
  for (uint32_t group = 1; group <= 5; ++group) {
    for (int r : kRotations[(group - 1) % 2]) {
      x0 += x1;
      x1 = rotl(x1, r) ^ x0;
    }
    x0 += ks[group % 3];
    x1 += ks[(group + 1) % 3] + group;
  }
  return (static_cast<uint64_t>(x1) << 32) | x0;
}

std::optional<Scalar> EvalScalar(Op op, DType dtype, absl::Span<const Scalar> srcs) {
  if (!IsScalarValueType(dtype)) return std::nullopt;
  for (const Scalar& s : srcs)
    if (!IsScalarValueType(s.dtype)) return std::nullopt;
  if (op == Op::kCast || op == Op::kBitcast) {
    if (srcs.size() != 1) return std::nullopt;
    return op == Op::kCast ? Cast(srcs[0], dtype) : Bitcast(srcs[0], dtype);
  }
  if (HasTrait(op, kUnary)) {
    if (srcs.size() != 1) return std::nullopt;
    return Unary(op, dtype, srcs[0]);
  }
  if (HasTrait(op, kBinary)) {
    if (srcs.size() != 2) return std::nullopt;
    if (HasTrait(op, kCompare)) return Compare(op, srcs[0], srcs[1]);
    if (dtype.is_float()) return FloatBinary(op, dtype, AsDouble(srcs[0]), AsDouble(srcs[1]));
    if (srcs[0].dtype.is_float() || srcs[1].dtype.is_float()) return std::nullopt;
    return IntBinary(op, dtype, srcs[0], srcs[1]);
  }
  if (op == Op::kWhere && srcs.size() == 3) {
    bool cond = srcs[0].dtype.is_float() ? srcs[0].f != 0.0 : srcs[0].i != 0;
    return Cast(cond ? srcs[1] : srcs[2], dtype);
  }
  if (op == Op::kMulAcc && srcs.size() == 3) {
    auto product = EvalScalar(Op::kMul, dtype, srcs.first(2));
    if (!product) return std::nullopt;
    Scalar sum_srcs[2] = {*product, srcs[2]};
    return EvalScalar(Op::kAdd, dtype, sum_srcs);
  }
  return std::nullopt;
}

UOpPtr ConstFold(Op op, DType dtype, absl::Span<const UOpPtr> srcs) {
  constexpr size_t kMaxSrcs = 3;
  if (srcs.empty() || srcs.size() > kMaxSrcs || !IsElementwise(op)) return nullptr;
  Scalar values[kMaxSrcs];
  for (size_t i = 0; i < srcs.size(); ++i) {
    auto v = Scalar::FromConst(*srcs[i]);
    if (!v) return nullptr;
    values[i] = *v;
  }
  auto r = EvalScalar(op, dtype, absl::MakeConstSpan(values, srcs.size()));
  if (!r) return nullptr;
  if (dtype.is_float()) return UOp::Const(dtype, r->f);
  return UOp::Const(dtype, r->i);
}

UOpPtr ConstFold(const UOp& u) { return ConstFold(u.op(), u.dtype(), u.src()); }

}  // namespace uop
