// Compiler: kernel source text → binary bytes a Device can load.
//
// The source language is the one the device asks for (DeviceInfo::language):
// "llvm-ir" on the CPU, "cuda" for CUDA, ... The binary is opaque to every
// layer above the drivers; it is stored in the on-disk KernelCache under a key
// that includes CacheKey(), so a binary is only ever loaded by a compiler
// configuration that would have produced it.
//
//   ASSIGN_OR_RETURN(std::string bin, device->compiler().Compile("E_4", ir));
//   ASSIGN_OR_RETURN(auto program, device->LoadProgram({.name = "E_4"}, bin));
//
// Thread safety: Compile may run on several threads at once.
#ifndef UOP_DRIVERS_COMPILER_H_
#define UOP_DRIVERS_COMPILER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop {

class Compiler {
 public:
  virtual ~Compiler() = default;

  // Names the compiler, its version, the target (CPU model and features, GPU
  // arch) and every option that changes the output, e.g.
  // "llvm-16.0.6;x86_64-pc-linux-gnu;znver4;+avx512f,...;O2;pipeline=1".
  // Two compilers with equal keys produce interchangeable binaries.
  virtual const std::string& CacheKey() const = 0;

  // Compiles `source`; `name` is the kernel's entry symbol. Errors:
  // InvalidArgument for source the compiler rejects (with its message),
  // Internal for a failure of the compiler itself.
  virtual absl::StatusOr<std::string> Compile(absl::string_view name, absl::string_view source) = 0;
};

}  // namespace uop

#endif  // UOP_DRIVERS_COMPILER_H_
