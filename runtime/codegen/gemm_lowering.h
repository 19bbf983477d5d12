// GemmLowering: a matmul kernel lowered as a shared-memory tiled GEMM for
// GPUs (the kGemm opt), instead of the generic per-axis lowering.
//
// Matches kernels whose stored value is an elementwise epilogue (casts,
// bias loads, activations) of one SUM over one reduce axis K of an
// elementwise function X of two loads A and B, where A is constant along
// an output axis N and B along another output axis M (other output axes
// are batch axes). Each workgroup computes a BM x BN tile of the output:
// per K step it copies the A and B tiles into shared memory (16-byte
// vector loads along the contiguous axis), then every thread (kSimt) or
// warp (kTensorCore) multiplies from shared memory into register
// accumulators. The next K tile is loaded into registers while the current
// one is multiplied (register double buffering), two barriers per step.
//
//   kSimt:       128x128 tile, BK 8, 256 threads, 8x8 outputs per thread;
//                X is evaluated as written (any element types).
//   kTensorCore: 128x128 tile, BK 32, 8 warps of 64x32, mma.sync m16n8k16
//                (WMMA ops) on fragments read with ldmatrix (CUSTOM ops,
//                transposing where the tile is stored K-major); shared
//                memory keeps global memory's layout, so tile copies are
//                plain 16-byte stores. A and B float16 or bfloat16, float32 sum.
//                Products are exact (tensor cores), where the graph's X may
//                round them to the input type first.
//
// The lowered kernel uses only ops of docs/compiler.md plus DEFINE_LOCAL,
// BARRIER and WMMA.
//
//   ASSIGN_OR_RETURN(Kernel k, Kernel::Create(matmul_ast, CudaRenderer().caps()));
//   RETURN_IF_ERROR(k.Apply({OptOp::kGemm, 0, GemmVariant::kTensorCore}));
//   ASSIGN_OR_RETURN(UOpPtr lowered, k.Lower());
#ifndef UOP_RUNTIME_CODEGEN_GEMM_LOWERING_H_
#define UOP_RUNTIME_CODEGEN_GEMM_LOWERING_H_

#include <vector>

#include "absl/status/statusor.h"
#include "runtime/uop/uop.h"

namespace uop {

class Kernel;

enum GemmVariant : int64_t { kSimt = 0, kTensorCore = 1 };

struct GemmPlan {
  int64_t variant = kSimt;
  int m_axis = -1, n_axis = -1, k_axis = -1;
  std::vector<int> batch_axes;  // outer to inner
  int64_t m = 0, n = 0, k = 0, batch = 1;
  const UOp* a_load = nullptr;  // constant along N
  const UOp* b_load = nullptr;  // constant along M
  const UOp* reduce = nullptr;
  const UOp* store = nullptr;
  bool a_k_contiguous = false, a_m_contiguous = false;
  bool b_n_contiguous = false, b_k_contiguous = false;
};

class GemmLowering {
 public:
  // The plan for `k` (no opts applied), or InvalidArgument saying why the
  // kernel is not a GEMM this variant handles (shape, dtype, tile sizes).
  static absl::StatusOr<GemmPlan> MakePlan(const Kernel& k, int64_t variant);
  // The lowered kernel of a Kernel with a kGemm opt applied.
  static absl::StatusOr<UOpPtr> Lower(const Kernel& k);

 private:
  class Builder;
};

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_GEMM_LOWERING_H_
