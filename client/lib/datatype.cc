#include "client/lib/datatype.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace uop::client {
namespace {

struct Entry {
  Datatype type;
  absl::string_view name;
  int size;
};

// In enum order, so DatatypeName/DatatypeSize index it directly.
constexpr std::array<Entry, 14> kTable = {{
    {Datatype::kBool, "BOOL", 1},
    {Datatype::kUint8, "UINT8", 1},
    {Datatype::kUint16, "UINT16", 2},
    {Datatype::kUint32, "UINT32", 4},
    {Datatype::kUint64, "UINT64", 8},
    {Datatype::kInt8, "INT8", 1},
    {Datatype::kInt16, "INT16", 2},
    {Datatype::kInt32, "INT32", 4},
    {Datatype::kInt64, "INT64", 8},
    {Datatype::kFp16, "FP16", 2},
    {Datatype::kBf16, "BF16", 2},
    {Datatype::kFp32, "FP32", 4},
    {Datatype::kFp64, "FP64", 8},
    {Datatype::kBytes, "BYTES", 0},
}};
static_assert(static_cast<int>(Datatype::kBytes) + 1 == kTable.size());

}  // namespace

absl::StatusOr<Datatype> ParseDatatype(absl::string_view name) {
  for (const Entry& e : kTable) {
    if (e.name == name) return e.type;
  }
  std::vector<absl::string_view> names;
  for (const Entry& e : kTable) names.push_back(e.name);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown datatype '", name, "' (known: ", absl::StrJoin(names, ", "), ")"));
}

absl::string_view DatatypeName(Datatype d) { return kTable[static_cast<int>(d)].name; }

int DatatypeSize(Datatype d) { return kTable[static_cast<int>(d)].size; }

absl::StatusOr<int64_t> ElementCount(absl::Span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeString(shape), " has a negative dimension"));
    }
    if (d != 0 && n > (int64_t{1} << 62) / d) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeString(shape), " is too large"));
    }
    n *= d;
  }
  return n;
}

std::string ShapeString(absl::Span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

}  // namespace uop::client
