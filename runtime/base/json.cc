#include "runtime/base/json.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/charconv.h"
#include "absl/strings/str_cat.h"

namespace uop {
namespace {

constexpr int kMaxDepth = 64;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A recursive-descent parser over the whole text; pos_ is the byte offset
// that errors name.
class Parser {
 public:
  explicit Parser(absl::string_view text) : s_(text) {}

  absl::Status Parse(JsonValue* out) {
    SkipSpace();
    absl::Status st = Value(out, 0);
    if (!st.ok()) return st;
    SkipSpace();
    if (pos_ != s_.size()) return Error("unexpected text after the JSON value");
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON at byte ", pos_, ": ", what));
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  // Whether the next byte is `c`, consuming it if so.
  bool Consume(char c) {
    if (AtEnd() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  void SkipSpace() {
    while (!AtEnd() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(absl::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // One value at `depth` (0 for the document); the caller skipped space.
  absl::Status Value(JsonValue* out, int depth) {
    if (depth > kMaxDepth) return Error("nested deeper than 64 levels");
    if (AtEnd()) return Error("unexpected end of input");
    const char c = s_[pos_];
    switch (c) {
      case '{':
        return Object(out, depth);
      case '[':
        return Array(out, depth);
      case '"':
        out->kind = JsonValue::Kind::kString;
        return String(&out->text);
      case 't':
        if (!Literal("true")) return Error("expected 'true'");
        out->kind = JsonValue::Kind::kBool;
        out->boolean = true;
        return absl::OkStatus();
      case 'f':
        if (!Literal("false")) return Error("expected 'false'");
        out->kind = JsonValue::Kind::kBool;
        return absl::OkStatus();
      case 'n':
        if (!Literal("null")) return Error("expected 'null'");
        out->kind = JsonValue::Kind::kNull;
        return absl::OkStatus();
      default:
        if (c == '-' || IsDigit(c)) return Number(out);
        return Error(absl::StrCat("unexpected character '", absl::string_view(&c, 1), "'"));
    }
  }

  absl::Status Object(JsonValue* out, int depth) {
    out->kind = JsonValue::Kind::kObject;
    ++pos_;  // '{'
    SkipSpace();
    if (Consume('}')) return absl::OkStatus();
    while (true) {
      SkipSpace();
      if (AtEnd() || s_[pos_] != '"') return Error("expected a string key");
      std::string key;
      absl::Status st = String(&key);
      if (!st.ok()) return st;
      SkipSpace();
      if (!Consume(':')) return Error("expected ':'");
      SkipSpace();
      out->members.emplace_back(std::move(key), JsonValue());
      st = Value(&out->members.back().second, depth + 1);
      if (!st.ok()) return st;
      SkipSpace();
      if (AtEnd()) return Error("unexpected end of input in an object");
      if (Consume(',')) continue;
      if (Consume('}')) return absl::OkStatus();
      return Error("expected ',' or '}'");
    }
  }

  absl::Status Array(JsonValue* out, int depth) {
    out->kind = JsonValue::Kind::kArray;
    ++pos_;  // '['
    SkipSpace();
    if (Consume(']')) return absl::OkStatus();
    while (true) {
      SkipSpace();
      out->items.emplace_back();
      absl::Status st = Value(&out->items.back(), depth + 1);
      if (!st.ok()) return st;
      SkipSpace();
      if (AtEnd()) return Error("unexpected end of input in an array");
      if (Consume(',')) continue;
      if (Consume(']')) return absl::OkStatus();
      return Error("expected ',' or ']'");
    }
  }

  bool Hex4(uint32_t* v) {
    if (s_.size() - pos_ < 4) return false;
    uint32_t x = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_ + i];
      x <<= 4;
      if (IsDigit(c)) {
        x |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        x |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        x |= c - 'A' + 10;
      } else {
        return false;
      }
    }
    pos_ += 4;
    *v = x;
    return true;
  }

  // A string literal at the opening quote, decoded into `out`.
  absl::Status String(std::string* out) {
    ++pos_;  // '"'
    while (true) {
      // Copy the run of plain bytes at once: the common case.
      const size_t start = pos_;
      while (!AtEnd() && s_[pos_] != '"' && s_[pos_] != '\\' &&
             static_cast<unsigned char>(s_[pos_]) >= 0x20) {
        ++pos_;
      }
      out->append(s_.data() + start, pos_ - start);
      if (AtEnd()) return Error("unterminated string");
      if (Consume('"')) return absl::OkStatus();
      if (s_[pos_] != '\\') return Error("control character in a string");
      ++pos_;
      if (AtEnd()) return Error("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return Error("bad \\u escape");
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low = 0;
            if (!Literal("\\u") || !Hex4(&low) || low < 0xDC00 || low >= 0xE000) {
              return Error("unpaired UTF-16 surrogate");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return Error("unpaired UTF-16 surrogate");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error("unknown escape");
      }
    }
  }

  // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  absl::Status Number(JsonValue* out) {
    const size_t start = pos_;
    Consume('-');
    if (AtEnd() || !IsDigit(s_[pos_])) return Error("bad number");
    if (!Consume('0')) {
      while (!AtEnd() && IsDigit(s_[pos_])) ++pos_;
    }
    if (Consume('.')) {
      if (AtEnd() || !IsDigit(s_[pos_])) return Error("bad fraction");
      while (!AtEnd() && IsDigit(s_[pos_])) ++pos_;
    }
    if (Consume('e') || Consume('E')) {
      if (!Consume('+')) Consume('-');
      if (AtEnd() || !IsDigit(s_[pos_])) return Error("bad exponent");
      while (!AtEnd() && IsDigit(s_[pos_])) ++pos_;
    }
    out->kind = JsonValue::Kind::kNumber;
    out->text.assign(s_.data() + start, pos_ - start);
    // absl's from_chars ignores the C locale (strtod would read "1.5" as 1
    // under a German one). Past double's range it says result_out_of_range
    // with +-0 (underflow) or +-DBL_MAX (overflow); JSON.parse and Python
    // give +-infinity for the latter, and so do we.
    const absl::from_chars_result r =
        absl::from_chars(out->text.data(), out->text.data() + out->text.size(), out->number);
    if (r.ec == std::errc::result_out_of_range && out->number != 0) {
      out->number = std::copysign(HUGE_VAL, out->number);
    }
    return absl::OkStatus();
  }

  absl::string_view s_;
  size_t pos_ = 0;
};

// An integer literal's exact value in T, or nullopt.
template <typename T>
std::optional<T> IntegerLiteral(const JsonValue& v) {
  if (!v.is_number() || v.text.find_first_of(".eE") != std::string::npos) return std::nullopt;
  T x = 0;
  const char* end = v.text.data() + v.text.size();
  const std::from_chars_result r = std::from_chars(v.text.data(), end, x);
  if (r.ec != std::errc() || r.ptr != end) return std::nullopt;
  return x;
}

}  // namespace

const JsonValue* JsonValue::Find(absl::string_view key) const {
  const JsonValue* found = nullptr;
  for (const auto& [k, v] : members) {
    if (k == key) found = &v;
  }
  return found;
}

std::optional<int64_t> JsonValue::AsInt64() const { return IntegerLiteral<int64_t>(*this); }
std::optional<uint64_t> JsonValue::AsUint64() const { return IntegerLiteral<uint64_t>(*this); }

absl::StatusOr<JsonValue> ParseJson(absl::string_view text) {
  JsonValue v;
  absl::Status st = Parser(text).Parse(&v);
  if (!st.ok()) return st;
  return v;
}

}  // namespace uop
