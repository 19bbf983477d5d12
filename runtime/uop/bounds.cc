#include "runtime/uop/bounds.h"

#include <algorithm>
#include <limits>

#include "runtime/uop/uop.h"

namespace uop {
namespace {

using i128 = __int128;

struct Range {
  i128 lo, hi;
};

Range DTypeRange(DType d) {
  if (d.is_bool()) return {0, 1};
  if (d.is_int()) return {d.min_int(), static_cast<i128>(d.max_uint())};
  // Floats: the int64 range stands in for "anything".
  return {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
}

Range Clamp(Range r, DType d) {
  Range full = DTypeRange(d);
  // A result that may leave the type's range can wrap anywhere inside it.
  if (r.lo < full.lo || r.hi > full.hi) return full;
  return r;
}

Range Of(const UOpPtr& u) { return {u->vmin(), u->vmax()}; }

Range Corners(i128 a, i128 b, i128 c, i128 d) {
  return {std::min({a, b, c, d}), std::max({a, b, c, d})};
}

i128 TruncDiv(i128 a, i128 b) { return a / b; }

Range Compute(const UOp& u) {
  DType d = u.dtype();
  Range full = DTypeRange(d);
  if (d.is_float() || d.is_ptr() || d.count() != 1) {
    if (u.op() == Op::kConst || d.is_ptr() || !(d.is_int() || d.is_bool())) return full;
  }
  auto s = [&](size_t i) { return Of(u.src(i)); };
  switch (u.op()) {
    case Op::kConst: {
      if (auto* i = u.arg().get_if<int64_t>()) {
        if (d.scalar_type() == ScalarType::kUInt64 && *i < 0) return full;
        return {*i, *i};
      }
      return full;
    }
    case Op::kDefineVar:
      if (auto* v = u.arg().get_if<VarArg>()) return {v->min, v->max};
      return full;
    case Op::kBind:
      return u.num_srcs() > 0 ? s(0) : full;
    case Op::kRange:
    case Op::kSpecial:
      // RANGE(end) / SPECIAL(end) iterate 0 .. end-1.
      if (u.num_srcs() > 0) return {0, std::max<i128>(0, s(0).hi - 1)};
      return full;
    case Op::kAdd: {
      Range a = s(0), b = s(1);
      return Clamp({a.lo + b.lo, a.hi + b.hi}, d);
    }
    case Op::kSub: {
      Range a = s(0), b = s(1);
      return Clamp({a.lo - b.hi, a.hi - b.lo}, d);
    }
    case Op::kNeg: {
      Range a = s(0);
      return Clamp({-a.hi, -a.lo}, d);
    }
    case Op::kMul: {
      Range a = s(0), b = s(1);
      return Clamp(Corners(a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi), d);
    }
    case Op::kMax: {
      Range a = s(0), b = s(1);
      return {std::max(a.lo, b.lo), std::max(a.hi, b.hi)};
    }
    case Op::kIdiv: {
      Range a = s(0), b = s(1);
      if (b.lo <= 0 && b.hi >= 0) return full;  // divisor may be zero
      return Clamp(Corners(TruncDiv(a.lo, b.lo), TruncDiv(a.lo, b.hi), TruncDiv(a.hi, b.lo),
                           TruncDiv(a.hi, b.hi)),
                   d);
    }
    case Op::kMod: {
      Range a = s(0), b = s(1);
      if (b.lo <= 0 && b.hi >= 0) return full;
      i128 m = std::max(b.lo < 0 ? -b.lo : b.lo, b.hi < 0 ? -b.hi : b.hi) - 1;  // max |b| - 1
      if (b.lo > 0 && a.lo >= 0 && a.hi < b.lo) return a;  // x % y with 0 <= x < y
      if (a.lo >= 0) return {0, std::min(m, a.hi)};
      if (a.hi <= 0) return {std::max(-m, a.lo), 0};
      return {-m, m};
    }
    case Op::kCmpLt: {
      Range a = s(0), b = s(1);
      if (a.hi < b.lo) return {1, 1};
      if (a.lo >= b.hi) return {0, 0};
      return {0, 1};
    }
    case Op::kCmpNe:
    case Op::kCmpEq: {
      Range a = s(0), b = s(1);
      bool ne = u.op() == Op::kCmpNe;
      if (a.hi < b.lo || b.hi < a.lo) return {ne, ne};  // disjoint: never equal
      if (a.lo == a.hi && b.lo == b.hi && a.lo == b.lo) return {!ne, !ne};
      return {0, 1};
    }
    case Op::kWhere: {
      Range c = s(0), t = s(1), f = s(2);
      if (c.lo == 1) return t;
      if (c.hi == 0) return f;
      return {std::min(t.lo, f.lo), std::max(t.hi, f.hi)};
    }
    case Op::kAnd: {
      Range a = s(0), b = s(1);
      if (d.is_bool()) return {a.lo & b.lo, a.hi & b.hi};
      if (a.lo >= 0 && b.lo >= 0) return {0, std::min(a.hi, b.hi)};
      if (a.lo >= 0) return {0, a.hi};
      if (b.lo >= 0) return {0, b.hi};
      return full;
    }
    case Op::kOr: {
      Range a = s(0), b = s(1);
      if (d.is_bool()) return {a.lo | b.lo, a.hi | b.hi};
      return full;
    }
    case Op::kShl: {
      Range a = s(0), b = s(1);
      if (a.lo >= 0 && b.lo >= 0 && b.hi < 63) return Clamp({a.lo << b.lo, a.hi << b.hi}, d);
      return full;
    }
    case Op::kShr: {
      Range a = s(0), b = s(1);
      if (a.lo >= 0 && b.lo >= 0 && b.hi < 127) return {a.lo >> b.hi, a.hi >> b.lo};
      return full;
    }
    case Op::kCast: {
      if (u.num_srcs() == 0) return full;
      const UOpPtr& x = u.src(0);
      if (!(x->dtype().is_int() || x->dtype().is_bool())) return full;
      Range a = s(0);
      if (a.lo >= full.lo && a.hi <= full.hi) return a;  // value preserved
      return full;
    }
    case Op::kGep:
    case Op::kVectorize:
    case Op::kLoad:
    default:
      return full;
  }
}

}  // namespace

Bounds ComputeBounds(const UOp& u) {
  if (!(u.dtype().is_int() || u.dtype().is_bool()) || u.dtype().is_ptr()) {
    return {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  }
  Range r = Compute(u);
  // uint64 values past INT64_MAX cannot be expressed in int64 bounds: report
  // [0, INT64_MAX] ("unknown") rather than a saturated range that could look
  // like a constant.
  if (u.dtype().scalar_type() == ScalarType::kUInt64 &&
      r.hi > static_cast<i128>(std::numeric_limits<int64_t>::max())) {
    return {0, std::numeric_limits<int64_t>::max()};
  }
  auto sat = [](i128 v) -> int64_t {
    if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
    if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
    return static_cast<int64_t>(v);
  };
  return {sat(r.lo), sat(r.hi)};
}

}  // namespace uop
