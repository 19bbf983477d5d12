#include "runtime/codegen/llvm_renderer.h"

#include <bit>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace uop {
namespace {

// LLVM type of a value held in a register. bfloat16 lives in float registers
// (LLVM 16's x86 backend has no bfloat arithmetic); it is rounded at casts
// and converted at loads and stores.
std::string ScalarReg(DType d) {
  switch (d.scalar_type()) {
    case ScalarType::kBool:
      return "i1";
    case ScalarType::kInt8:
    case ScalarType::kUInt8:
      return "i8";
    case ScalarType::kInt16:
    case ScalarType::kUInt16:
      return "i16";
    case ScalarType::kInt32:
    case ScalarType::kUInt32:
      return "i32";
    case ScalarType::kInt64:
    case ScalarType::kUInt64:
    case ScalarType::kIndex:
      return "i64";
    case ScalarType::kFloat16:
      return "half";
    case ScalarType::kBFloat16:
      return "float";
    case ScalarType::kFloat32:
      return "float";
    case ScalarType::kFloat64:
      return "double";
    case ScalarType::kVoid:
      return "void";
  }
  return "void";
}

// LLVM type of an element in memory.
std::string ScalarMem(DType d) {
  if (d.is_bool()) return "i8";
  if (d.scalar_type() == ScalarType::kBFloat16) return "i16";
  return ScalarReg(d);
}

std::string Vec(const std::string& scalar, int n) {
  return n == 1 ? scalar : absl::StrCat("<", n, " x ", scalar, ">");
}
std::string Reg(DType d) { return d.is_ptr() ? "ptr" : Vec(ScalarReg(d), d.count()); }
std::string Mem(DType d) { return Vec(ScalarMem(d), d.count()); }

bool IsFloatReg(DType d) { return d.is_float(); }
bool IsSigned(DType d) { return d.is_int() && !d.is_unsigned(); }
int RegBits(DType d) {
  if (d.is_bool()) return 1;
  if (d.scalar_type() == ScalarType::kBFloat16) return 32;
  return d.itemsize() * 8;
}

std::string FloatLiteral(DType d, double v) {
  if (d.scalar_type() == ScalarType::kFloat16) {
    return absl::StrFormat("0xH%04X", FloatToHalf(static_cast<float>(v)));
  }
  if (d.scalar_type() != ScalarType::kFloat64) v = static_cast<float>(v);
  return absl::StrFormat("0x%016" PRIX64, std::bit_cast<uint64_t>(v));
}

std::string ScalarLiteral(const UOp& c) {
  DType d = c.dtype().Scalar();
  if (d.is_float()) return FloatLiteral(d, c.const_float());
  if (d.is_bool()) return c.const_int() ? "true" : "false";
  return absl::StrCat(c.const_int());
}

class Emitter {
 public:
  absl::StatusOr<std::string> Run(const std::string& name, absl::Span<const UOpPtr> program);

 private:
  absl::Status EmitOp(const UOp* u, int index);
  std::string Val(const UOpPtr& u) { return names_.at(u.get()); }
  std::string TypedVal(const UOpPtr& u) { return absl::StrCat(Reg(u->dtype()), " ", Val(u)); }
  std::string Tmp() { return absl::StrCat("%t", tmp_++); }
  std::string Label() { return absl::StrCat("b", tmp_++); }
  void Line(const std::string& s) { absl::StrAppend(&body_, "  ", s, "\n"); }
  void StartBlock(const std::string& label) {
    absl::StrAppend(&body_, label, ":\n");
    block_ = label;
  }
  std::string Splat(DType d, const std::string& scalar_val);
  std::string CastValue(const std::string& v, DType from, DType to);
  std::string RoundToBFloat16(const std::string& v, DType d);
  std::string ToMem(const std::string& v, DType d);
  std::string FromMem(const std::string& v, DType d);
  std::string Intrinsic(const std::string& base, DType d);
  std::string MaskedIntrinsic(const std::string& kind, DType d);
  std::string SafeDivisor(const UOp* u);

  std::string body_;
  std::string block_ = "entry";
  int tmp_ = 0;
  absl::flat_hash_map<const UOp*, std::string> names_;
  std::map<std::string, std::string> declares_;
  std::vector<std::pair<int64_t, DType>> globals_;  // slot, pointer dtype
  std::vector<std::string> vars_;
  bool uses_core_id_ = false;
  bool vectorized_ = false;
};

std::string Emitter::Splat(DType d, const std::string& scalar_val) {
  if (d.count() == 1) return scalar_val;
  std::string one = Tmp(), out = Tmp();
  Line(absl::StrCat(one, " = insertelement ", Reg(d), " poison, ", ScalarReg(d), " ", scalar_val,
                    ", i32 0"));
  Line(absl::StrCat(out, " = shufflevector ", Reg(d), " ", one, ", ", Reg(d), " poison, <",
                    d.count(), " x i32> zeroinitializer"));
  return out;
}

std::string Emitter::Intrinsic(const std::string& base, DType d) {
  std::string suffix = d.count() == 1 ? "" : absl::StrCat("v", d.count());
  std::string scalar = ScalarReg(d);
  std::string tname = scalar == "float" ? "f32" : scalar == "double" ? "f64" : "f16";
  std::string fn = absl::StrCat("@llvm.", base, ".", suffix, tname);
  declares_[fn] = absl::StrCat("declare ", Reg(d), " ", fn, "(", Reg(d), ")");
  return fn;
}

std::string Emitter::MaskedIntrinsic(const std::string& kind, DType d) {
  std::string scalar = ScalarMem(d);
  std::string t = scalar == "float"    ? "f32"
                  : scalar == "double" ? "f64"
                  : scalar == "half"   ? "f16"
                                       : scalar;
  std::string fn = absl::StrCat("@llvm.masked.", kind, ".v", d.count(), t, ".p0");
  std::string mask = Reg(DType::Bool().Vec(d.count()));
  if (kind == "load") {
    declares_[fn] =
        absl::StrCat("declare ", Mem(d), " ", fn, "(ptr, i32, ", mask, ", ", Mem(d), ")");
  } else {
    declares_[fn] = absl::StrCat("declare void ", fn, "(", Mem(d), ", ptr, i32, ", mask, ")");
  }
  return fn;
}

std::string Emitter::RoundToBFloat16(const std::string& v, DType d) {
  // Round-to-nearest-even of a float to bfloat16 precision, kept as float.
  DType i32 = DType::Int32().Vec(d.count());
  std::string bits = Tmp(), lsb = Tmp(), bias = Tmp(), sum = Tmp(), mask = Tmp(), out = Tmp();
  std::string ti = Reg(i32), tf = Reg(d);
  Line(absl::StrCat(bits, " = bitcast ", tf, " ", v, " to ", ti));
  std::string sh = Splat(i32, "16"), one = Splat(i32, "1"), b7 = Splat(i32, "32767"),
              m = Splat(i32, "-65536");
  Line(absl::StrCat(lsb, " = lshr ", ti, " ", bits, ", ", sh));
  std::string lsb1 = Tmp();
  Line(absl::StrCat(lsb1, " = and ", ti, " ", lsb, ", ", one));
  Line(absl::StrCat(bias, " = add ", ti, " ", lsb1, ", ", b7));
  Line(absl::StrCat(sum, " = add ", ti, " ", bits, ", ", bias));
  Line(absl::StrCat(mask, " = and ", ti, " ", sum, ", ", m));
  Line(absl::StrCat(out, " = bitcast ", ti, " ", mask, " to ", tf));
  return out;
}

std::string Emitter::ToMem(const std::string& v, DType d) {
  if (d.is_bool()) {
    std::string out = Tmp();
    Line(absl::StrCat(out, " = zext ", Reg(d), " ", v, " to ", Mem(d)));
    return out;
  }
  if (d.scalar_type() == ScalarType::kBFloat16) {
    DType i32 = DType::Int32().Vec(d.count());
    std::string r = RoundToBFloat16(v, d), bits = Tmp(), hi = Tmp(), out = Tmp();
    Line(absl::StrCat(bits, " = bitcast ", Reg(d), " ", r, " to ", Reg(i32)));
    Line(absl::StrCat(hi, " = lshr ", Reg(i32), " ", bits, ", ", Splat(i32, "16")));
    Line(absl::StrCat(out, " = trunc ", Reg(i32), " ", hi, " to ", Mem(d)));
    return out;
  }
  return v;
}

std::string Emitter::FromMem(const std::string& v, DType d) {
  if (d.is_bool()) {
    std::string out = Tmp();
    Line(absl::StrCat(out, " = icmp ne ", Mem(d), " ", v, ", ",
                      Splat(DType::Int8().Vec(d.count()), "0")));
    return out;
  }
  if (d.scalar_type() == ScalarType::kBFloat16) {
    DType i32 = DType::Int32().Vec(d.count());
    std::string wide = Tmp(), sh = Tmp(), out = Tmp();
    Line(absl::StrCat(wide, " = zext ", Mem(d), " ", v, " to ", Reg(i32)));
    Line(absl::StrCat(sh, " = shl ", Reg(i32), " ", wide, ", ", Splat(i32, "16")));
    Line(absl::StrCat(out, " = bitcast ", Reg(i32), " ", sh, " to ", Reg(d)));
    return out;
  }
  return v;
}

std::string Emitter::CastValue(const std::string& v, DType from, DType to) {
  std::string out = Tmp();
  std::string tf = Reg(from), tt = Reg(to);
  if (to.is_bool()) {
    std::string zero = Splat(from, IsFloatReg(from) ? FloatLiteral(from.Scalar(), 0.0) : "0");
    if (IsFloatReg(from)) {
      Line(absl::StrCat(out, " = fcmp une ", tf, " ", v, ", ", zero));
    } else {
      Line(absl::StrCat(out, " = icmp ne ", tf, " ", v, ", ", zero));
    }
    return out;
  }
  bool ff = IsFloatReg(from), ft = IsFloatReg(to);
  if (ff && ft) {
    bool to_bf16 = to.scalar_type() == ScalarType::kBFloat16;
    int fb = RegBits(from), tb = RegBits(to);
    std::string x = v;
    if (fb == tb) {
      if (to_bf16 && from.scalar_type() != ScalarType::kBFloat16) return RoundToBFloat16(v, to);
      return v;  // bf16 -> float32 or same type: registers already agree
    }
    if (from.scalar_type() == ScalarType::kFloat64 && to.scalar_type() == ScalarType::kFloat16) {
      // x86 has no double->half instruction (LLVM would call __truncdfhf2):
      // go through float, as the reference's conversion does.
      std::string mid = Tmp();
      Line(absl::StrCat(mid, " = fptrunc ", tf, " ", x, " to ",
                        Reg(DType::Float32().Vec(to.count()))));
      Line(absl::StrCat(out, " = fptrunc ", Reg(DType::Float32().Vec(to.count())), " ", mid, " to ",
                        tt));
      return out;
    }
    Line(absl::StrCat(out, " = ", fb < tb ? "fpext " : "fptrunc ", tf, " ", x, " to ", tt));
    return to_bf16 ? RoundToBFloat16(out, to) : out;
  }
  if (ff && !ft) {
    Line(absl::StrCat(out, IsSigned(to) ? " = fptosi " : " = fptoui ", tf, " ", v, " to ", tt));
    return out;
  }
  if (!ff && ft) {
    bool from_signed = IsSigned(from);
    Line(absl::StrCat(out, from_signed ? " = sitofp " : " = uitofp ", tf, " ", v, " to ", tt));
    return to.scalar_type() == ScalarType::kBFloat16 ? RoundToBFloat16(out, to) : out;
  }
  int fb = RegBits(from), tb = RegBits(to);
  if (fb == tb) return v;
  const char* op = fb > tb ? " = trunc " : (IsSigned(from) ? " = sext " : " = zext ");
  Line(absl::StrCat(out, op, tf, " ", v, " to ", tt));
  return out;
}

std::string Emitter::SafeDivisor(const UOp* u) {
  const UOpPtr& d = u->src(1);
  if (d->is_const() && d->const_int() != 0 && d->const_int() != -1) return Val(d);
  DType t = d->dtype();
  std::string ty = Reg(t), zero = Tmp(), safe = Tmp();
  Line(absl::StrCat(zero, " = icmp eq ", ty, " ", Val(d), ", ", Splat(t, "0")));
  std::string bad = zero;
  if (IsSigned(t)) {
    // INT_MIN / -1 overflows (and traps on x86): divide by 1 instead.
    std::string neg1 = Tmp(), minv = Tmp(), both = Tmp(), any = Tmp();
    int bits = RegBits(t);
    std::string min_lit =
        bits == 64 ? "-9223372036854775808" : absl::StrCat(-(int64_t{1} << (bits - 1)));
    Line(absl::StrCat(neg1, " = icmp eq ", ty, " ", Val(d), ", ", Splat(t, "-1")));
    Line(absl::StrCat(minv, " = icmp eq ", ty, " ", Val(u->src(0)), ", ", Splat(t, min_lit)));
    Line(absl::StrCat(both, " = and ", Reg(DType::Bool().Vec(t.count())), " ", neg1, ", ", minv));
    Line(absl::StrCat(any, " = or ", Reg(DType::Bool().Vec(t.count())), " ", zero, ", ", both));
    bad = any;
  }
  Line(absl::StrCat(safe, " = select ", Reg(DType::Bool().Vec(t.count())), " ", bad, ", ", ty, " ",
                    Splat(t, "1"), ", ", ty, " ", Val(d)));
  return safe;
}

absl::Status Emitter::EmitOp(const UOp* u, int index) {
  std::string name = absl::StrCat("%v", index);
  DType d = u->dtype();
  vectorized_ |= !d.is_ptr() && d.count() > 1;
  auto src = [&](int i) { return Val(u->src(i)); };
  auto bin = [&](const std::string& inst, const std::string& flags = "") {
    Line(absl::StrCat(name, " = ", inst, flags, " ", Reg(u->src(0)->dtype()), " ", src(0), ", ",
                      src(1)));
  };
  switch (u->op()) {
    case Op::kConst:
      names_[u] = d.count() == 1 ? ScalarLiteral(*u) : Splat(d, ScalarLiteral(*u));
      return absl::OkStatus();
    case Op::kVConst: {
      std::vector<std::string> lanes;
      for (int64_t v : u->arg().get<std::vector<int64_t>>())
        lanes.push_back(absl::StrCat(ScalarReg(d), " ", v));
      names_[u] = absl::StrCat("<", absl::StrJoin(lanes, ", "), ">");
      return absl::OkStatus();
    }
    case Op::kDefineGlobal:
      names_[u] = absl::StrCat("%data", u->arg().get<int64_t>());
      globals_.push_back({u->arg().get<int64_t>(), d});
      return absl::OkStatus();
    case Op::kDefineVar:
      names_[u] = absl::StrCat("%var_", u->arg().get<VarArg>().name);
      vars_.push_back(u->arg().get<VarArg>().name);
      return absl::OkStatus();
    case Op::kSpecial: {
      const std::string& sname = u->arg().get<std::string>();
      if (sname != "core_id") {
        return absl::InvalidArgumentError(
            absl::StrCat("LLVM renderer: SPECIAL '", sname, "' has no CPU meaning"));
      }
      uses_core_id_ = true;
      names_[u] = "%core_id";
      return absl::OkStatus();
    }
    case Op::kDefineReg:
      Line(absl::StrCat(name, " = alloca ", Mem(d.Base()), ", align 64"));
      break;
    case Op::kRange: {
      std::string header = absl::StrCat("loop", index), latch = absl::StrCat("latch", index);
      Line(absl::StrCat("br label %", header));
      std::string from = block_;
      StartBlock(header);
      Line(absl::StrCat(name, " = phi i64 [ 0, %", from, " ], [ ", name, ".next, %", latch, " ]"));
      break;
    }
    case Op::kEndRange: {
      const UOpPtr& range = u->src(0);
      std::string rname = Val(range);
      std::string rindex = rname.substr(2);  // "%v<k>" -> "<k>"
      std::string header = absl::StrCat("loop", rindex), latch = absl::StrCat("latch", rindex),
                  exit = absl::StrCat("exit", rindex);
      Line(absl::StrCat("br label %", latch));
      StartBlock(latch);
      std::string cond = Tmp();
      Line(absl::StrCat(rname, ".next = add nuw nsw i64 ", rname, ", 1"));
      Line(absl::StrCat(cond, " = icmp slt i64 ", rname, ".next, ", Val(range->src(0))));
      Line(absl::StrCat("br i1 ", cond, ", label %", header, ", label %", exit));
      StartBlock(exit);
      return absl::OkStatus();
    }
    case Op::kIndex: {
      DType elem = u->src(0)->dtype().Base().Scalar();
      std::string idx = src(1);
      if (u->num_srcs() > 2 && u->src(2)->dtype().count() > 1) {
        // Lane-masked vector access: the masked load/store never touches
        // masked-off lanes, so the address may point outside the buffer.
        Line(absl::StrCat(name, " = getelementptr ", ScalarMem(elem), ", ptr ", src(0), ", i64 ",
                          idx));
        break;
      }
      if (u->num_srcs() > 2) {  // gated: point masked-off lanes at element 0
        std::string safe = Tmp();
        Line(absl::StrCat(safe, " = select i1 ", src(2), ", i64 ", idx, ", i64 0"));
        idx = safe;
      }
      Line(absl::StrCat(name, " = getelementptr inbounds ", ScalarMem(elem), ", ptr ", src(0),
                        ", i64 ", idx));
      break;
    }
    case Op::kLoad: {
      const UOpPtr& index_op = u->src(0);
      if (index_op->num_srcs() > 2 && index_op->src(2)->dtype().count() > 1) {
        std::string fn = MaskedIntrinsic("load", d);
        std::string raw = Tmp();
        Line(absl::StrCat(raw, " = call ", Mem(d), " ", fn, "(ptr ", Val(index_op), ", i32 ",
                          std::max(1, d.itemsize()), ", ", TypedVal(index_op->src(2)), ", ", Mem(d),
                          " ", ToMem(src(1), d), ")"));
        names_[u] = FromMem(raw, d);
        return absl::OkStatus();
      }
      std::string raw = Tmp();
      Line(absl::StrCat(raw, " = load ", Mem(d), ", ptr ", Val(index_op), ", align ",
                        std::max(1, d.itemsize())));
      std::string v = FromMem(raw, d);
      if (index_op->num_srcs() > 2) {
        std::string valid = Val(index_op->src(2));
        Line(absl::StrCat(name, " = select i1 ", valid, ", ", Reg(d), " ", v, ", ",
                          TypedVal(u->src(1))));
      } else {
        names_[u] = v;
        return absl::OkStatus();
      }
      break;
    }
    case Op::kStore: {
      const UOpPtr& index_op = u->src(0);
      DType vd = u->src(1)->dtype();
      std::string v = ToMem(src(1), vd);
      if (index_op->num_srcs() > 2 && index_op->src(2)->dtype().count() > 1) {
        Line(absl::StrCat("call void ", MaskedIntrinsic("store", vd), "(", Mem(vd), " ", v,
                          ", ptr ", Val(index_op), ", i32 ", std::max(1, vd.itemsize()), ", ",
                          TypedVal(index_op->src(2)), ")"));
        names_[u] = "";
        return absl::OkStatus();
      }
      std::string store = absl::StrCat("store ", Mem(vd), " ", v, ", ptr ", Val(index_op),
                                       ", align ", std::max(1, vd.itemsize()));
      if (index_op->num_srcs() > 2) {
        std::string yes = Label(), done = Label();
        Line(absl::StrCat("br i1 ", Val(index_op->src(2)), ", label %", yes, ", label %", done));
        StartBlock(yes);
        Line(store);
        Line(absl::StrCat("br label %", done));
        StartBlock(done);
      } else {
        Line(store);
      }
      names_[u] = "";
      return absl::OkStatus();
    }
    case Op::kAdd:
      bin(IsFloatReg(d) ? "fadd" : "add", IsFloatReg(d) ? " contract" : "");
      break;
    case Op::kSub:
      bin(IsFloatReg(d) ? "fsub" : "sub", IsFloatReg(d) ? " contract" : "");
      break;
    case Op::kMul:
      bin(IsFloatReg(d) ? "fmul" : "mul", IsFloatReg(d) ? " contract" : "");
      break;
    case Op::kFdiv:
      bin("fdiv");
      break;
    case Op::kIdiv:
    case Op::kMod: {
      if (IsFloatReg(d)) {
        return absl::InvalidArgumentError(
            absl::StrCat("LLVM renderer: ", OpName(u->op()), " on float ", d.ToString()));
      }
      std::string div = SafeDivisor(u);
      const char* inst =
          u->op() == Op::kIdiv ? (IsSigned(d) ? "sdiv" : "udiv") : (IsSigned(d) ? "srem" : "urem");
      Line(absl::StrCat(name, " = ", inst, " ", Reg(d), " ", src(0), ", ", div));
      break;
    }
    case Op::kMax: {
      std::string gt = Tmp();
      if (IsFloatReg(d)) {
        // NaN in either source gives NaN (numpy's maximum).
        std::string m = Tmp(), nan = Tmp();
        std::string bt = Reg(DType::Bool().Vec(d.count()));
        Line(absl::StrCat(gt, " = fcmp ogt ", Reg(d), " ", src(0), ", ", src(1)));
        Line(absl::StrCat(m, " = select ", bt, " ", gt, ", ", Reg(d), " ", src(0), ", ", Reg(d),
                          " ", src(1)));
        Line(absl::StrCat(nan, " = fcmp uno ", Reg(d), " ", src(0), ", ", src(0)));
        Line(absl::StrCat(name, " = select ", bt, " ", nan, ", ", Reg(d), " ", src(0), ", ", Reg(d),
                          " ", m));
      } else {
        std::string bt = Reg(DType::Bool().Vec(d.count()));
        Line(absl::StrCat(gt, " = icmp ", d.is_bool() || !IsSigned(d) ? "ugt " : "sgt ", Reg(d),
                          " ", src(0), ", ", src(1)));
        Line(absl::StrCat(name, " = select ", bt, " ", gt, ", ", Reg(d), " ", src(0), ", ", Reg(d),
                          " ", src(1)));
      }
      break;
    }
    case Op::kCmpLt:
    case Op::kCmpNe:
    case Op::kCmpEq: {
      DType sd = u->src(0)->dtype();
      std::string pred;
      if (IsFloatReg(sd)) {
        pred = u->op() == Op::kCmpLt ? "fcmp olt" : u->op() == Op::kCmpNe ? "fcmp une" : "fcmp oeq";
      } else {
        pred = u->op() == Op::kCmpLt   ? (IsSigned(sd) ? "icmp slt" : "icmp ult")
               : u->op() == Op::kCmpNe ? "icmp ne"
                                       : "icmp eq";
      }
      Line(absl::StrCat(name, " = ", pred, " ", Reg(sd), " ", src(0), ", ", src(1)));
      break;
    }
    case Op::kAnd:
      bin("and");
      break;
    case Op::kOr:
      bin("or");
      break;
    case Op::kXor:
      bin("xor");
      break;
    case Op::kShl:
    case Op::kShr: {
      // Shift amounts past the width are poison in LLVM: mask them.
      std::string amt = Tmp();
      Line(absl::StrCat(amt, " = and ", Reg(d), " ", src(1), ", ",
                        Splat(d, absl::StrCat(RegBits(d) - 1))));
      const char* inst = u->op() == Op::kShl ? "shl" : (IsSigned(d) ? "ashr" : "lshr");
      Line(absl::StrCat(name, " = ", inst, " ", Reg(d), " ", src(0), ", ", amt));
      break;
    }
    case Op::kNeg:
      if (IsFloatReg(d)) {
        Line(absl::StrCat(name, " = fneg ", TypedVal(u->src(0))));
      } else if (d.is_bool()) {
        Line(absl::StrCat(name, " = xor ", TypedVal(u->src(0)), ", ", Splat(d, "true")));
      } else {
        Line(absl::StrCat(name, " = sub ", Reg(d), " ", Splat(d, "0"), ", ", src(0)));
      }
      break;
    case Op::kRecip:
      Line(absl::StrCat(name, " = fdiv ", Reg(d), " ", Splat(d, FloatLiteral(d.Scalar(), 1.0)),
                        ", ", src(0)));
      break;
    case Op::kSqrt:
    case Op::kTrunc:
    case Op::kExp2:
    case Op::kLog2:
    case Op::kSin: {
      if (!IsFloatReg(d)) {
        return absl::InvalidArgumentError(
            absl::StrCat("LLVM renderer: ", OpName(u->op()), " on ", d.ToString()));
      }
      const char* base = u->op() == Op::kSqrt    ? "sqrt"
                         : u->op() == Op::kTrunc ? "trunc"
                         : u->op() == Op::kExp2  ? "exp2"
                         : u->op() == Op::kLog2  ? "log2"
                                                 : "sin";
      Line(absl::StrCat(name, " = call ", Reg(d), " ", Intrinsic(base, d), "(", TypedVal(u->src(0)),
                        ")"));
      break;
    }
    case Op::kWhere: {
      Line(absl::StrCat(name, " = select ", TypedVal(u->src(0)), ", ", TypedVal(u->src(1)), ", ",
                        TypedVal(u->src(2))));
      break;
    }
    case Op::kMulAcc: {
      std::string m = Tmp();
      Line(absl::StrCat(m, IsFloatReg(d) ? " = fmul contract " : " = mul ", Reg(d), " ", src(0),
                        ", ", src(1)));
      Line(absl::StrCat(name, IsFloatReg(d) ? " = fadd contract " : " = add ", Reg(d), " ", m, ", ",
                        src(2)));
      break;
    }
    case Op::kCast:
      names_[u] = CastValue(src(0), u->src(0)->dtype(), d);
      return absl::OkStatus();
    case Op::kBitcast: {
      DType from = u->src(0)->dtype();
      if (from.itemsize() != d.itemsize() || from.count() != d.count() || from.is_bool() ||
          d.is_bool()) {
        return absl::InvalidArgumentError(absl::StrCat("LLVM renderer: BITCAST ", from.ToString(),
                                                       " -> ", d.ToString(), " changes size"));
      }
      std::string v = src(0);
      if (from.scalar_type() == ScalarType::kBFloat16) v = ToMem(v, from);
      std::string out = Tmp();
      Line(absl::StrCat(out, " = bitcast ", Mem(from), " ", v, " to ", Mem(d)));
      names_[u] = FromMem(out, d);
      return absl::OkStatus();
    }
    case Op::kVectorize: {
      bool same = true;
      for (const UOpPtr& s : u->src()) same &= s == u->src(0);
      if (same) {
        names_[u] = Splat(d, src(0));
        return absl::OkStatus();
      }
      std::string prev = "poison";
      for (size_t i = 0; i < u->num_srcs(); ++i) {
        std::string next = i + 1 == u->num_srcs() ? name : Tmp();
        Line(absl::StrCat(next, " = insertelement ", Reg(d), " ", prev, ", ", TypedVal(u->src(i)),
                          ", i32 ", i));
        prev = next;
      }
      break;
    }
    case Op::kGep: {
      const auto& lanes = u->arg().get<std::vector<int64_t>>();
      DType sd = u->src(0)->dtype();
      if (lanes.size() == 1) {
        Line(absl::StrCat(name, " = extractelement ", TypedVal(u->src(0)), ", i32 ", lanes[0]));
      } else {
        std::vector<std::string> mask;
        for (int64_t l : lanes) mask.push_back(absl::StrCat("i32 ", l));
        Line(absl::StrCat(name, " = shufflevector ", TypedVal(u->src(0)), ", ", Reg(sd),
                          " poison, <", lanes.size(), " x i32> <", absl::StrJoin(mask, ", "), ">"));
      }
      break;
    }
    case Op::kSink:
      Line("ret void");
      return absl::OkStatus();
    case Op::kNoop:
      names_[u] = u->num_srcs() ? src(0) : "";
      return absl::OkStatus();
    default:
      return absl::UnimplementedError(
          absl::StrCat("LLVM renderer: cannot render ", u->ShortString()));
  }
  // bfloat16 values live in float registers: round every arithmetic result
  // to bfloat16 precision, as a bfloat16 device would.
  if (d.scalar_type() == ScalarType::kBFloat16 && IsAlu(u->op()) && !HasTrait(u->op(), kCompare) &&
      u->op() != Op::kWhere && u->op() != Op::kMax && u->op() != Op::kNeg) {
    names_[u] = RoundToBFloat16(name, d);
    return absl::OkStatus();
  }
  names_[u] = name;
  return absl::OkStatus();
}

absl::StatusOr<std::string> Emitter::Run(const std::string& name,
                                         absl::Span<const UOpPtr> program) {
  for (size_t i = 0; i < program.size(); ++i) {
    absl::Status st = EmitOp(program[i].get(), static_cast<int>(i));
    if (!st.ok()) return st;
  }
  std::sort(globals_.begin(), globals_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::sort(vars_.begin(), vars_.end());
  vars_.erase(std::unique(vars_.begin(), vars_.end()), vars_.end());
  globals_.erase(std::unique(globals_.begin(), globals_.end(),
                             [](const auto& a, const auto& b) { return a.first == b.first; }),
                 globals_.end());

  std::vector<std::string> params, args;
  for (const auto& [slot, dtype] : globals_) {
    params.push_back(
        absl::StrCat("ptr noalias align ", std::max(1, dtype.Base().itemsize()), " %data", slot));
  }
  for (const std::string& v : vars_) params.push_back(absl::StrCat("i64 %var_", v));
  params.push_back("i64 %core_id");

  std::string out;
  absl::StrAppend(&out, "; uop kernel ", name, "\n");
  // Kernels codegen vectorized itself only need LLVM's clean-up passes
  // (drivers/cpu/llvm_compiler.h): a fraction of the O2 compile time.
  if (vectorized_) absl::StrAppend(&out, "; uop-pipeline: lean\n");
  absl::StrAppend(&out, "define internal void @", name, "_body(", absl::StrJoin(params, ", "),
                  ") nounwind {\nentry:\n", body_, "}\n\n");
  // Entry point following the CPU ABI.
  absl::StrAppend(&out, "define void @", name,
                  "(ptr noalias %bufs, ptr noalias %vars, i64 %core_id) nounwind {\nentry:\n");
  for (const auto& [slot, dtype] : globals_) {
    absl::StrAppend(&out, "  %p", slot, " = getelementptr ptr, ptr %bufs, i64 ", slot, "\n");
    absl::StrAppend(&out, "  %b", slot, " = load ptr, ptr %p", slot, ", align 8\n");
    args.push_back(absl::StrCat("ptr %b", slot));
  }
  for (size_t i = 0; i < vars_.size(); ++i) {
    absl::StrAppend(&out, "  %q", i, " = getelementptr i64, ptr %vars, i64 ", i, "\n");
    absl::StrAppend(&out, "  %var", i, " = load i64, ptr %q", i, ", align 8\n");
    args.push_back(absl::StrCat("i64 %var", i));
  }
  args.push_back("i64 %core_id");
  absl::StrAppend(&out, "  call void @", name, "_body(", absl::StrJoin(args, ", "),
                  ")\n  ret void\n}\n");
  for (const auto& [fn, decl] : declares_) absl::StrAppend(&out, decl, "\n");
  return out;
}

}  // namespace

LlvmRenderer::LlvmRenderer(int threads, int vector_bytes) {
  caps_.language = "llvm-ir";
  caps_.has_threads = threads > 1;
  caps_.max_threads = threads;
  caps_.max_vector_bytes = vector_bytes;
}

absl::StatusOr<std::string> LlvmRenderer::Render(const std::string& name,
                                                 absl::Span<const UOpPtr> program) const {
  return Emitter().Run(name, program);
}

}  // namespace uop
