// Renders linearized kernels as LLVM IR for AMD GPUs (amdgcn-amd-amdhsa),
// for the AM driver (drivers/am), which compiles it in process with LLVM's
// AMDGPU backend (Debian's LLVM 16 has it).
//
// The kernel body is the LLVM renderer's (one source of truth for the
// semantics of every op): the GPU's SPECIAL gidx0/1/2 and lidx0/1/2 are
// handed to it as variables named uop_gidx<d> / uop_lidx<d>, so it renders
// `define internal void @<name>_h_body(ptr %data0.., i64 %var_.., i64
// %core_id)` with generic pointers, plus its CPU entry `@<name>_h`, which is
// made internal (the GPU build drops it; the emulator's host twin keeps it).
// Around it the AMD renderer writes the GPU entry:
//
//   ; uop-amd-abi: globals=<G> vars=<V> order=<var names in the body's order>
//   target triple = "amdgcn-amd-amdhsa"
//   ...body...
//   ; uop-amd-kernel-begin
//   define amdgpu_kernel void @<name>(ptr addrspace(1) %data0, ..., i64 %var_<a>, ...) #0
//     ; ids from llvm.amdgcn.workgroup.id.* / workitem.id.*, pointers cast to
//     ; generic, then a call of the body (inlined by the optimizer)
//   ; uop-amd-kernel-end
//
// Kernel arguments are G pointers (8 bytes each, slots 0..G-1, unused slots
// included) then the V user variables (i64, by name): the kernarg segment
// the AM driver writes. No implicit arguments ("amdgpu-no-implicitarg-ptr").
// Workgroup-shared memory is off (caps.has_shared = false) until the
// emulator can run barriers.
//
//   AmdRenderer r(AmdTarget{.arch = "gfx1100"});
//   ASSIGN_OR_RETURN(ProgramSpec spec, RenderKernel(ast, r));  // language "amdgcn"
#ifndef UOP_RUNTIME_CODEGEN_AMD_RENDERER_H_
#define UOP_RUNTIME_CODEGEN_AMD_RENDERER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "runtime/codegen/renderer.h"

namespace uop {

struct AmdTarget {
  std::string arch = "gfx1100";
  int compute_units = 48;
  int max_workgroup = 1024;
};

class AmdRenderer : public Renderer {
 public:
  explicit AmdRenderer(AmdTarget target = {});
  const RendererCaps& caps() const override { return caps_; }
  absl::StatusOr<std::string> Render(const std::string& name,
                                     absl::Span<const UOpPtr> program) const override;
  const AmdTarget& target() const { return target_; }

 private:
  AmdTarget target_;
  RendererCaps caps_;
};

// The gfx architecture in a device description "AMD ... (gfx1100, ...)";
// empty when there is none.
std::string ParseGfxArch(absl::string_view description);

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_AMD_RENDERER_H_
