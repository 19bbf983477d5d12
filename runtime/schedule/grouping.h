// Grouping: which nodes of a SchedGraph get buffers (are "realized"), and so
// which kernels exist. Every other node is fused into the kernels of the
// realized nodes that read it. The rules are docs/scheduler.md's, in order:
//
//   1. required: BUFFERs, SINK sources (unless views of a buffer),
//      CONTIGUOUS, COPY (and a source that is not a whole buffer), ASSIGN,
//      and nodes the caller forces (hazard copies);
//   2. unsafe pads: the source of a PAD over computation that does not map
//      zero to zero;
//   3. reduces: an unrealized REDUCE_AXIS must reach exactly one realized
//      node, only through elementwise ops, RESHAPE and PERMUTE, on paths
//      that all move it the same way; otherwise the last node of its
//      single-consumer elementwise chain is realized (the reduce fuses into
//      it). Reduces fused into one kernel must share input shape, axes and
//      path; the others are realized;
//   4. sharing: an elementwise node read by several kernels whose subtree
//      costs more than ScheduleOptions::max_recompute_cost is realized
//      (cheaper ones are recomputed), then step 3 runs again.
//
//   Grouping grp = GroupKernels(graph, /*forced=*/{}, options);
//   grp.realized(n)           // n gets a buffer (and, unless a BUFFER, a kernel)
//   grp.root_reduce[root]     // the reduce that sets a kernel's full shape
#ifndef UOP_RUNTIME_SCHEDULE_GROUPING_H_
#define UOP_RUNTIME_SCHEDULE_GROUPING_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "runtime/schedule/graph.h"

namespace uop::schedule_internal {

enum class RealizeReason : uint8_t {
  kNone,        // fused into the kernels that read it (or a view)
  kBuffer,      // an existing BUFFER: read, never computed
  kOutput,      // a SINK source
  kContiguous,  // CONTIGUOUS
  kCopy,        // COPY (a copy item)
  kCopySource,  // the source of a COPY that is not a whole buffer
  kAssign,      // ASSIGN: writes its target's buffer
  kUnsafePad,   // the source of a PAD that does not preserve zeros
  kReduce,      // a reduce result that cannot fuse forward
  kShared,      // a costly elementwise subtree read by several kernels
  kForced,      // copied to break a read/write hazard
};

// One movement op on the path from a fused reduce up to its kernel's root.
// Interned: equal paths (same ops and args in the same order) are the same
// pointer. nullptr is the empty path.
struct PathStep {
  const UOp* mov;  // the first RESHAPE/PERMUTE node seen with this op and arg
  const PathStep* prev;
  int length;
};

class PathTable {
 public:
  const PathStep* Push(const UOp* mov, const PathStep* prev);
  void Clear();

 private:
  struct Key {
    const UOp* mov;
    const PathStep* prev;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct KeyEq {
    bool operator()(const Key& a, const Key& b) const;
  };
  std::deque<PathStep> steps_;
  absl::flat_hash_map<Key, const PathStep*, KeyHash, KeyEq> index_;
};

struct Grouping {
  std::vector<RealizeReason> realize;
  // Per realized node: the first reduce fused into its kernel (kNoNode if
  // none) and the movement path from that reduce's output to the kernel's
  // root value. Every fused reduce of the kernel has the same input shape,
  // axes and path.
  std::vector<NodeId> root_reduce;
  std::vector<const PathStep*> root_path;
  std::unique_ptr<PathTable> paths;

  bool realized(NodeId n) const { return realize[n] != RealizeReason::kNone; }
};

// Decides the realized nodes. `forced` nodes are realized (kForced) when no
// other rule realizes them.
Grouping GroupKernels(const SchedGraph& g, absl::Span<const NodeId> forced,
                      const ScheduleOptions& options);

// Whether f(0, ..., 0) == 0 for elementwise `op`: padding may be pushed
// through it (docs/scheduler.md, unsafe pads).
bool PreservesZero(Op op);

}  // namespace uop::schedule_internal

#endif  // UOP_RUNTIME_SCHEDULE_GROUPING_H_
