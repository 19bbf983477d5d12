// Element types of tensors and of kernel values.
//
// A DType is a small value: a scalar type, a vector width (1 for scalars) and,
// for buffer arguments of kernels, a pointer flag with its address space.
//
//   DType f = DType::Float32();
//   DType v = f.Vec(16);              // float x 16, for AVX-512 code
//   DType p = f.Ptr(AddrSpace::kGlobal);
//   Promote(DType::Int32(), DType::Float16()) == DType::Float16()
#ifndef UOP_RUNTIME_DTYPE_DTYPE_H_
#define UOP_RUNTIME_DTYPE_DTYPE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop {

// Order matters only for the name table; promotion uses an explicit lattice.
#define UOP_SCALAR_TYPES(X)   \
  X(kVoid, "void", 0)         \
  X(kBool, "bool", 1)         \
  X(kInt8, "int8", 1)         \
  X(kInt16, "int16", 2)       \
  X(kInt32, "int32", 4)       \
  X(kInt64, "int64", 8)       \
  X(kUInt8, "uint8", 1)       \
  X(kUInt16, "uint16", 2)     \
  X(kUInt32, "uint32", 4)     \
  X(kUInt64, "uint64", 8)     \
  X(kFloat16, "float16", 2)   \
  X(kBFloat16, "bfloat16", 2) \
  X(kFloat32, "float32", 4)   \
  X(kFloat64, "float64", 8)   \
  X(kIndex, "index", 8)

enum class ScalarType : uint8_t {
#define UOP_X(name, str, size) name,
  UOP_SCALAR_TYPES(UOP_X)
#undef UOP_X
};
inline constexpr int kNumScalarTypes = 15;

// Where a pointer points. Only meaningful when DType::is_ptr().
enum class AddrSpace : uint8_t { kGlobal, kLocal, kReg };

class DType {
 public:
  constexpr DType() = default;
  constexpr explicit DType(ScalarType s, uint16_t count = 1) : scalar_(s), count_(count) {}

  static constexpr DType Void() { return DType(ScalarType::kVoid); }
  static constexpr DType Bool() { return DType(ScalarType::kBool); }
  static constexpr DType Int8() { return DType(ScalarType::kInt8); }
  static constexpr DType Int16() { return DType(ScalarType::kInt16); }
  static constexpr DType Int32() { return DType(ScalarType::kInt32); }
  static constexpr DType Int64() { return DType(ScalarType::kInt64); }
  static constexpr DType UInt8() { return DType(ScalarType::kUInt8); }
  static constexpr DType UInt16() { return DType(ScalarType::kUInt16); }
  static constexpr DType UInt32() { return DType(ScalarType::kUInt32); }
  static constexpr DType UInt64() { return DType(ScalarType::kUInt64); }
  static constexpr DType Float16() { return DType(ScalarType::kFloat16); }
  static constexpr DType BFloat16() { return DType(ScalarType::kBFloat16); }
  static constexpr DType Float32() { return DType(ScalarType::kFloat32); }
  static constexpr DType Float64() { return DType(ScalarType::kFloat64); }
  // The integer type of index arithmetic; rendered as int64 (or int32 where
  // the bounds prove it fits).
  static constexpr DType Index() { return DType(ScalarType::kIndex); }

  constexpr ScalarType scalar_type() const { return scalar_; }
  constexpr int count() const { return count_; }
  constexpr bool is_ptr() const { return is_ptr_; }
  constexpr AddrSpace addrspace() const { return addrspace_; }
  // For pointers: number of elements the buffer holds, or -1 if unknown.
  constexpr int64_t ptr_size() const { return ptr_size_; }

  constexpr DType Scalar() const { return DType(scalar_); }
  constexpr DType Vec(int n) const {
    DType d = *this;
    d.count_ = static_cast<uint16_t>(n);
    return d;
  }
  constexpr DType Ptr(AddrSpace space = AddrSpace::kGlobal, int64_t size = -1) const {
    DType d = *this;
    d.is_ptr_ = true;
    d.addrspace_ = space;
    d.ptr_size_ = size;
    return d;
  }
  // The element type a pointer points to.
  constexpr DType Base() const {
    DType d = *this;
    d.is_ptr_ = false;
    d.addrspace_ = AddrSpace::kGlobal;
    d.ptr_size_ = -1;
    return d;
  }

  // Size of one scalar element in bytes (0 for void).
  int itemsize() const;
  // Size of the whole (vector) value in bytes.
  int64_t bytes() const { return static_cast<int64_t>(itemsize()) * count_; }
  bool is_float() const;
  bool is_int() const;  // signed or unsigned integer, including index
  bool is_unsigned() const;
  bool is_bool() const { return scalar_ == ScalarType::kBool; }
  bool is_void() const { return scalar_ == ScalarType::kVoid; }

  // Smallest and largest finite values (as doubles; int64 extremes round).
  double min_value() const;
  double max_value() const;
  int64_t min_int() const;  // exact for integer types
  uint64_t max_uint() const;

  std::string ToString() const;

  friend constexpr bool operator==(const DType& a, const DType& b) {
    return a.scalar_ == b.scalar_ && a.count_ == b.count_ && a.is_ptr_ == b.is_ptr_ &&
           a.addrspace_ == b.addrspace_ && a.ptr_size_ == b.ptr_size_;
  }
  friend constexpr bool operator!=(const DType& a, const DType& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const DType& d) {
    return H::combine(std::move(h), d.scalar_, d.count_, d.is_ptr_, d.addrspace_, d.ptr_size_);
  }
  size_t Hash() const;

 private:
  ScalarType scalar_ = ScalarType::kVoid;
  uint16_t count_ = 1;
  bool is_ptr_ = false;
  AddrSpace addrspace_ = AddrSpace::kGlobal;
  int64_t ptr_size_ = -1;
};

absl::string_view ScalarTypeName(ScalarType s);
// Parses "float32", "int8", ... (also numpy-style aliases "float", "half",
// "bf16", "f32", "i64", "bool"). Error names the unknown string.
absl::StatusOr<DType> ParseDType(absl::string_view name);

// The least upper bound of two scalar types in the promotion lattice
// (the same lattice as the reference system):
//   bool -> int8 | uint8, int8 -> int16 -> int32 -> int64 -> float16 | bfloat16,
//   uint8 -> int16 | uint16, uint16 -> int32 | uint32, uint32 -> int64 | uint64,
//   uint64 -> float16 | bfloat16, float16 | bfloat16 -> float32 -> float64.
// Examples: (int8, uint8) -> int16; (int64, uint64) -> float16;
// (float16, bfloat16) -> float32. Vector widths and pointers are ignored.
DType Promote(DType a, DType b);

// The float type a value of `d` becomes in an op that needs floats (exp, div):
// floats keep their type, everything else becomes float32.
DType DefaultFloatFor(DType d);

// Conversions of a single value between types, matching C's casts with
// saturation left to the caller. Used by constant folding and the reference
// evaluator. NOTE: float -> int of NaN/out-of-range values is undefined in C;
// here it yields the type's min value, deterministically.
double CastToDouble(double v, DType to);

// float16 / bfloat16 bit conversions (round to nearest even).
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);
uint16_t FloatToBFloat16(float f);
float BFloat16ToFloat(uint16_t b);

}  // namespace uop

#endif  // UOP_RUNTIME_DTYPE_DTYPE_H_
