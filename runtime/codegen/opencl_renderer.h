// Renders linearized kernels as OpenCL C for Adreno GPUs (drivers/qcom).
//
// Kernel ABI (what the QCOM driver binds, docs/qcom.md):
//   // uop-abi: globals=<G> vars=<V> local=<x>,<y>,<z>
//   __kernel __attribute__((reqd_work_group_size(x, y, z)))
//   void <name>(__global T0* restrict data0, __global const T1* restrict data1, ...,
//               long var_<a>, ...)
// one pointer per buffer slot 0..G-1 (slots the kernel never touches are
// `__global const uchar*` placeholders), then the DEFINE_VARs by name. SPECIAL
// gidx0/1/2 are get_group_id(0/1/2) and lidx0/1/2 get_local_id(0/1/2).
//
// Values are rendered lane by lane as scalar variables (Adreno's ALUs are
// scalar per work-item). Gated accesses are guarded so masked-off lanes never
// touch memory. float16 and bfloat16 live in float registers and are stored
// as ushort: the conversions are exact integer code in the kernel itself
// (round to nearest even, subnormals, inf and NaN), so no cl_khr_fp16 is
// needed. Signed add/sub/mul/neg wrap (computed unsigned), integer division
// guards a zero divisor and INT_MIN / -1 like the CPU, shifts mask their
// amount, float max propagates NaN. float64 needs cl_khr_fp64, which Adreno
// lacks: with OpenClTarget::fp64 false (the default) a float64 kernel is
// Unimplemented, naming the op.
//
//   OpenClRenderer r(OpenClTarget{});
//   ASSIGN_OR_RETURN(ProgramSpec spec, RenderKernel(ast, r));  // spec.language == "opencl"
#ifndef UOP_RUNTIME_CODEGEN_OPENCL_RENDERER_H_
#define UOP_RUNTIME_CODEGEN_OPENCL_RENDERER_H_

#include "runtime/codegen/renderer.h"

namespace uop {

struct OpenClTarget {
  bool fp64 = false;         // cl_khr_fp64 available
  int max_workgroup = 1024;  // threads per workgroup
  int compute_units = 2;     // shader processors (heuristics)
};

class OpenClRenderer : public Renderer {
 public:
  explicit OpenClRenderer(OpenClTarget target = {});
  const RendererCaps& caps() const override { return caps_; }
  absl::StatusOr<std::string> Render(const std::string& name,
                                     absl::Span<const UOpPtr> program) const override;
  const OpenClTarget& target() const { return target_; }

 private:
  OpenClTarget target_;
  RendererCaps caps_;
};

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_OPENCL_RENDERER_H_
