// Renders linearized kernels as CUDA C for NVRTC (drivers/cuda).
//
// The kernel follows the CUDA kernel ABI (docs/gpu.md):
//   // uop-abi: globals=<G> vars=<V> shared=<S>
//   extern "C" __global__ void __launch_bounds__(<threads>)
//   <name>(T0* __restrict__ data0, const T1* __restrict__ data1, ..., long long var_n, ...)
// with one pointer per buffer slot 0..G-1 (slots the kernel never touches
// are `const void*` placeholders) and the DEFINE_VARs by name. SPECIAL
// gidx0/1/2 are blockIdx.x/y/z and lidx0/1/2 threadIdx.x/y/z; the launch
// grid and block come from their ends (ProgramSpec global/local size).
//
// Values: vectors are rendered lane by lane as scalar variables (the GPU has
// no vector ALU); loads and stores of W consecutive elements become one
// aligned 4/8/16-byte access where the index is provably a multiple of W,
// else per-lane accesses. Gated accesses are guarded (`valid ? p[i] : alt`,
// `if (valid) p[i] = v`), so masked-off lanes never touch memory. float16
// and bfloat16 live in float registers, converted at loads and stores, and
// every arithmetic result is rounded to its type (round to nearest even), so
// a 16-bit op gives what it would in that type.
// Signed 32/64-bit add/sub/mul/neg wrap (computed unsigned: no C undefined
// behavior); integer division guards a zero divisor and INT_MIN / -1 by
// dividing by 1, like the CPU; index math is 32-bit where its bounds fit.
// BARRIER is __syncthreads(); DEFINE_LOCAL a __shared__ array; WMMA the
// tensor-core mma.sync of the WmmaArg it names.
//
//   CudaRenderer r(CudaTarget{.sm = 90});
//   ASSIGN_OR_RETURN(ProgramSpec spec, RenderKernel(ast, r));
#ifndef UOP_RUNTIME_CODEGEN_CUDA_RENDERER_H_
#define UOP_RUNTIME_CODEGEN_CUDA_RENDERER_H_

#include "absl/strings/string_view.h"
#include "runtime/codegen/renderer.h"

namespace uop {

struct CudaTarget {
  int sm = 90;                       // compute capability x 10 (sm_90: H100)
  int max_shared_bytes = 48 * 1024;  // static shared memory per block
  int sms = 132;                     // streaming multiprocessors (heuristics)
};

class CudaRenderer : public Renderer {
 public:
  explicit CudaRenderer(CudaTarget target = {});
  const RendererCaps& caps() const override { return caps_; }
  absl::StatusOr<std::string> Render(const std::string& name,
                                     absl::Span<const UOpPtr> program) const override;
  const CudaTarget& target() const { return target_; }

 private:
  CudaTarget target_;
  RendererCaps caps_;
};

// The architecture in a device description "NVIDIA H100 (sm_90, ...)": 90;
// 0 when there is none.
int ParseSmArch(absl::string_view description);

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_CUDA_RENDERER_H_
