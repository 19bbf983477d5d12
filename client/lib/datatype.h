// KServe v2 tensor datatypes: the names on the wire ("FP32", "INT64",
// "BYTES", ...), their element sizes, and the C++ types that map onto them.
//
//   ASSIGN_OR_RETURN(Datatype d, ParseDatatype("FP32"));
//   DatatypeSize(d) == 4;  DatatypeName(DatatypeOf<float>()) == "FP32"
//
// The client library, uopctl and the .npy reader/writer share this one table
// so a name or size is never spelled twice.
#ifndef UOP_CLIENT_LIB_DATATYPE_H_
#define UOP_CLIENT_LIB_DATATYPE_H_

#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace uop::client {

enum class Datatype : uint8_t {
  kBool,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFp16,
  kBf16,
  kFp32,
  kFp64,
  kBytes,  // variable-length elements, each a 4-byte little-endian length + bytes
};

// "FP32" -> kFp32; InvalidArgument naming the unknown name and the known ones.
absl::StatusOr<Datatype> ParseDatatype(absl::string_view name);
absl::string_view DatatypeName(Datatype d);
// Bytes per element; 0 for kBytes (variable length).
int DatatypeSize(Datatype d);

// Elements in `shape`; InvalidArgument for a negative dimension or overflow.
absl::StatusOr<int64_t> ElementCount(absl::Span<const int64_t> shape);
// "[1, 3, 224, 224]".
std::string ShapeString(absl::Span<const int64_t> shape);

template <typename T>
inline constexpr bool kAlwaysFalse = false;

template <typename T>
constexpr Datatype DatatypeOf() {
  if constexpr (std::is_same_v<T, bool>) {
    return Datatype::kBool;
  } else if constexpr (std::is_same_v<T, uint8_t>) {
    return Datatype::kUint8;
  } else if constexpr (std::is_same_v<T, uint16_t>) {
    return Datatype::kUint16;
  } else if constexpr (std::is_same_v<T, uint32_t>) {
    return Datatype::kUint32;
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    return Datatype::kUint64;
  } else if constexpr (std::is_same_v<T, int8_t>) {
    return Datatype::kInt8;
  } else if constexpr (std::is_same_v<T, int16_t>) {
    return Datatype::kInt16;
  } else if constexpr (std::is_same_v<T, int32_t>) {
    return Datatype::kInt32;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return Datatype::kInt64;
  } else if constexpr (std::is_same_v<T, float>) {
    return Datatype::kFp32;
  } else if constexpr (std::is_same_v<T, double>) {
    return Datatype::kFp64;
  } else {
    static_assert(kAlwaysFalse<T>, "no KServe datatype for this C++ type");
  }
}

}  // namespace uop::client

#endif  // UOP_CLIENT_LIB_DATATYPE_H_
