// For every model case directory given: compile it ahead of time for the CPU,
// write and re-read the artifact, run it in a uoprun loop (a bounded number of
// steps at a fixed rate) with the case's inputs, and compare every output of
// the last step with the reference within the case's tolerance. Prints one
// line per case; exits 1 if any case failed.
//
//   dev_models_check [--rtol R] [--atol A] [--steps N] [--hz HZ] CASE_DIR...
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/uoprun/model_case.h"
#include "client/uoprun/runner.h"
#include "client/uoprun/tensor_io.h"
#include "drivers/device_registry.h"

namespace uop::uoprun {
namespace {

absl::Status CheckCase(const std::string& dir, double rtol, double atol, int64_t steps, double hz) {
  absl::StatusOr<ModelCase> c = ReadModelCase(dir);
  if (!c.ok()) return c.status();
  absl::StatusOr<Artifact> a = CompileOnnx(c->model, c->Options("CPU"));
  if (!a.ok()) return a.status();
  const std::string file =
      std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") +
      "/uoprun_check.uop";
  if (absl::Status st = WriteArtifactFile(file, *a); !st.ok()) return st;
  absl::StatusOr<std::unique_ptr<Runner>> r = Runner::Open(file, "CPU");
  if (!r.ok()) return r.status();
  for (const auto& [name, array] : c->RuntimeInputs()) {
    absl::StatusOr<int> i = (*r)->InputIndex(name);
    if (!i.ok()) return i.status();
    if (absl::Status st = CheckMatches(array, (*r)->artifact().inputs[*i]); !st.ok()) return st;
    std::memcpy((*r)->input(*i).data(), array.data.data(), array.data.size());
  }
  LoopOptions o{.hz = hz, .iterations = steps};
  absl::StatusOr<LoopStats> s = (*r)->Run(o);
  if (!s.ok()) return s.status();
  for (const auto& [name, want] : c->outputs) {
    absl::StatusOr<int> i = (*r)->OutputIndex(name);
    if (!i.ok()) return i.status();
    absl::StatusOr<Comparison> cmp =
        CompareWithReference((*r)->output(*i), (*r)->artifact().outputs[*i], want, rtol, atol);
    if (!cmp.ok()) return cmp.status();
    if (cmp->mismatches > 0) {
      return absl::InternalError(absl::StrCat("output '", name, "': ", cmp->mismatches, " of ",
                                              cmp->elements, " elements differ (first at ",
                                              cmp->first_mismatch, ", max abs error ",
                                              cmp->max_abs_error, ")"));
    }
  }
  std::printf("ok   %s: %d steps at %g Hz, latency p50 %.3f ms, jitter p99 %.3f ms\n", dir.c_str(),
              static_cast<int>(s->iterations), hz, s->latency.p50, s->jitter.p99);
  return absl::OkStatus();
}

}  // namespace
}  // namespace uop::uoprun

int main(int argc, char** argv) {
  double rtol = 1e-3, atol = 1e-5, hz = 50;
  int64_t steps = 5;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--rtol" && has_value && absl::SimpleAtod(argv[i + 1], &rtol)) {
      ++i;
    } else if (a == "--atol" && has_value && absl::SimpleAtod(argv[i + 1], &atol)) {
      ++i;
    } else if (a == "--steps" && has_value && absl::SimpleAtoi(argv[i + 1], &steps)) {
      ++i;
    } else if (a == "--hz" && has_value && absl::SimpleAtod(argv[i + 1], &hz)) {
      ++i;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "dev_models_check: bad flag %s\n", a.c_str());
      return 2;
    } else {
      dirs.push_back(a);
    }
  }
  int failed = 0;
  for (const std::string& dir : dirs) {
    absl::Status st = uop::uoprun::CheckCase(dir, rtol, atol, steps, hz);
    if (!st.ok()) {
      std::printf("FAIL %s: %s\n", dir.c_str(), std::string(st.message()).c_str());
      ++failed;
    }
  }
  std::printf("%d of %zu model cases passed\n", static_cast<int>(dirs.size()) - failed,
              dirs.size());
  return failed ? 1 : 0;
}
