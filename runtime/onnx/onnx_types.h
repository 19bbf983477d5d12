// Mapping between ONNX element types (TensorProto.DataType) and uop dtypes.
//
//   ASSIGN_OR_RETURN(DType d, DTypeFromOnnx(onnx::TensorProto::FLOAT16));  // float16
//   OnnxFromDType(DType::Int64()) == onnx::TensorProto::INT64
//
// STRING has no uop dtype: string tensors live on the host only (HostTensor).
// COMPLEX64/128 and the float8 types are not supported (a clear error).
#ifndef UOP_RUNTIME_ONNX_ONNX_TYPES_H_
#define UOP_RUNTIME_ONNX_ONNX_TYPES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/dtype/dtype.h"

namespace uop::onnx_import {

// ONNX element type numbers (stable across ONNX versions).
enum OnnxType : int32_t {
  kOnnxUndefined = 0,
  kOnnxFloat = 1,
  kOnnxUInt8 = 2,
  kOnnxInt8 = 3,
  kOnnxUInt16 = 4,
  kOnnxInt16 = 5,
  kOnnxInt32 = 6,
  kOnnxInt64 = 7,
  kOnnxString = 8,
  kOnnxBool = 9,
  kOnnxFloat16 = 10,
  kOnnxDouble = 11,
  kOnnxUInt32 = 12,
  kOnnxUInt64 = 13,
  kOnnxComplex64 = 14,
  kOnnxComplex128 = 15,
  kOnnxBFloat16 = 16,
};

// The uop dtype of an ONNX element type; InvalidArgument (naming the type) for
// STRING, complex and unknown numbers.
absl::StatusOr<DType> DTypeFromOnnx(int32_t onnx_type);
// The ONNX element type of a uop scalar dtype (kOnnxUndefined for index/void).
int32_t OnnxFromDType(DType dtype);
// "FLOAT", "INT64", ... or "type 42" for unknown numbers.
std::string OnnxTypeName(int32_t onnx_type);

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_ONNX_TYPES_H_
