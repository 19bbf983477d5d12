// conformance: runs ONNX backend-test cases (see conformance_runner.h).
//
//   conformance [--device cpu|reference|DEVICE] [--must-pass FILE] [--filter TEXT]
//               [--quiet] DIR...
//
// Prints one line per case ("<name> pass" or "<name> FAIL <reason>"), the
// pass rate per operator when the cases' index.json names them, and as the
// last line "conformance: N passed, M failed". Exit status: 0 when every case
// passed, or, with --must-pass, when every case listed in FILE (one name a
// line, '#' comments) passed; 1 otherwise; 2 for bad usage.
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "drivers/device_registry.h"
#include "runtime/engine/engine.h"
#include "runtime/tensor/reference_eval.h"
#include "runtime/tensor/tensor.h"
#include "tests/onnx/conformance_runner.h"

namespace {

int Usage() {
  std::fprintf(
      stderr,
      "usage: conformance [--device cpu|reference|DEVICE] [--must-pass FILE] [--filter TEXT] "
      "[--quiet] DIR...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace uop;
  using namespace uop::onnx_import;
  std::string device = "cpu", must_pass_file, filter;
  bool quiet = false;
  std::vector<std::string> roots;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (absl::StartsWith(a, "--") && a.find('=') != std::string::npos) {
        *out = a.substr(a.find('=') + 1);
        return true;
      }
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    if (absl::StartsWith(a, "--device")) {
      if (!value(&device)) return Usage();
    } else if (absl::StartsWith(a, "--must-pass")) {
      if (!value(&must_pass_file)) return Usage();
    } else if (absl::StartsWith(a, "--filter")) {
      if (!value(&filter)) return Usage();
    } else if (a == "--quiet") {
      quiet = true;
    } else if (absl::StartsWith(a, "-")) {
      return Usage();
    } else {
      roots.push_back(a);
    }
  }
  if (roots.empty()) return Usage();
  // "cpu" and "reference" as before; any other name is a registered device
  // ("CUDA:0", "NV", "AM_EMU", ...) the models are placed on.
  std::string placed;
  if (device == "cpu") {
    Engine::Install();
  } else if (device == "reference") {
    Tensor::SetRealizer(std::make_shared<ReferenceRealizer>());
  } else if (absl::StatusOr<Device*> d = DeviceRegistry::Global().Get(device); d.ok()) {
    Engine::Install();
    placed = device;
  } else {
    std::fprintf(stderr, "conformance: device '%s' is not available: %s\n", device.c_str(),
                 std::string(d.status().message()).c_str());
    return 2;
  }

  std::set<std::string> must_pass;
  if (!must_pass_file.empty()) {
    std::ifstream f(must_pass_file);
    if (!f) {
      std::fprintf(stderr, "conformance: cannot read %s\n", must_pass_file.c_str());
      return 2;
    }
    for (std::string line; std::getline(f, line);) {
      absl::string_view s = absl::StripAsciiWhitespace(line);
      if (!s.empty() && s[0] != '#') must_pass.insert(std::string(s));
    }
  }

  absl::StatusOr<std::vector<ConformanceCase>> cases = FindCases(roots);
  if (!cases.ok()) {
    std::fprintf(stderr, "conformance: %s\n", std::string(cases.status().message()).c_str());
    return 2;
  }
  int passed = 0, failed = 0;
  std::map<std::string, std::pair<int, int>> per_op;  // op -> (passed, total)
  std::set<std::string> seen;
  std::vector<std::string> regressions;
  for (const ConformanceCase& c : *cases) {
    if (!filter.empty() && !absl::StrContains(c.name, filter)) continue;
    if (!must_pass.empty() && quiet && !must_pass.count(c.name)) continue;
    CaseResult r = RunCase(c, placed);
    seen.insert(r.name);
    (r.pass ? passed : failed)++;
    if (!r.op.empty()) {
      auto& [p, t] = per_op[r.op];
      p += r.pass;
      ++t;
    }
    if (!r.pass && must_pass.count(r.name)) regressions.push_back(r.name);
    if (!quiet || !r.pass)
      std::printf("%s %s%s%s\n", r.name.c_str(), r.pass ? "pass" : "FAIL", r.pass ? "" : " ",
                  r.reason.c_str());
    std::fflush(stdout);
  }
  for (const std::string& m : must_pass)
    if (!seen.count(m) && filter.empty()) regressions.push_back(m + " (not found)");
  bool any_op_failed = false;
  for (const auto& [op, pt] : per_op) any_op_failed |= pt.first != pt.second;
  if (any_op_failed && !quiet) {
    std::printf("per op (passed/total):");
    for (const auto& [op, pt] : per_op)
      if (pt.first != pt.second) std::printf(" %s %d/%d", op.c_str(), pt.first, pt.second);
    std::printf("\n");
  }
  if (!must_pass.empty()) {
    std::printf("must-pass: %zu listed, %zu regressed%s%s\n", must_pass.size(), regressions.size(),
                regressions.empty() ? "" : ": ", absl::StrJoin(regressions, ", ").c_str());
  }
  std::printf("conformance: %d passed, %d failed\n", passed, failed);
  if (!must_pass.empty()) return regressions.empty() ? 0 : 1;
  return failed == 0 ? 0 : 1;
}
