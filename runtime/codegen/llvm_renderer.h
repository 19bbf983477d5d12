// Renders linearized kernels as LLVM IR text for the CPU backend.
//
// The entry point follows the CPU kernel ABI (docs/compiler.md):
//   define void @<name>(ptr %bufs, ptr %vars, i64 %core_id)
// It loads the buffer pointers and calls an internal body whose buffer
// parameters are `noalias`, so LLVM's vectorizers need no runtime alias
// checks. Float adds and multiplies carry `contract` (FMA fusion allowed);
// nothing else is reassociated.
//
// Integer division and remainder by a non-constant divisor are guarded
// (divisor 0, and INT_MIN / -1, become divisor 1): bad data must never
// trap the daemon.
#ifndef UOP_RUNTIME_CODEGEN_LLVM_RENDERER_H_
#define UOP_RUNTIME_CODEGEN_LLVM_RENDERER_H_

#include "runtime/codegen/renderer.h"

namespace uop {

class LlvmRenderer : public Renderer {
 public:
  // `threads`: cores the CPU device runs kernels on; `vector_bytes`: the
  // widest vector register (64 for AVX-512).
  explicit LlvmRenderer(int threads = 1, int vector_bytes = 64);
  const RendererCaps& caps() const override { return caps_; }
  absl::StatusOr<std::string> Render(const std::string& name,
                                     absl::Span<const UOpPtr> program) const override;

 private:
  RendererCaps caps_;
};

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_LLVM_RENDERER_H_
