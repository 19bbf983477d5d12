// Linearization: a lowered kernel DAG (SINK at the root) into one ordered
// list of ops with explicit loop structure, ready for a renderer.
//
// Loops nest by their RANGE's loop id (lower id = outer). Each op goes into
// the innermost loop among the RANGEs it depends on; inside a loop, ops that
// depend on a nested loop's ENDRANGE come after that nested loop. Every RANGE
// appears before its body and is closed by exactly one ENDRANGE; loops nobody
// closes explicitly are closed at the end of their parent.
//
//   ASSIGN_OR_RETURN(std::vector<UOpPtr> program, Linearize(sink));
//   // DEFINE_GLOBAL.., CONST.., RANGE r0, ..., RANGE r1, ..., ENDRANGE r1, ...,
//   // ENDRANGE r0, SINK
#ifndef UOP_RUNTIME_CODEGEN_LINEARIZE_H_
#define UOP_RUNTIME_CODEGEN_LINEARIZE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "runtime/uop/uop.h"

namespace uop {

// Fails (InvalidArgument) on more than 64 loops, two RANGEs with one loop id,
// or an op that would have to sit inside a loop it also comes after.
absl::StatusOr<std::vector<UOpPtr>> Linearize(const UOpPtr& sink);

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_LINEARIZE_H_
