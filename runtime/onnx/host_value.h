// HostTensor and HostValue: ONNX values in host memory, the currency of
// Model::Run's inputs and outputs, of initializers and of test data files.
//
//   HostTensor t = HostTensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
//   HostValue v = HostValue::Tensor(std::move(t));
//   v.tensor().numel() == 4
//
// A HostTensor holds either numeric data (`dtype`, little-endian `bytes`) or
// strings (`is_string`, one std::string per element; ONNX STRING has no
// device dtype). A HostValue is what an ONNX graph input/output can be: a
// tensor, a sequence of values, or an empty optional.
#ifndef UOP_RUNTIME_ONNX_HOST_VALUE_H_
#define UOP_RUNTIME_ONNX_HOST_VALUE_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/dtype/dtype.h"
#include "runtime/tensor/tensor.h"
#include "runtime/uop/uop.h"

namespace uop::onnx_import {

struct HostTensor {
  DType dtype = DType::Float32();
  Shape shape;
  std::vector<uint8_t> bytes;  // numel * itemsize, row-major (numeric tensors)
  bool is_string = false;
  std::vector<std::string> strings;  // numel entries (string tensors)

  int64_t numel() const;
  // "float32[2, 3]" or "string[4]".
  std::string Describe() const;

  template <typename T>
  static HostTensor FromVector(const std::vector<T>& v, Shape shape) {
    static_assert(std::is_arithmetic_v<T>);
    HostTensor t;
    t.dtype = *DTypeOf<T>();
    t.shape = std::move(shape);
    t.bytes.resize(v.size() * sizeof(T));
    for (size_t i = 0; i < v.size(); ++i) {
      T x = v[i];
      std::memcpy(t.bytes.data() + i * sizeof(T), &x, sizeof(T));
    }
    return t;
  }
  static HostTensor Strings(std::vector<std::string> s, Shape shape);

  // Element i converted to double / int64 (numeric tensors only).
  double AsDouble(int64_t i) const;
  int64_t AsInt(int64_t i) const;
};

class HostValue {
 public:
  enum class Kind : uint8_t { kTensor, kSequence, kNone };

  HostValue() : kind_(Kind::kNone) {}
  static HostValue Tensor(HostTensor t);
  static HostValue Sequence(std::vector<HostValue> items);
  static HostValue None() { return HostValue(); }  // an empty optional

  Kind kind() const { return kind_; }
  bool is_tensor() const { return kind_ == Kind::kTensor; }
  const HostTensor& tensor() const { return tensor_; }
  HostTensor& mutable_tensor() { return tensor_; }
  const std::vector<HostValue>& sequence() const { return items_; }
  std::string Describe() const;

 private:
  Kind kind_;
  HostTensor tensor_;
  std::vector<HostValue> items_;
};

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_HOST_VALUE_H_
