#include "client/lib/flags.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace uop::client {
namespace {

absl::Status BadValue(absl::string_view name, absl::string_view value, absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat("flag --", name, ": '", value, "' is not ", want));
}

}  // namespace

void FlagSet::String(const std::string& name, char letter, std::string* target,
                     const std::string& value_name, const std::string& help) {
  flags_.push_back({name, letter, value_name, help, *target, [target](absl::string_view v) {
                      *target = std::string(v);
                      return absl::OkStatus();
                    }});
}

void FlagSet::Int(const std::string& name, char letter, int64_t* target, const std::string& help) {
  flags_.push_back(
      {name, letter, "N", help, absl::StrCat(*target), [name, target](absl::string_view v) {
         return absl::SimpleAtoi(v, target) ? absl::OkStatus() : BadValue(name, v, "an integer");
       }});
}

void FlagSet::Double(const std::string& name, char letter, double* target,
                     const std::string& help) {
  flags_.push_back(
      {name, letter, "X", help, absl::StrCat(*target), [name, target](absl::string_view v) {
         return absl::SimpleAtod(v, target) ? absl::OkStatus() : BadValue(name, v, "a number");
       }});
}

void FlagSet::Bool(const std::string& name, char letter, bool* target, const std::string& help) {
  flags_.push_back(
      {name, letter, "", help, *target ? "on" : "off", [name, target](absl::string_view v) {
         if (v == "true" || v == "1" || v == "on") {
           *target = true;
         } else if (v == "false" || v == "0" || v == "off") {
           *target = false;
         } else {
           return BadValue(name, v, "true or false");
         }
         return absl::OkStatus();
       }});
}

void FlagSet::Repeated(const std::string& name, char letter, std::vector<std::string>* target,
                       const std::string& value_name, const std::string& help) {
  flags_.push_back({name, letter, value_name, help, "", [target](absl::string_view v) {
                      target->emplace_back(v);
                      return absl::OkStatus();
                    }});
}

const FlagSet::Flag* FlagSet::Find(absl::string_view name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const FlagSet::Flag* FlagSet::FindLetter(char letter) const {
  for (const Flag& f : flags_) {
    if (letter != 0 && f.letter == letter) return &f;
  }
  return nullptr;
}

absl::StatusOr<std::vector<std::string>> FlagSet::Parse(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (a == "--help" || a == "-h") {
      help_ = true;
      continue;
    }
    if (a.size() < 2 || a[0] != '-' || a == "-") {
      positional.push_back(a);
      continue;
    }
    const Flag* flag = nullptr;
    std::string shown;  // the flag as the user spelled it
    std::optional<std::string> value;
    bool negated = false;
    if (absl::StartsWith(a, "--")) {
      std::string name = a.substr(2);
      if (size_t eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      }
      flag = Find(name);
      if (!flag && absl::StartsWith(name, "no-")) {
        flag = Find(name.substr(3));
        negated = flag && flag->value_name.empty() && !value;
        if (!negated) flag = nullptr;
      }
      shown = "--" + name;
    } else if (a.size() == 2) {
      flag = FindLetter(a[1]);
      shown = a;
    } else if (a[0] == '-' && FindLetter(a[1])) {
      // "-n5": a one-letter flag with its value attached.
      flag = FindLetter(a[1]);
      value = a.substr(2);
      shown = a.substr(0, 2);
    }
    if (!flag) {
      // A negative number is a positional argument, not a flag.
      double unused;
      if (absl::SimpleAtod(a, &unused)) {
        positional.push_back(a);
        continue;
      }
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", a, " (see --help)"));
    }
    if (flag->value_name.empty()) {
      absl::Status st = flag->set(negated ? "false" : value.value_or("true"));
      if (!st.ok()) return st;
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag ", shown, " needs a value (", flag->value_name, ")"));
      }
      value = args[++i];
    }
    absl::Status st = flag->set(*value);
    if (!st.ok()) return st;
  }
  return positional;
}

std::string FlagSet::Help() const {
  std::string out = absl::StrCat("usage: ", usage_, "\n\n", summary_, "\n");
  if (flags_.empty()) return out;
  out += "\nflags:\n";
  for (const Flag& f : flags_) {
    std::string left = f.letter ? absl::StrCat("-", std::string(1, f.letter), ", --", f.name)
                                : absl::StrCat("    --", f.name);
    if (!f.value_name.empty()) absl::StrAppend(&left, "=", f.value_name);
    std::string help = f.help;
    if (!f.default_text.empty() && f.default_text != "off") {
      absl::StrAppend(&help, " (default ", f.default_text, ")");
    }
    out += absl::StrFormat("  %-30s %s\n", left, help);
  }
  out += absl::StrFormat("  %-30s %s\n", "-h, --help", "print this help and exit");
  return out;
}

absl::StatusOr<std::pair<std::string, std::string>> SplitNameValue(absl::string_view flag,
                                                                   absl::string_view arg) {
  const size_t eq = arg.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --", flag, ": '", arg, "' is not NAME=VALUE"));
  }
  return std::pair<std::string, std::string>(arg.substr(0, eq), arg.substr(eq + 1));
}

absl::StatusOr<std::vector<int64_t>> ParseDims(absl::string_view text) {
  std::vector<int64_t> dims;
  if (text.empty()) return dims;  // a scalar
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int64_t d;
    if (!absl::SimpleAtoi(part, &d) || d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "' is not a list of dimensions like 1,3,224,224"));
    }
    dims.push_back(d);
  }
  return dims;
}

}  // namespace uop::client
