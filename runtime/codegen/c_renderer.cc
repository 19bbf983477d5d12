#include "runtime/codegen/c_renderer.h"

#include <cmath>
#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace uop {
namespace {

// Helpers every kernel carries: exact float16/bfloat16 conversions, so no
// library call is ever needed.
constexpr char kPreamble[] = R"(#include <stdint.h>
#include <string.h>
static inline float uop_bits_f(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static inline uint32_t uop_f_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
static inline float uop_bf16_f(uint16_t h) { return uop_bits_f((uint32_t)h << 16); }
static inline uint16_t uop_f_bf16(float f) {
  uint32_t x = uop_f_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
  return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
static inline float uop_round_bf16(float f) { return uop_bf16_f(uop_f_bf16(f)); }
static inline float uop_h_f(uint16_t h) {
  uint32_t s = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ffu;
  if (e == 0) { float v = (float)m * 5.9604644775390625e-08f; return s ? -v : v; }
  if (e == 31) return uop_bits_f(s | 0x7f800000u | (m << 13));
  return uop_bits_f(s | ((e + 112) << 23) | (m << 13));
}
static inline uint16_t uop_f_h(float f) {
  uint32_t x = uop_f_bits(f), sign = (x >> 16) & 0x8000u, mant = x & 0x7fffffu;
  int32_t exp = (int32_t)((x >> 23) & 0xff);
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
  int32_t e = exp - 112;
  if (e >= 0x1f) return (uint16_t)(sign | 0x7c00u);
  if (e <= 0) {
    if (e < -10) return (uint16_t)sign;
    mant |= 0x800000u;
    uint32_t shift = (uint32_t)(14 - e), half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return (uint16_t)(sign | half);
  }
  uint32_t half = sign | ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) ++half;
  return (uint16_t)half;
}
)";

bool IsHalfLike(DType d) {
  return d.scalar_type() == ScalarType::kFloat16 || d.scalar_type() == ScalarType::kBFloat16;
}

// C type of one lane held in a variable (16-bit floats live in float).
std::string RegType(DType d) {
  switch (d.scalar_type()) {
    case ScalarType::kBool:
      return "_Bool";
    case ScalarType::kInt8:
      return "int8_t";
    case ScalarType::kUInt8:
      return "uint8_t";
    case ScalarType::kInt16:
      return "int16_t";
    case ScalarType::kUInt16:
      return "uint16_t";
    case ScalarType::kInt32:
      return "int32_t";
    case ScalarType::kUInt32:
      return "uint32_t";
    case ScalarType::kInt64:
    case ScalarType::kIndex:
      return "int64_t";
    case ScalarType::kUInt64:
      return "uint64_t";
    case ScalarType::kFloat16:
    case ScalarType::kBFloat16:
    case ScalarType::kFloat32:
      return "float";
    case ScalarType::kFloat64:
      return "double";
    default:
      return "void";
  }
}
// C type of an element in memory.
std::string MemType(DType d) { return IsHalfLike(d) ? "uint16_t" : RegType(d); }
// The unsigned type of the same width (wrapping arithmetic without UB).
std::string UnsignedType(DType d) {
  switch (d.itemsize()) {
    case 1:
      return "uint8_t";
    case 2:
      return "uint16_t";
    case 4:
      return "uint32_t";
    default:
      return "uint64_t";
  }
}

std::string FloatLit(DType d, double v) {
  bool f64 = d.scalar_type() == ScalarType::kFloat64;
  if (std::isnan(v)) return f64 ? "__builtin_nan(\"\")" : "__builtin_nanf(\"\")";
  if (std::isinf(v))
    return absl::StrCat(v < 0 ? "-" : "", f64 ? "__builtin_inf()" : "__builtin_inff()");
  char buf[64];
  std::snprintf(buf, sizeof(buf), f64 ? "%a" : "%af", f64 ? v : static_cast<float>(v));
  return buf;
}

std::string IntLit(DType d, int64_t v) {
  if (d.is_bool()) return v ? "1" : "0";
  if (d.is_unsigned()) return absl::StrCat("((", RegType(d), ")", static_cast<uint64_t>(v), "ull)");
  if (v == INT64_MIN) return "((int64_t)(-9223372036854775807ll - 1))";
  return absl::StrCat("((", RegType(d), ")", v, "ll)");
}

class Emitter {
 public:
  absl::StatusOr<std::string> Run(const std::string& name, absl::Span<const UOpPtr> program);

 private:
  absl::Status Emit(const UOp* u, int index);
  // Lane l of a value (scalars ignore l).
  std::string L(const UOpPtr& u, int l) const {
    const std::vector<std::string>& lanes = names_.at(u.get());
    return lanes.size() == 1 ? lanes[0] : lanes.at(l);
  }
  void Line(const std::string& s) {
    absl::StrAppend(&body_, std::string(depth_ * 2, ' '), s, "\n");
  }
  // Declares the lanes of `u` from per-lane expressions.
  void Define(const UOp* u, int index, const std::function<std::string(int)>& lane_expr) {
    std::vector<std::string> lanes;
    int w = u->dtype().count();
    for (int l = 0; l < w; ++l) {
      std::string n = w == 1 ? absl::StrCat("v", index) : absl::StrCat("v", index, "_", l);
      Line(absl::StrCat(RegType(u->dtype()), " ", n, " = ", lane_expr(l), ";"));
      lanes.push_back(n);
    }
    names_[u] = std::move(lanes);
  }
  std::string Cast(const std::string& v, DType from, DType to) const;
  std::string Alu(const UOp* u, int l);

  std::string body_;
  int depth_ = 1;
  absl::flat_hash_map<const UOp*, std::vector<std::string>> names_;
  std::vector<std::pair<int64_t, DType>> globals_;
  std::vector<std::string> vars_;
};

std::string Emitter::Cast(const std::string& v, DType from, DType to) const {
  if (to.is_bool()) return absl::StrCat("(", v, " != 0)");
  std::string out = absl::StrCat("((", RegType(to), ")(", v, "))");
  if (to.scalar_type() == ScalarType::kBFloat16) return absl::StrCat("uop_round_bf16(", out, ")");
  if (to.scalar_type() == ScalarType::kFloat16) return absl::StrCat("uop_h_f(uop_f_h(", out, "))");
  return out;
}

std::string Emitter::Alu(const UOp* u, int l) {
  DType d = u->dtype().Scalar();
  DType sd = u->src(0)->dtype().Scalar();
  auto s = [&](int i) { return L(u->src(i), l); };
  bool fl = sd.is_float();
  // Signed wrapping arithmetic through the unsigned type.
  auto wrap = [&](const char* op) {
    if (fl || d.is_bool() || d.is_unsigned())
      return absl::StrCat("(", RegType(d), ")(", s(0), " ", op, " ", s(1), ")");
    std::string ut = UnsignedType(d);
    return absl::StrCat("(", RegType(d), ")((", ut, ")", s(0), " ", op, " (", ut, ")", s(1), ")");
  };
  std::string r;
  switch (u->op()) {
    case Op::kAdd:
      r = d.is_bool() ? absl::StrCat("(", s(0), " | ", s(1), ")") : wrap("+");
      break;
    case Op::kSub:
      r = wrap("-");
      break;
    case Op::kMul:
      r = d.is_bool() ? absl::StrCat("(", s(0), " & ", s(1), ")") : wrap("*");
      break;
    case Op::kFdiv:
      r = absl::StrCat("(", s(0), " / ", s(1), ")");
      break;
    case Op::kIdiv:
    case Op::kMod: {
      std::string div = s(1);
      if (!(u->src(1)->is_const() && u->src(1)->const_int() != 0 && u->src(1)->const_int() != -1)) {
        std::string bad = absl::StrCat(s(1), " == 0");
        if (!d.is_unsigned()) {
          absl::StrAppend(&bad, " || (", s(1), " == -1 && ", s(0), " == ", IntLit(d, d.min_int()),
                          ")");
        }
        div = absl::StrCat("((", bad, ") ? (", RegType(d), ")1 : ", s(1), ")");
      }
      r = absl::StrCat("(", RegType(d), ")(", s(0), u->op() == Op::kIdiv ? " / " : " % ", div, ")");
      break;
    }
    case Op::kMax:
      r = fl ? absl::StrCat("(", s(0), " != ", s(0), " ? ", s(0), " : (", s(0), " > ", s(1), " ? ",
                            s(0), " : ", s(1), "))")
             : absl::StrCat("(", s(0), " > ", s(1), " ? ", s(0), " : ", s(1), ")");
      break;
    case Op::kCmpLt:
      r = absl::StrCat("(", s(0), " < ", s(1), ")");
      break;
    case Op::kCmpNe:
      r = absl::StrCat("(", s(0), " != ", s(1), ")");
      break;
    case Op::kCmpEq:
      r = absl::StrCat("(", s(0), " == ", s(1), ")");
      break;
    case Op::kAnd:
      r = absl::StrCat("(", RegType(d), ")(", s(0), " & ", s(1), ")");
      break;
    case Op::kOr:
      r = absl::StrCat("(", RegType(d), ")(", s(0), " | ", s(1), ")");
      break;
    case Op::kXor:
      r = absl::StrCat("(", RegType(d), ")(", s(0), " ^ ", s(1), ")");
      break;
    case Op::kShl:
    case Op::kShr: {
      std::string amt = absl::StrCat("(", s(1), " & ", d.itemsize() * 8 - 1, ")");
      if (u->op() == Op::kShl) {
        r = absl::StrCat("(", RegType(d), ")((", UnsignedType(d), ")", s(0), " << ", amt, ")");
      } else {
        r = absl::StrCat("(", RegType(d), ")(", s(0), " >> ", amt, ")");
      }
      break;
    }
    case Op::kNeg:
      r = d.is_bool() ? absl::StrCat("(!", s(0), ")")
          : fl        ? absl::StrCat("(-", s(0), ")")
                      : absl::StrCat("(", RegType(d), ")(0 - (", UnsignedType(d), ")", s(0), ")");
      break;
    case Op::kRecip:
      r = absl::StrCat("(1 / ", s(0), ")");
      break;
    case Op::kSqrt:
      r = absl::StrCat(
          d.scalar_type() == ScalarType::kFloat64 ? "__builtin_sqrt(" : "__builtin_sqrtf(", s(0),
          ")");
      break;
    case Op::kTrunc:
      r = absl::StrCat(
          d.scalar_type() == ScalarType::kFloat64 ? "__builtin_trunc(" : "__builtin_truncf(", s(0),
          ")");
      break;
    case Op::kWhere:
      r = absl::StrCat("(", s(0), " ? ", s(1), " : ", s(2), ")");
      break;
    case Op::kMulAcc:
      r = absl::StrCat("(", s(0), " * ", s(1), " + ", s(2), ")");
      break;
    default:
      return "";
  }
  if (d.scalar_type() == ScalarType::kBFloat16 && !HasTrait(u->op(), kCompare) &&
      u->op() != Op::kWhere)
    return absl::StrCat("uop_round_bf16(", r, ")");
  if (d.scalar_type() == ScalarType::kFloat16 && !HasTrait(u->op(), kCompare) &&
      u->op() != Op::kWhere)
    return absl::StrCat("uop_h_f(uop_f_h(", r, "))");
  return r;
}

absl::Status Emitter::Emit(const UOp* u, int index) {
  DType d = u->dtype();
  auto from_mem = [&](const std::string& v, DType t) {
    if (t.scalar_type() == ScalarType::kBFloat16) return absl::StrCat("uop_bf16_f(", v, ")");
    if (t.scalar_type() == ScalarType::kFloat16) return absl::StrCat("uop_h_f(", v, ")");
    return v;
  };
  auto to_mem = [&](const std::string& v, DType t) {
    if (t.scalar_type() == ScalarType::kBFloat16) return absl::StrCat("uop_f_bf16(", v, ")");
    if (t.scalar_type() == ScalarType::kFloat16) return absl::StrCat("uop_f_h(", v, ")");
    return v;
  };
  switch (u->op()) {
    case Op::kConst: {
      std::string lit = d.is_float() ? FloatLit(d.Scalar(), u->const_float())
                                     : IntLit(d.Scalar(), u->const_int());
      names_[u] = std::vector<std::string>(1, lit);
      return absl::OkStatus();
    }
    case Op::kVConst: {
      std::vector<std::string> lanes;
      for (int64_t v : u->arg().get<std::vector<int64_t>>()) lanes.push_back(IntLit(d.Scalar(), v));
      names_[u] = lanes;
      return absl::OkStatus();
    }
    case Op::kDefineGlobal: {
      int64_t slot = u->arg().get<int64_t>();
      names_[u] = {absl::StrCat("data", slot)};
      globals_.push_back({slot, d});
      return absl::OkStatus();
    }
    case Op::kDefineVar:
      names_[u] = {absl::StrCat("var_", u->arg().get<VarArg>().name)};
      vars_.push_back(u->arg().get<VarArg>().name);
      return absl::OkStatus();
    case Op::kSpecial:
      if (u->arg().get<std::string>() != "core_id") {
        return absl::InvalidArgumentError(absl::StrCat(
            "C renderer: SPECIAL '", u->arg().get<std::string>(), "' has no CPU meaning"));
      }
      names_[u] = {"core_id"};
      return absl::OkStatus();
    case Op::kDefineReg:
      Line(absl::StrCat(RegType(d.Base()), " reg", index, "[", d.Base().count(), "];"));
      names_[u] = {absl::StrCat("reg", index)};
      return absl::OkStatus();
    case Op::kRange:
      Line(absl::StrCat("for (int64_t v", index, " = 0; v", index, " < ", L(u->src(0), 0), "; ++v",
                        index, ") {"));
      ++depth_;
      names_[u] = {absl::StrCat("v", index)};
      return absl::OkStatus();
    case Op::kEndRange:
      --depth_;
      Line("}");
      return absl::OkStatus();
    case Op::kIndex: {
      // Per lane: the element address expression and its validity.
      // One address per index lane; a scalar index with a wider access means
      // consecutive elements from that address (see LOAD/STORE).
      std::vector<std::string> lanes;
      for (int l = 0; l < u->src(1)->dtype().count(); ++l)
        lanes.push_back(absl::StrCat(L(u->src(0), 0), "[", L(u->src(1), l), "]"));
      names_[u] = lanes;
      return absl::OkStatus();
    }
    case Op::kLoad: {
      const UOp* idx = u->src(0).get();
      // Registers hold register-typed values: no memory conversion.
      DType elem = idx->src(0)->op() == Op::kDefineReg ? DType::Float32() : d.Scalar();
      if (idx->src(0)->op() == Op::kDefineReg && !IsHalfLike(d)) elem = d.Scalar();
      bool gated = idx->num_srcs() > 2;
      bool vector_valid = gated && idx->src(2)->dtype().count() > 1;
      int w = d.count();
      // W consecutive elements from one address, or one address per lane.
      Define(u, index, [&](int l) {
        std::string addr = names_.at(idx).size() == 1 && w > 1
                               ? absl::StrCat("(&", names_.at(idx)[0], ")[", l, "]")
                               : names_.at(idx)[names_.at(idx).size() == 1 ? 0 : l];
        std::string v = from_mem(addr, elem);
        if (!gated) return v;
        std::string valid = vector_valid ? L(idx->src(2), l) : L(idx->src(2), 0);
        return absl::StrCat("(", valid, " ? ", v, " : ", L(u->src(1), l), ")");
      });
      return absl::OkStatus();
    }
    case Op::kStore: {
      const UOp* idx = u->src(0).get();
      DType vd = u->src(1)->dtype();
      DType mem =
          idx->src(0)->op() == Op::kDefineReg && IsHalfLike(vd) ? DType::Float32() : vd.Scalar();
      bool gated = idx->num_srcs() > 2;
      bool vector_valid = gated && idx->src(2)->dtype().count() > 1;
      for (int l = 0; l < vd.count(); ++l) {
        std::string addr = names_.at(idx).size() == 1 && vd.count() > 1
                               ? absl::StrCat("(&", names_.at(idx)[0], ")[", l, "]")
                               : names_.at(idx)[names_.at(idx).size() == 1 ? 0 : l];
        std::string st = absl::StrCat(addr, " = ", to_mem(L(u->src(1), l), mem), ";");
        if (gated) {
          st = absl::StrCat("if (", vector_valid ? L(idx->src(2), l) : L(idx->src(2), 0), ") ", st);
        }
        Line(st);
      }
      return absl::OkStatus();
    }
    case Op::kCast:
      Define(u, index,
             [&](int l) { return Cast(L(u->src(0), l), u->src(0)->dtype().Scalar(), d.Scalar()); });
      return absl::OkStatus();
    case Op::kBitcast: {
      DType from = u->src(0)->dtype().Scalar();
      if (from.itemsize() != d.itemsize() || from.is_bool() || d.is_bool()) {
        return absl::InvalidArgumentError(absl::StrCat("C renderer: BITCAST ", from.ToString(),
                                                       " -> ", d.ToString(), " changes size"));
      }
      Define(u, index, [&](int l) {
        return absl::StrCat("({ ", MemType(from), " a_ = ", to_mem(L(u->src(0), l), from), "; ",
                            MemType(d.Scalar()), " b_; memcpy(&b_, &a_, sizeof b_); ",
                            from_mem("b_", d.Scalar()), "; })");
      });
      return absl::OkStatus();
    }
    case Op::kVectorize: {
      std::vector<std::string> lanes;
      for (const UOpPtr& s : u->src()) lanes.push_back(L(s, 0));
      names_[u] = lanes;
      return absl::OkStatus();
    }
    case Op::kGep: {
      std::vector<std::string> lanes;
      for (int64_t l : u->arg().get<std::vector<int64_t>>())
        lanes.push_back(L(u->src(0), static_cast<int>(l)));
      names_[u] = lanes;
      return absl::OkStatus();
    }
    case Op::kSink:
      return absl::OkStatus();
    case Op::kNoop:
      names_[u] = u->num_srcs() ? names_.at(u->src(0).get()) : std::vector<std::string>{""};
      return absl::OkStatus();
    default:
      break;
  }
  if (IsAlu(u->op())) {
    if (Alu(u, 0).empty()) {
      return absl::UnimplementedError(absl::StrCat("C renderer: cannot render ", u->ShortString()));
    }
    Define(u, index, [&](int l) { return Alu(u, l); });
    return absl::OkStatus();
  }
  return absl::UnimplementedError(absl::StrCat("C renderer: cannot render ", u->ShortString()));
}

absl::StatusOr<std::string> Emitter::Run(const std::string& name,
                                         absl::Span<const UOpPtr> program) {
  for (size_t i = 0; i < program.size(); ++i) {
    absl::Status st = Emit(program[i].get(), static_cast<int>(i));
    if (!st.ok()) return st;
  }
  std::sort(globals_.begin(), globals_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  globals_.erase(std::unique(globals_.begin(), globals_.end(),
                             [](const auto& a, const auto& b) { return a.first == b.first; }),
                 globals_.end());
  std::sort(vars_.begin(), vars_.end());
  vars_.erase(std::unique(vars_.begin(), vars_.end()), vars_.end());
  std::string out = kPreamble;
  absl::StrAppend(&out, "void ", name,
                  "(void* const* bufs, const int64_t* vars, int64_t core_id) {\n");
  absl::StrAppend(&out, "  (void)vars; (void)core_id;\n");
  for (const auto& [slot, dtype] : globals_) {
    std::string t = MemType(dtype.Base());
    absl::StrAppend(&out, "  ", t, "* restrict data", slot, " = (", t, "*)bufs[", slot, "];\n");
  }
  for (size_t i = 0; i < vars_.size(); ++i)
    absl::StrAppend(&out, "  const int64_t var_", vars_[i], " = vars[", i, "];\n");
  absl::StrAppend(&out, body_, "}\n");
  return out;
}

}  // namespace

CRenderer::CRenderer(int threads, int vector_bytes) {
  caps_.language = "c";
  caps_.has_threads = threads > 1;
  caps_.max_threads = threads;
  caps_.max_vector_bytes = vector_bytes;
}

absl::StatusOr<std::string> CRenderer::Render(const std::string& name,
                                              absl::Span<const UOpPtr> program) const {
  return Emitter().Run(name, program);
}

}  // namespace uop
