// Hand-written optimization choices for a kernel (the default when BEAM
// search is off): vectorize the output's contiguous axis, register-tile
// matmul-like reductions, vectorize reductions along a contiguous input
// axis, and split the outermost loop over the CPU cores. On GPUs
// (caps.has_local) the choices are workgroup-shaped instead: threads along
// the contiguous output axis, 4x4 register tiles for matmuls, and reductions
// with few outputs split over a workgroup (GROUP).
#ifndef UOP_RUNTIME_CODEGEN_HEURISTICS_H_
#define UOP_RUNTIME_CODEGEN_HEURISTICS_H_

#include <vector>

#include "runtime/codegen/kernel.h"

namespace uop {

// Applies the chosen opts to `k` and returns them (each one applied
// successfully; a candidate that does not apply is skipped).
std::vector<Opt> ApplyHandCodedOpts(Kernel& k);

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_HEURISTICS_H_
