// JsonQuote and JsonWriter (declared in json.h): the writing half.
#include <charconv>
#include <cmath>

#include "runtime/base/json.h"

namespace uop {

void AppendJsonQuoted(absl::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

namespace {

// Appends a number's shortest round-trip text.
template <typename T>
void AppendNumber(T v, std::string* out) {
  char buf[32];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

}  // namespace

std::string JsonQuote(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendJsonQuoted(s, &out);
  return out;
}

void JsonWriter::Separate() {
  if (need_comma_) out_->push_back(',');
  need_comma_ = true;
}

void JsonWriter::BeginObject() {
  Separate();
  out_->push_back('{');
  need_comma_ = false;
}

void JsonWriter::EndObject() {
  out_->push_back('}');
  need_comma_ = true;
}

void JsonWriter::BeginArray() {
  Separate();
  out_->push_back('[');
  need_comma_ = false;
}

void JsonWriter::EndArray() {
  out_->push_back(']');
  need_comma_ = true;
}

void JsonWriter::Key(absl::string_view key) {
  String(key);
  out_->push_back(':');
  need_comma_ = false;
}

void JsonWriter::String(absl::string_view s) {
  Separate();
  AppendJsonQuoted(s, out_);
}

void JsonWriter::Int(int64_t v) {
  Separate();
  AppendNumber(v, out_);
}

void JsonWriter::Uint(uint64_t v) {
  Separate();
  AppendNumber(v, out_);
}

void JsonWriter::Double(double v) {
  if (!std::isfinite(v)) return Null();
  Separate();
  AppendNumber(v, out_);
}

void JsonWriter::Float(float v) {
  if (!std::isfinite(v)) return Null();
  Separate();
  AppendNumber(v, out_);
}

void JsonWriter::Bool(bool v) {
  Separate();
  out_->append(v ? "true" : "false");
}

void JsonWriter::Null() {
  Separate();
  out_->append("null");
}

}  // namespace uop
