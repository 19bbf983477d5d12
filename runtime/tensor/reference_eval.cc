#include "runtime/tensor/reference_eval.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"
#include "runtime/uop/const_fold.h"

namespace uop {
namespace {

// One element in 64 bits: a double's bits for floats, the canonical int64
// (const_fold.h's Scalar::i) for integers and bools.
using Cells = std::vector<uint64_t>;

int64_t NumElements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string ShapeString(const Shape& s) {
  if (s.size() == 1) return absl::StrCat("(", s[0], ",)");
  return absl::StrCat("(", absl::StrJoin(s, ", "), ")");
}

Scalar ToScalar(uint64_t cell, DType d) {
  if (d.is_float()) return Scalar{d, 0, std::bit_cast<double>(cell)};
  return Scalar{d, static_cast<int64_t>(cell), 0.0};
}

uint64_t ToCell(const Scalar& s) {
  return s.dtype.is_float() ? std::bit_cast<uint64_t>(s.f) : static_cast<uint64_t>(s.i);
}

template <typename T>
T ReadAs(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

uint64_t LoadCell(const uint8_t* p, DType d) {
  using S = ScalarType;
  auto f = [](double v) { return std::bit_cast<uint64_t>(v); };
  auto i = [](int64_t v) { return static_cast<uint64_t>(v); };
  switch (d.scalar_type()) {
    case S::kBool:
      return p[0] != 0;
    case S::kInt8:
      return i(ReadAs<int8_t>(p));
    case S::kInt16:
      return i(ReadAs<int16_t>(p));
    case S::kInt32:
      return i(ReadAs<int32_t>(p));
    case S::kInt64:
    case S::kIndex:
    case S::kUInt64:
      return ReadAs<uint64_t>(p);
    case S::kUInt8:
      return p[0];
    case S::kUInt16:
      return ReadAs<uint16_t>(p);
    case S::kUInt32:
      return ReadAs<uint32_t>(p);
    case S::kFloat16:
      return f(HalfToFloat(ReadAs<uint16_t>(p)));
    case S::kBFloat16:
      return f(BFloat16ToFloat(ReadAs<uint16_t>(p)));
    case S::kFloat32:
      return f(ReadAs<float>(p));
    case S::kFloat64:
      return ReadAs<uint64_t>(p);
    default:
      return 0;
  }
}

void StoreCell(uint64_t cell, DType d, uint8_t* p) {
  using S = ScalarType;
  double v = std::bit_cast<double>(cell);
  switch (d.scalar_type()) {
    case S::kFloat16: {
      uint16_t h = FloatToHalf(static_cast<float>(v));
      std::memcpy(p, &h, 2);
      return;
    }
    case S::kBFloat16: {
      uint16_t b = FloatToBFloat16(static_cast<float>(v));
      std::memcpy(p, &b, 2);
      return;
    }
    case S::kFloat32: {
      float x = static_cast<float>(v);
      std::memcpy(p, &x, 4);
      return;
    }
    default:
      // Integers, bools and float64: the low bytes of the 64-bit cell.
      std::memcpy(p, &cell, d.itemsize());
      return;
  }
}

void Unravel(int64_t linear, const Shape& shape, std::vector<int64_t>& idx) {
  idx.resize(shape.size());
  for (size_t k = shape.size(); k-- > 0;) {
    idx[k] = shape[k] == 0 ? 0 : linear % shape[k];
    linear = shape[k] == 0 ? 0 : linear / shape[k];
  }
}

int64_t Ravel(const std::vector<int64_t>& idx, const Shape& shape) {
  int64_t linear = 0;
  for (size_t k = 0; k < shape.size(); ++k) linear = linear * shape[k] + idx[k];
  return linear;
}

// One movement op, mapping an index of its output to an index of its source.
struct Step {
  Op op;
  Shape in;
  Shape out;
  std::vector<int64_t> vec;  // PERMUTE order, FLIP flags
  PairList pairs;            // PAD (before, after), SHRINK (begin, end)
};

// Maps `idx` (an index of step.out) to step.in in place; false for padding.
// `scratch` is reused storage, so the element loops do not allocate.
bool ApplyStep(const Step& s, std::vector<int64_t>& idx, std::vector<int64_t>& scratch) {
  switch (s.op) {
    case Op::kReshape:
      Unravel(Ravel(idx, s.out), s.in, idx);
      return true;
    case Op::kPermute:
      scratch.assign(idx.begin(), idx.end());
      for (size_t k = 0; k < scratch.size(); ++k) idx[s.vec[k]] = scratch[k];
      return true;
    case Op::kExpand:
      for (size_t k = 0; k < idx.size(); ++k)
        if (s.in[k] == 1) idx[k] = 0;
      return true;
    case Op::kPad:
      for (size_t k = 0; k < idx.size(); ++k) {
        idx[k] -= s.pairs[k].first;
        if (idx[k] < 0 || idx[k] >= s.in[k]) return false;
      }
      return true;
    case Op::kShrink:
      for (size_t k = 0; k < idx.size(); ++k) idx[k] += s.pairs[k].first;
      return true;
    case Op::kFlip:
      for (size_t k = 0; k < idx.size(); ++k)
        if (s.vec[k]) idx[k] = s.in[k] - 1 - idx[k];
      return true;
    default:
      return false;
  }
}

// The value of one node: computed cells (`data`, row-major in `data_shape`)
// seen through movement steps. steps[0] belongs to this node.
struct Value {
  DType dtype;
  Shape shape;
  std::shared_ptr<const Cells> data;  // null: an unrealized BUFFER (only writable)
  Shape data_shape;
  std::vector<Step> steps;
  // A BUFFER viewed through movement ops only (else null).
  const UOp* buffer = nullptr;
};

class Reader {
 public:
  explicit Reader(const Value& v) : v_(&v) {}
  // The data index element `j` of the value reads, or -1 for padding.
  int64_t Map(int64_t j) {
    if (v_->steps.empty()) return j;
    Unravel(j, v_->shape, idx_);
    for (const Step& s : v_->steps)
      if (!ApplyStep(s, idx_, scratch_)) return -1;
    return Ravel(idx_, v_->data_shape);
  }
  uint64_t Read(int64_t j) {
    int64_t k = Map(j);
    return k < 0 ? 0 : (*v_->data)[k];
  }

 private:
  const Value* v_;
  std::vector<int64_t> idx_, scratch_;
};

std::string NodeName(const UOp& u) { return std::string(u.ShortString()); }

absl::Status NodeError(const UOp& u, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("reference: ", NodeName(u), ": ", what));
}

bool IsPlainScalarType(DType d) { return d.count() == 1 && !d.is_ptr() && !d.is_void(); }

// Rejects op/dtype combinations the IR does not define, once per node, so the
// element loop only meets declines that depend on values (x/0, big shifts).
absl::Status CheckElementwise(const UOp& u, absl::Span<const Value* const> srcs) {
  DType out = u.dtype();
  if (!IsPlainScalarType(out))
    return absl::UnimplementedError(
        absl::StrCat("reference: ", NodeName(u), ": only scalar dtypes are evaluated"));
  for (const Value* s : srcs) {
    if (!IsPlainScalarType(s->dtype))
      return NodeError(u, absl::StrCat("source dtype ", s->dtype.ToString()));
    if (s->shape != srcs[0]->shape)
      return NodeError(
          u, absl::StrCat("sources have different shapes ", ShapeString(srcs[0]->shape), " and ",
                          ShapeString(s->shape)));
  }
  Op op = u.op();
  DType a = srcs[0]->dtype;
  auto need = [&](bool ok, absl::string_view what) {
    return ok ? absl::OkStatus()
              : NodeError(u, absl::StrCat("needs ", what, ", got ", a.ToString()));
  };
  if (op == Op::kCast) return absl::OkStatus();
  if (op == Op::kBitcast) {
    if (a.itemsize() != out.itemsize() || a.is_bool() || out.is_bool())
      return NodeError(u, absl::StrCat("cannot bitcast ", a.ToString(), " to ", out.ToString()));
    return absl::OkStatus();
  }
  if (op == Op::kWhere) {
    if (srcs.size() != 3 || !srcs[0]->dtype.is_bool() || srcs[1]->dtype != out ||
        srcs[2]->dtype != out)
      return NodeError(u, "needs (bool, T, T) sources with T the node's dtype");
    return absl::OkStatus();
  }
  for (const Value* s : srcs)
    if (s->dtype != a) return NodeError(u, "sources have different dtypes");
  if (HasTrait(op, kCompare)) {
    return out.is_bool() ? absl::OkStatus() : NodeError(u, "comparison must produce bool");
  }
  if (out != a) return NodeError(u, "dtype differs from its sources'");
  switch (op) {
    case Op::kExp2:
    case Op::kLog2:
    case Op::kSin:
    case Op::kSqrt:
    case Op::kRecip:
    case Op::kFdiv:
      return need(a.is_float(), "a float dtype");
    case Op::kIdiv:
    case Op::kMod:
    case Op::kShl:
    case Op::kShr:
      return need(a.is_int(), "an integer dtype");
    case Op::kAnd:
    case Op::kOr:
    case Op::kXor:
      return need(a.is_int() || a.is_bool(), "an integer or bool dtype");
    case Op::kThreefry:
      return need(a.scalar_type() == ScalarType::kUInt64, "uint64");
    case Op::kPow:
      return need(!a.is_bool(), "a number dtype");
    case Op::kNeg:
    case Op::kTrunc:
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kMax:
    case Op::kMulAcc:
      return absl::OkStatus();
    default:
      return absl::UnimplementedError(
          absl::StrCat("reference: ", NodeName(u), ": op not evaluated"));
  }
}

// Movement op: the step from this node's index space to its source's, with
// the argument checked against the source shape.
absl::StatusOr<Step> MakeStep(const UOp& u, const Shape& in) {
  Step s{u.op(), in, {}, {}, {}};
  const size_t rank = in.size();
  switch (u.op()) {
    case Op::kReshape:
    case Op::kExpand: {
      const auto* v = u.arg().get_if<std::vector<int64_t>>();
      if (!v) return NodeError(u, "needs a shape argument");
      s.out = *v;
      for (int64_t d : s.out)
        if (d < 0) return NodeError(u, "negative dimension");
      if (u.op() == Op::kReshape && NumElements(s.out) != NumElements(in))
        return NodeError(u, absl::StrCat("cannot reshape ", ShapeString(in)));
      if (u.op() == Op::kExpand) {
        if (s.out.size() != rank)
          return NodeError(u, absl::StrCat("rank differs from ", ShapeString(in)));
        for (size_t k = 0; k < rank; ++k)
          if (in[k] != s.out[k] && in[k] != 1)
            return NodeError(u, absl::StrCat("cannot expand ", ShapeString(in)));
      }
      return s;
    }
    case Op::kPermute: {
      const auto* v = u.arg().get_if<std::vector<int64_t>>();
      if (!v || v->size() != rank) return NodeError(u, "needs one axis per dimension");
      std::vector<bool> seen(rank, false);
      for (int64_t a : *v) {
        if (a < 0 || a >= static_cast<int64_t>(rank) || seen[a])
          return NodeError(u, "order is not a permutation");
        seen[a] = true;
        s.out.push_back(in[a]);
      }
      s.vec = *v;
      return s;
    }
    case Op::kPad:
    case Op::kShrink: {
      const auto* p = u.arg().get_if<PairList>();
      if (!p || p->size() != rank) return NodeError(u, "needs one pair per dimension");
      for (size_t k = 0; k < rank; ++k) {
        auto [a, b] = (*p)[k];
        if (u.op() == Op::kPad) {
          if (a < 0 || b < 0) return NodeError(u, "negative padding");
          s.out.push_back(in[k] + a + b);
        } else {
          if (a < 0 || b < a || b > in[k])
            return NodeError(u, absl::StrCat("bounds outside ", ShapeString(in)));
          s.out.push_back(b - a);
        }
      }
      s.pairs = *p;
      return s;
    }
    case Op::kFlip: {
      const auto* v = u.arg().get_if<std::vector<int64_t>>();
      if (!v || v->size() != rank) return NodeError(u, "needs one flag per dimension");
      s.out = in;
      s.vec = *v;
      return s;
    }
    default:
      return NodeError(u, "not a movement op");
  }
}

class Evaluator {
 public:
  // Evaluates every node reachable from `root`; keeps root's value.
  absl::Status Run(const UOpPtr& root) {
    root_ = root.get();
    std::vector<const UOp*> order = root->Toposort();
    for (const UOp* u : order)
      for (const UOpPtr& s : u->src()) ++uses_[s.get()];
    for (const UOp* u : order) {
      RETURN_IF_ERROR(Eval(*u));
      for (const UOpPtr& s : u->src()) {
        auto it = uses_.find(s.get());
        if (--it->second == 0 && s.get() != root_) values_.erase(s.get());
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<HostArray> Materialize(const UOp& u) {
    auto it = values_.find(&u);
    if (it == values_.end()) return NodeError(u, "has no value");
    const Value& v = it->second;
    RETURN_IF_ERROR(CheckReadable(v, u));
    HostArray out{v.dtype, v.shape, {}};
    int64_t n = NumElements(v.shape);
    int size = v.dtype.itemsize();
    out.bytes.resize(static_cast<size_t>(n * size));
    Reader r(v);
    for (int64_t j = 0; j < n; ++j) StoreCell(r.Read(j), v.dtype, &out.bytes[j * size]);
    return out;
  }

  // Writes every buffer an ASSIGN changed back to its storage.
  void Commit() {
    for (auto& [id, w] : written_) {
      std::vector<uint8_t> bytes(static_cast<size_t>(w.storage->nbytes()));
      int size = w.storage->dtype().itemsize();
      for (size_t j = 0; j < w.data->size(); ++j)
        StoreCell((*w.data)[j], w.storage->dtype(), &bytes[j * size]);
      w.storage->SetHostBytes(std::move(bytes));
    }
  }

 private:
  struct Written {
    std::shared_ptr<Storage> storage;
    std::shared_ptr<const Cells> data;
  };

  absl::Status CheckReadable(const Value& v, const UOp& user) {
    if (v.data) return absl::OkStatus();
    const UOp& b = *v.buffer;
    return absl::FailedPreconditionError(absl::StrCat(
        "reference: ", NodeName(user), " reads ", NodeName(b), " whose storage is not realized"));
  }

  const Value* Src(const UOp& u, size_t i) {
    auto it = values_.find(u.src(i).get());
    return it == values_.end() ? nullptr : &it->second;
  }

  absl::Status Eval(const UOp& u) {
    Op op = u.op();
    switch (op) {
      case Op::kSink:
      case Op::kDevice:
        return absl::OkStatus();
      case Op::kBuffer:
        return EvalBuffer(u);
      case Op::kConst: {
        auto s = Scalar::FromConst(u);
        if (!s) return NodeError(u, "constant of unsupported dtype");
        Value v{u.dtype(), {}, std::make_shared<const Cells>(Cells{ToCell(*s)}), {}, {}, nullptr};
        values_.emplace(&u, std::move(v));
        return absl::OkStatus();
      }
      case Op::kContiguous:
      case Op::kDetach:
      case Op::kCopy: {
        const Value* s = u.num_srcs() >= 1 ? Src(u, 0) : nullptr;
        if (!s) return NodeError(u, "needs a value source");
        Value v = *s;
        values_.emplace(&u, std::move(v));
        return absl::OkStatus();
      }
      case Op::kReduceAxis:
        return EvalReduce(u);
      case Op::kAssign:
        return EvalAssign(u);
      default:
        break;
    }
    if (IsMovement(op)) return EvalMovement(u);
    if (IsElementwise(op)) return EvalElementwise(u);
    return absl::UnimplementedError(
        absl::StrCat("reference: ", NodeName(u), " is not a tensor-level op it evaluates"));
  }

  absl::Status EvalBuffer(const UOp& u) {
    const auto* arg = u.arg().get_if<BufferArg>();
    if (!arg) return NodeError(u, "needs a BufferArg");
    std::shared_ptr<Storage> storage = LookupStorage(arg->id);
    if (!storage)
      return absl::FailedPreconditionError(
          absl::StrCat("reference: ", NodeName(u), ": no live Storage with id ", arg->id));
    if (storage->dtype() != u.dtype() || storage->size() != arg->size)
      return NodeError(
          u, absl::StrCat("Storage is ", storage->dtype().ToString(), "[", storage->size(), "]"));
    Value v{u.dtype(), {arg->size}, nullptr, {arg->size}, {}, &u};
    if (storage->host_valid) {
      if (static_cast<int64_t>(storage->host.size()) != storage->nbytes())
        return NodeError(u, absl::StrCat("host copy has ", storage->host.size(), " bytes, want ",
                                         storage->nbytes()));
      auto cells = std::make_shared<Cells>(static_cast<size_t>(arg->size));
      int size = u.dtype().itemsize();
      for (int64_t j = 0; j < arg->size; ++j)
        (*cells)[j] = LoadCell(&storage->host[j * size], u.dtype());
      v.data = std::move(cells);
    } else if (storage->device_valid) {
      return absl::FailedPreconditionError(absl::StrCat(
          "reference: ", NodeName(u), ": contents live only on device ", storage->device()));
    }
    storages_[arg->id] = std::move(storage);
    values_.emplace(&u, std::move(v));
    return absl::OkStatus();
  }

  absl::Status EvalMovement(const UOp& u) {
    const Value* s = u.num_srcs() == 1 ? Src(u, 0) : nullptr;
    if (!s) return NodeError(u, "needs one value source");
    if (u.dtype() != s->dtype) return NodeError(u, "dtype differs from its source's");
    ASSIGN_OR_RETURN(Step step, MakeStep(u, s->shape));
    Value v{s->dtype, step.out, s->data, s->data_shape, {}, s->buffer};
    v.steps.reserve(s->steps.size() + 1);
    v.steps.push_back(std::move(step));
    v.steps.insert(v.steps.end(), s->steps.begin(), s->steps.end());
    values_.emplace(&u, std::move(v));
    return absl::OkStatus();
  }

  absl::Status EvalElementwise(const UOp& u) {
    std::vector<const Value*> srcs;
    for (size_t i = 0; i < u.num_srcs(); ++i) {
      const Value* s = Src(u, i);
      if (!s) return NodeError(u, "needs value sources");
      RETURN_IF_ERROR(CheckReadable(*s, u));
      srcs.push_back(s);
    }
    if (srcs.empty()) return NodeError(u, "has no sources");
    RETURN_IF_ERROR(CheckElementwise(u, srcs));
    const Shape& shape = srcs[0]->shape;
    const int64_t n = NumElements(shape);
    std::vector<Reader> readers;
    for (const Value* s : srcs) readers.emplace_back(*s);
    auto cells = std::make_shared<Cells>(static_cast<size_t>(n));
    std::vector<Scalar> args(srcs.size());
    for (int64_t j = 0; j < n; ++j) {
      for (size_t k = 0; k < srcs.size(); ++k)
        args[k] = ToScalar(readers[k].Read(j), srcs[k]->dtype);
      std::optional<Scalar> r = EvalScalar(u.op(), u.dtype(), args);
      // Declined elements (x/0, out-of-range shifts) are 0, as documented.
      (*cells)[j] = r ? ToCell(*r) : 0;
    }
    values_.emplace(&u, Value{u.dtype(), shape, std::move(cells), shape, {}, nullptr});
    return absl::OkStatus();
  }

  absl::Status EvalReduce(const UOp& u) {
    const Value* s = u.num_srcs() == 1 ? Src(u, 0) : nullptr;
    if (!s) return NodeError(u, "needs one value source");
    RETURN_IF_ERROR(CheckReadable(*s, u));
    const auto* arg = u.arg().get_if<ReduceArg>();
    if (!arg) return NodeError(u, "needs a ReduceArg");
    if (arg->op != Op::kAdd && arg->op != Op::kMul && arg->op != Op::kMax)
      return NodeError(u, "reduces only with ADD, MUL or MAX");
    if (u.dtype() != s->dtype) return NodeError(u, "dtype differs from its source's");
    DType d = s->dtype;
    if (!IsPlainScalarType(d)) return NodeError(u, "only scalar dtypes are evaluated");
    Shape out = s->shape;
    for (int64_t a : arg->axes) {
      if (a < 0 || a >= static_cast<int64_t>(out.size()) || out[a] == -1)
        return NodeError(u, absl::StrCat("bad axis ", a, " for ", ShapeString(s->shape)));
      out[a] = -1;  // marks a reduced axis until the loop below
    }
    std::vector<bool> reduced(out.size());
    for (size_t k = 0; k < out.size(); ++k) {
      reduced[k] = out[k] == -1;
      if (reduced[k]) out[k] = 1;
    }
    const int64_t n_out = NumElements(out), n_in = NumElements(s->shape);
    const bool is_float = d.is_float();
    const bool is_u64 = d.scalar_type() == ScalarType::kUInt64;
    std::vector<double> facc(is_float ? n_out : 0);
    std::vector<uint64_t> iacc(is_float ? 0 : n_out);
    if (is_float) {
      double init = arg->op == Op::kAdd   ? 0.0
                    : arg->op == Op::kMul ? 1.0
                                          : -std::numeric_limits<double>::infinity();
      std::fill(facc.begin(), facc.end(), init);
    } else {
      uint64_t init = arg->op == Op::kAdd ? 0 : arg->op == Op::kMul ? 1 : 0;
      if (arg->op == Op::kMax && !d.is_unsigned() && !d.is_bool())
        init = static_cast<uint64_t>(d.min_int());
      std::fill(iacc.begin(), iacc.end(), init);
    }
    Reader reader(*s);
    std::vector<int64_t> idx;
    for (int64_t j = 0; j < n_in; ++j) {
      Unravel(j, s->shape, idx);
      for (size_t k = 0; k < idx.size(); ++k)
        if (reduced[k]) idx[k] = 0;
      const int64_t o = Ravel(idx, out);
      const uint64_t cell = reader.Read(j);
      if (is_float) {
        double x = std::bit_cast<double>(cell), &acc = facc[o];
        if (arg->op == Op::kAdd) {
          acc += x;
        } else if (arg->op == Op::kMul) {
          acc *= x;
        } else if (std::isnan(acc) || std::isnan(x)) {
          acc = std::numeric_limits<double>::quiet_NaN();
        } else if (x > acc || (x == acc && std::signbit(acc))) {
          acc = x;  // MAX prefers +0.0 over -0.0, like EvalScalar
        }
      } else {
        uint64_t& acc = iacc[o];
        if (arg->op == Op::kAdd) {
          acc += cell;
        } else if (arg->op == Op::kMul) {
          acc *= cell;
        } else if (is_u64 ? cell > acc : static_cast<int64_t>(cell) > static_cast<int64_t>(acc)) {
          acc = cell;
        }
      }
    }
    auto cells = std::make_shared<Cells>(static_cast<size_t>(n_out));
    for (int64_t o = 0; o < n_out; ++o) {
      (*cells)[o] = is_float ? ToCell(Scalar::Float(d, facc[o]))
                             : static_cast<uint64_t>(WrapToDType(iacc[o], d));
    }
    values_.emplace(&u, Value{d, out, std::move(cells), out, {}, nullptr});
    return absl::OkStatus();
  }

  absl::Status EvalAssign(const UOp& u) {
    const Value* target = u.num_srcs() == 2 ? Src(u, 0) : nullptr;
    const Value* value = u.num_srcs() == 2 ? Src(u, 1) : nullptr;
    if (!target || !value) return NodeError(u, "needs (target, value) sources");
    if (!target->buffer) return NodeError(u, "target is not a view of a BUFFER");
    for (const Step& s : target->steps)
      if (s.op == Op::kPad || s.op == Op::kExpand)
        return NodeError(u, absl::StrCat("target view has ", OpName(s.op),
                                         " (writes would be lost or repeated)"));
    if (target->shape != value->shape || target->dtype != value->dtype)
      return NodeError(
          u, absl::StrCat("target is ", target->dtype.ToString(), ShapeString(target->shape),
                          ", value is ", value->dtype.ToString(), ShapeString(value->shape)));
    RETURN_IF_ERROR(CheckReadable(*value, u));
    const int64_t id = target->buffer->arg().get<BufferArg>().id;
    auto it = written_.find(id);
    std::shared_ptr<Cells> cells;
    if (it != written_.end()) {
      cells = std::make_shared<Cells>(*it->second.data);
    } else if (target->data) {
      cells = std::make_shared<Cells>(*target->data);
    } else {
      cells = std::make_shared<Cells>(static_cast<size_t>(NumElements(target->data_shape)), 0);
    }
    Reader to(*target), from(*value);
    const int64_t n = NumElements(target->shape);
    for (int64_t j = 0; j < n; ++j) (*cells)[to.Map(j)] = from.Read(j);
    std::shared_ptr<const Cells> data = std::move(cells);
    written_[id] = Written{storages_.at(id), data};
    Value v{target->dtype, target->shape, data, target->data_shape, target->steps, target->buffer};
    values_.emplace(&u, std::move(v));
    return absl::OkStatus();
  }

  const UOp* root_ = nullptr;
  absl::flat_hash_map<const UOp*, Value> values_;
  absl::flat_hash_map<const UOp*, int64_t> uses_;
  absl::flat_hash_map<int64_t, std::shared_ptr<Storage>> storages_;
  absl::flat_hash_map<int64_t, Written> written_;
};

}  // namespace

int64_t HostArray::numel() const { return NumElements(shape); }

double HostArray::AsDouble(int64_t i) const {
  uint64_t cell = LoadCell(&bytes[i * dtype.itemsize()], dtype);
  if (dtype.is_float()) return std::bit_cast<double>(cell);
  if (dtype.scalar_type() == ScalarType::kUInt64) return static_cast<double>(cell);
  return static_cast<double>(static_cast<int64_t>(cell));
}

int64_t HostArray::AsInt(int64_t i) const {
  uint64_t cell = LoadCell(&bytes[i * dtype.itemsize()], dtype);
  if (!dtype.is_float()) return static_cast<int64_t>(cell);
  double v = std::bit_cast<double>(cell);
  // NaN and values outside int64 give INT64_MIN instead of undefined behavior.
  if (!(v > -9.2233720368547758e18 && v < 9.2233720368547758e18))
    return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

absl::StatusOr<HostArray> ReferenceEvaluate(const UOpPtr& root) {
  if (!root) return absl::InvalidArgumentError("reference: null graph");
  Evaluator ev;
  RETURN_IF_ERROR(ev.Run(root));
  return ev.Materialize(*root);
}

absl::Status ReferenceRealizer::Realize(const UOpPtr& sink) {
  if (!sink || sink->op() != Op::kSink)
    return absl::InvalidArgumentError("reference: Realize needs a SINK");
  for (const UOpPtr& s : sink->src())
    if (s->op() != Op::kAssign)
      return absl::InvalidArgumentError(
          absl::StrCat("reference: SINK source ", NodeName(*s), " is not an ASSIGN"));
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  Evaluator ev;
  RETURN_IF_ERROR(ev.Run(sink));
  ev.Commit();
  return absl::OkStatus();
}

absl::Status ReferenceRealizer::CopyToHost(Storage& storage) {
  if (storage.host_valid) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("reference: storage ", storage.id(), " (", storage.dtype().ToString(), "[",
                   storage.size(), "] on ", storage.device(), ") has no host copy",
                   storage.device_valid ? " (device only)" : " (not realized)"));
}

}  // namespace uop
