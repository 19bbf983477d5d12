// Renders linearized kernels as C (GNU C11) following the CPU kernel ABI:
//   void <name>(void* const* bufs, const int64_t* vars, int64_t core_id)
//
// The readable twin of the LLVM IR renderer: the same kernels, compiled by
// a C compiler (drivers/cpu/cc_compiler.h), give a second CPU code path to
// debug and cross-check codegen with (`UOP_DEBUG`-style dumps read far
// better as C). Vector values are rendered lane by lane as scalars (the C
// compiler re-vectorizes what it can); float16/bfloat16 are stored as
// 16-bit integers and computed in float with exact round-to-nearest-even
// conversions, so the kernel calls no library function. Integer division
// and shifts are guarded like the LLVM renderer's. Needs `-fno-math-errno`
// so sqrt compiles to an instruction.
#ifndef UOP_RUNTIME_CODEGEN_C_RENDERER_H_
#define UOP_RUNTIME_CODEGEN_C_RENDERER_H_

#include "runtime/codegen/renderer.h"

namespace uop {

class CRenderer : public Renderer {
 public:
  explicit CRenderer(int threads = 1, int vector_bytes = 64);
  const RendererCaps& caps() const override { return caps_; }
  absl::StatusOr<std::string> Render(const std::string& name,
                                     absl::Span<const UOpPtr> program) const override;

 private:
  RendererCaps caps_;
};

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_C_RENDERER_H_
