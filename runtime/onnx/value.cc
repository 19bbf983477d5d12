#include "runtime/onnx/value.h"

#include "absl/strings/str_cat.h"

namespace uop::onnx_import {

Tensor TensorFromHost(const HostTensor& h) { return Tensor::FromBytes(h.bytes, h.dtype, h.shape); }

Value Value::Constant(std::shared_ptr<const HostTensor> host) {
  if (host->is_string) return Strings(std::move(host), true);
  Value v = FromTensor(TensorFromHost(*host), true);
  v.host_ = std::move(host);
  return v;
}

const std::vector<Value>& Value::items() const {
  static const std::vector<Value>* empty = new std::vector<Value>();
  return items_ ? *items_ : *empty;
}

const Shape& Value::shape() const {
  static const Shape* empty = new Shape();
  if (kind_ == Kind::kTensor) return tensor_.shape();
  if (kind_ == Kind::kStrings && host_) return host_->shape;
  return *empty;
}

std::string Value::Describe() const {
  switch (kind_) {
    case Kind::kAbsent:
      return "absent";
    case Kind::kTensor:
      return absl::StrCat("tensor ", tensor_.ok() ? tensor_.dtype().ToString() : "error",
                          ShapeToString(shape()));
    case Kind::kStrings:
      return absl::StrCat("strings", ShapeToString(shape()));
    case Kind::kSequence:
      return absl::StrCat("sequence(", items().size(), ")");
    case Kind::kNone:
      return "none";
  }
  return "?";
}

}  // namespace uop::onnx_import
