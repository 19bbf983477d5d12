#include "client/uopctl/tensor_text.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"
#include "runtime/dtype/dtype.h"

namespace uop::uopctl {
namespace {

using client::Datatype;

template <typename T>
void Put(T v, std::string* raw) {
  raw->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// One JSON value as an element of `d`, appended to `raw`.
absl::Status AppendElement(const JsonValue& v, Datatype d, std::string* raw) {
  if (d == Datatype::kBytes) {
    if (v.kind != JsonValue::Kind::kString) {
      return absl::InvalidArgumentError("a BYTES tensor takes JSON strings");
    }
    raw->append(client::EncodeBytesElements({v.text}));
    return absl::OkStatus();
  }
  if (d == Datatype::kBool) {
    if (v.kind == JsonValue::Kind::kBool) {
      Put<uint8_t>(v.boolean, raw);
    } else if (v.kind == JsonValue::Kind::kNumber && (v.text == "0" || v.text == "1")) {
      Put<uint8_t>(v.text == "1", raw);
    } else {
      return absl::InvalidArgumentError("a BOOL tensor takes true, false, 0 or 1");
    }
    return absl::OkStatus();
  }
  if (v.kind != JsonValue::Kind::kNumber) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", client::DatatypeName(d), " tensor takes numbers"));
  }
  auto out_of_range = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(v.text, " does not fit ", client::DatatypeName(d)));
  };
  switch (d) {
    case Datatype::kFp32:
    case Datatype::kFp64:
    case Datatype::kFp16:
    case Datatype::kBf16: {
      double x;
      if (!absl::SimpleAtod(v.text, &x)) return out_of_range();
      if (d == Datatype::kFp64) {
        Put(x, raw);
      } else if (d == Datatype::kFp32) {
        Put(static_cast<float>(x), raw);
      } else if (d == Datatype::kFp16) {
        Put(FloatToHalf(static_cast<float>(x)), raw);
      } else {
        Put(FloatToBFloat16(static_cast<float>(x)), raw);
      }
      return absl::OkStatus();
    }
    case Datatype::kUint64: {
      uint64_t x;
      if (!absl::SimpleAtoi(v.text, &x)) return out_of_range();
      Put(x, raw);
      return absl::OkStatus();
    }
    default: {
      int64_t x;
      if (!absl::SimpleAtoi(v.text, &x)) return out_of_range();
      auto put_checked = [&](auto type_tag) -> absl::Status {
        using T = decltype(type_tag);
        if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) {
          return out_of_range();
        }
        Put(static_cast<T>(x), raw);
        return absl::OkStatus();
      };
      switch (d) {
        case Datatype::kInt8:
          return put_checked(int8_t{});
        case Datatype::kInt16:
          return put_checked(int16_t{});
        case Datatype::kInt32:
          return put_checked(int32_t{});
        case Datatype::kInt64:
          return put_checked(int64_t{});
        case Datatype::kUint8:
          return put_checked(uint8_t{});
        case Datatype::kUint16:
          return put_checked(uint16_t{});
        case Datatype::kUint32:
          return put_checked(uint32_t{});
        default:
          return out_of_range();
      }
    }
  }
}

// Walks nested arrays: the shape from the first path, every leaf appended.
absl::Status Flatten(const JsonValue& v, Datatype d, size_t depth, std::vector<int64_t>* shape,
                     std::string* raw) {
  if (v.kind != JsonValue::Kind::kArray) {
    if (depth < shape->size()) {
      return absl::InvalidArgumentError("ragged JSON array: a value where an array belongs");
    }
    return AppendElement(v, d, raw);
  }
  const int64_t n = static_cast<int64_t>(v.items.size());
  if (depth == shape->size()) {
    // First time at this depth: decides the dimension (before any leaf is read).
    if (!raw->empty()) return absl::InvalidArgumentError("ragged JSON array: too deep here");
    shape->push_back(n);
  } else if (depth > shape->size() || (*shape)[depth] != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("ragged JSON array: dimension ", depth, " is ", (*shape)[depth], " and ", n));
  }
  for (const JsonValue& item : v.items) RETURN_IF_ERROR(Flatten(item, d, depth + 1, shape, raw));
  return absl::OkStatus();
}

bool ShapeFits(const std::vector<int64_t>& declared, const std::vector<int64_t>& shape) {
  if (declared.empty() && shape.empty()) return true;
  if (declared.size() != shape.size()) return false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (declared[i] >= 0 && declared[i] != shape[i]) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<client::NpyArray> TensorFromJson(const JsonValue& json, Datatype datatype,
                                                const std::vector<int64_t>& declared) {
  const JsonValue* data = &json;
  std::optional<std::vector<int64_t>> given_shape;
  if (json.kind == JsonValue::Kind::kObject) {
    data = json.Find("data");
    if (!data) return absl::InvalidArgumentError("JSON tensor object has no \"data\"");
    if (const JsonValue* dt = json.Find("datatype")) {
      absl::StatusOr<Datatype> d = client::ParseDatatype(dt->text);
      if (!d.ok()) return d.status();
      if (*d != datatype) {
        return absl::InvalidArgumentError(absl::StrCat("JSON says ", dt->text, ", the model takes ",
                                                       client::DatatypeName(datatype)));
      }
    }
    if (const JsonValue* s = json.Find("shape")) {
      given_shape.emplace();
      for (const JsonValue& d : s->items) {
        int64_t x;
        if (d.kind != JsonValue::Kind::kNumber || !absl::SimpleAtoi(d.text, &x) || x < 0) {
          return absl::InvalidArgumentError("JSON \"shape\" must be non-negative integers");
        }
        given_shape->push_back(x);
      }
    }
  }
  client::NpyArray t;
  t.datatype = datatype;
  RETURN_IF_ERROR(Flatten(*data, datatype, 0, &t.shape, &t.data));
  if (given_shape) {
    // KServe JSON may carry the data flat with the shape beside it.
    ASSIGN_OR_RETURN(int64_t want, client::ElementCount(*given_shape));
    ASSIGN_OR_RETURN(int64_t have, client::ElementCount(t.shape));
    if (want != have) {
      return absl::InvalidArgumentError(absl::StrCat("JSON \"shape\" ",
                                                     client::ShapeString(*given_shape), " holds ",
                                                     want, " values, \"data\" has ", have));
    }
    t.shape = *given_shape;
  } else if (t.shape.size() == 1 && declared.size() != 1) {
    // A flat list for a tensor of another rank: take the declared shape when it is fixed.
    bool fixed = true;
    int64_t n = 1;
    for (int64_t d : declared) fixed &= d >= 0, n *= d;
    if (fixed && n == t.shape[0]) t.shape = declared;
  }
  if (!ShapeFits(declared, t.shape)) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON data has shape ", client::ShapeString(t.shape), ", the model takes ",
                     client::ShapeString(declared)));
  }
  return t;
}

std::string ElementText(Datatype d, absl::string_view raw, int64_t i) {
  const size_t size = client::DatatypeSize(d);
  const char* p = raw.data() + i * size;
  auto get = [p](auto v) {
    std::memcpy(&v, p, sizeof(v));
    return v;
  };
  switch (d) {
    case Datatype::kBool:
      return get(uint8_t{}) ? "true" : "false";
    case Datatype::kUint8:
      return absl::StrCat(get(uint8_t{}));
    case Datatype::kUint16:
      return absl::StrCat(get(uint16_t{}));
    case Datatype::kUint32:
      return absl::StrCat(get(uint32_t{}));
    case Datatype::kUint64:
      return absl::StrCat(get(uint64_t{}));
    case Datatype::kInt8:
      return absl::StrCat(get(int8_t{}));
    case Datatype::kInt16:
      return absl::StrCat(get(int16_t{}));
    case Datatype::kInt32:
      return absl::StrCat(get(int32_t{}));
    case Datatype::kInt64:
      return absl::StrCat(get(int64_t{}));
    case Datatype::kFp16:
      return absl::StrFormat("%.5g", HalfToFloat(get(uint16_t{})));
    case Datatype::kBf16:
      return absl::StrFormat("%.4g", BFloat16ToFloat(get(uint16_t{})));
    case Datatype::kFp32:
      return absl::StrFormat("%.7g", get(float{}));
    case Datatype::kFp64:
      return absl::StrFormat("%.15g", get(double{}));
    case Datatype::kBytes:
      break;
  }
  return "?";
}

namespace {

// The elements as text, quoted strings for BYTES (decoded once).
std::vector<std::string> Elements(const client::OutputTensor& t, int64_t max_elements,
                                  int64_t* total) {
  std::vector<std::string> out;
  if (t.datatype == Datatype::kBytes) {
    absl::StatusOr<std::vector<std::string>> s = client::DecodeBytesElements(t.raw);
    const std::vector<std::string> strings = s.ok() ? *s : std::vector<std::string>{};
    *total = static_cast<int64_t>(strings.size());
    for (int64_t i = 0; i < *total; ++i) {
      if (max_elements > 0 && *total > max_elements && i == max_elements / 2) {
        out.push_back("...");
        i = *total - max_elements / 2;
      }
      out.push_back(JsonQuote(strings[i]));
    }
    return out;
  }
  *total = static_cast<int64_t>(t.raw.size() / client::DatatypeSize(t.datatype));
  for (int64_t i = 0; i < *total; ++i) {
    if (max_elements > 0 && *total > max_elements && i == max_elements / 2) {
      out.push_back("...");
      i = *total - max_elements / 2;
    }
    out.push_back(ElementText(t.datatype, t.raw, i));
  }
  return out;
}

}  // namespace

std::string FormatTensor(const client::OutputTensor& t, int64_t max_elements) {
  std::string head =
      absl::StrCat(t.name, " ", client::DatatypeName(t.datatype), client::ShapeString(t.shape));
  if (t.shared_memory) {
    return absl::StrCat(head, " in shared memory region '", t.shared_memory->region, "'");
  }
  int64_t total = 0;
  std::vector<std::string> values = Elements(t, max_elements, &total);
  return absl::StrCat(head, " = [", absl::StrJoin(values, ", "), "]");
}

std::string TensorJson(const client::OutputTensor& t) {
  int64_t total = 0;
  std::vector<std::string> values = Elements(t, 0, &total);
  for (std::string& v : values) {
    // JSON has no NaN or Infinity: write them as strings.
    if (v == "nan" || v == "-nan" || v == "inf" || v == "-inf") v = JsonQuote(v);
  }
  return absl::StrCat("{\"name\": ", JsonQuote(t.name), ", \"datatype\": \"",
                      client::DatatypeName(t.datatype), "\", \"shape\": [",
                      absl::StrJoin(t.shape, ", "), "], \"data\": [", absl::StrJoin(values, ", "),
                      "]}");
}

}  // namespace uop::uopctl
