// LlvmCompiler: LLVM IR text → optimized x86-64 ELF object, in process.
//
// Parses the IR (LLVM 16), checks it (verifier, entry symbol with the CPU
// kernel ABI `void (ptr bufs, ptr vars, i64 core_id)`), runs the new pass
// manager's O2 pipeline with loop and SLP vectorization on (PassBuilder
// leaves SLP off unless asked) and emits an object file in memory for the
// host CPU with all its features (e.g. znver4 with AVX-512). Fast-math flags
// are the IR's business. The optimizer may not invent libcalls (memset from
// a loop, ...): its TargetLibraryInfo has every library function disabled.
// The object is loaded by ElfObject (elf_loader.h).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<LlvmCompiler> cc, LlvmCompiler::Create());
//   ASSIGN_OR_RETURN(std::string obj, cc->Compile("E_4", ir_text));
//
// Create only works out the host CPU, its features and the cache key; the
// LLVM target (target registry, target machines) is set up on the first
// Compile, so a process that only loads precompiled kernels (uoprun's
// artifacts) does not pay for it (~0.3 ms of its start-up). A target that
// cannot be set up is FailedPrecondition from Compile.
// Errors: InvalidArgument with LLVM's message (line:column and the source
// line) for IR that does not parse or verify, or lacks the entry function.
// Thread safety: Compile runs concurrently; each call has its own
// LLVMContext and borrows a TargetMachine from a pool.
#ifndef UOP_DRIVERS_CPU_LLVM_COMPILER_H_
#define UOP_DRIVERS_CPU_LLVM_COMPILER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "drivers/compiler.h"

namespace llvm {
class Target;
class TargetMachine;
}  // namespace llvm

namespace uop {

class LlvmCompiler final : public Compiler {
 public:
  // A module whose text contains the line "; uop-pipeline: lean" (the LLVM
  // renderer writes it for kernels it vectorized itself) is optimized with
  // a short clean-up pipeline instead of the default O1/O2/O3 one
  // (UOP_LLVM_PIPELINE=default ignores the hint, for comparisons).
  struct Options {
    // Empty: the host's CPU name and features (what the code will run on).
    // A CPU newer than LLVM 16 is tuned as the closest one it knows.
    std::string cpu;
    std::string features;
    int opt_level = 2;  // 1, 2 or 3
  };

  static absl::StatusOr<std::unique_ptr<LlvmCompiler>> Create(const Options& options);
  static absl::StatusOr<std::unique_ptr<LlvmCompiler>> Create() { return Create(Options{}); }
  ~LlvmCompiler() override;

  const std::string& CacheKey() const override { return cache_key_; }
  absl::StatusOr<std::string> Compile(absl::string_view name, absl::string_view source) override;

  const std::string& triple() const { return triple_; }
  const std::string& cpu() const { return cpu_; }
  const std::string& features() const { return features_; }
  // Widest vector register the target has, in bytes (64 with AVX-512).
  int max_vector_bytes() const { return max_vector_bytes_; }

 private:
  LlvmCompiler() = default;
  absl::Status SetUpTarget();
  absl::StatusOr<std::unique_ptr<llvm::TargetMachine>> TakeTargetMachine();
  void ReturnTargetMachine(std::unique_ptr<llvm::TargetMachine> tm);

  absl::once_flag target_once_;
  absl::Status target_status_;            // of SetUpTarget, set once
  const llvm::Target* target_ = nullptr;  // set once by SetUpTarget
  std::string triple_, cpu_, features_, cache_key_;
  int opt_level_ = 2;
  int max_vector_bytes_ = 16;

  absl::Mutex mu_;
  std::vector<std::unique_ptr<llvm::TargetMachine>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace uop

#endif  // UOP_DRIVERS_CPU_LLVM_COMPILER_H_
