// The `arg` of a UOp: the non-UOp payload that makes two nodes with the same
// op, dtype and sources different (a constant's value, a reshape's shape, a
// reduce's op and axes, a view's ShapeTracker, a buffer's size...).
//
// Equality is exact: doubles compare bitwise, so NaN constants hash-cons and
// -0.0 stays distinct from 0.0.
#ifndef UOP_RUNTIME_UOP_ARG_H_
#define UOP_RUNTIME_UOP_ARG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/uop/ops.h"

namespace uop {

// A payload owned by a higher layer (ShapeTracker, kernel info, ...). Kept
// behind a virtual interface so the IR does not depend on those layers.
class ArgObject {
 public:
  virtual ~ArgObject() = default;
  virtual size_t Hash() const = 0;
  virtual bool Equals(const ArgObject& other) const = 0;
  virtual std::string ToString() const = 0;
  // The shape this payload gives its node, or nullptr (VIEW's ShapeTracker).
  virtual const std::vector<int64_t>* Shape() const { return nullptr; }
};

// REDUCE_AXIS: the combining op (ADD, MUL, MAX) and the reduced axes.
// REDUCE (kernel level): op only; the ranges are sources.
struct ReduceArg {
  Op op;
  std::vector<int64_t> axes;
  friend bool operator==(const ReduceArg& a, const ReduceArg& b) {
    return a.op == b.op && a.axes == b.axes;
  }
};

// DEFINE_VAR: a named symbolic integer with inclusive bounds.
struct VarArg {
  std::string name;
  int64_t min;
  int64_t max;
  friend bool operator==(const VarArg& a, const VarArg& b) {
    return a.name == b.name && a.min == b.min && a.max == b.max;
  }
};

// BUFFER: a unique id (two buffers of the same size are different nodes)
// and the size in elements.
struct BufferArg {
  int64_t id;
  int64_t size;
  friend bool operator==(const BufferArg& a, const BufferArg& b) {
    return a.id == b.id && a.size == b.size;
  }
};

// PAD and SHRINK: one (before, after) or (begin, end) pair per axis.
using PairList = std::vector<std::pair<int64_t, int64_t>>;

class Arg {
 public:
  using Value =
      std::variant<std::monostate, int64_t, double, std::string, std::vector<int64_t>, PairList,
                   ReduceArg, VarArg, BufferArg, std::shared_ptr<const ArgObject>>;

  Arg() = default;
  Arg(int64_t v) : value_(v) {}                          // NOLINT: implicit for terse node creation
  Arg(int v) : value_(static_cast<int64_t>(v)) {}        // NOLINT
  Arg(double v) : value_(v) {}                           // NOLINT
  Arg(std::string v) : value_(std::move(v)) {}           // NOLINT
  Arg(const char* v) : value_(std::string(v)) {}         // NOLINT
  Arg(std::vector<int64_t> v) : value_(std::move(v)) {}  // NOLINT
  Arg(PairList v) : value_(std::move(v)) {}              // NOLINT
  Arg(ReduceArg v) : value_(std::move(v)) {}             // NOLINT
  Arg(VarArg v) : value_(std::move(v)) {}                // NOLINT
  Arg(BufferArg v) : value_(v) {}                        // NOLINT
  Arg(std::shared_ptr<const ArgObject> v) : value_(std::move(v)) {}  // NOLINT

  bool empty() const { return std::holds_alternative<std::monostate>(value_); }
  template <typename T>
  bool is() const {
    return std::holds_alternative<T>(value_);
  }
  template <typename T>
  const T& get() const {
    return std::get<T>(value_);
  }
  template <typename T>
  const T* get_if() const {
    return std::get_if<T>(&value_);
  }
  // The payload object cast to T, or nullptr.
  template <typename T>
  const T* object() const {
    auto* p = std::get_if<std::shared_ptr<const ArgObject>>(&value_);
    return p ? dynamic_cast<const T*>(p->get()) : nullptr;
  }
  const Value& value() const { return value_; }

  size_t Hash() const;
  std::string ToString() const;
  friend bool operator==(const Arg& a, const Arg& b);
  friend bool operator!=(const Arg& a, const Arg& b) { return !(a == b); }

 private:
  Value value_;
};

}  // namespace uop

#endif  // UOP_RUNTIME_UOP_ARG_H_
