// SchedGraph: the tensor graph under a SINK, indexed for the scheduler's
// passes, and validated.
//
// Nodes are numbered in topological order (sources first), so every pass is
// a loop over vectors indexed by NodeId instead of hash lookups keyed by
// pointers. Sources and distinct users are stored in flat (CSR) arrays.
//
//   ASSIGN_OR_RETURN(SchedGraph g, SchedGraph::Build(sink, options));
//   for (NodeId n = 0; n < g.size(); ++n)
//     for (NodeId u : g.users(n)) ...
//
// Build validates every node and returns InvalidArgument / Unimplemented
// naming the node (its op, dtype and arg) for: elementwise sources of
// different shapes, movement args that do not fit the source shape, bad
// reduce args, ASSIGN targets that are not writable views of a BUFFER,
// unknown or mixed devices, nodes without a shape, and ops the scheduler
// does not handle (symbolic values, kernel-level ops).
#ifndef UOP_RUNTIME_SCHEDULE_GRAPH_H_
#define UOP_RUNTIME_SCHEDULE_GRAPH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/schedule/schedule.h"
#include "runtime/uop/uop.h"

namespace uop::schedule_internal {

using NodeId = int32_t;
inline constexpr NodeId kNoNode = -1;

class SchedGraph {
 public:
  static absl::StatusOr<SchedGraph> Build(const UOpPtr& sink, const ScheduleOptions& options);

  int size() const { return static_cast<int>(nodes_.size()); }
  const UOp* node(NodeId n) const { return nodes_[n]; }
  Op op(NodeId n) const { return nodes_[n]->op(); }
  // The id of `u`, or kNoNode when it is not in the graph.
  NodeId id(const UOp* u) const;

  // Sources in argument order (repeats kept).
  absl::Span<const NodeId> srcs(NodeId n) const {
    return absl::MakeConstSpan(src_ids_.data() + src_begin_[n], src_begin_[n + 1] - src_begin_[n]);
  }
  NodeId src(NodeId n, int i) const { return src_ids_[src_begin_[n] + i]; }
  // Distinct users, in topological order.
  absl::Span<const NodeId> users(NodeId n) const {
    return absl::MakeConstSpan(user_ids_.data() + user_begin_[n],
                               user_begin_[n + 1] - user_begin_[n]);
  }

  // A movement op or DETACH: a view of its source.
  bool is_view(NodeId n) const { return is_view_[n]; }
  // The node under a chain of views (itself when it is no view).
  NodeId base(NodeId n) const { return base_[n]; }
  // Index into devices(), or -1 for constant-only values.
  int device(NodeId n) const { return device_[n]; }
  const std::vector<std::string>& devices() const { return devices_; }
  // Device of a computation (its own, or the default for constants).
  int device_or_default(NodeId n) const { return device_[n] >= 0 ? device_[n] : default_device_; }

  NodeId sink() const { return size() - 1; }
  // The SINK's sources, each once, in SINK order.
  const std::vector<NodeId>& outputs() const { return outputs_; }

 private:
  SchedGraph() = default;
  absl::Status Index(const UOp* sink);
  absl::Status Validate(const ScheduleOptions& options);
  absl::StatusOr<int> DeviceIndex(NodeId n, const UOp* device_node, const ScheduleOptions& options);

  std::vector<const UOp*> nodes_;
  absl::flat_hash_map<const UOp*, NodeId> ids_;
  std::vector<int32_t> src_begin_, src_ids_;
  std::vector<int32_t> user_begin_, user_ids_;
  std::vector<bool> is_view_;
  std::vector<NodeId> base_;
  std::vector<int> device_;
  std::vector<std::string> devices_;
  int default_device_ = 0;
  std::vector<NodeId> outputs_;
};

// "ADD float32 (node 12)": how errors name a node.
std::string NodeName(const UOp* u, NodeId n);

}  // namespace uop::schedule_internal

#endif  // UOP_RUNTIME_SCHEDULE_GRAPH_H_
