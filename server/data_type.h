// Tensor element types as the KServe v2 protocol names them.
//
// uopd's one element-type enum is Triton's inference::DataType (model
// config's TYPE_FP32, ...). On the wire KServe v2 uses strings ("FP32",
// "BYTES"); this file converts between the two and knows the element sizes.
//
//   ASSIGN_OR_RETURN(inference::DataType t, DataTypeFromWire("FP32"));
//   WireName(t) == "FP32"; ElementSize(t) == 4
//
// BYTES (TYPE_STRING) has no fixed element size: each element is a 4-byte
// little-endian length followed by that many bytes (KServe raw encoding).
#ifndef UOP_SERVER_DATA_TYPE_H_
#define UOP_SERVER_DATA_TYPE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/model_config.pb.h"

namespace uop::server {

// "FP32" -> TYPE_FP32. InvalidArgument naming `name` and the accepted names.
absl::StatusOr<inference::DataType> DataTypeFromWire(absl::string_view name);

// TYPE_FP32 -> "FP32"; "INVALID" for TYPE_INVALID or an unknown value.
absl::string_view WireName(inference::DataType type);

// Bytes per element; 0 for TYPE_STRING (variable) and TYPE_INVALID.
int ElementSize(inference::DataType type);

// The number of elements of `shape`; InvalidArgument for a negative dim or a
// product past 2^62 (so byte sizes computed from it cannot overflow).
absl::StatusOr<int64_t> ElementCount(const std::vector<int64_t>& shape);

// "[1, 3, 224, 224]" for messages.
std::string ShapeString(const std::vector<int64_t>& shape);

}  // namespace uop::server

#endif  // UOP_SERVER_DATA_TYPE_H_
