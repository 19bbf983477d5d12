#include "runtime/codegen/opencl_renderer.h"

#include <algorithm>
#include <cinttypes>
#include <climits>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "runtime/uop/symbolic.h"

namespace uop {
namespace {

// Exact float16 / bfloat16 conversions in integer OpenCL C (no cl_khr_fp16).
constexpr char kHalfHelpers[] = R"(float uop_h2f(ushort h) {
  uint s = (uint)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0u) { float v = (float)m * 5.9604644775390625e-08f; return s != 0u ? -v : v; }
  if (e == 31u) return as_float(s | 0x7f800000u | (m << 13));
  return as_float(s | ((e + 112u) << 23) | (m << 13));
}
ushort uop_f2h(float f) {
  uint x = as_uint(f), s = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return (ushort)(s | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x477ff000u) return (ushort)(s | 0x7c00u);
  if (a < 0x38800000u) {
    if (a <= 0x33000000u) return (ushort)s;
    uint m = (a & 0x7fffffu) | 0x800000u, sh = 126u - (a >> 23);
    uint r = m >> sh, rem = m & ((1u << sh) - 1u), mid = 1u << (sh - 1u);
    if (rem > mid || (rem == mid && (r & 1u) != 0u)) r += 1u;
    return (ushort)(s | r);
  }
  uint e = a - 0x38000000u;
  return (ushort)(s | ((e + 0xfffu + ((e >> 13) & 1u)) >> 13));
}
float uop_rh(float f) { return uop_h2f(uop_f2h(f)); }
)";
constexpr char kBf16Helpers[] = R"(float uop_bf2f(ushort b) { return as_float((uint)b << 16); }
ushort uop_f2bf(float f) {
  uint x = as_uint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (ushort)((x >> 16) | 0x40u);
  return (ushort)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
float uop_rbf(float f) { return uop_bf2f(uop_f2bf(f)); }
)";

bool FitsInt32(const UOp& u) { return u.vmin() >= INT32_MIN && u.vmax() <= INT32_MAX; }
bool IsHalf(DType d) { return d.scalar_type() == ScalarType::kFloat16; }
bool IsBf16(DType d) { return d.scalar_type() == ScalarType::kBFloat16; }
bool IsHalfLike(DType d) { return IsHalf(d) || IsBf16(d); }

// Type of a value in a variable (index by the node's bounds).
std::string RegType(DType d, const UOp* u = nullptr) {
  switch (d.scalar_type()) {
    case ScalarType::kBool:
      return "bool";
    case ScalarType::kInt8:
      return "char";
    case ScalarType::kUInt8:
      return "uchar";
    case ScalarType::kInt16:
      return "short";
    case ScalarType::kUInt16:
      return "ushort";
    case ScalarType::kInt32:
      return "int";
    case ScalarType::kUInt32:
      return "uint";
    case ScalarType::kInt64:
      return "long";
    case ScalarType::kUInt64:
      return "ulong";
    case ScalarType::kIndex:
      return u != nullptr && FitsInt32(*u) ? "int" : "long";
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
  if (d.is_bool()) return "uchar";
  if (IsHalfLike(d)) return "ushort";
  if (d.scalar_type() == ScalarType::kIndex) return "long";
  return RegType(d);
}

std::string IntLiteral(DType d, int64_t v) {
  if (d.is_bool()) return v ? "true" : "false";
  if (d.scalar_type() == ScalarType::kUInt64) return absl::StrCat(static_cast<uint64_t>(v), "UL");
  if (d.scalar_type() == ScalarType::kUInt32) return absl::StrCat(static_cast<uint32_t>(v), "u");
  if (v == INT64_MIN) return "(-9223372036854775807L - 1L)";
  if (v < INT32_MIN || v > INT32_MAX || d.scalar_type() == ScalarType::kInt64) {
    return absl::StrCat("(", v, "L)");
  }
  return v < 0 ? absl::StrCat("(", v, ")") : absl::StrCat(v);
}

std::string FloatLiteral(DType d, double v) {
  const bool dbl = d.scalar_type() == ScalarType::kFloat64;
  if (IsHalf(d)) v = HalfToFloat(FloatToHalf(static_cast<float>(v)));
  if (IsBf16(d)) v = BFloat16ToFloat(FloatToBFloat16(static_cast<float>(v)));
  if (std::isnan(v)) return dbl ? "as_double(0x7ff8000000000000UL)" : "as_float(0x7fc00000u)";
  if (std::isinf(v)) {
    if (dbl) return v > 0 ? "as_double(0x7ff0000000000000UL)" : "as_double(0xfff0000000000000UL)";
    return v > 0 ? "as_float(0x7f800000u)" : "as_float(0xff800000u)";
  }
  if (dbl) return absl::StrFormat("%.17g", v);
  std::string s = absl::StrFormat("%.9g", static_cast<float>(v));
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return absl::StrCat("(", s, "f)");
}

std::string Literal(const UOp& c) {
  DType d = c.dtype().Scalar();
  if (d.is_float()) return FloatLiteral(d, c.const_float());
  std::string lit = IntLiteral(d, c.const_int());
  if (d.itemsize() < 4 && !d.is_bool()) return absl::StrCat("((", RegType(d), ")", lit, ")");
  return lit;
}

bool NeedsWrap(DType d) {
  return d.scalar_type() == ScalarType::kInt32 || d.scalar_type() == ScalarType::kInt64;
}
std::string UnsignedOf(DType d) { return d.scalar_type() == ScalarType::kInt64 ? "ulong" : "uint"; }
int64_t IntMinOf(DType d) {
  if (d.scalar_type() == ScalarType::kIndex) return INT64_MIN;
  return d.is_unsigned() ? 0 : d.min_int();
}

class Emitter {
 public:
  explicit Emitter(const OpenClTarget& target) : target_(target) {}
  absl::StatusOr<std::string> Run(const std::string& name, absl::Span<const UOpPtr> program);

 private:
  struct IndexInfo {
    std::string ptr;
    std::string idx;
    std::vector<std::string> valid;  // empty: always; 1: scalar gate; W: per lane
    DType elem;
    bool reg = false;
    std::string reg_name;
  };

  absl::Status EmitOp(const UOp* u, int index);
  absl::Status EmitLoad(const UOp* u, const std::string& name);
  absl::Status EmitStore(const UOp* u);
  absl::Status EmitAlu(const UOp* u, const std::string& name);
  absl::Status CheckType(DType d, const UOp* u);
  std::string AluLane(const UOp* u, int l, const std::string& type);
  std::string CastLane(const std::string& v, DType from, DType to, const UOp* to_node);
  std::string BitcastLane(const std::string& v, DType from, DType to);
  std::string SafeDivisor(const UOp* u, int l);
  std::string FromMem(const std::string& e, DType d);
  std::string ToMem(const std::string& e, DType d);
  std::string Round(const std::string& e, DType d);

  const std::string& Lane(const UOpPtr& u, int l) {
    const std::vector<std::string>& v = lanes_.at(u.get());
    return v.size() == 1 ? v[0] : v.at(l);
  }
  void Line(const std::string& s) {
    absl::StrAppend(&body_, std::string(2 * depth_, ' '), s, "\n");
  }
  void Define(const UOp* u, const std::string& name, const std::string& type,
              const std::vector<std::string>& exprs);

  const OpenClTarget& target_;
  std::string body_;
  std::string local_decls_;
  int depth_ = 1;
  bool uses_half_ = false, uses_bf16_ = false, uses_fp64_ = false;
  absl::flat_hash_map<const UOp*, std::vector<std::string>> lanes_;
  absl::flat_hash_map<const UOp*, IndexInfo> indexes_;
  std::map<int64_t, std::pair<DType, bool>> globals_;  // slot -> (pointer dtype, written)
  std::vector<std::string> vars_;
  std::map<std::string, int64_t> specials_;
};

absl::Status Emitter::CheckType(DType d, const UOp* u) {
  if (d.scalar_type() == ScalarType::kFloat64) {
    if (!target_.fp64) {
      return absl::UnimplementedError(absl::StrCat(
          "OpenCL renderer: float64 needs cl_khr_fp64, which this target (Adreno) lacks: ",
          u->ShortString()));
    }
    uses_fp64_ = true;
  }
  if (IsHalf(d)) uses_half_ = true;
  if (IsBf16(d)) uses_bf16_ = true;
  return absl::OkStatus();
}

std::string Emitter::FromMem(const std::string& e, DType d) {
  if (d.is_bool()) return absl::StrCat("(", e, " != 0)");
  if (IsHalf(d)) return absl::StrCat("uop_h2f(", e, ")");
  if (IsBf16(d)) return absl::StrCat("uop_bf2f(", e, ")");
  return e;
}

std::string Emitter::ToMem(const std::string& e, DType d) {
  if (d.is_bool()) return absl::StrCat("(uchar)(", e, ")");
  if (IsHalf(d)) return absl::StrCat("uop_f2h(", e, ")");
  if (IsBf16(d)) return absl::StrCat("uop_f2bf(", e, ")");
  return e;
}

std::string Emitter::Round(const std::string& e, DType d) {
  if (IsHalf(d)) return absl::StrCat("uop_rh(", e, ")");
  if (IsBf16(d)) return absl::StrCat("uop_rbf(", e, ")");
  return e;
}

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

std::string Emitter::SafeDivisor(const UOp* u, int l) {
  const UOpPtr& d = u->src(1);
  const std::string& b = Lane(d, l);
  DType t = d->dtype().Scalar();
  if (d->is_const() && d->const_int() != 0 && d->const_int() != -1) return b;
  if (t.scalar_type() == ScalarType::kIndex && d->vmin() > 0) return b;
  std::string bad = absl::StrCat("(", b, ") == 0");
  if (!t.is_unsigned() && t.scalar_type() != ScalarType::kIndex) {
    // INT_MIN / -1 overflows: divide by 1 instead.
    bad = absl::StrCat("(", bad, " || ((", b, ") == -1 && (", Lane(u->src(0), l),
                       ") == ", IntLiteral(t, IntMinOf(t)), "))");
  }
  return absl::StrCat("((", bad, ") ? (", RegType(t, d.get()), ")1 : (", b, "))");
}

std::string Emitter::CastLane(const std::string& v, DType from, DType to, const UOp* to_node) {
  if (to.is_bool()) return absl::StrCat("((", v, ") != 0)");
  std::string x = from.is_bool() ? absl::StrCat("(int)(", v, ")") : v;
  return Round(absl::StrCat("(", RegType(to, to_node), ")(", x, ")"), to);
}

std::string Emitter::BitcastLane(const std::string& v, DType from, DType to) {
  const int size = from.itemsize();
  const char* ut = size == 2 ? "ushort" : size == 4 ? "uint" : size == 8 ? "ulong" : "uchar";
  std::string bits;
  if (IsHalfLike(from)) {
    bits = ToMem(v, from);
  } else if (from.scalar_type() == ScalarType::kFloat32) {
    bits = absl::StrCat("as_uint(", v, ")");
  } else if (from.scalar_type() == ScalarType::kFloat64) {
    bits = absl::StrCat("as_ulong(", v, ")");
  } else {
    bits = absl::StrCat("(", ut, ")(", v, ")");
  }
  if (IsHalfLike(to)) return FromMem(absl::StrCat("(ushort)(", bits, ")"), to);
  if (to.scalar_type() == ScalarType::kFloat32) return absl::StrCat("as_float((uint)(", bits, "))");
  if (to.scalar_type() == ScalarType::kFloat64)
    return absl::StrCat("as_double((ulong)(", bits, "))");
  return absl::StrCat("(", RegType(to), ")(", bits, ")");
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
    return Round(absl::StrCat("(", type, ")((", s(0), ") ", op, " (", s(1), "))"), d);
  };
  switch (u->op()) {
    case Op::kAdd:
      return d.is_bool() ? absl::StrCat("(", s(0), " || ", s(1), ")") : arith("+");
    case Op::kSub:
      return arith("-");
    case Op::kMul:
      return d.is_bool() ? absl::StrCat("(", s(0), " && ", s(1), ")") : arith("*");
    case Op::kFdiv:
      return Round(absl::StrCat("((", s(0), ") / (", s(1), "))"), d);
    case Op::kIdiv:
    case Op::kMod:
      return absl::StrCat("(", type, ")((", s(0), ") ", u->op() == Op::kIdiv ? "/" : "%", " ",
                          SafeDivisor(u, l), ")");
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
      const int bits = d.itemsize() * 8;
      std::string amt = absl::StrCat("((", s(1), ") & ", bits - 1, ")");
      if (u->op() == Op::kShl && !d.is_unsigned()) {
        const char* ut = bits == 64 ? "ulong" : "uint";
        return absl::StrCat("(", type, ")((", ut, ")(", s(0), ") << ", amt, ")");
      }
      return absl::StrCat("(", type, ")((", s(0), ") ", u->op() == Op::kShl ? "<<" : ">>", " ", amt,
                          ")");
    }
    case Op::kNeg:
      if (d.is_bool()) return absl::StrCat("(!(", s(0), "))");
      if (wrap) return absl::StrCat("(", type, ")(0 - (", UnsignedOf(d), ")(", s(0), "))");
      return absl::StrCat("(", type, ")(-(", s(0), "))");
    case Op::kRecip:
      return Round(absl::StrCat("(", d.scalar_type() == ScalarType::kFloat64 ? "1.0" : "1.0f",
                                " / (", s(0), "))"),
                   d);
    case Op::kSqrt:
    case Op::kTrunc:
    case Op::kExp2:
    case Op::kLog2:
    case Op::kSin: {
      const char* fn = u->op() == Op::kSqrt    ? "sqrt"
                       : u->op() == Op::kTrunc ? "trunc"
                       : u->op() == Op::kExp2  ? "exp2"
                       : u->op() == Op::kLog2  ? "log2"
                                               : "sin";
      return Round(absl::StrCat(fn, "(", s(0), ")"), d);
    }
    case Op::kWhere:
      return absl::StrCat("((", s(0), ") ? (", s(1), ") : (", s(2), "))");
    case Op::kMulAcc:
      if (wrap) {
        std::string ut = UnsignedOf(d);
        return absl::StrCat("(", type, ")((", ut, ")(", s(0), ") * (", ut, ")(", s(1), ") + (", ut,
                            ")(", s(2), "))");
      }
      return Round(absl::StrCat("((", s(0), ") * (", s(1), ") + (", s(2), "))"), d);
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
      return absl::InvalidArgumentError(absl::StrCat("OpenCL renderer: BITCAST ", from.ToString(),
                                                     " -> ", d.ToString(), " changes size"));
    }
  }
  if ((u->op() == Op::kIdiv || u->op() == Op::kMod) && d.is_float()) {
    return absl::InvalidArgumentError(
        absl::StrCat("OpenCL renderer: ", OpName(u->op()), " on float ", d.ToString()));
  }
  for (const UOpPtr& s : u->src()) {
    absl::Status st = CheckType(s->dtype().Scalar(), u);
    if (!st.ok()) return st;
  }
  const std::string type = RegType(d.Scalar(), u);
  std::vector<std::string> exprs;
  for (int l = 0; l < d.count(); ++l) {
    std::string e = AluLane(u, l, type);
    if (e.empty()) {
      return absl::UnimplementedError(
          absl::StrCat("OpenCL renderer: cannot render ", u->ShortString()));
    }
    exprs.push_back(std::move(e));
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
  if (ix.valid.empty()) {
    for (int l = 0; l < w; ++l) exprs[l] = element(l);
    Define(u, name, type, exprs);
    return absl::OkStatus();
  }
  // Gated: masked-off lanes read `alt` and never touch memory.
  if (ix.valid.size() > 1 || w == 1) {
    for (int l = 0; l < w; ++l) {
      const std::string& v = ix.valid.size() > 1 ? ix.valid[l] : ix.valid[0];
      exprs[l] = absl::StrCat("((", v, ") ? ", element(l), " : (", Lane(u->src(1), l), "))");
    }
    Define(u, name, type, exprs);
    return absl::OkStatus();
  }
  std::vector<std::string> names(w);
  for (int l = 0; l < w; ++l) names[l] = absl::StrCat(name, "_", l);
  Line(absl::StrCat(type, " ", absl::StrJoin(names, ", "), ";"));
  Line(absl::StrCat("if (", ix.valid[0], ") {"));
  for (int l = 0; l < w; ++l) Line(absl::StrCat("  ", names[l], " = ", element(l), ";"));
  Line("} else {");
  for (int l = 0; l < w; ++l) Line(absl::StrCat("  ", names[l], " = ", Lane(u->src(1), l), ";"));
  Line("}");
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
      Line(absl::StrCat("if (", ix.valid[l], ") ", element(l), " = ", ToMem(Lane(v, l), ix.elem),
                        ";"));
    }
    return absl::OkStatus();
  }
  if (!ix.valid.empty()) {
    Line(absl::StrCat("if (", ix.valid[0], ") {"));
    ++depth_;
  }
  for (int l = 0; l < w; ++l)
    Line(absl::StrCat(element(l), " = ", ToMem(Lane(v, l), ix.elem), ";"));
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
      if (absl::Status st = CheckType(d.Scalar(), u); !st.ok()) return st;
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
      if (absl::Status st = CheckType(d.Base().Scalar(), u); !st.ok()) return st;
      const int64_t slot = u->arg().get<int64_t>();
      lanes_[u] = {absl::StrCat("data", slot)};
      globals_.try_emplace(slot, std::make_pair(d, false));
      return absl::OkStatus();
    }
    case Op::kDefineLocal: {
      if (absl::Status st = CheckType(d.Base().Scalar(), u); !st.ok()) return st;
      const std::string n = absl::StrCat("smem", u->arg().get<int64_t>());
      absl::StrAppend(&local_decls_, "  __local ", MemType(d.Base().Scalar()), " ", n, "[",
                      std::max<int64_t>(d.ptr_size(), 1), "];\n");
      lanes_[u] = {n};
      return absl::OkStatus();
    }
    case Op::kDefineVar:
      lanes_[u] = {absl::StrCat("var_", u->arg().get<VarArg>().name)};
      vars_.push_back(u->arg().get<VarArg>().name);
      return absl::OkStatus();
    case Op::kSpecial: {
      const std::string& s = u->arg().get<std::string>();
      if (s.size() != 5 || (s.rfind("gidx", 0) != 0 && s.rfind("lidx", 0) != 0) || s[4] < '0' ||
          s[4] > '2') {
        return absl::InvalidArgumentError(
            absl::StrCat("OpenCL renderer: SPECIAL '", s, "' has no OpenCL meaning"));
      }
      specials_[s] = u->src(0)->const_int();
      lanes_[u] = {absl::StrCat("(int)", s[0] == 'g' ? "get_group_id(" : "get_local_id(",
                                std::string(1, s[4]), ")")};
      return absl::OkStatus();
    }
    case Op::kDefineReg: {
      DType base = d.Base();
      if (absl::Status st = CheckType(base.Scalar(), u); !st.ok()) return st;
      std::vector<std::string> lanes;
      for (int l = 0; l < base.count(); ++l)
        lanes.push_back(base.count() == 1 ? name : absl::StrCat(name, "_", l));
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
      }
      if (u->num_srcs() > 2) ix.valid = lanes_.at(u->src(2).get());
      indexes_[u] = std::move(ix);
      return absl::OkStatus();
    }
    case Op::kLoad:
      if (absl::Status st = CheckType(d.Scalar(), u); !st.ok()) return st;
      return EmitLoad(u, name);
    case Op::kStore: {
      const UOp* buf = u->src(0)->src(0).get();
      if (buf->op() == Op::kDefineGlobal) globals_[buf->arg().get<int64_t>()].second = true;
      return EmitStore(u);
    }
    case Op::kRange: {
      const std::string type = FitsInt32(*u->src(0)) ? "int" : "long";
      Line(absl::StrCat("for (", type, " ", name, " = 0; ", name, " < ", Lane(u->src(0), 0), "; ++",
                        name, ") {"));
      ++depth_;
      lanes_[u] = {name};
      return absl::OkStatus();
    }
    case Op::kEndRange:
    case Op::kEndIf:
      --depth_;
      Line("}");
      return absl::OkStatus();
    case Op::kBarrier:
      Line("barrier(CLK_LOCAL_MEM_FENCE);");
      return absl::OkStatus();
    case Op::kIf:
      Line(absl::StrCat("if (", Lane(u->src(0), 0), ") {"));
      ++depth_;
      return absl::OkStatus();
    case Op::kVectorize: {
      std::vector<std::string> lanes;
      for (const UOpPtr& s : u->src()) lanes.push_back(Lane(s, 0));
      lanes_[u] = std::move(lanes);
      return absl::OkStatus();
    }
    case Op::kGep: {
      std::vector<std::string> lanes;
      for (int64_t l : u->arg().get<std::vector<int64_t>>()) lanes.push_back(Lane(u->src(0), l));
      lanes_[u] = std::move(lanes);
      return absl::OkStatus();
    }
    case Op::kNoop:
      lanes_[u] = u->num_srcs() ? lanes_.at(u->src(0).get()) : std::vector<std::string>{""};
      return absl::OkStatus();
    case Op::kSink:
      return absl::OkStatus();
    default:
      if (IsElementwise(u->op())) return EmitAlu(u, name);
      return absl::UnimplementedError(
          absl::StrCat("OpenCL renderer: cannot render ", u->ShortString()));
  }
}

absl::StatusOr<std::string> Emitter::Run(const std::string& name,
                                         absl::Span<const UOpPtr> program) {
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
      params.push_back(absl::StrCat("__global const uchar* restrict unused", slot));
      continue;
    }
    params.push_back(absl::StrCat("__global ", it->second.second ? "" : "const ",
                                  MemType(it->second.first.Base().Scalar()), "* restrict data",
                                  slot));
  }
  for (const std::string& v : vars_) params.push_back(absl::StrCat("long var_", v));
  int64_t local[3] = {1, 1, 1};
  for (const auto& [s, end] : specials_)
    if (s[0] == 'l') local[s[4] - '0'] = end;
  if (local[0] * local[1] * local[2] > target_.max_workgroup) {
    return absl::InvalidArgumentError(absl::StrCat("OpenCL renderer: workgroup of ",
                                                   local[0] * local[1] * local[2],
                                                   " threads exceeds ", target_.max_workgroup));
  }
  std::string out;
  absl::StrAppend(&out, "// uop kernel ", name, "\n// uop-abi: globals=", num_globals,
                  " vars=", vars_.size(), " local=", local[0], ",", local[1], ",", local[2], "\n");
  if (uses_fp64_) absl::StrAppend(&out, "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n");
  if (uses_half_) absl::StrAppend(&out, kHalfHelpers);
  if (uses_bf16_) absl::StrAppend(&out, kBf16Helpers);
  absl::StrAppend(&out, "__kernel __attribute__((reqd_work_group_size(", local[0], ", ", local[1],
                  ", ", local[2], ")))\nvoid ", name, "(", absl::StrJoin(params, ", "), ") {\n",
                  local_decls_, body_, "}\n");
  return out;
}

}  // namespace

OpenClRenderer::OpenClRenderer(OpenClTarget target) : target_(target) {
  caps_.language = "opencl";
  caps_.has_local = true;
  // Workgroup-shared reductions need barriers the emulator cannot run yet;
  // kernels use the grid and per-thread registers only (docs/qcom.md).
  caps_.has_shared = false;
  caps_.has_threads = false;
  caps_.max_threads = 1;
  caps_.max_vector_bytes = 16;
  caps_.global_max = {65535, 65535, 65535};
  caps_.local_max = {target.max_workgroup, target.max_workgroup, 64};
  caps_.native_transcendentals = false;
}

absl::StatusOr<std::string> OpenClRenderer::Render(const std::string& name,
                                                   absl::Span<const UOpPtr> program) const {
  return Emitter(target_).Run(name, program);
}

}  // namespace uop
