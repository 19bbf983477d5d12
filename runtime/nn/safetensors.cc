#include "runtime/nn/safetensors.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/json.h"
#include "runtime/base/status_macros.h"

namespace uop::nn {
namespace {

constexpr uint64_t kMaxHeader = 100'000'000;

struct DTypeName {
  const char* name;
  DType dtype;
};
const DTypeName kDTypes[] = {
    {"BOOL", DType::Bool()},     {"U8", DType::UInt8()},   {"I8", DType::Int8()},
    {"U16", DType::UInt16()},    {"I16", DType::Int16()},  {"F16", DType::Float16()},
    {"BF16", DType::BFloat16()}, {"U32", DType::UInt32()}, {"I32", DType::Int32()},
    {"F32", DType::Float32()},   {"U64", DType::UInt64()}, {"I64", DType::Int64()},
    {"F64", DType::Float64()},
};

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("safetensors: ", what));
}

// Reads one tensor entry: dtype, shape and [begin, end) offsets.
absl::Status ReadEntry(const std::string& name, const JsonValue& v, SafeTensor* t,
                       std::pair<uint64_t, uint64_t>* range) {
  const std::string where = absl::StrCat("tensor \"", name, "\"");
  if (v.kind != JsonValue::Kind::kObject) return Bad(absl::StrCat(where, " is not an object"));
  // A repeated field would be read as its last value here but refused by
  // the reference reader (serde's "duplicate field"): refuse it too, so no
  // file means one tensor to us and another to PyTorch.
  absl::flat_hash_set<absl::string_view> fields;
  for (const auto& [field, unused] : v.members) {
    if (!fields.insert(field).second)
      return Bad(absl::StrCat(where, " repeats the field \"", field, "\""));
  }
  const JsonValue* dtype = v.Find("dtype");
  const JsonValue* shape = v.Find("shape");
  const JsonValue* offsets = v.Find("data_offsets");
  if (!dtype || dtype->kind != JsonValue::Kind::kString)
    return Bad(absl::StrCat(where, " has no string \"dtype\""));
  bool known = false;
  for (const DTypeName& d : kDTypes)
    if (dtype->text == d.name) t->dtype = d.dtype, known = true;
  if (!known) return Bad(absl::StrCat(where, " has unsupported dtype \"", dtype->text, "\""));
  if (!shape || shape->kind != JsonValue::Kind::kArray)
    return Bad(absl::StrCat(where, " has no \"shape\" array"));
  uint64_t bytes = t->dtype.itemsize();
  for (const JsonValue& d : shape->items) {
    std::optional<int64_t> n = d.AsInt64();
    if (!n || *n < 0)
      return Bad(absl::StrCat(where, " has a shape entry that is not a non-negative integer"));
    t->shape.push_back(*n);
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(*n), &bytes))
      return Bad(absl::StrCat(where, " has a shape whose byte size overflows"));
  }
  if (!offsets || offsets->kind != JsonValue::Kind::kArray || offsets->items.size() != 2)
    return Bad(absl::StrCat(where, " has no \"data_offsets\" pair"));
  std::optional<int64_t> begin = offsets->items[0].AsInt64(), end = offsets->items[1].AsInt64();
  if (!begin || !end || *begin < 0 || *end < *begin)
    return Bad(absl::StrCat(where, " has data_offsets that are not 0 <= begin <= end"));
  if (static_cast<uint64_t>(*end - *begin) != bytes)
    return Bad(absl::StrCat(where, " is ", t->dtype.ToString(), " ", ShapeToString(t->shape), " (",
                            bytes, " bytes) but data_offsets span ", *end - *begin));
  *range = {static_cast<uint64_t>(*begin), static_cast<uint64_t>(*end)};
  return absl::OkStatus();
}

}  // namespace

Tensor SafeTensor::ToTensor(const std::string& device) const {
  return Tensor::FromBytes(data, dtype, shape, device);
}

absl::StatusOr<std::string> SafetensorsDType(DType dtype) {
  for (const DTypeName& d : kDTypes)
    if (d.dtype == dtype) return std::string(d.name);
  return Bad(absl::StrCat("no safetensors dtype for ", dtype.ToString()));
}

absl::StatusOr<SafetensorsFile> ParseSafetensors(absl::Span<const uint8_t> bytes) {
  if (bytes.size() < 8)
    return Bad(absl::StrCat("file of ", bytes.size(), " bytes has no 8-byte header length"));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > kMaxHeader) return Bad(absl::StrCat("header length ", n, " is over 100 MB"));
  if (n > bytes.size() - 8)
    return Bad(absl::StrCat("header length ", n, " runs past the end of the file (",
                            bytes.size() - 8, " bytes after the length)"));
  absl::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), n);
  absl::StatusOr<JsonValue> header = ParseJson(text);
  if (!header.ok()) return Bad(absl::StrCat("header: ", header.status().message()));
  if (header->kind != JsonValue::Kind::kObject) return Bad("header is not a JSON object");
  const absl::Span<const uint8_t> data = bytes.subspan(8 + n);

  SafetensorsFile file;
  std::vector<std::pair<std::pair<uint64_t, uint64_t>, size_t>> ranges;
  absl::flat_hash_set<std::string> names;
  for (const auto& [name, v] : header->members) {
    if (!names.insert(name).second) return Bad(absl::StrCat("duplicate name \"", name, "\""));
    if (name == "__metadata__") {
      if (v.kind != JsonValue::Kind::kObject) return Bad("__metadata__ is not an object");
      for (const auto& [k, s] : v.members) {
        if (s.kind != JsonValue::Kind::kString)
          return Bad(absl::StrCat("__metadata__ value of \"", k, "\" is not a string"));
        file.metadata[k] = s.text;
      }
      continue;
    }
    SafeTensor t;
    t.name = name;
    std::pair<uint64_t, uint64_t> range;
    RETURN_IF_ERROR(ReadEntry(name, v, &t, &range));
    if (range.second > data.size())
      return Bad(absl::StrCat("tensor \"", name, "\" ends at byte ", range.second,
                              " of a data section of ", data.size()));
    t.data.assign(data.begin() + range.first, data.begin() + range.second);
    ranges.push_back({range, file.tensors.size()});
    file.tensors.push_back(std::move(t));
  }
  // The data section must be covered exactly: no overlaps, no holes.
  std::sort(ranges.begin(), ranges.end());
  uint64_t at = 0;
  for (const auto& [range, index] : ranges) {
    if (range.first != at)
      return Bad(absl::StrCat("tensor \"", file.tensors[index].name, "\" starts at byte ",
                              range.first, ", expected ", at,
                              range.first < at ? " (overlap)" : " (hole in the data)"));
    at = range.second;
  }
  if (at != data.size())
    return Bad(absl::StrCat("data section has ", data.size() - at, " bytes after the last tensor"));
  return file;
}

absl::StatusOr<std::vector<uint8_t>> SerializeSafetensors(
    const std::vector<std::pair<std::string, Tensor>>& tensors,
    const std::map<std::string, std::string>& metadata) {
  std::string header = "{";
  std::vector<uint8_t> data;
  absl::flat_hash_set<std::string> names;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__" || !names.insert(name).second)
      return Bad(absl::StrCat("tensor name \"", name, "\" is empty, reserved or repeated"));
    RETURN_IF_ERROR(t.status());
    ASSIGN_OR_RETURN(std::string dtype, SafetensorsDType(t.dtype()));
    ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, t.ToBytes());
    std::string shape;
    for (int64_t d : t.shape()) absl::StrAppend(&shape, shape.empty() ? "" : ",", d);
    absl::StrAppend(&header, header.size() > 1 ? "," : "", JsonQuote(name), ":{\"dtype\":\"", dtype,
                    "\",\"shape\":[", shape, "],\"data_offsets\":[", data.size(), ",",
                    data.size() + bytes.size(), "]}");
    data.insert(data.end(), bytes.begin(), bytes.end());
  }
  if (!metadata.empty()) {
    absl::StrAppend(&header, header.size() > 1 ? "," : "", "\"__metadata__\":{");
    bool first = true;
    for (const auto& [k, v] : metadata) {
      absl::StrAppend(&header, first ? "" : ",", JsonQuote(k), ":", JsonQuote(v));
      first = false;
    }
    header += "}";
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';
  std::vector<uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(uint64_t{header.size()} >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

absl::StatusOr<SafetensorsFile> LoadSafetensors(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(fopen(path.c_str(), "rb"), fclose);
  if (!f) return absl::NotFoundError(absl::StrCat("safetensors: cannot open ", path));
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  size_t got;
  while ((got = fread(buf, 1, sizeof(buf), f.get())) > 0) bytes.insert(bytes.end(), buf, buf + got);
  if (ferror(f.get())) return absl::DataLossError(absl::StrCat("safetensors: cannot read ", path));
  absl::StatusOr<SafetensorsFile> file = ParseSafetensors(bytes);
  if (!file.ok())
    return absl::Status(file.status().code(), absl::StrCat(path, ": ", file.status().message()));
  return file;
}

absl::Status SaveSafetensors(const std::string& path,
                             const std::vector<std::pair<std::string, Tensor>>& tensors,
                             const std::map<std::string, std::string>& metadata) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, SerializeSafetensors(tensors, metadata));
  FILE* f = fopen(path.c_str(), "wb");
  if (!f) return absl::PermissionDeniedError(absl::StrCat("safetensors: cannot create ", path));
  const bool written = fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  // fclose flushes: its failure is a failed write too.
  if (fclose(f) != 0 || !written)
    return absl::DataLossError(absl::StrCat("safetensors: cannot write ", path));
  return absl::OkStatus();
}

}  // namespace uop::nn
