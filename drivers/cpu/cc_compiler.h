// CcCompiler — DEBUG ONLY: C source → object with the system C compiler.
//
// Runs `cc` (gcc here; clang is not installed) as a subprocess to compile a
// kernel written in C with the CPU kernel ABI to an ELF object that
// ElfObject / CpuDevice::LoadProgram load like LLVM's. For comparing against
// hand-written C or the C renderer while debugging; NOT the CPU device's
// compiler: it costs 20-60 ms per kernel (a process and temporary files)
// against 2-10 ms in process, and its output depends on the installed cc.
// The subprocess wait is not bounded (debugging tool, never on a serving
// path).
//
//   ASSIGN_OR_RETURN(auto cc, CcCompiler::Create());
//   ASSIGN_OR_RETURN(std::string obj, cc->Compile("k", "void k(void* const* b, ...) {...}"));
//   ASSIGN_OR_RETURN(auto program, cpu->LoadProgram({"k", sizes, 0}, obj));
//
// Thread safety: Compile may run concurrently (each call has its own files).
#ifndef UOP_DRIVERS_CPU_CC_COMPILER_H_
#define UOP_DRIVERS_CPU_CC_COMPILER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/compiler.h"

namespace uop {

class CcCompiler final : public Compiler {
 public:
  struct Options {
    std::string cc = "cc";  // looked up in PATH
    std::vector<std::string> flags = {"-O2", "-march=native"};
  };

  // FailedPrecondition when `cc --version` cannot be run.
  static absl::StatusOr<std::unique_ptr<CcCompiler>> Create(const Options& options);
  static absl::StatusOr<std::unique_ptr<CcCompiler>> Create() { return Create(Options{}); }

  const std::string& CacheKey() const override { return cache_key_; }
  // InvalidArgument with cc's diagnostics when the source does not compile.
  absl::StatusOr<std::string> Compile(absl::string_view name, absl::string_view source) override;

 private:
  CcCompiler() = default;
  std::vector<std::string> argv_prefix_;  // cc + flags + fixed code generation flags
  std::string cache_key_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_CPU_CC_COMPILER_H_
