#include "client/uopctl/json.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace uop::uopctl {
namespace {

constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(absl::string_view s) : s_(s) {}

  absl::StatusOr<JsonValue> Document() {
    absl::StatusOr<JsonValue> v = Value(0);
    if (!v.ok()) return v;
    SkipSpace();
    if (at_ != s_.size()) return Error("end of input");
    return v;
  }

 private:
  absl::Status Error(absl::string_view expected) const {
    return absl::InvalidArgumentError(absl::StrCat(
        "JSON: expected ", expected, " at offset ", at_,
        at_ < s_.size() ? absl::StrCat(" (found '", s_.substr(at_, 12), "')") : " (end of input)"));
  }
  void SkipSpace() {
    while (at_ < s_.size() && absl::ascii_isspace(s_[at_])) ++at_;
  }
  bool Literal(absl::string_view word) {
    if (s_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  absl::StatusOr<JsonValue> Value(int depth) {
    if (depth > kMaxDepth) return Error("less nesting (64 levels at most)");
    SkipSpace();
    if (at_ >= s_.size()) return Error("a value");
    JsonValue v;
    const char c = s_[at_];
    if (c == '[') {
      v.kind = JsonValue::Kind::kArray;
      ++at_;
      SkipSpace();
      if (at_ < s_.size() && s_[at_] == ']') {
        ++at_;
        return v;
      }
      while (true) {
        absl::StatusOr<JsonValue> item = Value(depth + 1);
        if (!item.ok()) return item;
        v.items.push_back(std::move(*item));
        SkipSpace();
        if (at_ < s_.size() && s_[at_] == ',') {
          ++at_;
          continue;
        }
        if (at_ < s_.size() && s_[at_] == ']') {
          ++at_;
          return v;
        }
        return Error("',' or ']'");
      }
    }
    if (c == '{') {
      v.kind = JsonValue::Kind::kObject;
      ++at_;
      SkipSpace();
      if (at_ < s_.size() && s_[at_] == '}') {
        ++at_;
        return v;
      }
      while (true) {
        SkipSpace();
        absl::StatusOr<std::string> key = String();
        if (!key.ok()) return key.status();
        SkipSpace();
        if (at_ >= s_.size() || s_[at_] != ':') return Error("':'");
        ++at_;
        absl::StatusOr<JsonValue> member = Value(depth + 1);
        if (!member.ok()) return member;
        v.members.emplace_back(std::move(*key), std::move(*member));
        SkipSpace();
        if (at_ < s_.size() && s_[at_] == ',') {
          ++at_;
          continue;
        }
        if (at_ < s_.size() && s_[at_] == '}') {
          ++at_;
          return v;
        }
        return Error("',' or '}'");
      }
    }
    if (c == '"') {
      absl::StatusOr<std::string> str = String();
      if (!str.ok()) return str.status();
      v.kind = JsonValue::Kind::kString;
      v.text = std::move(*str);
      return v;
    }
    if (Literal("true") || Literal("false")) {
      v.kind = JsonValue::Kind::kBool;
      v.boolean = s_.substr(at_ - 4, 4) == "true";
      return v;
    }
    if (Literal("null")) return v;
    return Number();
  }

  absl::StatusOr<JsonValue> Number() {
    const size_t start = at_;
    if (at_ < s_.size() && s_[at_] == '-') ++at_;
    const size_t digits = at_;
    while (at_ < s_.size() && absl::ascii_isdigit(s_[at_])) ++at_;
    if (at_ == digits) return Error("a value");
    if (at_ < s_.size() && s_[at_] == '.') {
      ++at_;
      const size_t frac = at_;
      while (at_ < s_.size() && absl::ascii_isdigit(s_[at_])) ++at_;
      if (at_ == frac) return Error("digits after '.'");
    }
    if (at_ < s_.size() && (s_[at_] == 'e' || s_[at_] == 'E')) {
      ++at_;
      if (at_ < s_.size() && (s_[at_] == '+' || s_[at_] == '-')) ++at_;
      const size_t exp = at_;
      while (at_ < s_.size() && absl::ascii_isdigit(s_[at_])) ++at_;
      if (at_ == exp) return Error("exponent digits");
    }
    JsonValue v;
    v.kind = JsonValue::Kind::kNumber;
    v.text = std::string(s_.substr(start, at_ - start));
    return v;
  }

  absl::StatusOr<std::string> String() {
    if (at_ >= s_.size() || s_[at_] != '"') return Error("a string");
    ++at_;
    std::string out;
    while (at_ < s_.size() && s_[at_] != '"') {
      char c = s_[at_++];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (at_ >= s_.size()) break;
      c = s_[at_++];
      switch (c) {
        case '"':
        case '\\':
        case '/':
          out.push_back(c);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          unsigned cp = 0;
          for (int k = 0; k < 4; ++k) {
            if (at_ >= s_.size() || !absl::ascii_isxdigit(s_[at_])) return Error("4 hex digits");
            const char h = s_[at_++];
            cp = cp * 16 + (absl::ascii_isdigit(h) ? h - '0' : absl::ascii_tolower(h) - 'a' + 10);
          }
          // UTF-8 (surrogate pairs are kept as two 3-byte sequences).
          if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default:
          return Error("a valid escape");
      }
    }
    if (at_ >= s_.size()) return Error("a closing '\"'");
    ++at_;
    return out;
  }

  absl::string_view s_;
  size_t at_ = 0;
};

}  // namespace

const JsonValue* JsonValue::Find(absl::string_view key) const {
  for (const auto& [k, v] : members) {
    if (k == key) return &v;
  }
  return nullptr;
}

absl::StatusOr<JsonValue> ParseJson(absl::string_view text) { return Parser(text).Document(); }

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace uop::uopctl
