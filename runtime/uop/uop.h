// UOp: the one node type of every IR level, immutable and hash-consed.
//
// A node is (op, dtype, srcs, arg). Creating a node equal to a live one
// returns that same object, so pointer equality is structural equality and
// graphs are DAGs with maximal sharing.
//
//   UOpPtr i = UOp::Var("i", 0, 9);
//   UOpPtr e = i * 4 + 3;                 // ADD(MUL(i, 4), 3), dtype index
//   e->vmin() == 3, e->vmax() == 39
//   UOp::Create(Op::kAdd, DType::Index(), {i * 4, UOp::Const(DType::Index(), 3)}) == e
//
// Lifetime: UOpPtr is an intrusive, atomically counted handle. A node whose
// count drops to zero stays in the intern table (a later identical Create
// revives it) until a sweep frees it; sweeps run automatically as the table
// grows, or by UOp::CollectGarbage(). Raw `const UOp*` are borrowed views and
// must not outlive the UOpPtr they came from.
//
// Thread safety: creation is safe from any thread (sharded intern table).
#ifndef UOP_RUNTIME_UOP_UOP_H_
#define UOP_RUNTIME_UOP_UOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"
#include "runtime/dtype/dtype.h"
#include "runtime/uop/arg.h"
#include "runtime/uop/ops.h"

namespace uop {

class UOp;

class UOpPtr {
 public:
  UOpPtr() = default;
  UOpPtr(std::nullptr_t) {}  // NOLINT
  UOpPtr(const UOpPtr& o) : p_(o.p_) { Ref(); }
  UOpPtr(UOpPtr&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  UOpPtr& operator=(const UOpPtr& o) {
    if (p_ != o.p_) {
      o.Ref();
      Unref();
      p_ = o.p_;
    }
    return *this;
  }
  UOpPtr& operator=(UOpPtr&& o) noexcept {
    if (this != &o) {
      Unref();
      p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  ~UOpPtr() { Unref(); }

  // Takes a new reference to a borrowed node.
  static UOpPtr FromBorrowed(const UOp* p);

  const UOp* get() const { return p_; }
  const UOp* operator->() const { return p_; }
  const UOp& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  friend bool operator==(const UOpPtr& a, const UOpPtr& b) { return a.p_ == b.p_; }
  friend bool operator!=(const UOpPtr& a, const UOpPtr& b) { return a.p_ != b.p_; }
  friend bool operator==(const UOpPtr& a, const UOp* b) { return a.p_ == b; }
  friend bool operator==(const UOpPtr& a, std::nullptr_t) { return a.p_ == nullptr; }
  friend bool operator!=(const UOpPtr& a, std::nullptr_t) { return a.p_ != nullptr; }
  template <typename H>
  friend H AbslHashValue(H h, const UOpPtr& p) {
    return H::combine(std::move(h), p.p_);
  }

 private:
  friend class UOp;
  explicit UOpPtr(const UOp* p, bool adopt) : p_(p) {
    if (!adopt) Ref();
  }
  inline void Ref() const;
  inline void Unref();
  const UOp* p_ = nullptr;
};

using UOpList = absl::InlinedVector<UOpPtr, 4>;
using Shape = std::vector<int64_t>;

class UOp {
 public:
  // The canonical constructor: returns the live node equal to
  // (op, dtype, srcs, arg) or makes one.
  static UOpPtr Create(Op op, DType dtype, absl::Span<const UOpPtr> srcs = {}, Arg arg = {});
  static UOpPtr Create(Op op, DType dtype, std::initializer_list<UOpPtr> srcs, Arg arg = {}) {
    return Create(op, dtype, absl::MakeConstSpan(srcs.begin(), srcs.size()), std::move(arg));
  }

  // Constants. Bools and integers are stored as int64 (uint64 bit patterns
  // for values past INT64_MAX), floats as double.
  static UOpPtr Const(DType dtype, int64_t value);
  static UOpPtr Const(DType dtype, double value);
  static UOpPtr ConstBool(bool value) { return Const(DType::Bool(), int64_t{value}); }
  static UOpPtr Index(int64_t value) { return Const(DType::Index(), value); }
  // A symbolic integer with inclusive bounds, dtype index.
  static UOpPtr Var(const std::string& name, int64_t min, int64_t max);

  // An elementwise op; dtype follows the sources (bool for comparisons,
  // the second source for WHERE).
  static UOpPtr Alu(Op op, absl::Span<const UOpPtr> srcs);
  static UOpPtr Alu(Op op, std::initializer_list<UOpPtr> srcs) {
    return Alu(op, absl::MakeConstSpan(srcs.begin(), srcs.size()));
  }

  Op op() const { return op_; }
  DType dtype() const { return dtype_; }
  absl::Span<const UOpPtr> src() const { return src_; }
  const UOpPtr& src(size_t i) const { return src_[i]; }
  size_t num_srcs() const { return src_.size(); }
  const Arg& arg() const { return arg_; }
  size_t hash() const { return hash_; }

  // Tensor-level shape, or nullptr for kernel-level nodes.
  const Shape* shape() const { return shape_.get(); }
  const std::shared_ptr<const Shape>& shared_shape() const { return shape_; }

  // Bounds of an integer or bool value (inclusive); floats get the dtype's
  // range saturated to int64. Exact for constants and variables, sound (never
  // too tight) for everything else.
  int64_t vmin() const { return vmin_; }
  int64_t vmax() const { return vmax_; }

  bool is_const() const { return op_ == Op::kConst; }
  // The value of a CONST as int64 (floats truncated) or double.
  int64_t const_int() const;
  double const_float() const;
  // True for CONST nodes whose value equals v (compared as the node's dtype).
  bool IsConstValue(double v) const;

  // Same node with a different source list / dtype / arg.
  UOpPtr Replace(absl::Span<const UOpPtr> srcs) const;
  UOpPtr WithDType(DType dtype) const;
  UOpPtr WithArg(Arg arg) const;

  // One line: OP dtype arg, with sources as short ids.
  std::string ShortString() const;
  // The whole DAG, one node per line, shared nodes printed once.
  std::string ToString() const;

  // Nodes reachable from this one, each once, sources before users.
  std::vector<const UOp*> Toposort() const;

  // Frees every node no UOpPtr refers to; returns how many were freed.
  static size_t CollectGarbage();
  // Number of nodes in the intern table (live or awaiting a sweep).
  static size_t InternedCount();

  UOp(const UOp&) = delete;
  UOp& operator=(const UOp&) = delete;

 private:
  friend class UOpPtr;
  friend struct UOpInterner;
  UOp(Op op, DType dtype, UOpList srcs, Arg arg, size_t hash);
  ~UOp() = default;
  void ComputeDerived();

  mutable std::atomic<int32_t> refs_{0};
  Op op_;
  DType dtype_;
  UOpList src_;
  Arg arg_;
  size_t hash_;
  int64_t vmin_ = 0;
  int64_t vmax_ = 0;
  std::shared_ptr<const Shape> shape_;
};

inline void UOpPtr::Ref() const {
  if (p_) p_->refs_.fetch_add(1, std::memory_order_relaxed);
}
inline void UOpPtr::Unref() {
  if (p_) p_->refs_.fetch_sub(1, std::memory_order_acq_rel);
}
inline UOpPtr UOpPtr::FromBorrowed(const UOp* p) { return UOpPtr(p, /*adopt=*/false); }

// Arithmetic sugar for building index math and patterns. Integer operands
// become constants of the other side's dtype.
UOpPtr operator+(const UOpPtr& a, const UOpPtr& b);
UOpPtr operator-(const UOpPtr& a, const UOpPtr& b);
UOpPtr operator*(const UOpPtr& a, const UOpPtr& b);
UOpPtr operator/(const UOpPtr& a, const UOpPtr& b);  // IDIV for ints, FDIV for floats
UOpPtr operator%(const UOpPtr& a, const UOpPtr& b);
UOpPtr operator-(const UOpPtr& a);
UOpPtr operator+(const UOpPtr& a, int64_t b);
UOpPtr operator-(const UOpPtr& a, int64_t b);
UOpPtr operator*(const UOpPtr& a, int64_t b);
UOpPtr operator/(const UOpPtr& a, int64_t b);
UOpPtr operator%(const UOpPtr& a, int64_t b);
UOpPtr operator+(int64_t a, const UOpPtr& b);
UOpPtr operator*(int64_t a, const UOpPtr& b);
UOpPtr Lt(const UOpPtr& a, const UOpPtr& b);
UOpPtr Lt(const UOpPtr& a, int64_t b);
UOpPtr Ne(const UOpPtr& a, const UOpPtr& b);
UOpPtr Eq(const UOpPtr& a, const UOpPtr& b);
UOpPtr Max(const UOpPtr& a, const UOpPtr& b);
UOpPtr Where(const UOpPtr& c, const UOpPtr& t, const UOpPtr& f);
UOpPtr LogicalAnd(const UOpPtr& a, const UOpPtr& b);
UOpPtr Cast(const UOpPtr& x, DType dtype);
// A constant with x's dtype.
UOpPtr ConstLike(const UOpPtr& x, int64_t v);
UOpPtr ConstLikeF(const UOpPtr& x, double v);

// Hash and equality for containers keyed by borrowed nodes.
struct UOpPtrHash {
  size_t operator()(const UOp* p) const { return std::hash<const UOp*>()(p); }
};

}  // namespace uop

#endif  // UOP_RUNTIME_UOP_UOP_H_
