#include "runtime/codegen/cuda_renderer.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <climits>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "runtime/codegen/cuda_wmma.h"
#include "runtime/uop/symbolic.h"

namespace uop {
namespace {

// Conversions for the 16-bit float types (kept in float registers) and an
// aligned vector type for wide loads and stores.
constexpr char kPrelude[] = R"(#define UOP_INF __int_as_float(0x7f800000)
#define UOP_NAN __int_as_float(0x7fffffff)
__device__ __forceinline__ float uop_h2f(unsigned short h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
__device__ __forceinline__ unsigned short uop_f2h(float f) { unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
__device__ __forceinline__ float uop_bf2f(unsigned short b) { return __uint_as_float((unsigned int)b << 16); }
__device__ __forceinline__ unsigned short uop_f2bf(float f) { unsigned short h; asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
__device__ __forceinline__ float uop_rh(float f) { return uop_h2f(uop_f2h(f)); }
__device__ __forceinline__ float uop_rbf(float f) { return uop_bf2f(uop_f2bf(f)); }
template <typename T, int N> struct alignas(sizeof(T) * N) uop_vec { T v[N]; };
// float -> integer as everywhere in uop (dtype.h): truncate, go through int64
// (or uint64 past it) and wrap to the type; NaN, infinities and values out of
// range give the type's minimum. (PTX conversions saturate instead.)
__device__ __forceinline__ long long uop_f2i(double v, long long type_min) {
  double t = trunc(v);
  if (t >= -9.2233720368547758e18 && t < 9.2233720368547758e18) return (long long)t;
  if (t >= 0.0 && t < 1.8446744073709552e19) return (long long)(unsigned long long)t;
  return type_min;
}
)";

bool FitsInt32(const UOp& u) { return u.vmin() >= INT32_MIN && u.vmax() <= INT32_MAX; }

bool IsHalfLike(DType d) {
  return d.scalar_type() == ScalarType::kFloat16 || d.scalar_type() == ScalarType::kBFloat16;
}

// Register type of a scalar (index by the node's bounds).
std::string RegType(DType d, const UOp* u = nullptr) {
  switch (d.scalar_type()) {
    case ScalarType::kBool:
      return "bool";
    case ScalarType::kInt8:
      return "signed char";
    case ScalarType::kUInt8:
      return "unsigned char";
    case ScalarType::kInt16:
      return "short";
    case ScalarType::kUInt16:
      return "unsigned short";
    case ScalarType::kInt32:
      return "int";
    case ScalarType::kUInt32:
      return "unsigned int";
    case ScalarType::kInt64:
      return "long long";
    case ScalarType::kUInt64:
      return "unsigned long long";
    case ScalarType::kIndex:
      return u != nullptr && FitsInt32(*u) ? "int" : "long long";
    case ScalarType::kFloat16:
    case ScalarType::kBFloat16:
    case ScalarType::kFloat32:
      return "float";
    case ScalarType::kFloat64:
      return "double";
    case ScalarType::kVoid:
      return "void";
  }
  return "void";
}

// Type of an element in memory.
std::string MemType(DType d) {
  if (d.is_bool()) return "unsigned char";
  if (IsHalfLike(d)) return "unsigned short";
  if (d.scalar_type() == ScalarType::kIndex) return "long long";
  return RegType(d);
}

std::string FromMem(const std::string& e, DType d) {
  if (d.is_bool()) return absl::StrCat("(", e, " != 0)");
  if (d.scalar_type() == ScalarType::kFloat16) return absl::StrCat("uop_h2f(", e, ")");
  if (d.scalar_type() == ScalarType::kBFloat16) return absl::StrCat("uop_bf2f(", e, ")");
  return e;
}

std::string ToMem(const std::string& e, DType d) {
  if (d.is_bool()) return absl::StrCat("(unsigned char)(", e, ")");
  if (d.scalar_type() == ScalarType::kFloat16) return absl::StrCat("uop_f2h(", e, ")");
  if (d.scalar_type() == ScalarType::kBFloat16) return absl::StrCat("uop_f2bf(", e, ")");
  return e;
}

std::string FloatLiteral(DType d, double v) {
  const bool dbl = d.scalar_type() == ScalarType::kFloat64;
  if (d.scalar_type() == ScalarType::kFloat16) v = HalfToFloat(FloatToHalf(static_cast<float>(v)));
  if (d.scalar_type() == ScalarType::kBFloat16) {
    v = BFloat16ToFloat(FloatToBFloat16(static_cast<float>(v)));
  }
  if (std::isnan(v)) return dbl ? "__longlong_as_double(0x7ff8000000000000LL)" : "UOP_NAN";
  if (std::isinf(v)) {
    if (dbl)
      return v > 0 ? "__longlong_as_double(0x7ff0000000000000LL)"
                   : "__longlong_as_double(0xfff0000000000000LL)";
    return v > 0 ? "UOP_INF" : "(-UOP_INF)";
  }
  if (dbl) return absl::StrFormat("%.17g", v);
  std::string s = absl::StrFormat("%.9g", static_cast<float>(v));
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return absl::StrCat("(", s, "f)");
}

std::string IntLiteral(DType d, int64_t v) {
  if (d.is_bool()) return v ? "true" : "false";
  if (d.scalar_type() == ScalarType::kUInt64) {
    return absl::StrCat(static_cast<uint64_t>(v), "ULL");
  }
  if (d.scalar_type() == ScalarType::kUInt32) {
    return absl::StrCat(static_cast<uint32_t>(v), "u");
  }
  if (v == INT64_MIN) return "(-9223372036854775807LL - 1)";
  if (v < INT32_MIN || v > INT32_MAX || d.scalar_type() == ScalarType::kInt64) {
    return absl::StrCat("(", v, "LL)");
  }
  return v < 0 ? absl::StrCat("(", v, ")") : absl::StrCat(v);
}

std::string Literal(const UOp& c) {
  DType d = c.dtype().Scalar();
  if (d.is_float()) return FloatLiteral(d, c.const_float());
  std::string lit = IntLiteral(d, c.const_int());
  // Narrow types: a cast keeps the C type exact in expressions.
  if (d.itemsize() < 4 && !d.is_bool()) return absl::StrCat("((", RegType(d), ")", lit, ")");
  return lit;
}

// Signed 32/64-bit arithmetic that wraps instead of being undefined.
bool NeedsWrap(DType d) {
  const ScalarType s = d.scalar_type();
  return s == ScalarType::kInt32 || s == ScalarType::kInt64;
}
std::string UnsignedOf(DType d) {
  return d.scalar_type() == ScalarType::kInt64 ? "unsigned long long" : "unsigned int";
}

int64_t IntMinOf(DType d) {
  if (d.scalar_type() == ScalarType::kIndex) return INT64_MIN;
  return d.is_unsigned() ? 0 : d.min_int();
}

class Emitter {
 public:
  explicit Emitter(const CudaTarget& target) : target_(target) {}
  absl::StatusOr<std::string> Run(const std::string& name, absl::Span<const UOpPtr> program);

 private:
  struct IndexInfo {
    std::string ptr;                 // pointer expression of element 0 of the buffer
    std::string idx;                 // element index (of lane 0)
    std::vector<std::string> valid;  // empty: always valid; 1: scalar gate; W: per lane
    DType elem;                      // element type
    bool reg = false;                // an accumulator register (lanes are variables)
    std::string reg_name;
    const UOp* idx_node = nullptr;
  };

  absl::Status EmitOp(const UOp* u, int index);
  absl::Status EmitLoad(const UOp* u, const std::string& name);
  absl::Status EmitStore(const UOp* u);
  absl::Status EmitAlu(const UOp* u, const std::string& name);
  absl::Status EmitWmma(const UOp* u, const std::string& name);
  std::string AluLane(const UOp* u, int l, const std::string& type);
  std::string CastLane(const std::string& v, DType from, DType to, const UOp* to_node);
  std::string BitcastLane(const std::string& v, DType from, DType to);
  std::string SafeDivisor(const UOp* u, int l);

  const std::string& Lane(const UOpPtr& u, int l) {
    const std::vector<std::string>& v = lanes_.at(u.get());
    return v.size() == 1 ? v[0] : v.at(l);
  }
  // Lane l of a 16-bit float value as its memory bits: the loaded bits when
  // the value came straight from memory (no convert and convert back).
  std::string Bits(const UOpPtr& u, int l, DType elem) {
    auto it = raw_.find(u.get());
    if (it != raw_.end() && u->dtype().Scalar() == elem) {
      return it->second.size() == 1 ? it->second[0] : it->second.at(l);
    }
    return ToMem(Lane(u, l), elem);
  }
  void Line(const std::string& s) {
    absl::StrAppend(&body_, std::string(2 * depth_, ' '), s, "\n");
  }
  // Declares `count` lanes named after `name` of `type` from expressions.
  void Define(const UOp* u, const std::string& name, const std::string& type,
              const std::vector<std::string>& exprs);
  bool Divisible(const UOp* idx, int64_t w);

  const CudaTarget& target_;
  std::string body_;
  std::string shared_decls_;
  bool dynamic_shared_ = false;  // DEFINE_LOCALs exceed the static limit
  int64_t shared_bytes_ = 0;
  int depth_ = 1;
  int tmp_ = 0;
  absl::flat_hash_map<const UOp*, std::vector<std::string>> lanes_;
  // Memory bits of 16-bit float lanes loaded from memory (see Bits).
  absl::flat_hash_map<const UOp*, std::vector<std::string>> raw_;
  absl::flat_hash_map<const UOp*, IndexInfo> indexes_;
  std::map<int64_t, std::pair<DType, bool>> globals_;  // slot -> (pointer dtype, written)
  std::vector<std::string> vars_;
  std::map<std::string, int64_t> specials_;  // name -> end
};

void Emitter::Define(const UOp* u, const std::string& name, const std::string& type,
                     const std::vector<std::string>& exprs) {
  std::vector<std::string> names;
  for (size_t l = 0; l < exprs.size(); ++l) {
    std::string n = exprs.size() == 1 ? name : absl::StrCat(name, "_", l);
    Line(absl::StrCat(type, " ", n, " = ", exprs[l], ";"));
    names.push_back(std::move(n));
  }
  lanes_[u] = std::move(names);
}

bool Emitter::Divisible(const UOp* idx, int64_t w) {
  if (w == 1) return true;
  if (idx->is_const()) return idx->const_int() % w == 0;
  UOpPtr m = Simplify(UOpPtr::FromBorrowed(idx) % w);
  return m->is_const() && m->const_int() == 0;
}

std::string Emitter::SafeDivisor(const UOp* u, int l) {
  const UOpPtr& d = u->src(1);
  const std::string& b = Lane(d, l);
  DType t = d->dtype().Scalar();
  if (d->is_const() && d->const_int() != 0 && d->const_int() != -1) return b;
  if (t.scalar_type() == ScalarType::kIndex && d->vmin() > 0) return b;
  std::string bad = absl::StrCat("(", b, ") == 0");
  if (!t.is_unsigned() && t.scalar_type() != ScalarType::kIndex) {
    // INT_MIN / -1 overflows (and traps): divide by 1 instead.
    bad = absl::StrCat("(", bad, " || ((", b, ") == -1 && (", Lane(u->src(0), l),
                       ") == ", IntLiteral(t, IntMinOf(t)), "))");
  }
  return absl::StrCat("((", bad, ") ? (", RegType(t, d.get()), ")1 : (", b, "))");
}

std::string Emitter::CastLane(const std::string& v, DType from, DType to, const UOp* to_node) {
  if (to.is_bool()) return absl::StrCat("((", v, ") != 0)");
  std::string x = v;
  if (from.is_bool()) x = absl::StrCat("(int)(", v, ")");
  if (from.is_float() && to.is_int()) {
    const int64_t type_min = to.is_unsigned() ? 0 : IntMinOf(to);
    x = absl::StrCat("uop_f2i((double)(", v, "), ", IntLiteral(DType::Int64(), type_min), ")");
  }
  std::string c = absl::StrCat("(", RegType(to, to_node), ")(", x, ")");
  if (to.scalar_type() == ScalarType::kFloat16) return absl::StrCat("uop_rh(", c, ")");
  if (to.scalar_type() == ScalarType::kBFloat16) return absl::StrCat("uop_rbf(", c, ")");
  return c;
}

std::string Emitter::BitcastLane(const std::string& v, DType from, DType to) {
  // Through the memory representation: bits of `from`, read as `to`.
  std::string bits;
  const int size = from.itemsize();
  if (IsHalfLike(from)) {
    bits = ToMem(v, from);
  } else if (from.scalar_type() == ScalarType::kFloat32) {
    bits = absl::StrCat("__float_as_uint(", v, ")");
  } else if (from.scalar_type() == ScalarType::kFloat64) {
    bits = absl::StrCat("(unsigned long long)__double_as_longlong(", v, ")");
  } else {
    bits = v;
  }
  const char* ut = size == 2   ? "unsigned short"
                   : size == 4 ? "unsigned int"
                   : size == 8 ? "unsigned long long"
                               : "unsigned char";
  bits = absl::StrCat("(", ut, ")(", bits, ")");
  if (IsHalfLike(to)) return FromMem(bits, to);
  if (to.scalar_type() == ScalarType::kFloat32) return absl::StrCat("__uint_as_float(", bits, ")");
  if (to.scalar_type() == ScalarType::kFloat64) {
    return absl::StrCat("__longlong_as_double((long long)", bits, ")");
  }
  return absl::StrCat("(", RegType(to), ")", bits);
}

std::string Emitter::AluLane(const UOp* u, int l, const std::string& type) {
  auto s = [&](int i) { return Lane(u->src(i), l); };
  DType d = u->dtype().Scalar();
  DType sd = u->src(0)->dtype().Scalar();
  const bool wrap = NeedsWrap(d);
  auto arith = [&](const char* op) {
    if (wrap) {
      std::string ut = UnsignedOf(d);
      return absl::StrCat("(", type, ")((", ut, ")(", s(0), ") ", op, " (", ut, ")(", s(1), "))");
    }
    if (type == "long long" && d.scalar_type() == ScalarType::kIndex) {
      return absl::StrCat("((long long)(", s(0), ") ", op, " (", s(1), "))");
    }
    return absl::StrCat("(", type, ")((", s(0), ") ", op, " (", s(1), "))");
  };
  switch (u->op()) {
    case Op::kAdd:
      return d.is_bool() ? absl::StrCat("(", s(0), " || ", s(1), ")") : arith("+");
    case Op::kSub:
      return arith("-");
    case Op::kMul:
      return d.is_bool() ? absl::StrCat("(", s(0), " && ", s(1), ")") : arith("*");
    case Op::kFdiv:
      return absl::StrCat("((", s(0), ") / (", s(1), "))");
    case Op::kIdiv:
    case Op::kMod: {
      const char* op = u->op() == Op::kIdiv ? "/" : "%";
      if (type == "long long") {
        return absl::StrCat("((long long)(", s(0), ") ", op, " ", SafeDivisor(u, l), ")");
      }
      return absl::StrCat("(", type, ")((", s(0), ") ", op, " ", SafeDivisor(u, l), ")");
    }
    case Op::kMax:
      if (d.is_float()) {
        // NaN in either source gives NaN (numpy's maximum).
        return absl::StrCat("((", s(0), ") != (", s(0), ") ? (", s(0), ") : ((", s(0), ") > (",
                            s(1), ") ? (", s(0), ") : (", s(1), ")))");
      }
      if (d.is_bool()) return absl::StrCat("(", s(0), " || ", s(1), ")");
      return absl::StrCat("((", s(0), ") > (", s(1), ") ? (", s(0), ") : (", s(1), "))");
    case Op::kCmpLt:
      return absl::StrCat("((", s(0), ") < (", s(1), "))");
    case Op::kCmpNe:
      return absl::StrCat("((", s(0), ") != (", s(1), "))");
    case Op::kCmpEq:
      return absl::StrCat("((", s(0), ") == (", s(1), "))");
    case Op::kAnd:
      return absl::StrCat("(", type, ")((", s(0), ") & (", s(1), "))");
    case Op::kOr:
      return absl::StrCat("(", type, ")((", s(0), ") | (", s(1), "))");
    case Op::kXor:
      return absl::StrCat("(", type, ")((", s(0), ") ^ (", s(1), "))");
    case Op::kShl:
    case Op::kShr: {
      // Shift amounts past the width are masked (as on the CPU).
      const int bits = d.itemsize() * 8;
      std::string amt = absl::StrCat("((", s(1), ") & ", bits - 1, ")");
      if (u->op() == Op::kShl && !d.is_unsigned()) {
        std::string ut = bits == 64 ? "unsigned long long" : "unsigned int";
        return absl::StrCat("(", type, ")((", ut, ")(", s(0), ") << ", amt, ")");
      }
      return absl::StrCat("(", type, ")((", s(0), ") ", u->op() == Op::kShl ? "<<" : ">>", " ", amt,
                          ")");
    }
    case Op::kNeg:
      if (d.is_bool()) return absl::StrCat("(!(", s(0), "))");
      if (wrap) {
        return absl::StrCat("(", type, ")(0 - (", UnsignedOf(d), ")(", s(0), "))");
      }
      return absl::StrCat("(", type, ")(-(", s(0), "))");
    case Op::kRecip:
      return absl::StrCat("(", d.scalar_type() == ScalarType::kFloat64 ? "1.0" : "1.0f", " / (",
                          s(0), "))");
    case Op::kSqrt:
    case Op::kTrunc:
    case Op::kExp2:
    case Op::kLog2:
    case Op::kSin: {
      const bool dbl = d.scalar_type() == ScalarType::kFloat64;
      const char* fn = u->op() == Op::kSqrt    ? "sqrt"
                       : u->op() == Op::kTrunc ? "trunc"
                       : u->op() == Op::kExp2  ? "exp2"
                       : u->op() == Op::kLog2  ? "log2"
                                               : "sin";
      std::string call = absl::StrCat(fn, dbl ? "" : "f", "(", s(0), ")");
      if (d.scalar_type() == ScalarType::kFloat16) return absl::StrCat("uop_rh(", call, ")");
      if (d.scalar_type() == ScalarType::kBFloat16) return absl::StrCat("uop_rbf(", call, ")");
      return call;
    }
    case Op::kWhere:
      return absl::StrCat("((", s(0), ") ? (", s(1), ") : (", s(2), "))");
    case Op::kMulAcc:
      if (wrap) {
        std::string ut = UnsignedOf(d);
        return absl::StrCat("(", type, ")((", ut, ")(", s(0), ") * (", ut, ")(", s(1), ") + (", ut,
                            ")(", s(2), "))");
      }
      return absl::StrCat("((", s(0), ") * (", s(1), ") + (", s(2), "))");
    case Op::kCast:
      return CastLane(s(0), sd, d, u);
    case Op::kBitcast:
      return BitcastLane(s(0), sd, d);
    default:
      return "";
  }
}

absl::Status Emitter::EmitAlu(const UOp* u, const std::string& name) {
  DType d = u->dtype();
  if (u->op() == Op::kBitcast) {
    DType from = u->src(0)->dtype();
    if (from.itemsize() != d.itemsize() || from.count() != d.count() || from.is_bool() ||
        d.is_bool()) {
      return absl::InvalidArgumentError(absl::StrCat("CUDA renderer: BITCAST ", from.ToString(),
                                                     " -> ", d.ToString(), " changes size"));
    }
  }
  if ((u->op() == Op::kIdiv || u->op() == Op::kMod) && d.is_float()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CUDA renderer: ", OpName(u->op()), " on float ", d.ToString()));
  }
  const std::string type = RegType(d.Scalar(), u);
  // 16-bit floats live in float registers: arithmetic rounds its result to
  // the type, as the op computed in that type would (selects, negation and
  // casts need no rounding; the transcendentals round themselves).
  const Op op = u->op();
  const bool rounds =
      IsHalfLike(d) && (op == Op::kAdd || op == Op::kSub || op == Op::kMul || op == Op::kFdiv ||
                        op == Op::kRecip || op == Op::kMulAcc || op == Op::kPow);
  const char* round = d.scalar_type() == ScalarType::kFloat16 ? "uop_rh" : "uop_rbf";
  std::vector<std::string> exprs;
  for (int l = 0; l < d.count(); ++l) {
    std::string e = AluLane(u, l, type);
    if (e.empty()) {
      return absl::UnimplementedError(
          absl::StrCat("CUDA renderer: cannot render ", u->ShortString()));
    }
    exprs.push_back(rounds ? absl::StrCat(round, "(", e, ")") : std::move(e));
  }
  Define(u, name, type, exprs);
  return absl::OkStatus();
}

absl::Status Emitter::EmitLoad(const UOp* u, const std::string& name) {
  const IndexInfo& ix = indexes_.at(u->src(0).get());
  DType d = u->dtype();
  const int w = d.count();
  const std::string type = RegType(d.Scalar());
  std::vector<std::string> exprs(w);
  if (ix.reg) {
    for (int l = 0; l < w; ++l) exprs[l] = w == 1 ? ix.reg_name : absl::StrCat(ix.reg_name, "_", l);
    Define(u, name, type, exprs);
    return absl::OkStatus();
  }
  auto element = [&](int l) {
    return FromMem(absl::StrCat(ix.ptr, "[", ix.idx, l ? absl::StrCat(" + ", l) : "", "]"),
                   ix.elem);
  };
  // Gated: lanes outside the gate read `alt` and never touch memory.
  if (ix.valid.size() > 1 || (ix.valid.size() == 1 && w == 1)) {
    for (int l = 0; l < w; ++l) {
      const std::string& v = ix.valid.size() > 1 ? ix.valid[l] : ix.valid[0];
      exprs[l] = absl::StrCat("((", v, ") ? ", element(l), " : (", Lane(u->src(1), l), "))");
    }
    Define(u, name, type, exprs);
    return absl::OkStatus();
  }
  const int bytes = w * ix.elem.itemsize();
  const bool wide =
      w > 1 && (bytes == 4 || bytes == 8 || bytes % 16 == 0) && Divisible(ix.idx_node, w);
  std::vector<std::string> names(w);
  for (int l = 0; l < w; ++l) names[l] = w == 1 ? name : absl::StrCat(name, "_", l);
  const bool half_like = IsHalfLike(ix.elem);
  if (!wide) {
    if (ix.valid.empty()) {
      std::vector<std::string> raw;
      for (int l = 0; l < w; ++l) {
        std::string bits = absl::StrCat(ix.ptr, "[", ix.idx, l ? absl::StrCat(" + ", l) : "", "]");
        if (half_like) {
          raw.push_back(w == 1 ? absl::StrCat(name, "r") : absl::StrCat(name, "r_", l));
          Line(absl::StrCat("unsigned short ", raw.back(), " = ", bits, ";"));
          bits = raw.back();
        }
        exprs[l] = FromMem(bits, ix.elem);
      }
      Define(u, name, type, exprs);
      if (half_like) raw_[u] = std::move(raw);
      return absl::OkStatus();
    }
    Line(absl::StrCat(type, " ", absl::StrJoin(names, ", "), ";"));
    Line(absl::StrCat("if (", ix.valid[0], ") {"));
    for (int l = 0; l < w; ++l) Line(absl::StrCat("  ", names[l], " = ", element(l), ";"));
    Line("} else {");
    for (int l = 0; l < w; ++l) Line(absl::StrCat("  ", names[l], " = ", Lane(u->src(1), l), ";"));
    Line("}");
    lanes_[u] = names;
    return absl::OkStatus();
  }
  // One aligned access per 16 bytes (or one 4/8-byte access).
  const std::string mt = MemType(ix.elem);
  const int per = std::min(w, std::max(1, 16 / ix.elem.itemsize()));
  const bool keep_raw = half_like && ix.valid.empty();
  std::vector<std::string> raw;
  Line(absl::StrCat(type, " ", absl::StrJoin(names, ", "), ";"));
  if (keep_raw) {
    for (int l = 0; l < w; ++l) raw.push_back(absl::StrCat(name, "r_", l));
    Line(absl::StrCat("unsigned short ", absl::StrJoin(raw, ", "), ";"));
  }
  if (!ix.valid.empty()) Line(absl::StrCat("if (", ix.valid[0], ") {"));
  for (int c = 0; c < w; c += per) {
    std::string t = absl::StrCat("t", tmp_++);
    Line(absl::StrCat("{ uop_vec<", mt, ", ", per, "> ", t, " = *(const uop_vec<", mt, ", ", per,
                      ">*)(", ix.ptr, " + ", ix.idx, c ? absl::StrCat(" + ", c) : "", ");"));
    for (int l = 0; l < per; ++l) {
      std::string bits = absl::StrCat(t, ".v[", l, "]");
      if (keep_raw) {
        Line(absl::StrCat("  ", raw[c + l], " = ", bits, ";"));
        bits = raw[c + l];
      }
      Line(absl::StrCat("  ", names[c + l], " = ", FromMem(bits, ix.elem), ";"));
    }
    Line("}");
  }
  if (keep_raw) raw_[u] = std::move(raw);
  if (!ix.valid.empty()) {
    Line("} else {");
    for (int l = 0; l < w; ++l) Line(absl::StrCat("  ", names[l], " = ", Lane(u->src(1), l), ";"));
    Line("}");
  }
  lanes_[u] = names;
  return absl::OkStatus();
}

absl::Status Emitter::EmitStore(const UOp* u) {
  const IndexInfo& ix = indexes_.at(u->src(0).get());
  const UOpPtr& v = u->src(1);
  const int w = v->dtype().count();
  if (ix.reg) {
    for (int l = 0; l < w; ++l) {
      Line(absl::StrCat(w == 1 ? ix.reg_name : absl::StrCat(ix.reg_name, "_", l), " = ", Lane(v, l),
                        ";"));
    }
    return absl::OkStatus();
  }
  auto element = [&](int l) {
    return absl::StrCat(ix.ptr, "[", ix.idx, l ? absl::StrCat(" + ", l) : "", "]");
  };
  if (ix.valid.size() > 1) {
    for (int l = 0; l < w; ++l) {
      Line(absl::StrCat("if (", ix.valid[l], ") ", element(l), " = ", Bits(v, l, ix.elem), ";"));
    }
    return absl::OkStatus();
  }
  const int bytes = w * ix.elem.itemsize();
  const bool wide =
      w > 1 && (bytes == 4 || bytes == 8 || bytes % 16 == 0) && Divisible(ix.idx_node, w);
  if (!ix.valid.empty()) {
    Line(absl::StrCat("if (", ix.valid[0], ") {"));
    ++depth_;
  }
  if (!wide) {
    for (int l = 0; l < w; ++l) {
      Line(absl::StrCat(element(l), " = ", Bits(v, l, ix.elem), ";"));
    }
  } else {
    const std::string mt = MemType(ix.elem);
    const int per = std::min(w, std::max(1, 16 / ix.elem.itemsize()));
    for (int c = 0; c < w; c += per) {
      std::string t = absl::StrCat("t", tmp_++);
      std::vector<std::string> vals;
      for (int l = 0; l < per; ++l) vals.push_back(Bits(v, c + l, ix.elem));
      Line(absl::StrCat("{ uop_vec<", mt, ", ", per, "> ", t, " = {{", absl::StrJoin(vals, ", "),
                        "}}; *(uop_vec<", mt, ", ", per, ">*)(", ix.ptr, " + ", ix.idx,
                        c ? absl::StrCat(" + ", c) : "", ") = ", t, "; }"));
    }
  }
  if (!ix.valid.empty()) {
    --depth_;
    Line("}");
  }
  return absl::OkStatus();
}

absl::Status Emitter::EmitOp(const UOp* u, int index) {
  const std::string name = absl::StrCat("v", index);
  DType d = u->dtype();
  switch (u->op()) {
    case Op::kConst:
      lanes_[u] = std::vector<std::string>(d.count(), Literal(*u));
      return absl::OkStatus();
    case Op::kVConst: {
      std::vector<std::string> lanes;
      for (int64_t v : u->arg().get<std::vector<int64_t>>())
        lanes.push_back(IntLiteral(d.Scalar(), v));
      lanes_[u] = std::move(lanes);
      return absl::OkStatus();
    }
    case Op::kDefineGlobal: {
      const int64_t slot = u->arg().get<int64_t>();
      lanes_[u] = {absl::StrCat("data", slot)};
      globals_.try_emplace(slot, std::make_pair(d, false));
      return absl::OkStatus();
    }
    case Op::kDefineLocal: {
      const std::string n = absl::StrCat("smem", u->arg().get<int64_t>());
      const std::string type = MemType(d.Base().Scalar());
      const int64_t bytes = std::max<int64_t>(d.ptr_size(), 1) * d.Base().itemsize();
      if (dynamic_shared_) {
        // Past the static limit: parts of the launch's dynamic shared memory.
        absl::StrAppend(&shared_decls_, "  ", type, "* ", n, " = (", type, "*)(uop_smem + ",
                        shared_bytes_, ");\n");
      } else {
        absl::StrAppend(&shared_decls_, "  __shared__ __align__(16) ", type, " ", n, "[",
                        std::max<int64_t>(d.ptr_size(), 1), "];\n");
      }
      shared_bytes_ += (bytes + 15) / 16 * 16;
      lanes_[u] = {n};
      return absl::OkStatus();
    }
    case Op::kDefineVar:
      lanes_[u] = {absl::StrCat("var_", u->arg().get<VarArg>().name)};
      vars_.push_back(u->arg().get<VarArg>().name);
      return absl::OkStatus();
    case Op::kSpecial: {
      const std::string& s = u->arg().get<std::string>();
      const char* dims = "xyz";
      if (s.size() != 5 || (s.rfind("gidx", 0) != 0 && s.rfind("lidx", 0) != 0) || s[4] < '0' ||
          s[4] > '2') {
        return absl::InvalidArgumentError(
            absl::StrCat("CUDA renderer: SPECIAL '", s, "' has no CUDA meaning"));
      }
      specials_[s] = u->src(0)->const_int();
      lanes_[u] = {absl::StrCat("(int)", s[0] == 'g' ? "blockIdx." : "threadIdx.",
                                std::string(1, dims[s[4] - '0']))};
      return absl::OkStatus();
    }
    case Op::kDefineReg: {
      DType base = d.Base();
      std::vector<std::string> lanes;
      for (int l = 0; l < base.count(); ++l) {
        lanes.push_back(base.count() == 1 ? name : absl::StrCat(name, "_", l));
      }
      Line(absl::StrCat(RegType(base.Scalar()), " ", absl::StrJoin(lanes, ", "), ";"));
      lanes_[u] = {name};
      return absl::OkStatus();
    }
    case Op::kIndex: {
      IndexInfo ix;
      const UOp* buf = u->src(0).get();
      ix.elem = buf->dtype().Base().Scalar();
      if (buf->op() == Op::kDefineReg) {
        ix.reg = true;
        ix.reg_name = lanes_.at(buf)[0];
      } else {
        ix.ptr = lanes_.at(buf)[0];
        ix.idx = Lane(u->src(1), 0);
        ix.idx_node = u->src(1).get();
      }
      if (u->num_srcs() > 2) ix.valid = lanes_.at(u->src(2).get());
      indexes_[u] = std::move(ix);
      return absl::OkStatus();
    }
    case Op::kLoad:
      return EmitLoad(u, name);
    case Op::kStore: {
      const UOp* buf = u->src(0)->src(0).get();
      if (buf->op() == Op::kDefineGlobal) globals_[buf->arg().get<int64_t>()].second = true;
      return EmitStore(u);
    }
    case Op::kRange: {
      const std::string type = FitsInt32(*u->src(0)) ? "int" : "long long";
      Line(absl::StrCat("for (", type, " ", name, " = 0; ", name, " < ", Lane(u->src(0), 0), "; ++",
                        name, ") {"));
      ++depth_;
      lanes_[u] = {name};
      return absl::OkStatus();
    }
    case Op::kEndRange:
      --depth_;
      Line("}");
      return absl::OkStatus();
    case Op::kBarrier:
      Line("__syncthreads();");
      return absl::OkStatus();
    case Op::kIf:
      Line(absl::StrCat("if (", Lane(u->src(0), 0), ") {"));
      ++depth_;
      return absl::OkStatus();
    case Op::kEndIf:
      --depth_;
      Line("}");
      return absl::OkStatus();
    case Op::kVectorize: {
      std::vector<std::string> lanes, raw;
      for (const UOpPtr& s : u->src()) {
        lanes.push_back(Lane(s, 0));
        auto it = raw_.find(s.get());
        if (it != raw_.end()) raw.push_back(it->second[0]);
      }
      lanes_[u] = std::move(lanes);
      if (raw.size() == u->num_srcs()) raw_[u] = std::move(raw);
      return absl::OkStatus();
    }
    case Op::kGep: {
      std::vector<std::string> lanes, raw;
      auto it = raw_.find(u->src(0).get());
      for (int64_t l : u->arg().get<std::vector<int64_t>>()) {
        lanes.push_back(Lane(u->src(0), l));
        if (it != raw_.end()) raw.push_back(it->second.size() == 1 ? it->second[0] : it->second[l]);
      }
      lanes_[u] = std::move(lanes);
      if (it != raw_.end()) raw_[u] = std::move(raw);
      return absl::OkStatus();
    }
    case Op::kNoop:
      lanes_[u] = u->num_srcs() ? lanes_.at(u->src(0).get()) : std::vector<std::string>{""};
      return absl::OkStatus();
    case Op::kWmma:
      return EmitWmma(u, name);
    case Op::kCustom:
      if (const auto* ld = u->arg().object<LdMatrixArg>()) {
        const IndexInfo& ix = indexes_.at(u->src(0).get());
        std::vector<std::string> regs, raw, lanes;
        for (int q = 0; q < ld->count(); ++q) regs.push_back(absl::StrCat(name, "m", q));
        Line(absl::StrCat("unsigned ", absl::StrJoin(regs, ", "), ";"));
        for (const std::string& l :
             RenderLdMatrix(*ld, absl::StrCat(ix.ptr, " + ", ix.idx), regs)) {
          Line(l);
        }
        for (int q = 0; q < ld->count(); ++q) {
          raw.push_back(absl::StrCat("(unsigned short)(", regs[q], ")"));
          raw.push_back(absl::StrCat("(unsigned short)(", regs[q], " >> 16)"));
        }
        for (const std::string& r : raw) lanes.push_back(FromMem(r, ix.elem));
        lanes_[u] = std::move(lanes);
        raw_[u] = std::move(raw);
        return absl::OkStatus();
      }
      if (const auto* cp = u->arg().object<AsyncCopyArg>()) {
        std::string dst, src;
        if (cp->kind() == AsyncCopyArg::kCopy16) {
          const IndexInfo& d = indexes_.at(u->src(0).get());
          const IndexInfo& g = indexes_.at(u->src(1).get());
          dst = absl::StrCat(d.ptr, " + ", d.idx);
          src = absl::StrCat(g.ptr, " + ", g.idx);
        }
        Line(RenderAsyncCopy(*cp, dst, src));
        return absl::OkStatus();
      }
      return absl::UnimplementedError(
          absl::StrCat("CUDA renderer: cannot render ", u->ShortString()));
    case Op::kSink:
      return absl::OkStatus();
    default:
      if (IsElementwise(u->op())) return EmitAlu(u, name);
      return absl::UnimplementedError(
          absl::StrCat("CUDA renderer: cannot render ", u->ShortString()));
  }
}

absl::Status Emitter::EmitWmma(const UOp* u, const std::string& name) {
  const WmmaArg* w = u->arg().object<WmmaArg>();
  if (w == nullptr) return absl::InvalidArgumentError("CUDA renderer: WMMA without a WmmaArg");
  std::vector<std::string> a, b, c;
  for (int l = 0; l < u->src(0)->dtype().count(); ++l) a.push_back(Bits(u->src(0), l, w->in()));
  for (int l = 0; l < u->src(1)->dtype().count(); ++l) b.push_back(Bits(u->src(1), l, w->in()));
  for (int l = 0; l < u->src(2)->dtype().count(); ++l) c.push_back(Lane(u->src(2), l));
  absl::StatusOr<std::vector<std::string>> lines = RenderMmaSync(*w, a, b, c, name);
  if (!lines.ok()) return lines.status();
  std::vector<std::string> out;
  for (int l = 0; l < u->dtype().count(); ++l) out.push_back(absl::StrCat(name, "_", l));
  Line(absl::StrCat("float ", absl::StrJoin(out, ", "), ";"));
  for (const std::string& s : *lines) Line(s);
  lanes_[u] = std::move(out);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Emitter::Run(const std::string& name,
                                         absl::Span<const UOpPtr> program) {
  int64_t shared = 0;
  for (const UOpPtr& u : program) {
    if (u->op() == Op::kDefineLocal) {
      shared += (std::max<int64_t>(u->dtype().ptr_size(), 1) * u->dtype().Base().itemsize() + 15) /
                16 * 16;
    }
  }
  dynamic_shared_ = shared > target_.max_shared_bytes;
  for (size_t i = 0; i < program.size(); ++i) {
    absl::Status st = EmitOp(program[i].get(), static_cast<int>(i));
    if (!st.ok()) return st;
  }
  std::sort(vars_.begin(), vars_.end());
  vars_.erase(std::unique(vars_.begin(), vars_.end()), vars_.end());
  const int64_t num_globals = globals_.empty() ? 0 : globals_.rbegin()->first + 1;
  std::vector<std::string> params;
  for (int64_t slot = 0; slot < num_globals; ++slot) {
    auto it = globals_.find(slot);
    if (it == globals_.end()) {
      params.push_back(absl::StrCat("const void* __restrict__ unused", slot));
      continue;
    }
    const DType elem = it->second.first.Base().Scalar();
    params.push_back(absl::StrCat(it->second.second ? "" : "const ", MemType(elem),
                                  "* __restrict__ data", slot));
  }
  for (const std::string& v : vars_) params.push_back(absl::StrCat("long long var_", v));
  int64_t threads = 1;
  for (const auto& [s, end] : specials_)
    if (s[0] == 'l') threads *= end;
  std::string out;
  absl::StrAppend(&out, "// uop kernel ", name, "\n// uop-abi: globals=", num_globals,
                  " vars=", vars_.size(), " shared=", dynamic_shared_ ? shared_bytes_ : 0, "\n",
                  kPrelude);
  if (dynamic_shared_) {
    absl::StrAppend(&out, "extern __shared__ __align__(16) unsigned char uop_smem[];\n");
  }
  absl::StrAppend(&out, "extern \"C\" __global__ void __launch_bounds__(", threads, ") ", name, "(",
                  absl::StrJoin(params, ", "), ") {\n", shared_decls_, body_, "}\n");
  return out;
}

}  // namespace

CudaRenderer::CudaRenderer(CudaTarget target) : target_(target) {
  caps_.language = "cuda";
  caps_.has_local = true;
  caps_.has_shared = true;
  caps_.has_threads = false;
  caps_.max_threads = 1;
  caps_.max_vector_bytes = 16;
  caps_.global_max = {(int64_t{1} << 31) - 1, 65535, 65535};
  caps_.local_max = {1024, 1024, 64};
  caps_.native_transcendentals = false;
  caps_.tensor_cores = target.sm >= 80 ? 1 : 0;
}

absl::StatusOr<std::string> CudaRenderer::Render(const std::string& name,
                                                 absl::Span<const UOpPtr> program) const {
  return Emitter(target_).Run(name, program);
}

int ParseSmArch(absl::string_view description) {
  size_t at = description.find("sm_");
  if (at == absl::string_view::npos) return 0;
  size_t end = at + 3;
  while (end < description.size() && description[end] >= '0' && description[end] <= '9') ++end;
  int sm = 0;
  if (!absl::SimpleAtoi(description.substr(at + 3, end - at - 3), &sm)) return 0;
  return sm;
}

}  // namespace uop
