// BEAM search over kernel optimizations, timed on the device, with the
// winner cached on disk.
//
// From the unoptimized kernel, each round applies every candidate opt
// (upcast, unroll, thread split, loop swap with small amounts) to every
// kernel in the beam, compiles and times the results, and keeps the fastest
// `width`. It stops when a round finds nothing faster or the time budget is
// spent, so a search is always bounded. The hand-coded heuristics' choice is
// timed too and wins ties, so BEAM never picks something slower than them.
//
// Results are cached in `<cache dir>/beam/<sha256>.opts` keyed by the kernel
// AST, the device and its compiler's cache key: a later process (or
// another daemon) reuses the choice without searching.
//
//   BeamOptions o{.width = 4, .budget = absl::Seconds(10)};
//   ASSIGN_OR_RETURN(std::vector<Opt> opts, BeamSearch(ast, device, compiler, o));
#ifndef UOP_RUNTIME_ENGINE_BEAM_H_
#define UOP_RUNTIME_ENGINE_BEAM_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/device.h"
#include "runtime/codegen/kernel.h"
#include "runtime/engine/compiled_kernel.h"

namespace uop {

struct BeamOptions {
  int width = 4;
  absl::Duration budget = absl::Seconds(10);
  std::string cache_dir;  // empty: no persistent cache
};

struct BeamResult {
  std::vector<Opt> opts;
  double seconds = 0;           // measured time of the chosen kernel
  double baseline_seconds = 0;  // the hand-coded heuristics' kernel
  int candidates_timed = 0;
  bool from_cache = false;
};

absl::StatusOr<BeamResult> BeamSearch(const UOpPtr& ast, Device& device, KernelCompiler& compiler,
                                      const BeamOptions& options);

// The candidate opts for a kernel in its current state (exposed for tests).
std::vector<Opt> BeamActions(const Kernel& k);

}  // namespace uop

#endif  // UOP_RUNTIME_ENGINE_BEAM_H_
