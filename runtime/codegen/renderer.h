// Renderers turn a linearized kernel into source text for one language.
//
// Each backend's renderer implements this interface; codegen asks it what
// the target can do (RendererCaps) when choosing optimizations, and to emit
// the final source. Adding an op means one case in each renderer.
#ifndef UOP_RUNTIME_CODEGEN_RENDERER_H_
#define UOP_RUNTIME_CODEGEN_RENDERER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/uop/uop.h"

namespace uop {

struct RendererCaps {
  std::string language;       // "llvm-ir", "c", "cuda"
  bool has_local = false;     // workgroups with local ids (GPU)
  bool has_shared = false;    // local memory shared within a workgroup
  bool has_threads = false;   // CPU: core_id SPECIAL, kernels split over cores
  int max_threads = 1;        // CPU cores to split over
  int max_vector_bytes = 16;  // widest efficient vector register
  std::vector<int64_t> global_max = {1 << 30, 65535, 65535};
  std::vector<int64_t> local_max = {1024, 1024, 64};
  // Ops the target computes natively; others are decomposed before rendering.
  bool native_transcendentals = false;
  // GPU tensor cores codegen may use: 0 none, 1 warp mma.sync m16n8k16 for
  // float16/bfloat16 with float32 accumulation (NVIDIA sm_80+).
  int tensor_cores = 0;
};

class Renderer {
 public:
  virtual ~Renderer() = default;
  virtual const RendererCaps& caps() const = 0;
  // `program` comes from Linearize. Errors name the op that cannot be rendered.
  virtual absl::StatusOr<std::string> Render(const std::string& name,
                                             absl::Span<const UOpPtr> program) const = 0;
};

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_RENDERER_H_
