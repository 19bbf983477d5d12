// What codegen hands to the engine: one compiled-kernel recipe.
#ifndef UOP_RUNTIME_CODEGEN_PROGRAM_SPEC_H_
#define UOP_RUNTIME_CODEGEN_PROGRAM_SPEC_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/dtype/dtype.h"

namespace uop {

struct ProgramBuffer {
  int slot;
  DType dtype;     // element type
  int64_t size;    // elements
  bool is_output;  // written by the kernel
};

struct ProgramSpec {
  std::string name;
  std::string source;
  std::string language;  // "llvm-ir", "c", "cuda"
  std::array<int64_t, 3> global_size = {1, 1, 1};
  std::array<int64_t, 3> local_size = {1, 1, 1};
  std::vector<ProgramBuffer> buffers;  // by slot
  std::vector<std::string> vars;       // DEFINE_VAR names, in argument order
  // Estimated work, for profiling and BEAM: floating/integer ops and bytes moved.
  int64_t ops = 0;
  int64_t bytes = 0;
};

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_PROGRAM_SPEC_H_
