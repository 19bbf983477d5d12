// Builds kernel ASTs (docs/compiler.md) directly, for codegen and backend tests.
#ifndef UOP_RUNTIME_CODEGEN_AST_BUILDER_FOR_TEST_H_
#define UOP_RUNTIME_CODEGEN_AST_BUILDER_FOR_TEST_H_

#include <vector>

#include "runtime/shape/shapetracker.h"
#include "runtime/uop/uop.h"

namespace uop::testing {

UOpPtr Buf(int slot, DType elem, int64_t size);
UOpPtr ViewOf(const ShapeTracker& st);
UOpPtr LoadAst(const UOpPtr& buf, const ShapeTracker& st);
UOpPtr StoreAst(const UOpPtr& buf, const ShapeTracker& st, const UOpPtr& value);
UOpPtr SumAxes(const UOpPtr& v, std::vector<int64_t> axes, Op op = Op::kAdd);
UOpPtr SinkOf(std::initializer_list<UOpPtr> stores);

// out[M, N] = sum_k a[M, K] * b[K, N] (float32, row-major), slots out, a, b.
UOpPtr MatmulAst(int64_t m, int64_t n, int64_t k);
// out[R, C] = a[R, C] + b[R, C] (float32).
UOpPtr AddAst(int64_t r, int64_t c);
// out[R] = sum_c a[R, C].
UOpPtr RowSumAst(int64_t r, int64_t c);
// out[m, n] = sum_k a[m, k] * b[n, k]: both inputs contiguous along k (a
// convolution over one input channel, Gemm with transB).
UOpPtr InnerProductAst(int64_t m, int64_t n, int64_t k);

}  // namespace uop::testing

#endif  // UOP_RUNTIME_CODEGEN_AST_BUILDER_FOR_TEST_H_
