// Kernel: one kernel AST (docs/compiler.md) with the optimizations applied
// to it, ready to be lowered to loops and index math.
//
// Every VIEW of the AST is tracked as a ShapeTracker of the kernel's full
// shape. Optimizations reshape and permute all of them together, splitting
// axes into kinds. Axes are kept in the canonical order
//   [thread] [loop...] [local...] [reduce...] [group...] [upcast...] [unroll...]
// so an Opt's `axis` is an index into full_shape() at the time it applies.
//
// On GPUs (RendererCaps::has_local) loop axes are the grid: each becomes a
// SPECIAL gidx (blockIdx), local and group axes are the block's threads
// (SPECIAL lidx, threadIdx); there are no output loops. A group axis splits
// a reduction over the block's threads, whose partial results are combined
// in shared memory (DEFINE_LOCAL, BARRIER).
//
//   ASSIGN_OR_RETURN(Kernel k, Kernel::Create(ast, caps));
//   RETURN_IF_ERROR(k.Apply({OptOp::kUpcast, 0, 16}));   // 16-wide vectors
//   RETURN_IF_ERROR(k.Apply({OptOp::kThread, 0, 2}));    // split over 2 cores
//   ASSIGN_OR_RETURN(UOpPtr lowered, k.Lower());
#ifndef UOP_RUNTIME_CODEGEN_KERNEL_H_
#define UOP_RUNTIME_CODEGEN_KERNEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "runtime/codegen/renderer.h"
#include "runtime/shape/shapetracker.h"
#include "runtime/uop/uop.h"

namespace uop {

class GemmLowering;

enum class AxisKind : uint8_t {
  kThread,  // one index per CPU core (SPECIAL core_id)
  kLoop,    // an output loop
  kReduce,  // a reduction loop
  kUpcast,  // output axis unrolled into registers / vector lanes
  kUnroll,  // reduction axis unrolled
  // GPU only (appended: the values above are persisted by BEAM's cache).
  kLocal,        // output axis over the threads of a workgroup (SPECIAL lidx)
  kGroupReduce,  // reduce axis over a workgroup's threads, combined in shared memory
};

enum class OptOp : uint8_t {
  kUpcast,  // split a loop axis; the inner `amount` becomes an upcast axis
  kUnroll,  // split a reduce axis; the inner `amount` becomes an unroll axis
  kThread,  // split a loop axis; the outer `amount` is spread over cores
  kSwap,    // exchange loop axes `axis` and `amount` (loop order)
  kLocal,   // GPU: split a loop axis; the inner `amount` becomes a local (thread) axis
  kGroup,   // GPU: split a reduce axis; the inner `amount` (a power of two) becomes a group axis
  kGemm,    // GPU: lower a matmul as a tiled GEMM (gemm_lowering.h); amount = GemmVariant
};

struct Opt {
  OptOp op;
  int axis;
  int64_t amount;
  std::string ToString() const;
  friend bool operator==(const Opt& a, const Opt& b) {
    return a.op == b.op && a.axis == b.axis && a.amount == b.amount;
  }
};

class Kernel {
 public:
  // Validates the AST (one group of reduce axes, views of one rank) and
  // brings it to canonical form: size-1 axes dropped, reduce axes last,
  // adjacent axes merged where every view allows it.
  static absl::StatusOr<Kernel> Create(const UOpPtr& ast, const RendererCaps& caps);

  // InvalidArgument (naming the opt and the shape) when it does not apply.
  absl::Status Apply(const Opt& opt);

  const std::vector<int64_t>& full_shape() const { return full_shape_; }
  const std::vector<AxisKind>& kinds() const { return kinds_; }
  const std::vector<Opt>& applied_opts() const { return applied_; }
  const RendererCaps& caps() const { return caps_; }
  const UOpPtr& ast() const { return ast_; }
  int num_views() const { return static_cast<int>(sts_.size()); }
  const ShapeTracker& view(int i) const { return sts_[i]; }
  // The tracker of the (first) STORE: the output's layout.
  const ShapeTracker& output_view() const { return sts_[output_view_]; }
  // Trackers of the LOADs, in AST order.
  std::vector<const ShapeTracker*> input_views() const;
  bool has_reduce() const { return has_reduce_; }
  // Element type of the first output.
  DType output_dtype() const { return output_dtype_; }
  int FirstOf(AxisKind kind) const;  // index of the first axis of `kind`, or -1
  int CountOf(AxisKind kind) const;

  // The GemmVariant of an applied kGemm opt (gemm_lowering.h), or -1.
  int gemm_variant() const { return gemm_variant_; }

  // "r_64_32_16" style name (r = reduce, E = elementwise) from the shape.
  std::string Name() const;

  // The lowered kernel: a SINK over loops, index math, loads and stores
  // (docs/compiler.md, "Lowered kernel").
  absl::StatusOr<UOpPtr> Lower() const;

 private:
  friend class Lowerer;
  friend class GemmLowering;
  Kernel() = default;
  absl::Status Reshape(const std::vector<int64_t>& new_full,
                       const std::vector<std::vector<int64_t>>& new_view_shapes);
  absl::Status PermuteAll(const std::vector<int>& order);
  // Splits axis `a` into (outer, inner) sizes; returns the view shapes.
  absl::Status Split(int a, int64_t outer, int64_t inner, AxisKind outer_kind, AxisKind inner_kind);
  void MergeAdjacentAxes();
  absl::Status Canonicalize();

  UOpPtr ast_;
  RendererCaps caps_;
  std::vector<const UOp*> view_nodes_;  // distinct VIEW nodes of the AST
  absl::flat_hash_map<const UOp*, int> view_index_;
  std::vector<ShapeTracker> sts_;
  std::vector<int64_t> full_shape_;
  std::vector<AxisKind> kinds_;
  std::vector<Opt> applied_;
  std::vector<int> load_views_;
  int output_view_ = 0;
  bool has_reduce_ = false;
  int gemm_variant_ = -1;
  DType output_dtype_;
};

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_KERNEL_H_
