#include "runtime/onnx/tensor_proto.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runtime/base/status_macros.h"
#include "runtime/onnx/onnx_types.h"

namespace uop::onnx_import {
namespace {

absl::Status Bad(const onnx::TensorProto& p, absl::string_view msg) {
  return absl::InvalidArgumentError(
      absl::StrCat("tensor '", p.name(), "' (", OnnxTypeName(p.data_type()), "): ", msg));
}

template <typename To, typename From>
void PackAs(const From& values, std::vector<uint8_t>* out) {
  out->resize(values.size() * sizeof(To));
  for (int i = 0; i < values.size(); ++i) {
    To v = static_cast<To>(values.Get(i));
    std::memcpy(out->data() + i * sizeof(To), &v, sizeof(To));
  }
}

// The canonical absolute path of `path` (symlinks resolved), or an error.
absl::StatusOr<std::string> RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr)
    return absl::NotFoundError(absl::StrCat("cannot resolve '", path, "'"));
  return std::string(buf);
}

absl::StatusOr<std::string> ReadExternal(const onnx::TensorProto& p, const ExternalDataDir* ext,
                                         int64_t want_bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const onnx::StringStringEntryProto& e : p.external_data()) {
    if (e.key() == "location") {
      location = e.value();
    } else if (e.key() == "offset") {
      if (!absl::SimpleAtoi(e.value(), &offset) || offset < 0)
        return Bad(p, absl::StrCat("bad external data offset '", e.value(), "'"));
    } else if (e.key() == "length") {
      if (!absl::SimpleAtoi(e.value(), &length) || length < 0)
        return Bad(p, absl::StrCat("bad external data length '", e.value(), "'"));
    }
  }
  if (ext == nullptr || ext->dir.empty())
    return Bad(p, "external data is not allowed for a model loaded from bytes");
  if (location.empty()) return Bad(p, "external data has no location");
  // The path must name a file inside the model's folder: relative, without
  // '..', and still inside after symlinks are resolved.
  if (location[0] == '/' || absl::StrContains(location, '\\'))
    return Bad(p, absl::StrCat("external data location '", location, "' must be relative"));
  for (absl::string_view part : absl::StrSplit(location, '/'))
    if (part == "..")
      return Bad(p,
                 absl::StrCat("external data location '", location, "' leaves the model's folder"));
  ASSIGN_OR_RETURN(std::string base, RealPath(ext->dir));
  absl::StatusOr<std::string> full = RealPath(ext->dir + "/" + location);
  if (!full.ok())
    return Bad(p, absl::StrCat("external data file '", location, "' not found in ", ext->dir));
  if (!absl::StartsWith(*full, base + "/"))
    return Bad(p, absl::StrCat("external data location '", location,
                               "' resolves outside the model's folder"));
  struct stat st;
  if (stat(full->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return Bad(p, absl::StrCat("external data '", location, "' is not a regular file"));
  int64_t size = st.st_size;
  if (length < 0) length = size - offset;
  if (offset > size || length > size - offset)
    return Bad(p, absl::StrCat("external data range [", offset, ", ", offset + length,
                               ") is past the end of '", location, "' (", size, " bytes)"));
  if (length != want_bytes)
    return Bad(p, absl::StrCat("external data has ", length, " bytes, expected ", want_bytes));
  if (length > ext->max_tensor_bytes)
    return Bad(p, absl::StrCat("external data of ", length, " bytes is over the limit"));
  std::ifstream f(*full, std::ios::binary);
  std::string data(length, '\0');
  f.seekg(offset);
  f.read(data.data(), length);
  if (!f) return Bad(p, absl::StrCat("reading external data '", location, "' failed"));
  return data;
}

}  // namespace

absl::StatusOr<int64_t> NumelOf(const Shape& dims, absl::string_view what) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return absl::InvalidArgumentError(absl::StrCat(what, ": negative dimension ", d));
    if (d != 0 && n > (int64_t{1} << 48) / d)
      return absl::InvalidArgumentError(absl::StrCat(what, ": element count overflows"));
    n *= d;
  }
  return n;
}

absl::StatusOr<HostTensor> TensorFromProto(const onnx::TensorProto& p,
                                           const ExternalDataDir* external) {
  HostTensor t;
  t.shape.assign(p.dims().begin(), p.dims().end());
  ASSIGN_OR_RETURN(int64_t n, NumelOf(t.shape, absl::StrCat("tensor '", p.name(), "'")));
  if (p.has_segment()) return Bad(p, "segmented tensors are not supported");
  const int32_t type = p.data_type();
  const bool is_external = p.data_location() == onnx::TensorProto::EXTERNAL;

  if (type == kOnnxString) {
    if (is_external || p.has_raw_data()) return Bad(p, "string tensors must use string_data");
    if (p.string_data_size() != n)
      return Bad(p, absl::StrCat("has ", p.string_data_size(), " strings for ", n, " elements"));
    t.is_string = true;
    t.strings.assign(p.string_data().begin(), p.string_data().end());
    return t;
  }
  ASSIGN_OR_RETURN(t.dtype, DTypeFromOnnx(type));
  const int64_t want = n * t.dtype.itemsize();
  if (want > (external ? external->max_tensor_bytes : (int64_t{16} << 30)))
    return Bad(p, absl::StrCat(want, " bytes is over the size limit"));

  if (is_external) {
    ASSIGN_OR_RETURN(std::string data, ReadExternal(p, external, want));
    t.bytes.assign(data.begin(), data.end());
    return t;
  }
  if (p.has_raw_data()) {
    if (static_cast<int64_t>(p.raw_data().size()) != want)
      return Bad(p, absl::StrCat("raw_data has ", p.raw_data().size(), " bytes, expected ", want,
                                 " for shape ", ShapeToString(t.shape)));
    t.bytes.assign(p.raw_data().begin(), p.raw_data().end());
    if (type == kOnnxBool)
      for (uint8_t& b : t.bytes) b = b != 0;
    return t;
  }
  int64_t count = -1;
  switch (type) {
    case kOnnxFloat:
      count = p.float_data_size();
      PackAs<float>(p.float_data(), &t.bytes);
      break;
    case kOnnxDouble:
      count = p.double_data_size();
      PackAs<double>(p.double_data(), &t.bytes);
      break;
    case kOnnxInt64:
      count = p.int64_data_size();
      PackAs<int64_t>(p.int64_data(), &t.bytes);
      break;
    case kOnnxUInt32:
      count = p.uint64_data_size();
      PackAs<uint32_t>(p.uint64_data(), &t.bytes);
      break;
    case kOnnxUInt64:
      count = p.uint64_data_size();
      PackAs<uint64_t>(p.uint64_data(), &t.bytes);
      break;
    case kOnnxInt32:
      count = p.int32_data_size();
      PackAs<int32_t>(p.int32_data(), &t.bytes);
      break;
    case kOnnxInt16:
      count = p.int32_data_size();
      PackAs<int16_t>(p.int32_data(), &t.bytes);
      break;
    case kOnnxInt8:
      count = p.int32_data_size();
      PackAs<int8_t>(p.int32_data(), &t.bytes);
      break;
    case kOnnxUInt16:
    case kOnnxFloat16:
    case kOnnxBFloat16:  // the 16 bits of each value
      count = p.int32_data_size();
      PackAs<uint16_t>(p.int32_data(), &t.bytes);
      break;
    case kOnnxUInt8:
      count = p.int32_data_size();
      PackAs<uint8_t>(p.int32_data(), &t.bytes);
      break;
    case kOnnxBool:
      count = p.int32_data_size();
      t.bytes.resize(count);
      for (int64_t i = 0; i < count; ++i) t.bytes[i] = p.int32_data(i) != 0;
      break;
    default:
      return Bad(p, "unsupported element type");
  }
  if (count != n)
    return Bad(p, absl::StrCat("has ", count, " values for shape ", ShapeToString(t.shape), " (", n,
                               " elements)"));
  return t;
}

absl::StatusOr<HostValue> ValueFromSequenceProto(const onnx::SequenceProto& p,
                                                 const ExternalDataDir* external) {
  std::vector<HostValue> items;
  switch (p.elem_type()) {
    case onnx::SequenceProto::TENSOR:
      for (const onnx::TensorProto& t : p.tensor_values()) {
        ASSIGN_OR_RETURN(HostTensor h, TensorFromProto(t, external));
        items.push_back(HostValue::Tensor(std::move(h)));
      }
      break;
    case onnx::SequenceProto::SEQUENCE:
      for (const onnx::SequenceProto& s : p.sequence_values()) {
        ASSIGN_OR_RETURN(HostValue v, ValueFromSequenceProto(s, external));
        items.push_back(std::move(v));
      }
      break;
    case onnx::SequenceProto::OPTIONAL:
      for (const onnx::OptionalProto& o : p.optional_values()) {
        ASSIGN_OR_RETURN(HostValue v, ValueFromOptionalProto(o, external));
        items.push_back(std::move(v));
      }
      break;
    case onnx::SequenceProto::UNDEFINED:
      break;  // an empty sequence
    default:
      return absl::InvalidArgumentError(absl::StrCat("sequence '", p.name(), "': element type ",
                                                     p.elem_type(), " is not supported"));
  }
  return HostValue::Sequence(std::move(items));
}

absl::StatusOr<HostValue> ValueFromOptionalProto(const onnx::OptionalProto& p,
                                                 const ExternalDataDir* external) {
  switch (p.elem_type()) {
    case onnx::OptionalProto::TENSOR:
      if (!p.has_tensor_value()) return HostValue::None();
      {
        ASSIGN_OR_RETURN(HostTensor h, TensorFromProto(p.tensor_value(), external));
        return HostValue::Tensor(std::move(h));
      }
    case onnx::OptionalProto::SEQUENCE:
      if (!p.has_sequence_value()) return HostValue::None();
      return ValueFromSequenceProto(p.sequence_value(), external);
    case onnx::OptionalProto::UNDEFINED:
      return HostValue::None();
    default:
      return absl::InvalidArgumentError(absl::StrCat("optional '", p.name(), "': element type ",
                                                     p.elem_type(), " is not supported"));
  }
}

onnx::TensorProto TensorToProto(const HostTensor& t, const std::string& name) {
  onnx::TensorProto p;
  p.set_name(name);
  for (int64_t d : t.shape) p.add_dims(d);
  if (t.is_string) {
    p.set_data_type(kOnnxString);
    for (const std::string& s : t.strings) p.add_string_data(s);
    return p;
  }
  p.set_data_type(OnnxFromDType(t.dtype));
  p.set_raw_data(std::string(t.bytes.begin(), t.bytes.end()));
  return p;
}

ValueFileKind ValueFileKindOf(const onnx::TypeProto& type) {
  if (type.has_sequence_type()) return ValueFileKind::kSequence;
  if (type.has_optional_type()) return ValueFileKind::kOptional;
  return ValueFileKind::kTensor;
}

absl::StatusOr<HostValue> ParseValueFile(const std::string& bytes, ValueFileKind kind) {
  switch (kind) {
    case ValueFileKind::kTensor: {
      onnx::TensorProto p;
      if (!p.ParseFromString(bytes)) return absl::InvalidArgumentError("not a valid TensorProto");
      ASSIGN_OR_RETURN(HostTensor t, TensorFromProto(p, nullptr));
      return HostValue::Tensor(std::move(t));
    }
    case ValueFileKind::kSequence: {
      onnx::SequenceProto p;
      if (!p.ParseFromString(bytes)) return absl::InvalidArgumentError("not a valid SequenceProto");
      return ValueFromSequenceProto(p, nullptr);
    }
    case ValueFileKind::kOptional: {
      onnx::OptionalProto p;
      if (!p.ParseFromString(bytes)) return absl::InvalidArgumentError("not a valid OptionalProto");
      return ValueFromOptionalProto(p, nullptr);
    }
  }
  return absl::InternalError("bad value file kind");
}

absl::StatusOr<std::string> ReadFileBytes(const std::string& path, int64_t max_bytes) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0)
    return absl::NotFoundError(absl::StrCat("no file '", path, "'"));
  if (!S_ISREG(st.st_mode))
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' is not a regular file"));
  if (st.st_size > max_bytes)
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' has ", st.st_size, " bytes, over the limit of ", max_bytes));
  std::ifstream f(path, std::ios::binary);
  std::string data(st.st_size, '\0');
  f.read(data.data(), st.st_size);
  if (!f) return absl::DataLossError(absl::StrCat("reading '", path, "' failed"));
  return data;
}

}  // namespace uop::onnx_import
