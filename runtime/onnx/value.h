// Value: what one ONNX value is while a graph is imported and run.
//
// A tensor Value holds a lazy Tensor; a string tensor holds host strings; a
// sequence holds Values; kNone is an empty optional and kAbsent an omitted
// optional input. `is_const` marks values that do not depend on graph inputs
// or random ops (initializers, Constant nodes, shapes and everything computed
// from those alone): the evaluator folds them at import so the per-run graph
// contains only real work. `host` is the known contents of small constants,
// read by ops that need numbers at import (Reshape's shape, Slice's starts).
//
//   Value v = Value::FromTensor(x);            // runtime data
//   Value c = Value::Constant(host_tensor);    // folded, host-known
#ifndef UOP_RUNTIME_ONNX_VALUE_H_
#define UOP_RUNTIME_ONNX_VALUE_H_

#include <memory>
#include <vector>

#include "runtime/onnx/host_value.h"
#include "runtime/tensor/tensor.h"

namespace uop::onnx_import {

class Value {
 public:
  enum class Kind : uint8_t { kAbsent, kTensor, kStrings, kSequence, kNone };

  Value() = default;
  static Value FromTensor(Tensor t, bool is_const = false) {
    Value v;
    v.kind_ = Kind::kTensor;
    v.tensor_ = std::move(t);
    v.is_const_ = is_const;
    return v;
  }
  // A constant with known contents (numeric or strings).
  static Value Constant(std::shared_ptr<const HostTensor> host);
  static Value Strings(std::shared_ptr<const HostTensor> host, bool is_const) {
    Value v;
    v.kind_ = Kind::kStrings;
    v.host_ = std::move(host);
    v.is_const_ = is_const;
    return v;
  }
  static Value Sequence(std::vector<Value> items, bool is_const) {
    Value v;
    v.kind_ = Kind::kSequence;
    v.items_ = std::make_shared<const std::vector<Value>>(std::move(items));
    v.is_const_ = is_const;
    return v;
  }
  static Value None() {
    Value v;
    v.kind_ = Kind::kNone;
    v.is_const_ = true;
    return v;
  }

  Kind kind() const { return kind_; }
  bool present() const { return kind_ != Kind::kAbsent; }
  bool is_tensor() const { return kind_ == Kind::kTensor; }
  bool is_const() const { return is_const_; }
  const Tensor& tensor() const { return tensor_; }
  Tensor& mutable_tensor() { return tensor_; }
  // Known contents, or nullptr.
  const std::shared_ptr<const HostTensor>& host() const { return host_; }
  void set_host(std::shared_ptr<const HostTensor> h) { host_ = std::move(h); }
  const std::vector<Value>& items() const;

  // Shape of a tensor or string tensor (empty otherwise).
  const Shape& shape() const;
  // "tensor float32[2, 3]", "strings[4]", "sequence(3)", "none", "absent".
  std::string Describe() const;

 private:
  Kind kind_ = Kind::kAbsent;
  bool is_const_ = false;
  Tensor tensor_;
  std::shared_ptr<const HostTensor> host_;
  std::shared_ptr<const std::vector<Value>> items_;
};

// A realized tensor holding `h`'s numbers (h must not be a string tensor).
Tensor TensorFromHost(const HostTensor& h);

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_VALUE_H_
