// OrderItems: the execution order of a schedule's items, and the hazards that
// make one impossible.
//
// Items come in build order (graph order). Constraints are "before -> after"
// edges: data (producer -> reader), write-after-write (ASSIGNs to one buffer)
// and anti edges (a reader of a buffer version -> the ASSIGN that overwrites
// that version). The order is topological, taking the earliest-built ready
// item first, so it stays close to graph order and is deterministic.
//
// A cycle means some reader must run before an overwrite it also depends on.
// The result then lists those anti edges (the reader reaches back to the
// writer through the other edges); the scheduler snapshots the version they
// read and tries again.
//
//   ItemOrder o = OrderItems(3, {{0, 1}}, {{2, 1}});   // 0 -> 1, 2 reads before 1 writes
//   o.order == {0, 2, 1}
#ifndef UOP_RUNTIME_SCHEDULE_ITEM_ORDER_H_
#define UOP_RUNTIME_SCHEDULE_ITEM_ORDER_H_

#include <utility>
#include <vector>

namespace uop::schedule_internal {

struct OrderEdge {
  int before;
  int after;
};

struct ItemOrder {
  // Every item once, unless has_cycle.
  std::vector<int> order;
  // Per item: the items that must run before it (each once).
  std::vector<std::vector<int>> preds;
  bool has_cycle = false;
  // With a cycle: indices into `anti` of the edges whose writer reaches
  // their reader through the other edges (those reads need a snapshot).
  std::vector<int> cyclic_anti;
};

// Edges with a negative end or from an item to itself are ignored.
ItemOrder OrderItems(int num_items, const std::vector<OrderEdge>& edges,
                     const std::vector<OrderEdge>& anti);

}  // namespace uop::schedule_internal

#endif  // UOP_RUNTIME_SCHEDULE_ITEM_ORDER_H_
