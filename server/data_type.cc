#include "server/data_type.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace uop::server {
namespace {

struct TypeRow {
  inference::DataType type;
  absl::string_view wire;
  int size;
};

constexpr TypeRow kTypes[] = {
    {inference::TYPE_BOOL, "BOOL", 1},     {inference::TYPE_UINT8, "UINT8", 1},
    {inference::TYPE_UINT16, "UINT16", 2}, {inference::TYPE_UINT32, "UINT32", 4},
    {inference::TYPE_UINT64, "UINT64", 8}, {inference::TYPE_INT8, "INT8", 1},
    {inference::TYPE_INT16, "INT16", 2},   {inference::TYPE_INT32, "INT32", 4},
    {inference::TYPE_INT64, "INT64", 8},   {inference::TYPE_FP16, "FP16", 2},
    {inference::TYPE_FP32, "FP32", 4},     {inference::TYPE_FP64, "FP64", 8},
    {inference::TYPE_STRING, "BYTES", 0},  {inference::TYPE_BF16, "BF16", 2},
};

const TypeRow* Find(inference::DataType type) {
  for (const TypeRow& row : kTypes) {
    if (row.type == type) return &row;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<inference::DataType> DataTypeFromWire(absl::string_view name) {
  for (const TypeRow& row : kTypes) {
    if (row.wire == name) return row.type;
  }
  std::vector<absl::string_view> names;
  for (const TypeRow& row : kTypes) names.push_back(row.wire);
  return absl::InvalidArgumentError(absl::StrCat("unknown datatype '", name, "' (expected one of ",
                                                 absl::StrJoin(names, ", "), ")"));
}

absl::string_view WireName(inference::DataType type) {
  const TypeRow* row = Find(type);
  return row == nullptr ? "INVALID" : row->wire;
}

int ElementSize(inference::DataType type) {
  const TypeRow* row = Find(type);
  return row == nullptr ? 0 : row->size;
}

absl::StatusOr<int64_t> ElementCount(const std::vector<int64_t>& shape) {
  constexpr int64_t kMax = int64_t{1} << 62;
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeString(shape), " has a negative dimension"));
    }
    if (d != 0 && count > kMax / d) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeString(shape), " has more than 2^62 elements"));
    }
    count *= d;
  }
  return count;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

}  // namespace uop::server
