// What the model benchmarks need to run themselves as a child (a cold start
// is only cold in a fresh process) and read back what it printed.
//
//   double wall_ms;
//   std::string out = CaptureStdout({argv0, "--ready", dir}, {"UOP_CACHE_DIR=/tmp/x"}, &wall_ms);
//   double ready = NumberAfter(out, "ready_ms");   // from "ready_ms 12.5 load_ms 3.1"
#ifndef UOP_BENCH_CHILD_PROCESS_H_
#define UOP_BENCH_CHILD_PROCESS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace uop::bench {

// Runs `argv` (PATH-searched) with `env_add` ("NAME=value") ahead of this
// process's environment, so they win. Returns its stdout; empty when it could
// not start or did not exit with status 0. `wall_ms`, when given, is the time
// from spawn to exit.
std::string CaptureStdout(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env_add, double* wall_ms = nullptr);

// The number following the word `key` on any line of "key value ..." text,
// or -1 when no line has one.
double NumberAfter(absl::string_view text, absl::string_view key);

// The last path component of `dir`, ignoring trailing slashes.
std::string BaseName(const std::string& dir);

}  // namespace uop::bench

#endif  // UOP_BENCH_CHILD_PROCESS_H_
