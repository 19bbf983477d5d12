// Hand-built lowered kernels (docs/compiler.md, "Lowered kernel") shared by
// the linearizer, renderer and backend tests.
#ifndef UOP_RUNTIME_CODEGEN_TEST_KERNELS_H_
#define UOP_RUNTIME_CODEGEN_TEST_KERNELS_H_

#include "runtime/uop/uop.h"

namespace uop::testing {

// out[i] = a[i] + b[i] for i < n (float32), one loop.
UOpPtr ElementwiseAdd(int64_t n);
// out[r] = sum_c in[r * cols + c] (float32): an outer loop and a reduce loop
// with an accumulator register.
UOpPtr RowSum(int64_t rows, int64_t cols);
// out[i] = max(a[i], 0) on <width x float> vectors, with the outer loop split
// over core ids: i = core_id * (n / cores) + j.
UOpPtr VectorRelu(int64_t n, int width, int cores);
// out[i] = (i < n_valid) ? a[i] : -1 with a gated load (float32).
UOpPtr GatedCopy(int64_t n, int64_t n_valid);

}  // namespace uop::testing

#endif  // UOP_RUNTIME_CODEGEN_TEST_KERNELS_H_
