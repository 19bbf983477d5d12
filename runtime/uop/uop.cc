#include "runtime/uop/uop.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/uop/bounds.h"

namespace uop {

// ---------------------------------------------------------------------------
// Interning

namespace {

struct Key {
  Op op;
  DType dtype;
  absl::Span<const UOpPtr> srcs;
  const Arg* arg;
  size_t hash;
};

size_t HashNode(Op op, DType dtype, absl::Span<const UOpPtr> srcs, const Arg& arg) {
  size_t h = absl::HashOf(static_cast<uint8_t>(op), dtype.Hash(), arg.Hash());
  for (const UOpPtr& s : srcs) h = absl::HashOf(h, s.get());
  return h;
}

}  // namespace

struct UOpInterner {
  struct Hash {
    using is_transparent = void;
    size_t operator()(const UOp* u) const { return u->hash_; }
    size_t operator()(const Key& k) const { return k.hash; }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(const UOp* a, const UOp* b) const { return a == b; }
    bool operator()(const UOp* a, const Key& k) const { return Match(a, k); }
    bool operator()(const Key& k, const UOp* a) const { return Match(a, k); }
    static bool Match(const UOp* a, const Key& k) {
      if (a->hash_ != k.hash || a->op_ != k.op || a->dtype_ != k.dtype) return false;
      if (a->src_.size() != k.srcs.size()) return false;
      for (size_t i = 0; i < k.srcs.size(); ++i)
        if (a->src_[i] != k.srcs[i]) return false;
      return a->arg_ == *k.arg;
    }
  };
  static constexpr int kShards = 64;
  struct Shard {
    std::mutex mu;
    absl::flat_hash_set<UOp*, Hash, Eq> nodes;
  };
  Shard shards[kShards];
  std::atomic<size_t> count{0};
  std::atomic<size_t> next_sweep{1 << 20};
  std::mutex sweep_mu;

  static UOpInterner& Get() {
    static auto* interner = new UOpInterner();  // never destroyed: nodes outlive statics
    return *interner;
  }
  Shard& ShardFor(size_t hash) { return shards[(hash >> 7) % kShards]; }

  size_t Sweep() {
    std::lock_guard<std::mutex> sweep_lock(sweep_mu);
    std::vector<UOp*> dead;
    for (Shard& shard : shards) {
      std::lock_guard<std::mutex> lock(shard.mu);
      for (auto it = shard.nodes.begin(); it != shard.nodes.end();) {
        UOp* u = *it;
        if (u->refs_.load(std::memory_order_acquire) == 0) {
          dead.push_back(u);
          shard.nodes.erase(it++);
        } else {
          ++it;
        }
      }
    }
    // Freeing a node drops its sources' counts; those that reach zero are
    // freed too (checked under their shard's lock, where a revival would
    // have to happen), so a long chain goes in one sweep.
    size_t freed = 0;
    std::vector<const UOp*> srcs;
    while (!dead.empty()) {
      UOp* u = dead.back();
      dead.pop_back();
      srcs.clear();
      for (const UOpPtr& s : u->src_) srcs.push_back(s.get());
      delete u;
      ++freed;
      for (const UOp* s : srcs) {
        Shard& shard = ShardFor(s->hash_);
        std::lock_guard<std::mutex> lock(shard.mu);
        if (s->refs_.load(std::memory_order_acquire) != 0) continue;
        auto it = shard.nodes.find(const_cast<UOp*>(s));
        if (it == shard.nodes.end()) continue;  // already on the dead list
        shard.nodes.erase(it);
        dead.push_back(const_cast<UOp*>(s));
      }
    }
    size_t live = count.fetch_sub(freed, std::memory_order_relaxed) - freed;
    next_sweep.store(std::max<size_t>(1 << 20, live * 2), std::memory_order_relaxed);
    return freed;
  }
};

UOp::UOp(Op op, DType dtype, UOpList srcs, Arg arg, size_t hash)
    : op_(op), dtype_(dtype), src_(std::move(srcs)), arg_(std::move(arg)), hash_(hash) {}

UOpPtr UOp::Create(Op op, DType dtype, absl::Span<const UOpPtr> srcs, Arg arg) {
  UOpInterner& interner = UOpInterner::Get();
  size_t hash = HashNode(op, dtype, srcs, arg);
  Key key{op, dtype, srcs, &arg, hash};
  UOpInterner::Shard& shard = interner.ShardFor(hash);
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    auto it = shard.nodes.find(key);
    if (it != shard.nodes.end()) return UOpPtr(*it, /*adopt=*/false);
  }
  // Build outside the lock; another thread may race us to the same node.
  auto* node = new UOp(op, dtype, UOpList(srcs.begin(), srcs.end()), std::move(arg), hash);
  node->ComputeDerived();
  UOpPtr result;
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    Key built{node->op_, node->dtype_, node->src_, &node->arg_, hash};
    if (auto it = shard.nodes.find(built); it != shard.nodes.end()) {
      result = UOpPtr(*it, /*adopt=*/false);
      delete node;
      return result;
    }
    shard.nodes.insert(node);
    result = UOpPtr(node, /*adopt=*/false);
  }
  size_t n = interner.count.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n >= interner.next_sweep.load(std::memory_order_relaxed)) interner.Sweep();
  return result;
}

size_t UOp::CollectGarbage() { return UOpInterner::Get().Sweep(); }
size_t UOp::InternedCount() { return UOpInterner::Get().count.load(std::memory_order_relaxed); }

// ---------------------------------------------------------------------------
// Derived properties: bounds and tensor-level shape

namespace {

std::shared_ptr<const Shape> MakeShape(Shape s) {
  return std::make_shared<const Shape>(std::move(s));
}

std::shared_ptr<const Shape> InferShape(Op op, absl::Span<const UOpPtr> srcs, const Arg& arg) {
  auto src_shape = [&](size_t i) -> Shape {
    if (i < srcs.size() && srcs[i]->shape()) return *srcs[i]->shape();
    return {};
  };
  switch (op) {
    case Op::kBuffer:
      if (auto* b = arg.get_if<BufferArg>()) return MakeShape({b->size});
      return nullptr;
    case Op::kView:
      if (auto* obj = arg.get_if<std::shared_ptr<const ArgObject>>())
        if (*obj && (*obj)->Shape()) return MakeShape(*(*obj)->Shape());
      return nullptr;
    case Op::kReshape:
    case Op::kExpand:
      if (auto* v = arg.get_if<std::vector<int64_t>>()) return MakeShape(*v);
      return nullptr;
    case Op::kPermute: {
      auto* order = arg.get_if<std::vector<int64_t>>();
      Shape in = src_shape(0);
      if (!order || order->size() != in.size()) return nullptr;
      Shape out(in.size());
      for (size_t i = 0; i < in.size(); ++i) {
        int64_t a = (*order)[i];
        if (a < 0 || a >= static_cast<int64_t>(in.size())) return nullptr;
        out[i] = in[a];
      }
      return MakeShape(std::move(out));
    }
    case Op::kPad:
    case Op::kShrink: {
      auto* pairs = arg.get_if<PairList>();
      Shape in = src_shape(0);
      if (!pairs || pairs->size() != in.size()) return nullptr;
      for (size_t i = 0; i < in.size(); ++i) {
        const auto& [a, b] = (*pairs)[i];
        in[i] = op == Op::kPad ? in[i] + a + b : b - a;
      }
      return MakeShape(std::move(in));
    }
    case Op::kFlip:
      return srcs.empty() ? nullptr : srcs[0]->shared_shape();
    case Op::kReduceAxis: {
      auto* r = arg.get_if<ReduceArg>();
      Shape in = src_shape(0);
      if (!r) return nullptr;
      for (int64_t a : r->axes)
        if (a >= 0 && a < static_cast<int64_t>(in.size())) in[a] = 1;
      return MakeShape(std::move(in));
    }
    case Op::kDefineVar:
    case Op::kBind:
      return nullptr;
    case Op::kCopy:
    case Op::kContiguous:
    case Op::kDetach:
    case Op::kAssign:
      return srcs.empty() ? nullptr : srcs[0]->shared_shape();
    default:
      break;
  }
  if (IsElementwise(op)) {
    for (const UOpPtr& s : srcs)
      if (s->shape()) return s->shared_shape();
  }
  return nullptr;
}

}  // namespace

void UOp::ComputeDerived() {
  shape_ = InferShape(op_, src_, arg_);
  Bounds b = ComputeBounds(*this);
  vmin_ = b.min;
  vmax_ = b.max;
}

// ---------------------------------------------------------------------------
// Constructors and accessors

UOpPtr UOp::Const(DType dtype, int64_t value) {
  if (dtype.is_float()) return Const(dtype, static_cast<double>(value));
  if (dtype.is_bool()) value = value != 0;
  return Create(Op::kConst, dtype, {}, Arg(value));
}

UOpPtr UOp::Const(DType dtype, double value) {
  if (!dtype.is_float()) {
    if (dtype.is_bool()) return Create(Op::kConst, dtype, {}, Arg(int64_t{value != 0.0}));
    return Create(Op::kConst, dtype, {},
                  Arg(static_cast<int64_t>(CastToDouble(value, dtype.Scalar()))));
  }
  return Create(Op::kConst, dtype, {}, Arg(CastToDouble(value, dtype.Scalar())));
}

UOpPtr UOp::Var(const std::string& name, int64_t min, int64_t max) {
  return Create(Op::kDefineVar, DType::Index(), {}, Arg(VarArg{name, min, max}));
}

UOpPtr UOp::Alu(Op op, absl::Span<const UOpPtr> srcs) {
  DType dtype = srcs.empty() ? DType::Void() : srcs[0]->dtype();
  if (HasTrait(op, kCompare)) dtype = DType::Bool().Vec(dtype.count());
  if (op == Op::kWhere && srcs.size() == 3) dtype = srcs[1]->dtype();
  return Create(op, dtype, srcs);
}

int64_t UOp::const_int() const {
  if (auto* i = arg_.get_if<int64_t>()) return *i;
  if (auto* d = arg_.get_if<double>()) return static_cast<int64_t>(*d);
  return 0;
}

double UOp::const_float() const {
  if (auto* d = arg_.get_if<double>()) return *d;
  if (auto* i = arg_.get_if<int64_t>()) {
    return dtype_.scalar_type() == ScalarType::kUInt64
               ? static_cast<double>(static_cast<uint64_t>(*i))
               : static_cast<double>(*i);
  }
  return 0.0;
}

bool UOp::IsConstValue(double v) const {
  if (op_ != Op::kConst) return false;
  if (auto* d = arg_.get_if<double>()) return *d == v;
  if (auto* i = arg_.get_if<int64_t>()) return static_cast<double>(*i) == v;
  return false;
}

UOpPtr UOp::Replace(absl::Span<const UOpPtr> srcs) const { return Create(op_, dtype_, srcs, arg_); }
UOpPtr UOp::WithDType(DType dtype) const { return Create(op_, dtype, src_, arg_); }
UOpPtr UOp::WithArg(Arg arg) const { return Create(op_, dtype_, src_, std::move(arg)); }

std::vector<const UOp*> UOp::Toposort() const {
  std::vector<const UOp*> order;
  absl::flat_hash_set<const UOp*> seen;
  // Iterative DFS: (node, next source index).
  std::vector<std::pair<const UOp*, size_t>> stack = {{this, 0}};
  seen.insert(this);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->src_.size()) {
      const UOp* s = node->src_[next++].get();
      if (seen.insert(s).second) stack.push_back({s, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;
}

std::string UOp::ShortString() const {
  std::string s = absl::StrCat(OpName(op_), " ", dtype_.ToString());
  if (!arg_.empty()) absl::StrAppend(&s, " ", arg_.ToString());
  return s;
}

std::string UOp::ToString() const {
  std::vector<const UOp*> order = Toposort();
  absl::flat_hash_map<const UOp*, size_t> id;
  std::string out;
  for (const UOp* u : order) {
    size_t n = id.size();
    id[u] = n;
    absl::StrAppend(&out, "%", n, " = ", u->ShortString());
    if (!u->src_.empty()) {
      absl::StrAppend(&out, " <- ",
                      absl::StrJoin(u->src_, ", ", [&](std::string* o, const UOpPtr& s) {
                        absl::StrAppend(o, "%", id[s.get()]);
                      }));
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

// ---------------------------------------------------------------------------
// Sugar

namespace {
UOpPtr ConstFor(const UOpPtr& like, int64_t v) {
  return like->dtype().is_float() ? UOp::Const(like->dtype(), static_cast<double>(v))
                                  : UOp::Const(like->dtype(), v);
}
}  // namespace

UOpPtr ConstLike(const UOpPtr& x, int64_t v) { return ConstFor(x, v); }
UOpPtr ConstLikeF(const UOpPtr& x, double v) { return UOp::Const(x->dtype(), v); }

UOpPtr operator+(const UOpPtr& a, const UOpPtr& b) { return UOp::Alu(Op::kAdd, {a, b}); }
UOpPtr operator-(const UOpPtr& a, const UOpPtr& b) { return UOp::Alu(Op::kSub, {a, b}); }
UOpPtr operator*(const UOpPtr& a, const UOpPtr& b) { return UOp::Alu(Op::kMul, {a, b}); }
UOpPtr operator/(const UOpPtr& a, const UOpPtr& b) {
  return UOp::Alu(a->dtype().is_float() ? Op::kFdiv : Op::kIdiv, {a, b});
}
UOpPtr operator%(const UOpPtr& a, const UOpPtr& b) { return UOp::Alu(Op::kMod, {a, b}); }
UOpPtr operator-(const UOpPtr& a) { return UOp::Alu(Op::kNeg, {a}); }
UOpPtr operator+(const UOpPtr& a, int64_t b) { return a + ConstFor(a, b); }
UOpPtr operator-(const UOpPtr& a, int64_t b) { return a - ConstFor(a, b); }
UOpPtr operator*(const UOpPtr& a, int64_t b) { return a * ConstFor(a, b); }
UOpPtr operator/(const UOpPtr& a, int64_t b) { return a / ConstFor(a, b); }
UOpPtr operator%(const UOpPtr& a, int64_t b) { return a % ConstFor(a, b); }
UOpPtr operator+(int64_t a, const UOpPtr& b) { return ConstFor(b, a) + b; }
UOpPtr operator*(int64_t a, const UOpPtr& b) { return ConstFor(b, a) * b; }
UOpPtr Lt(const UOpPtr& a, const UOpPtr& b) { return UOp::Alu(Op::kCmpLt, {a, b}); }
UOpPtr Lt(const UOpPtr& a, int64_t b) { return Lt(a, ConstFor(a, b)); }
UOpPtr Ne(const UOpPtr& a, const UOpPtr& b) { return UOp::Alu(Op::kCmpNe, {a, b}); }
UOpPtr Eq(const UOpPtr& a, const UOpPtr& b) { return UOp::Alu(Op::kCmpEq, {a, b}); }
UOpPtr Max(const UOpPtr& a, const UOpPtr& b) { return UOp::Alu(Op::kMax, {a, b}); }
UOpPtr Where(const UOpPtr& c, const UOpPtr& t, const UOpPtr& f) {
  return UOp::Alu(Op::kWhere, {c, t, f});
}
UOpPtr LogicalAnd(const UOpPtr& a, const UOpPtr& b) { return UOp::Alu(Op::kAnd, {a, b}); }
UOpPtr Cast(const UOpPtr& x, DType dtype) {
  if (x->dtype() == dtype) return x;
  return UOp::Create(Op::kCast, dtype, {x});
}

}  // namespace uop
