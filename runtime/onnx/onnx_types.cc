#include "runtime/onnx/onnx_types.h"

#include "absl/strings/str_cat.h"

namespace uop::onnx_import {

absl::StatusOr<DType> DTypeFromOnnx(int32_t t) {
  switch (t) {
    case kOnnxFloat:
      return DType::Float32();
    case kOnnxUInt8:
      return DType::UInt8();
    case kOnnxInt8:
      return DType::Int8();
    case kOnnxUInt16:
      return DType::UInt16();
    case kOnnxInt16:
      return DType::Int16();
    case kOnnxInt32:
      return DType::Int32();
    case kOnnxInt64:
      return DType::Int64();
    case kOnnxBool:
      return DType::Bool();
    case kOnnxFloat16:
      return DType::Float16();
    case kOnnxDouble:
      return DType::Float64();
    case kOnnxUInt32:
      return DType::UInt32();
    case kOnnxUInt64:
      return DType::UInt64();
    case kOnnxBFloat16:
      return DType::BFloat16();
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("element type ", OnnxTypeName(t), " is not supported"));
  }
}

int32_t OnnxFromDType(DType d) {
  switch (d.scalar_type()) {
    case ScalarType::kFloat32:
      return kOnnxFloat;
    case ScalarType::kUInt8:
      return kOnnxUInt8;
    case ScalarType::kInt8:
      return kOnnxInt8;
    case ScalarType::kUInt16:
      return kOnnxUInt16;
    case ScalarType::kInt16:
      return kOnnxInt16;
    case ScalarType::kInt32:
      return kOnnxInt32;
    case ScalarType::kInt64:
      return kOnnxInt64;
    case ScalarType::kBool:
      return kOnnxBool;
    case ScalarType::kFloat16:
      return kOnnxFloat16;
    case ScalarType::kFloat64:
      return kOnnxDouble;
    case ScalarType::kUInt32:
      return kOnnxUInt32;
    case ScalarType::kUInt64:
      return kOnnxUInt64;
    case ScalarType::kBFloat16:
      return kOnnxBFloat16;
    default:
      return kOnnxUndefined;
  }
}

std::string OnnxTypeName(int32_t t) {
  static constexpr const char* kNames[] = {
      "UNDEFINED",      "FLOAT",      "UINT8",          "INT8",       "UINT16",   "INT16",
      "INT32",          "INT64",      "STRING",         "BOOL",       "FLOAT16",  "DOUBLE",
      "UINT32",         "UINT64",     "COMPLEX64",      "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN",
      "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4",      "INT4"};
  if (t >= 0 && t < static_cast<int32_t>(sizeof(kNames) / sizeof(kNames[0]))) return kNames[t];
  return absl::StrCat("type ", t);
}

}  // namespace uop::onnx_import
