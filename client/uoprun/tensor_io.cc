#include "client/uoprun/tensor_io.h"

#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop::uoprun {
namespace {

using client::Datatype;

constexpr std::pair<Datatype, DType> kPairs[] = {
    {Datatype::kBool, DType::Bool()},     {Datatype::kInt8, DType::Int8()},
    {Datatype::kInt16, DType::Int16()},   {Datatype::kInt32, DType::Int32()},
    {Datatype::kInt64, DType::Int64()},   {Datatype::kUint8, DType::UInt8()},
    {Datatype::kUint16, DType::UInt16()}, {Datatype::kUint32, DType::UInt32()},
    {Datatype::kUint64, DType::UInt64()}, {Datatype::kFp16, DType::Float16()},
    {Datatype::kBf16, DType::BFloat16()}, {Datatype::kFp32, DType::Float32()},
    {Datatype::kFp64, DType::Float64()},
};

// Element i of `bytes` in `d`, as a double.
double ElementAsDouble(const uint8_t* p, Datatype d) {
  switch (d) {
    case Datatype::kBool:
      return *p ? 1 : 0;
    case Datatype::kInt8:
      return static_cast<int8_t>(*p);
    case Datatype::kUint8:
      return *p;
#define UOP_LOAD(KIND, T)          \
  case Datatype::KIND: {           \
    T v;                           \
    std::memcpy(&v, p, sizeof(T)); \
    return static_cast<double>(v); \
  }
      UOP_LOAD(kInt16, int16_t)
      UOP_LOAD(kInt32, int32_t)
      UOP_LOAD(kInt64, int64_t)
      UOP_LOAD(kUint16, uint16_t)
      UOP_LOAD(kUint32, uint32_t)
      UOP_LOAD(kUint64, uint64_t)
      UOP_LOAD(kFp32, float)
      UOP_LOAD(kFp64, double)
#undef UOP_LOAD
    case Datatype::kFp16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return HalfToFloat(h);
    }
    case Datatype::kBf16: {
      uint16_t b;
      std::memcpy(&b, p, 2);
      return BFloat16ToFloat(b);
    }
    case Datatype::kBytes:
      return 0;
  }
  return 0;
}

}  // namespace

absl::StatusOr<client::Datatype> ToDatatype(DType dtype) {
  for (const auto& [datatype, d] : kPairs) {
    if (d == dtype) return datatype;
  }
  return absl::InvalidArgumentError(absl::StrCat("no tensor datatype for ", dtype.ToString()));
}

absl::StatusOr<DType> ToDType(client::Datatype datatype) {
  for (const auto& [d, dtype] : kPairs) {
    if (d == datatype) return dtype;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("no device dtype for ", client::DatatypeName(datatype)));
}

absl::Status CheckMatches(const client::NpyArray& array, const ArtifactTensor& tensor) {
  ASSIGN_OR_RETURN(Datatype want, ToDatatype(tensor.dtype));
  if (array.datatype != want || array.shape != tensor.shape) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", tensor.name, "' is ", client::DatatypeName(want),
                     client::ShapeString(tensor.shape), ", the file holds ",
                     client::DatatypeName(array.datatype), client::ShapeString(array.shape)));
  }
  return absl::OkStatus();
}

absl::StatusOr<client::NpyArray> ToNpy(const ArtifactTensor& tensor,
                                       absl::Span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(Datatype d, ToDatatype(tensor.dtype));
  return client::NpyArray{d, tensor.shape,
                          std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size())};
}

absl::StatusOr<Comparison> CompareWithReference(absl::Span<const uint8_t> got,
                                                const ArtifactTensor& tensor,
                                                const client::NpyArray& reference, double rtol,
                                                double atol) {
  ASSIGN_OR_RETURN(Datatype d, ToDatatype(tensor.dtype));
  // The reference may be stored as another numeric type (float64 of a
  // float32 output); the shape must match.
  if (reference.shape != tensor.shape) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reference for '", tensor.name, "' has shape ", client::ShapeString(reference.shape),
        ", the output is ", client::ShapeString(tensor.shape)));
  }
  const size_t esize = client::DatatypeSize(d), rsize = client::DatatypeSize(reference.datatype);
  Comparison c;
  c.elements = static_cast<int64_t>(got.size() / esize);
  if (reference.data.size() / rsize != static_cast<size_t>(c.elements)) {
    return absl::InvalidArgumentError(absl::StrCat("reference for '", tensor.name, "' has ",
                                                   reference.data.size() / rsize,
                                                   " elements, the output ", c.elements));
  }
  const auto* ref = reinterpret_cast<const uint8_t*>(reference.data.data());
  for (int64_t i = 0; i < c.elements; ++i) {
    const double g = ElementAsDouble(got.data() + i * esize, d);
    const double w = ElementAsDouble(ref + i * rsize, reference.datatype);
    const bool nan_mismatch = std::isnan(g) != std::isnan(w);
    const double err = std::isnan(g) || std::isnan(w) ? 0 : std::abs(g - w);
    const bool inf_mismatch = (std::isinf(g) || std::isinf(w)) && g != w;
    if (nan_mismatch || inf_mismatch || err > atol + rtol * std::abs(w)) {
      if (c.first_mismatch < 0) c.first_mismatch = i;
      ++c.mismatches;
    }
    if (!std::isinf(err)) c.max_abs_error = std::max(c.max_abs_error, err);
  }
  return c;
}

}  // namespace uop::uoprun
