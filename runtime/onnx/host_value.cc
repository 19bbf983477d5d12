#include "runtime/onnx/host_value.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/uop/const_fold.h"

namespace uop::onnx_import {

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string HostTensor::Describe() const {
  return absl::StrCat(is_string ? "string" : dtype.ToString(), "[", absl::StrJoin(shape, ", "),
                      "]");
}

HostTensor HostTensor::Strings(std::vector<std::string> s, Shape shape) {
  HostTensor t;
  t.is_string = true;
  t.strings = std::move(s);
  t.shape = std::move(shape);
  return t;
}

namespace {
template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
}  // namespace

double HostTensor::AsDouble(int64_t i) const {
  const uint8_t* p = bytes.data() + i * dtype.itemsize();
  switch (dtype.scalar_type()) {
    case ScalarType::kBool:
      return p[0] != 0;
    case ScalarType::kInt8:
      return Load<int8_t>(p);
    case ScalarType::kInt16:
      return Load<int16_t>(p);
    case ScalarType::kInt32:
      return Load<int32_t>(p);
    case ScalarType::kInt64:
      return static_cast<double>(Load<int64_t>(p));
    case ScalarType::kUInt8:
      return p[0];
    case ScalarType::kUInt16:
      return Load<uint16_t>(p);
    case ScalarType::kUInt32:
      return Load<uint32_t>(p);
    case ScalarType::kUInt64:
      return static_cast<double>(Load<uint64_t>(p));
    case ScalarType::kFloat16:
      return HalfToFloat(Load<uint16_t>(p));
    case ScalarType::kBFloat16:
      return BFloat16ToFloat(Load<uint16_t>(p));
    case ScalarType::kFloat32:
      return Load<float>(p);
    case ScalarType::kFloat64:
      return Load<double>(p);
    default:
      return 0;
  }
}

int64_t HostTensor::AsInt(int64_t i) const {
  const uint8_t* p = bytes.data() + i * dtype.itemsize();
  switch (dtype.scalar_type()) {
    case ScalarType::kInt64:
      return Load<int64_t>(p);
    case ScalarType::kUInt64:
      return static_cast<int64_t>(Load<uint64_t>(p));
    case ScalarType::kInt32:
      return Load<int32_t>(p);
    case ScalarType::kUInt32:
      return Load<uint32_t>(p);
    default: {
      double d = AsDouble(i);
      if (d != d) return 0;
      if (d >= 9.2e18) return INT64_MAX;
      if (d <= -9.2e18) return INT64_MIN;
      return static_cast<int64_t>(d);
    }
  }
}

HostValue HostValue::Tensor(HostTensor t) {
  HostValue v;
  v.kind_ = Kind::kTensor;
  v.tensor_ = std::move(t);
  return v;
}

HostValue HostValue::Sequence(std::vector<HostValue> items) {
  HostValue v;
  v.kind_ = Kind::kSequence;
  v.items_ = std::move(items);
  return v;
}

std::string HostValue::Describe() const {
  switch (kind_) {
    case Kind::kTensor:
      return tensor_.Describe();
    case Kind::kSequence:
      return absl::StrCat("sequence(", items_.size(), ")");
    case Kind::kNone:
      return "none";
  }
  return "?";
}

}  // namespace uop::onnx_import
