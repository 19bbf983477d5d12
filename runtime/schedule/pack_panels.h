// PackPanels: a layout pass for CPU matmuls. In C = A @ B with B row-major,
// the inner loop of a register-tiled matmul reads one short row segment of B
// per k, rows a power-of-two stride apart: they alias in the caches and the
// prefetchers cannot follow them. This pass copies B once into panels of
// `panel` columns ([N / panel][K][panel], each panel contiguous) with a small
// extra kernel, and rewrites the matmul to read the panels, splitting its n
// axis into (n / panel, panel). On this machine that lifts fp32 GEMM from
// ~40% to ~95% of OpenBLAS (docs/BENCHMARKS.md).
//
// A kernel qualifies when its reduce is one ADD over one axis k of a
// product of two loads, the output is contiguous along an axis n divisible
// by `panel`, and the load of B is one unmasked view varying only along n
// (stride 1) and k (a row stride of at least `min_row_bytes`), while the
// kernel is large enough (m * n * k >= `min_macs`).
//
//   ASSIGN_OR_RETURN(Schedule s, CreateSchedule(sink));
//   ASSIGN_OR_RETURN(int packed, PackPanels(s, {}));   // before PlanMemory
#ifndef UOP_RUNTIME_SCHEDULE_PACK_PANELS_H_
#define UOP_RUNTIME_SCHEDULE_PACK_PANELS_H_

#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/schedule/schedule.h"

namespace uop {

struct PackPanelsOptions {
  int64_t panel = 32;            // columns per panel: two AVX-512 float vectors
  int64_t min_row_bytes = 1024;  // shorter rows are not worth packing
  int64_t min_macs = int64_t{1} << 21;
  // Kernels whose output lives on a device this rejects are left alone
  // (null: every device).
  std::function<bool(absl::string_view device)> device_filter;
};

// Rewrites qualifying kernels in place, inserting their packing kernels and
// new intermediate buffers. Returns how many kernels were rewritten.
absl::StatusOr<int> PackPanels(Schedule& schedule, const PackPanelsOptions& options = {});

// The rewrite of one kernel AST (exposed for tests): the new AST and the
// packing kernel's AST, or nullopt when the kernel does not qualify.
struct PackedKernel {
  UOpPtr ast;       // reads the panels through slot `slot`
  UOpPtr pack_ast;  // SINK(STORE(panels, LOAD(B))) with slots (panels, B)
  int slot;         // B's slot in `ast`
  int64_t panel_elements;
};
std::optional<PackedKernel> PackKernel(const UOpPtr& ast, const PackPanelsOptions& options);

}  // namespace uop

#endif  // UOP_RUNTIME_SCHEDULE_PACK_PANELS_H_
