// KernelBuilder: the kernel AST (docs/compiler.md "Kernel AST") of one
// realized node, from the grouping.
//
// The builder walks from the root's value down to the realized nodes it
// reads, carrying the movement ops met on the way as a list of pending
// steps. At a realized node the steps are applied to the node's
// ShapeTracker, giving the LOAD's VIEW; at a constant they give its
// validity (CONST(VIEW) only when padding makes part of it invalid). So
// movement ops never copy: they are index math on the loads.
//
// A kernel that fuses a reduce has the reduce's input shape as its full
// shape. Everything above the reduce is expressed in the reduce's output
// space: the movement path from the reduce up to the root (RESHAPE/PERMUTE
// only, grouping.h) is inverted and applied to the store and to every
// operand joining above the reduce, so conv + bias + relu (a reshape after
// the reduce) is one kernel.
//
//   KernelBuilder kb(graph, grouping);
//   ASSIGN_OR_RETURN(BuiltKernel k, kb.Build(root, out_view, views));
//   k.ast   // SINK(STORE(DEFINE_GLOBAL[0], VIEW, value))
//   k.bufs  // slot order: out first, then inputs by first use
#ifndef UOP_RUNTIME_SCHEDULE_KERNEL_BUILDER_H_
#define UOP_RUNTIME_SCHEDULE_KERNEL_BUILDER_H_

#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/schedule/graph.h"
#include "runtime/schedule/grouping.h"
#include "runtime/shape/shapetracker.h"
#include "runtime/uop/uop.h"

namespace uop::schedule_internal {

// Where a realized node's value lives: a BUFFER and the ShapeTracker from
// the node's shape onto it.
struct BufferView {
  UOpPtr buffer;
  std::shared_ptr<const ShapeTracker> st;
};

// A realized node a kernel reads, and the node under the kernel's compute
// through which it was reached (the top of its chain of views).
struct KernelRead {
  NodeId leaf;
  NodeId chain_top;
};

struct BuiltKernel {
  UOpPtr ast;
  std::vector<UOpPtr> bufs;
  std::vector<KernelRead> reads;    // each realized node read, once, in first-use order
  std::vector<KernelRead> hazards;  // reads of the output buffer through a different view
};

// `st` moved by one movement op (`op` with its tensor-level `arg`).
absl::StatusOr<ShapeTracker> ApplyMovement(const ShapeTracker& st, Op op, const Arg& arg);

class KernelBuilder {
 public:
  KernelBuilder(const SchedGraph& g, const Grouping& grouping) : g_(g), grp_(grouping) {}

  // The kernel of realized node `root`, storing into `out`. `views[n]` must
  // be set for every realized node it reads. Internal errors only (the
  // graph was validated): they name the root.
  absl::StatusOr<BuiltKernel> Build(NodeId root, const BufferView& out,
                                    absl::Span<const BufferView* const> views);

  // out <- src element by element (both views have the value's shape):
  // the snapshot of `leaf` that breaks a read/write hazard.
  static BuiltKernel CopyKernel(NodeId leaf, const BufferView& out, const BufferView& src);

 private:
  // A pending movement op; `next` is applied after it.
  struct Step {
    Op op;
    const Arg* arg;  // the movement node's arg, or `owned`
    Arg owned;
    const Step* next;
    int length;
    bool has_pad;
  };
  const Step* Push(const UOp* mov, const Step* next);
  const Step* PushOwned(Op op, Arg arg, const Step* next);
  absl::StatusOr<ShapeTracker> Apply(ShapeTracker st, const Step* t) const;
  UOpPtr Global(const UOpPtr& buffer);
  UOpPtr Const(const UOp* c, const Step* t, const Shape& context, absl::Status* status);
  absl::StatusOr<UOpPtr> Render(NodeId value, const Step* t0, bool compute_value,
                                absl::Span<const BufferView* const> views);
  void Reset();

  const SchedGraph& g_;
  const Grouping& grp_;
  // Per-kernel state, kept between kernels for its capacity.
  std::deque<Step> steps_;
  absl::flat_hash_map<std::pair<const UOp*, const Step*>, const Step*> step_index_;
  absl::flat_hash_map<std::pair<NodeId, const Step*>, UOpPtr> memo_;
  absl::flat_hash_map<const UOp*, int> slot_of_;
  std::vector<UOpPtr> globals_;
  BuiltKernel k_;
  UOpPtr store_view_;
  int rank_ = 0;
  NodeId root_ = kNoNode;
};

}  // namespace uop::schedule_internal

#endif  // UOP_RUNTIME_SCHEDULE_KERNEL_BUILDER_H_
