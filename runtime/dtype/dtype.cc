#include "runtime/dtype/dtype.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace uop {
namespace {

struct ScalarInfo {
  absl::string_view name;
  int size;
};

constexpr ScalarInfo kScalarInfo[] = {
#define UOP_X(name, str, size) {str, size},
    UOP_SCALAR_TYPES(UOP_X)
#undef UOP_X
};
static_assert(sizeof(kScalarInfo) / sizeof(kScalarInfo[0]) == kNumScalarTypes,
              "every scalar type needs a name table entry");

int Slot(ScalarType s) { return static_cast<int>(s); }

// Bit i of kUpper[t] is set when scalar type i is an upper bound of t
// (reflexive, transitive closure of the lattice in dtype.h).
using Mask = uint32_t;
constexpr Mask Bit(ScalarType s) { return Mask{1} << static_cast<int>(s); }

Mask UpperSet(ScalarType s) {
  static const auto* table = [] {
    static Mask up[kNumScalarTypes] = {};
    auto direct = [](ScalarType t) -> Mask {
      using S = ScalarType;
      switch (t) {
        case S::kBool:
          return Bit(S::kInt8) | Bit(S::kUInt8);
        case S::kInt8:
          return Bit(S::kInt16);
        case S::kInt16:
          return Bit(S::kInt32);
        case S::kInt32:
          return Bit(S::kInt64);
        case S::kInt64:
          return Bit(S::kFloat16) | Bit(S::kBFloat16);
        case S::kUInt8:
          return Bit(S::kInt16) | Bit(S::kUInt16);
        case S::kUInt16:
          return Bit(S::kInt32) | Bit(S::kUInt32);
        case S::kUInt32:
          return Bit(S::kInt64) | Bit(S::kUInt64);
        case S::kUInt64:
          return Bit(S::kFloat16) | Bit(S::kBFloat16);
        case S::kFloat16:
          return Bit(S::kFloat32);
        case S::kBFloat16:
          return Bit(S::kFloat32);
        case S::kFloat32:
          return Bit(S::kFloat64);
        case S::kIndex:
          return Bit(S::kInt64);
        default:
          return 0;
      }
    };
    for (int i = 0; i < kNumScalarTypes; ++i) up[i] = Mask{1} << i;
    // Transitive closure: the lattice is shallow, so a few passes suffice.
    for (int pass = 0; pass < kNumScalarTypes; ++pass) {
      for (int i = 0; i < kNumScalarTypes; ++i) {
        Mask m = up[i] | direct(static_cast<ScalarType>(i));
        for (int j = 0; j < kNumScalarTypes; ++j)
          if (m & (Mask{1} << j)) m |= direct(static_cast<ScalarType>(j));
        up[i] = m;
      }
    }
    return up;
  }();
  return table[Slot(s)];
}

// Lattice order used to pick the least element of a set of upper bounds.
int Rank(ScalarType s) {
  using S = ScalarType;
  switch (s) {
    case S::kBool:
      return 0;
    case S::kInt8:
    case S::kUInt8:
      return 1;
    case S::kInt16:
    case S::kUInt16:
      return 2;
    case S::kInt32:
    case S::kUInt32:
      return 3;
    case S::kIndex:
      return 4;
    case S::kInt64:
    case S::kUInt64:
      return 5;
    case S::kFloat16:
    case S::kBFloat16:
      return 6;
    case S::kFloat32:
      return 7;
    case S::kFloat64:
      return 8;
    default:
      return 9;
  }
}

}  // namespace

absl::string_view ScalarTypeName(ScalarType s) { return kScalarInfo[Slot(s)].name; }

int DType::itemsize() const { return kScalarInfo[Slot(scalar_)].size; }

bool DType::is_float() const {
  return scalar_ == ScalarType::kFloat16 || scalar_ == ScalarType::kBFloat16 ||
         scalar_ == ScalarType::kFloat32 || scalar_ == ScalarType::kFloat64;
}

bool DType::is_unsigned() const {
  return scalar_ == ScalarType::kUInt8 || scalar_ == ScalarType::kUInt16 ||
         scalar_ == ScalarType::kUInt32 || scalar_ == ScalarType::kUInt64;
}

bool DType::is_int() const {
  return is_unsigned() || scalar_ == ScalarType::kInt8 || scalar_ == ScalarType::kInt16 ||
         scalar_ == ScalarType::kInt32 || scalar_ == ScalarType::kInt64 ||
         scalar_ == ScalarType::kIndex;
}

int64_t DType::min_int() const {
  using S = ScalarType;
  switch (scalar_) {
    case S::kInt8:
      return std::numeric_limits<int8_t>::min();
    case S::kInt16:
      return std::numeric_limits<int16_t>::min();
    case S::kInt32:
      return std::numeric_limits<int32_t>::min();
    case S::kInt64:
    case S::kIndex:
      return std::numeric_limits<int64_t>::min();
    default:
      return 0;
  }
}

uint64_t DType::max_uint() const {
  using S = ScalarType;
  switch (scalar_) {
    case S::kBool:
      return 1;
    case S::kInt8:
      return std::numeric_limits<int8_t>::max();
    case S::kInt16:
      return std::numeric_limits<int16_t>::max();
    case S::kInt32:
      return std::numeric_limits<int32_t>::max();
    case S::kInt64:
    case S::kIndex:
      return std::numeric_limits<int64_t>::max();
    case S::kUInt8:
      return std::numeric_limits<uint8_t>::max();
    case S::kUInt16:
      return std::numeric_limits<uint16_t>::max();
    case S::kUInt32:
      return std::numeric_limits<uint32_t>::max();
    case S::kUInt64:
      return std::numeric_limits<uint64_t>::max();
    default:
      return 0;
  }
}

double DType::min_value() const {
  using S = ScalarType;
  switch (scalar_) {
    case S::kFloat16:
      return -65504.0;
    case S::kBFloat16:
      return -3.3895313892515355e38;
    case S::kFloat32:
      return -std::numeric_limits<float>::max();
    case S::kFloat64:
      return -std::numeric_limits<double>::max();
    default:
      return static_cast<double>(min_int());
  }
}

double DType::max_value() const {
  using S = ScalarType;
  switch (scalar_) {
    case S::kFloat16:
      return 65504.0;
    case S::kBFloat16:
      return 3.3895313892515355e38;
    case S::kFloat32:
      return std::numeric_limits<float>::max();
    case S::kFloat64:
      return std::numeric_limits<double>::max();
    default:
      return static_cast<double>(max_uint());
  }
}

std::string DType::ToString() const {
  std::string s(ScalarTypeName(scalar_));
  if (count_ != 1) absl::StrAppend(&s, "x", count_);
  if (is_ptr_) {
    absl::StrAppend(&s, "*");
    if (addrspace_ == AddrSpace::kLocal) absl::StrAppend(&s, "[local]");
    if (addrspace_ == AddrSpace::kReg) absl::StrAppend(&s, "[reg]");
    if (ptr_size_ >= 0) absl::StrAppend(&s, "[", ptr_size_, "]");
  }
  return s;
}

size_t DType::Hash() const { return absl::HashOf(*this); }

absl::StatusOr<DType> ParseDType(absl::string_view name) {
  std::string n = absl::AsciiStrToLower(name);
  for (int i = 0; i < kNumScalarTypes; ++i)
    if (kScalarInfo[i].name == n) return DType(static_cast<ScalarType>(i));
  struct Alias {
    absl::string_view name;
    ScalarType type;
  };
  static constexpr Alias kAliases[] = {
      {"float", ScalarType::kFloat32},  {"f32", ScalarType::kFloat32},
      {"double", ScalarType::kFloat64}, {"f64", ScalarType::kFloat64},
      {"half", ScalarType::kFloat16},   {"f16", ScalarType::kFloat16},
      {"bf16", ScalarType::kBFloat16},  {"int", ScalarType::kInt32},
      {"i8", ScalarType::kInt8},        {"i16", ScalarType::kInt16},
      {"i32", ScalarType::kInt32},      {"i64", ScalarType::kInt64},
      {"u8", ScalarType::kUInt8},       {"u16", ScalarType::kUInt16},
      {"u32", ScalarType::kUInt32},     {"u64", ScalarType::kUInt64},
      {"long", ScalarType::kInt64},     {"char", ScalarType::kInt8},
  };
  for (const Alias& a : kAliases)
    if (a.name == n) return DType(a.type);
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype '", name, "'"));
}

DType Promote(DType a, DType b) {
  Mask common = UpperSet(a.scalar_type()) & UpperSet(b.scalar_type());
  ScalarType best = ScalarType::kFloat64;
  int best_rank = 1 << 30;
  for (int i = 0; i < kNumScalarTypes; ++i) {
    if (!(common & (Mask{1} << i))) continue;
    auto s = static_cast<ScalarType>(i);
    // Among equal ranks (float16 vs bfloat16) the first in declaration order
    // wins; both are upper bounds so either is a valid join.
    if (Rank(s) < best_rank) best = s, best_rank = Rank(s);
  }
  return DType(best);
}

DType DefaultFloatFor(DType d) { return d.is_float() ? d.Scalar() : DType::Float32(); }

uint16_t FloatToHalf(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mant = x & 0x7fffffu;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff);
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));
  int32_t e = exp - 127 + 15;
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) ++half;  // may carry into inf: correct
  return static_cast<uint16_t>(half);
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400u));
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

uint16_t FloatToBFloat16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);  // NaN
  uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

float BFloat16ToFloat(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

double CastToDouble(double v, DType to) {
  using S = ScalarType;
  auto to_int = [&](auto type_tag) -> double {
    using T = decltype(type_tag);
    if (std::isnan(v) || std::isinf(v)) return static_cast<double>(std::numeric_limits<T>::min());
    double t = std::trunc(v);
    // Wrap like a two's-complement narrowing conversion of an int64.
    if (t >= -9.2233720368547758e18 && t < 9.2233720368547758e18)
      return static_cast<double>(static_cast<T>(static_cast<int64_t>(t)));
    if (t >= 0 && t < 1.8446744073709552e19)
      return static_cast<double>(static_cast<T>(static_cast<uint64_t>(t)));
    return static_cast<double>(std::numeric_limits<T>::min());
  };
  switch (to.scalar_type()) {
    case S::kBool:
      return v != 0.0 ? 1.0 : 0.0;
    case S::kInt8:
      return to_int(int8_t{});
    case S::kInt16:
      return to_int(int16_t{});
    case S::kInt32:
      return to_int(int32_t{});
    case S::kInt64:
    case S::kIndex:
      return to_int(int64_t{});
    case S::kUInt8:
      return to_int(uint8_t{});
    case S::kUInt16:
      return to_int(uint16_t{});
    case S::kUInt32:
      return to_int(uint32_t{});
    case S::kUInt64:
      return to_int(uint64_t{});
    case S::kFloat16:
      return HalfToFloat(FloatToHalf(static_cast<float>(v)));
    case S::kBFloat16:
      return BFloat16ToFloat(FloatToBFloat16(static_cast<float>(v)));
    case S::kFloat32:
      return static_cast<float>(v);
    default:
      return v;
  }
}

}  // namespace uop
