// A small command-line flag parser for uopctl and uoprun: GNU-style long
// flags (--name=VALUE, --name VALUE), one-letter aliases (-n VALUE), boolean
// switches (--name, --no-name), repeated flags, "--" ending the flags, and
// --help/-h on every command. Errors are one line naming the flag.
//
//   FlagSet f("uoprun run MODEL.uop [flags]", "Runs an artifact at a fixed rate.");
//   double hz = 20;
//   f.Double("hz", 0, &hz, "loop rate in Hz");
//   std::vector<std::string> inputs;
//   f.Repeated("input", 'i', &inputs, "NAME=SPEC", "an input (repeatable)");
//   ASSIGN_OR_RETURN(std::vector<std::string> args, f.Parse(argv_rest));
//   if (f.help_requested()) print(f.Help());
#ifndef UOP_CLIENT_LIB_FLAGS_H_
#define UOP_CLIENT_LIB_FLAGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop::client {

class FlagSet {
 public:
  FlagSet(std::string usage, std::string summary)
      : usage_(std::move(usage)), summary_(std::move(summary)) {}

  // `letter` 0: no one-letter alias. The default shown in Help() is the
  // target's value when the flag is declared.
  void String(const std::string& name, char letter, std::string* target,
              const std::string& value_name, const std::string& help);
  void Int(const std::string& name, char letter, int64_t* target, const std::string& help);
  void Double(const std::string& name, char letter, double* target, const std::string& help);
  void Bool(const std::string& name, char letter, bool* target, const std::string& help);
  // Each occurrence appends; a value with commas is NOT split.
  void Repeated(const std::string& name, char letter, std::vector<std::string>* target,
                const std::string& value_name, const std::string& help);

  // Parses `args` (after the program and command names); returns the
  // positional arguments. InvalidArgument naming the flag for an unknown
  // flag, a missing or malformed value.
  absl::StatusOr<std::vector<std::string>> Parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_; }
  // Usage, summary and one line per flag with its default.
  std::string Help() const;

 private:
  struct Flag {
    std::string name;
    char letter;
    std::string value_name;  // empty for a boolean switch
    std::string help;
    std::string default_text;
    std::function<absl::Status(absl::string_view)> set;
  };
  const Flag* Find(absl::string_view name) const;
  const Flag* FindLetter(char letter) const;

  std::string usage_, summary_;
  std::vector<Flag> flags_;
  bool help_ = false;
};

// "NAME=VALUE" -> {NAME, VALUE}; InvalidArgument naming `flag` otherwise.
absl::StatusOr<std::pair<std::string, std::string>> SplitNameValue(absl::string_view flag,
                                                                   absl::string_view arg);
// "1,3,224,224" -> {1, 3, 224, 224}; InvalidArgument otherwise.
absl::StatusOr<std::vector<int64_t>> ParseDims(absl::string_view text);

}  // namespace uop::client

#endif  // UOP_CLIENT_LIB_FLAGS_H_
